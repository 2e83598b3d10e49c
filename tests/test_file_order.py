"""The suite hands out its long files first (tests/helpers/file_order.py): the listed files lead
in the list's order, every other file keeps its place, and a file's tests keep theirs."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from tests.helpers.file_order import LONG_FILES, long_files_first

ROOT = Path(__file__).resolve().parents[1]


def items(*nodeids: str) -> list:
    return [SimpleNamespace(nodeid=nodeid) for nodeid in nodeids]


def test_the_listed_files_lead_in_the_lists_order_and_the_rest_keep_theirs():
    collected = items(
        "tests/a.py::test_one",
        "tests/slow.py::test_one[sqlite]",
        "tests/slow.py::test_one[postgresql]",
        "tests/b.py::test_one",
        "tests/slowest.py::test_one",
        "tests/a.py::test_two",
        "tests/slow.py::test_two",
    )
    long_files_first(collected, ("tests/slowest.py", "tests/slow.py"))
    assert [i.nodeid for i in collected] == [
        "tests/slowest.py::test_one",
        "tests/slow.py::test_one[sqlite]",
        "tests/slow.py::test_one[postgresql]",
        "tests/slow.py::test_two",
        "tests/a.py::test_one",
        "tests/b.py::test_one",
        "tests/a.py::test_two",
    ]


def test_every_listed_file_exists_once():
    """A renamed or split file would otherwise drop out of the order without a word."""
    assert [path for path in LONG_FILES if not (ROOT / path).is_file()] == []
    assert len(set(LONG_FILES)) == len(LONG_FILES)
