"""Everything wrong with a play report, gathered in one pass so that one answer lists it all:
each problem as (row, field, problem), the first MAX_LISTED of them in row order, and how many
there are in all. Row 0 is the report as a whole (its header, its body, its rows together)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.errors import InvalidInput

MAX_LISTED = 100
MAX_TEXT = 300  # a problem quotes what it refuses: a value of megabytes is cut short


def clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


class ReportRefused(InvalidInput):
    """A report refused for its content; details carry the problems listed and their total."""

    code = "invalid_rows"

    def __init__(self, problems: list[dict[str, Any]], total: int) -> None:
        first = problems[0]
        where = f"row {first['row']}: " if first["row"] else ""
        more = f" (and {total - 1} more problems)" if total > 1 else ""
        super().__init__("rows", f"{where}{first['field']}: {first['problem']}{more}; nothing of the report was kept")
        self.details.update(problems=problems, total=total)


def problem_line(problem: dict[str, Any]) -> str:
    """A problem as one line of text, as the CLI prints it."""
    where = f"row {problem['row']}: " if problem.get("row") else ""
    return f"{where}{problem['field']}: {problem['problem']}"


@dataclass
class Problems:
    rows: int = 0  # rows read, good and bad
    problems: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0

    def __bool__(self) -> bool:
        return self.total > 0

    @property
    def truncated(self) -> bool:
        return self.total > len(self.problems)

    def add(self, number: int, column: str, problem: str) -> None:
        self.take([(number, column, problem)], 1)

    def take(self, found: list[tuple[int, str, str]], total: int) -> None:
        """Some of `total` problems, in row order, after those already taken."""
        self.total += total
        room = MAX_LISTED - len(self.problems)
        self.problems.extend({"row": n, "field": clip(f), "problem": clip(p)} for n, f, p in found[: max(room, 0)])

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "problems": self.problems, "total": self.total, "truncated": self.truncated}

    def refusal(self) -> ReportRefused:
        return ReportRefused(self.problems, self.total)
