"""Which of a platform's rows a licence covers: the work, the territory, the streaming right
and the day must all fall inside a licence (or sub-licence) the platform holds and nobody
revoked, up the chain of grants. Rows outside are held, not settled."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlmodel import Session, select

from ledger.models import ChainOp, LicenceRecord, OpStatus
from ledger.reports.columns import Ints, Rows

DAY = 86_400
REPORTED_RIGHT = "streaming"


@dataclass(frozen=True)
class Window:
    territories: frozenset[str]
    start: int  # unix seconds
    end: int

    def covers(self, territory: str, day: int) -> bool:
        return territory in self.territories and self.start <= day * DAY < self.end


class Licences:
    """Every licence record, and which of them are in force: confirmed on chain, and neither it
    nor a licence it derives from revoked."""

    def __init__(self, records: dict[int, LicenceRecord], confirmed: set[int]) -> None:
        self.records = records
        self._confirmed = confirmed

    @classmethod
    def load(cls, db: Session) -> Licences:
        records = {r.id: r for r in db.exec(select(LicenceRecord)).all()}
        confirmed = (
            set(db.exec(select(ChainOp.id).where(ChainOp.status == OpStatus.confirmed)).all()) if records else set()
        )
        return cls(records, confirmed)

    def state(self, record: LicenceRecord | None) -> str:
        """`valid`, `pending` (it or a parent not confirmed yet) or `revoked` (it or a parent)."""
        answer = "valid"
        while record is not None:
            if record.revoke_op_id in self._confirmed:
                return "revoked"
            if record.op_id not in self._confirmed:
                answer = "pending"
            record = self.records.get(record.parent_pk) if record.parent_pk else None
        return answer

    def valid(self, record: LicenceRecord) -> bool:
        return self.state(record) == "valid"


class Coverage:
    """The platform's licences, loaded once per report and asked once per row or per block of rows."""

    def __init__(self, windows: dict[int, list[Window]]) -> None:
        self._windows = windows  # by work key
        self._answers: dict[tuple[int, str, int], bool] = {}  # rows repeat (work, territory, day) a lot

    @classmethod
    def load(cls, db: Session, platform_id: int) -> Coverage:
        licences = Licences.load(db)
        windows: dict[int, list[Window]] = defaultdict(list)
        for record in licences.records.values():
            if record.licensee_id == platform_id and REPORTED_RIGHT in record.rights and licences.valid(record):
                windows[record.work_pk].append(Window(frozenset(record.territories), record.start, record.end))
        return cls(dict(windows))

    def covers(self, work_pk: int, territory: str, day: int) -> bool:
        key = (work_pk, territory, day)
        answer = self._answers.get(key)
        if answer is None:
            answer = any(w.covers(territory, day) for w in self._windows.get(work_pk, ()))
            if len(self._answers) < 1_000_000:
                self._answers[key] = answer
        return answer

    def held(self, rows: Rows, work_pk: Ints) -> npt.NDArray[np.bool_]:
        """Which of `rows` (of works `work_pk`) no licence covers, as `covers` says for each row,
        worked out a column at a time: each work's first windows, then its second ones, ..."""
        works, each = np.unique(work_pk, return_inverse=True)
        each = each.reshape(-1)
        seconds = rows.day * DAY
        covered = np.zeros(len(rows), dtype=np.bool_)
        windows = [self._windows.get(work, []) for work in works.tolist()]
        for rank in range(max(map(len, windows), default=0)):
            nth = [found[rank] if rank < len(found) else _NEVER for found in windows]
            start = np.array([w.start for w in nth], dtype=np.int64)
            end = np.array([w.end for w in nth], dtype=np.int64)
            allowed = np.array(
                [[code in w.territories for code in rows.territories] for w in nth], dtype=np.bool_
            ).reshape(len(nth), len(rows.territories))
            covered |= allowed[each, rows.territory] & (start[each] <= seconds) & (seconds < end[each])
        held: npt.NDArray[np.bool_] = ~covered
        return held


_NEVER = Window(frozenset(), 1, 0)  # stands in for a work's nth window when it has fewer
