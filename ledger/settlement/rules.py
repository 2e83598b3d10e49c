"""Settlement rules: how a work earns from a platform, as immutable numbered versions.

A rule is set by the work's owner, for every platform or for one platform (the deal of that
licence), in force from a day on. The version in force on a period's first day settles the
period; the platform-specific rule wins over the general one. A rule's body is canonical
JSON, and its hash goes into every period it settles, so an auditor sees exactly which terms
produced a number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_utils import keccak
from sqlmodel import Session, col, select

from ledger.chain.hexes import to_0x
from ledger.days import day_number
from ledger.db import commit_or, session
from ledger.errors import Conflict, Forbidden, InvalidInput
from ledger.idempotency import check_same, request_digest
from ledger.limits import HORIZON_REASON, horizon_day, text_problem
from ledger.models import Account, Role, SettlementRuleRecord
from ledger.settlement.engine import Rule, SettlementError, Tier

if TYPE_CHECKING:
    from ledger.service import Ledger

FIELDS = {"valid_play_tiers", "watch_minute_price_micro", "ad_revenue_bps", "pool", "commission_bps", "advance"}
MAX_TIERS = 16


def _whole(field: str, value: object, upper: int = 2**63 - 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= upper:
        raise InvalidInput(field, f"is a whole number from 0 to {upper}")
    return value


def canonical_body(raw: dict[str, Any]) -> dict[str, Any]:
    """The rule body with defaults filled and every value checked, or InvalidInput."""
    if not isinstance(raw, dict):
        raise InvalidInput("rule", "a rule is a JSON object")
    unknown = set(raw) - FIELDS
    if unknown:
        raise InvalidInput("rule", f"unknown fields: {', '.join(sorted(unknown))}; known: {', '.join(sorted(FIELDS))}")
    tiers = raw.get("valid_play_tiers") or []
    if not isinstance(tiers, list) or len(tiers) > MAX_TIERS:
        raise InvalidInput("valid_play_tiers", f"a list of at most {MAX_TIERS} tiers")
    clean_tiers = []
    for tier in tiers:
        if not isinstance(tier, dict) or set(tier) != {"from_plays", "price_micro"}:
            raise InvalidInput("valid_play_tiers", 'each tier is {"from_plays": n, "price_micro": n}')
        clean_tiers.append(
            {
                "from_plays": _whole("from_plays", tier["from_plays"]),
                "price_micro": _whole("price_micro", tier["price_micro"]),
            }
        )
    pool = raw.get("pool")
    if pool is not None and (not isinstance(pool, str) or not 0 < len(pool) <= 64):
        raise InvalidInput("pool", "a pool is named by 1 to 64 characters")
    if pool is not None and (problem := text_problem(pool)):
        raise InvalidInput("pool", f"the pool's name {problem}")
    body = {
        "valid_play_tiers": clean_tiers,
        "watch_minute_price_micro": _whole("watch_minute_price_micro", raw.get("watch_minute_price_micro", 0)),
        "ad_revenue_bps": _whole("ad_revenue_bps", raw.get("ad_revenue_bps", 0), 10_000),
        "pool": pool,
        "commission_bps": _whole("commission_bps", raw.get("commission_bps", 0), 10_000),
        "advance": _whole("advance", raw.get("advance", 0)),
    }
    try:
        to_rule(body, 0, "XXX")
    except SettlementError as exc:
        raise InvalidInput("rule", str(exc).split(": ", 1)[-1]) from None
    return body


def content_hash(body: dict[str, Any], currency: str) -> str:
    encoded = json.dumps({"currency": currency, **body}, sort_keys=True, separators=(",", ":"))
    return to_0x(keccak(text=encoded))


def to_rule(body: dict[str, Any], version: int, currency: str) -> Rule:
    return Rule(
        version=version,
        currency=currency,
        valid_play_tiers=tuple(Tier(t["from_plays"], t["price_micro"]) for t in body["valid_play_tiers"]),
        watch_minute_price_micro=body["watch_minute_price_micro"],
        ad_revenue_bps=body["ad_revenue_bps"],
        pool=body["pool"],
        commission_bps=body["commission_bps"],
    )


@dataclass(frozen=True)
class RuleInForce:
    record: SettlementRuleRecord

    @property
    def rule(self) -> Rule:
        return to_rule(self.record.body, self.record.version, self.record.currency)


def set_rule(
    ledger: Ledger,
    account: Account,
    work_id: str,
    raw_body: dict[str, Any],
    *,
    effective_from: int,
    platform_id: int | None = None,
    currency: str | None = None,
    idempotency_key: str | None = None,
) -> SettlementRuleRecord:
    """Add the next version of a work's rule (for one platform when `platform_id` is given).
    A retry under the same Idempotency-Key answers with the version it added, never a second
    one; the key with another request is refused."""
    from ledger.works import get_work

    work = get_work(ledger, account, work_id).work
    if work.owner_id != account.id:
        raise Forbidden("only the work's owner sets its settlement rule")
    currency = currency or ledger.settings.settlement_currency
    if currency != ledger.settings.settlement_currency:
        raise InvalidInput("currency", f"this ledger settles in {ledger.settings.settlement_currency}")
    body = canonical_body(raw_body)
    if not 0 <= effective_from <= day_number(horizon_day()):
        raise InvalidInput(
            "effective_from", f"a rule version starts by {horizon_day()} at the latest; {HORIZON_REASON}"
        )
    digest = request_digest(
        "rule",
        work_id=work.work_id,
        body=body,
        effective_from=effective_from,
        platform_id=platform_id,
        currency=currency,
    )
    with session(ledger.engine) as db:
        if idempotency_key:
            again = db.exec(
                select(SettlementRuleRecord).where(
                    SettlementRuleRecord.setter_id == account.id,
                    SettlementRuleRecord.idempotency_key == idempotency_key,
                )
            ).first()
            if again is not None:
                check_same(again, idempotency_key, digest, "rule version")
                return again
        if platform_id is not None:
            platform = db.get(Account, platform_id)
            if platform is None or platform.role != Role.platform:
                raise InvalidInput("platform_id", f"account {platform_id} is not a platform")
        latest = db.exec(
            select(SettlementRuleRecord)
            .where(SettlementRuleRecord.work_pk == work.id, SettlementRuleRecord.platform_id == platform_id)
            .order_by(col(SettlementRuleRecord.version).desc())
        ).first()
        if latest is not None and effective_from < latest.effective_from:
            raise InvalidInput(
                "effective_from",
                f"version {latest.version} is in force from day {latest.effective_from}; "
                "a new version cannot start before it",
            )
        record = SettlementRuleRecord(
            work_pk=work.id,
            platform_id=platform_id,
            version=(latest.version if latest else 0) + 1,
            effective_from=effective_from,
            currency=currency,
            body=body,
            content_hash=content_hash(body, currency),
            setter_id=account.id,
            idempotency_key=idempotency_key,
            request_digest=digest,
        )
        db.add(record)
        commit_or(
            db,
            Conflict(
                "rule_version_race",
                "another version (or a request with this Idempotency-Key) was added at the same moment; try again",
            ),
        )
        return record


def rules_of(ledger: Ledger, account: Account, work_id: str) -> list[SettlementRuleRecord]:
    from ledger.works import get_work

    work = get_work(ledger, account, work_id).work
    with session(ledger.engine) as db:
        records = db.exec(
            select(SettlementRuleRecord)
            .where(SettlementRuleRecord.work_pk == work.id)
            .order_by(col(SettlementRuleRecord.platform_id), col(SettlementRuleRecord.version))
        ).all()
    if account.role in (Role.auditor, Role.admin) or account.id == work.owner_id:
        return list(records)
    if account.role == Role.crawler:  # it reads a work's registration, not its commercial terms
        return []
    return [r for r in records if r.platform_id in (None, account.id)]


def rules_in_force(db: Session, work_pks: list[int], platform_id: int, day: int) -> dict[int, SettlementRuleRecord]:
    """For each work, the version in force on `day` for this platform: its own deal, else the general rule."""
    chosen: dict[int, SettlementRuleRecord] = {}
    records = db.exec(
        select(SettlementRuleRecord)
        .where(
            SettlementRuleRecord.effective_from <= day,
            (col(SettlementRuleRecord.platform_id) == platform_id) | (col(SettlementRuleRecord.platform_id).is_(None)),
        )
        .order_by(col(SettlementRuleRecord.version))
    ).all()
    wanted = set(work_pks)
    for record in records:
        if record.work_pk not in wanted:
            continue
        current = chosen.get(record.work_pk)
        specific = record.platform_id is not None
        if (
            current is None
            or (specific and current.platform_id is None)
            or (specific == (current.platform_id is not None) and record.version > current.version)
        ):
            chosen[record.work_pk] = record
    return chosen
