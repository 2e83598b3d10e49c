"""The order the suite's files are handed out in: the long ones first.

scripts/test runs two processes that each take whole files (`--dist loadfile`). xdist's own
order hands out the files with the most tests first, which leaves the long files of a few tests
(a service killed mid-burst, three replicas, a crawl on a real queue, the walk-throughs) to the
very end: there one process works through them alone, or both run them at once beside nothing
short to fill in. Handed out first, they overlap with the many short files, and the short files
fill in the end (longest first is the classic rule for sharing jobs between machines)."""

from __future__ import annotations

from collections.abc import Sequence

# Longest first: seconds for the whole file with -n 0 on a loaded 2-core machine, measured with
# `--durations`. A file that grows past a minute or two belongs here; the order among files not
# listed is pytest's own.
LONG_FILES: Sequence[str] = (
    "tests/watermark/test_video.py",  # 496 s
    "tests/api/test_report_faults.py",  # 214 s
    "tests/crawl/test_queue.py",  # 209 s
    "tests/api/test_matching.py",  # 97 s
    "tests/api/test_write_crash.py",  # 55 s
)


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def long_files_first(items: list, long_files: Sequence[str] = LONG_FILES) -> None:
    """Sort pytest's items in place: the listed files first, in the list's order, then every
    other file in the order it was collected; a file's own tests keep their order."""
    rank = {path: i for i, path in enumerate(long_files)}
    items.sort(key=lambda item: rank.get(file_of(item.nodeid), len(rank)))
