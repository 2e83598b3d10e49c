"""The suite hands out its long files first (tests/helpers/file_order.py): the listed files lead
in the list's order, the others follow with the most tests first, and a file's tests keep their order."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from tests.helpers.file_order import LONG_FILES, long_files_first

ROOT = Path(__file__).resolve().parents[1]


def items(*nodeids: str) -> list:
    return [SimpleNamespace(nodeid=nodeid) for nodeid in nodeids]


def test_the_listed_files_lead_in_the_lists_order_and_the_rest_follow_by_their_number_of_tests():
    collected = items(
        "tests/a.py::test_one",
        "tests/slow.py::test_one[sqlite]",
        "tests/slow.py::test_one[postgresql]",
        "tests/slow.py::test_two",
        "tests/b.py::test_one",
        "tests/b.py::test_two",
        "tests/c.py::test_one",
        "tests/slowest.py::test_one",
    )
    long_files_first(collected, ("tests/slowest.py", "tests/slow.py"))
    assert [i.nodeid for i in collected] == [
        "tests/slowest.py::test_one",
        "tests/slow.py::test_one[sqlite]",
        "tests/slow.py::test_one[postgresql]",
        "tests/slow.py::test_two",
        "tests/b.py::test_one",
        "tests/b.py::test_two",
        "tests/a.py::test_one",
        "tests/c.py::test_one",
    ]


def test_every_listed_file_exists_once():
    """A renamed or split file would otherwise drop out of the order without a word."""
    assert [path for path in LONG_FILES if not (ROOT / path).is_file()] == []
    assert len(set(LONG_FILES)) == len(LONG_FILES)
