"""A held row's reason names what keeps it out: the work, the territory, the day, the right, a
revocation up the chain of grants, or a grant the chain has not confirmed yet."""

from __future__ import annotations

import pytest

from ledger.models import LicenceRecord
from ledger.reports.coverage import DAY, Licences
from ledger.reports.held_reasons import REASONS, HeldReasons

PLATFORM, OTHER = 10, 11
CONFIRMED = {1, 2, 3, 4, 5}


def licence(pk: int, work: int, territories: list[str], rights: list[str], *, op: int, **extra) -> LicenceRecord:
    terms = {"start": 100 * DAY, "end": 200 * DAY, "licensee_id": PLATFORM, **extra}
    return LicenceRecord(id=pk, work_pk=work, grantor_id=1, territories=territories, rights=rights, op_id=op, **terms)


@pytest.fixture
def reasons() -> HeldReasons:
    records = [
        licence(1, 1, ["CN"], ["streaming"], op=1),
        licence(2, 1, ["KR"], ["download"], op=2),
        licence(3, 1, ["JP"], ["streaming"], op=3, start=150 * DAY),
        licence(4, 2, ["CN"], ["streaming"], op=4, revoke_op_id=5),  # revoked
        licence(5, 2, ["CN"], ["streaming"], op=6, parent_pk=4, licensee_id=OTHER),  # derives from it
        licence(6, 3, ["CN"], ["streaming"], op=7),  # sent, not confirmed yet
        licence(7, 4, ["CN"], ["streaming"], op=8, parent_pk=4),  # unconfirmed, and its parent revoked
    ]
    return HeldReasons(None, Licences({r.id: r for r in records}, CONFIRMED))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("work", "territory", "day", "code"),
    [
        (1, "CN", 120, "covered_now"),
        (1, "US", 120, "territory_outside"),
        (1, "JP", 120, "day_outside"),
        (1, "CN", 250, "day_outside"),
        (1, "KR", 120, "right_not_granted"),
        (2, "CN", 120, "licence_revoked"),
        (3, "CN", 120, "licence_pending"),
        (4, "CN", 120, "licence_revoked"),
        (9, "CN", 120, "no_licence"),
    ],
)
def test_each_reason_is_told_apart(reasons, work, territory, day, code):
    assert reasons.why(PLATFORM, work, territory, day) == code
    assert REASONS[code]


def test_another_platforms_licence_is_no_licence_for_this_one(reasons):
    assert reasons.why(OTHER, 1, "CN", 120) == "no_licence"
    assert reasons.why(OTHER, 2, "CN", 120) == "licence_revoked"  # its sub-licence hangs off a revoked one
