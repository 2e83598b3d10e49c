"""Why a held row is held, in the words the coverage check can tell apart, and what it would
earn: so a platform and a rights holder know which licence to grant and what is at stake."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from ledger.models import LicenceRecord, SettlementRuleRecord
from ledger.reports.coverage import DAY, REPORTED_RIGHT, Licences
from ledger.settlement.engine import PlayRow, Split, settle
from ledger.settlement.rules import rules_in_force, to_rule

REASONS = {
    "no_licence": "the platform holds no licence for the work",
    "right_not_granted": "no licence covering this territory and day grants the streaming right",
    "territory_outside": "the territory is outside every licence the platform holds for the work",
    "day_outside": "the day is outside the window of every licence for this territory",
    "licence_revoked": "the licence covering it (or one it derives from) was revoked",
    "licence_pending": "the licence covering it is not confirmed on chain yet",
    "covered_now": "a licence covers it now: it settles when the platform next closes a period",
    "no_rule": "a licence covers it now, but no settlement rule or split is in force for its period",
    "corrected": "its report was corrected after it was settled: the correction's rows are what counts",
    "in_correction": "held in a correction of a settled period: a further correction settles it once licensed",
    "released": "settled by a later period of the platform",
}


@dataclass(frozen=True)
class Earning:
    amount: int  # minor units
    currency: str


class HeldReasons:
    """The licences of every platform asked about, loaded once per listing."""

    def __init__(self, db: Session, licences: Licences | None = None) -> None:
        self._db = db
        self._licences = licences or Licences.load(db)
        self._rules: dict[tuple[int, int, int], SettlementRuleRecord | None] = {}

    def why(self, platform_id: int, work_pk: int, territory: str, day: int) -> str:
        """The reason code (a key of REASONS) for a row no licence covered when it arrived."""
        found = [r for r in self._licences.records.values() if r.licensee_id == platform_id and r.work_pk == work_pk]
        if not found:
            return "no_licence"

        def fits(record: LicenceRecord) -> bool:
            return territory in record.territories and record.start <= day * DAY < record.end

        fitting = [r for r in found if fits(r)]
        streaming = [r for r in fitting if REPORTED_RIGHT in r.rights]
        if streaming:
            states = {self._licences.state(r) for r in streaming}
            if "valid" in states:
                return "covered_now"
            return "licence_pending" if "pending" in states else "licence_revoked"
        if fitting:
            return "right_not_granted"
        if any(territory in r.territories for r in found):
            return "day_outside"
        return "territory_outside"

    def would_earn(
        self, platform_id: int, work_pk: int, first_day: int, currency: str, usage: tuple[int, int, int, int]
    ) -> Earning | None:
        """What the row alone earns its payees under the rule in force for its report's period:
        after the platform's commission, before any pool share or advance recoupment (those
        depend on the period it is settled in). None when no rule in that currency is in force."""
        plays, valid, minutes, ad = usage
        key = (platform_id, work_pk, first_day)
        if key not in self._rules:
            self._rules[key] = rules_in_force(self._db, [work_pk], platform_id, first_day).get(work_pk)
        record = self._rules[key]
        if record is None or record.currency != currency:
            return None
        rule = to_rule(record.body, record.version, record.currency)
        result = settle(
            [PlayRow("w", "", plays, valid, minutes, ad, currency)],
            {"w": rule},
            {"w": Split(0, ("payees",), (10_000,))},
            {rule.pool: 0} if rule.pool else {},
        )
        return Earning(result.works[0].payable, currency)
