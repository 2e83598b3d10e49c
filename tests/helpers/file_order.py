"""The order the suite's files are handed out in: the long ones first.

scripts/test runs two processes that each take whole files (`--dist loadfile`). xdist's own
order hands out the files with the most tests first, which leaves the long files of a few tests
(a service killed mid-burst, three replicas, a crawl on a real queue, the walk-throughs) to the
very end: there one process works through them alone, or both run them at once beside nothing
short to fill in. Handed out first, they overlap with the many short files, and the short files
fill in the end (longest first is the classic rule for sharing jobs between machines)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

# Longest first: seconds for the whole file with -n 0 on a loaded 2-core machine (pytest's own
# total, measured one file at a time). A file that grows past a minute or so belongs here.
# The test_cli_*.py walk-throughs were one file of 1261 s: its no-service tests (left in test_cli.py)
# take 20 s; the rest is shared out by what each walk-through runs (video the most), not measured apart.
LONG_FILES: Sequence[str] = (
    "tests/watermark/test_video.py",  # 496 s
    "tests/ledger/cli/test_cli_watermark.py",  # about 480 s (trace 6 s of video, colluders, standalone)
    "tests/ledger/cli/test_readme_walk.py",  # about 450 s (330 s at a load of 5 to 10)
    "tests/ledger/cli/test_cli_works.py",  # about 370 s (match 30 s of video, re-edit)
    "tests/ledger/cli/test_cli_settlement.py",  # about 360 s (settlement, bad rows, refusals)
    "tests/ledger/cli/test_readme_derivatives.py",  # about 300 s (576 s with its SQLite run)
    "tests/console/test_console.py",  # 217 s
    "tests/api/test_report_faults.py",  # 214 s
    "tests/crawl/test_queue.py",  # 209 s
    "tests/external/test_walk_through.py",  # 163 s
    "tests/api/test_evidence_faults.py",  # 101 s
    "tests/api/test_matching.py",  # 97 s
    "tests/api/test_replicas.py",  # 94 s
    "tests/api/test_case_faults.py",  # 61 s
    "tests/api/test_write_crash.py",  # 55 s
    "tests/api/test_write_faults_http.py",  # 49 s
)


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def long_files_first(items: list, long_files: Sequence[str] = LONG_FILES) -> None:
    """Sort pytest's items in place: the listed files first, in the list's order; then the other
    files as xdist would hand them out, those with the most tests first (pytest's order among
    equals); a file's own tests keep their order."""
    rank = {path: i for i, path in enumerate(long_files)}
    tests = Counter(file_of(item.nodeid) for item in items)

    def key(item) -> tuple[int, int]:
        path = file_of(item.nodeid)
        return (rank[path], 0) if path in rank else (len(rank), -tests[path])

    items.sort(key=key)
