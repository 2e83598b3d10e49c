"""Domain values shaped into response models."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from api import schemas
from ledger.chain.hexes import to_0x
from ledger.chain.registries import SplitVersion
from ledger.chain.settlement import OnChainPeriod
from ledger.derivatives import DerivationView
from ledger.distributions.copies import DistributionView
from ledger.distributions.records import payload_hex
from ledger.distributions.trace import Trace
from ledger.licences import LicenceView
from ledger.matching import MatchOutcome
from ledger.models import Account, ChainOp, JobStatus, LineDispute, MediaJob, PlayReport, SettlementRuleRecord
from ledger.op_views import op_status
from ledger.piracy.cases import CaseView, Lifetimes, media_of_work
from ledger.piracy.counter_notices import without_link_token
from ledger.piracy.crawl_jobs import CrawlJob
from ledger.piracy.evidence import derivative_doc
from ledger.reports import signing
from ledger.reports.signing import SigningDomain
from ledger.reports.views import HeldRow, day_text
from ledger.service import Health
from ledger.settlement.arbiter import Seat
from ledger.settlement.audit import AuditResult
from ledger.settlement.disputes import LINE_STATE, DisputeView
from ledger.settlement.payouts import Statement
from ledger.settlement.periods import PeriodView
from ledger.settlement.upstream import UpstreamRevenue
from ledger.works import WorkView, metadata_uri


def chain_status(op: ChainOp) -> schemas.ChainStatus:
    return schemas.ChainStatus(
        status=op_status(op), tx_hash=op.tx_hash, block_number=op.block_number, error=op.error_name
    )


def account(a: Account) -> schemas.AccountPublic:
    return schemas.AccountPublic(
        id=a.id,
        name=a.name,
        role=a.role,
        address=a.address,
        custodial=a.custodial,
        key_revoked=a.key_revoked_at is not None,
        created_at=a.created_at,
    )


def work(view: WorkView, *, parent: str | None) -> schemas.WorkPublic:
    """`parent`: the work id of the series the work belongs to (`ledger.work_views.work_ids` reads
    those of a page of works at once)."""
    w = view.work
    return schemas.WorkPublic(
        work_id=w.work_id,
        title=w.title,
        kind=w.kind,
        parent=parent,
        parties=w.parties,
        owner_account_id=w.owner_id,
        size_bytes=w.size_bytes,
        fingerprint=schemas.FingerprintOut(
            kind=w.fingerprint_kind, hashes=w.fingerprint_hashes, digest=w.fingerprint_digest
        ),
        metadata_hash=w.metadata_hash,
        metadata_uri=metadata_uri(w.work_id),
        near_duplicate_of=w.near_duplicate_of,
        near_duplicate_distance=w.near_duplicate_distance,
        chain=chain_status(view.op),
        created_at=w.created_at,
    )


def licence(
    view: LicenceView, work_id: str, currency: str, *, licensee_name: str | None = None
) -> schemas.LicencePublic:
    """`currency`: the ledger's settlement currency, which a derivative's minimum is counted in;
    `licensee_name`: the licensee's account name, for readers who may list accounts."""
    r = view.record
    return schemas.LicencePublic(
        id=r.id,
        work_id=work_id,
        parent_id=r.parent_pk,
        chain_licence_id=r.chain_licence_id,
        grantor_account_id=r.grantor_id,
        licensee_account_id=r.licensee_id,
        licensee_name=licensee_name,
        territories=r.territories,
        rights=r.rights,
        start=r.start,
        end=r.end,
        exclusive=r.exclusive,
        sublicensable=r.sublicensable,
        derivative=None
        if r.derivative_kinds is None or r.upstream_bps is None
        else schemas.UpstreamTermsPublic(
            kinds=r.derivative_kinds,
            share_bps=r.upstream_bps,
            min_per_valid_play_micro=r.upstream_min_micro or 0,
            currency=currency,
        ),
        status=view.status,
        chain=chain_status(view.op),
    )


def derivation(view: DerivationView, currency: str) -> schemas.DerivationPublic:
    """`currency`: the ledger's settlement currency, which the minimums are counted in."""
    return schemas.DerivationPublic(
        work_id=view.work.work_id,
        parents=[
            schemas.DerivativeEdgePublic(
                parent_work_id=parent,
                licence_id=edge.licence_pk,
                chain_licence_id=chain_licence_id,
                kind=edge.kind.value,
                share_bps=edge.share_bps,
                min_per_valid_play_micro=edge.min_per_valid_play_micro,
                currency=currency,
                position=edge.position,
            )
            for edge, parent, chain_licence_id in zip(
                view.edges, view.parent_work_ids, view.chain_licence_ids, strict=True
            )
        ],
        status=view.status,
        chain=chain_status(view.op),
    )


def split_version(v: SplitVersion) -> schemas.SplitVersionPublic:
    return schemas.SplitVersionPublic(
        version=v.version,
        payees=[schemas.PayeeShare(address=a, bps=b) for a, b in zip(v.payees, v.bps, strict=True)],
        effective_from=v.effective_from,
        split_hash=to_0x(v.split_hash),
    )


def days(first_day: int, end_day: int) -> schemas.DayRange:
    return schemas.DayRange(first_day=day_text(first_day), last_day=day_text(end_day - 1))


def report(r: PlayReport, op: ChainOp | None) -> schemas.ReportPublic:
    return schemas.ReportPublic(
        report_id=r.report_id,
        report_hash=r.report_hash,
        status=r.status.value,
        period=days(r.first_day, r.end_day),
        currency=r.currency,
        rows=r.row_count,
        held_rows=r.held_rows,
        totals=schemas.ReportTotals(
            plays=str(r.plays),
            valid_plays=str(r.valid_plays),
            watch_minutes=str(r.watch_minutes),
            ad_revenue=str(r.ad_revenue),
        ),
        rows_root=r.rows_root,
        digest=r.digest,
        signature=r.signature,
        anchor=chain_status(op) if op else None,
    )


PRIVATE_PERIOD_FIELDS = ("pools", "unsettled_works", "reports", "adjustments_applied", "platform_id")


def _period_fields(view: PeriodView, full: bool) -> dict[str, Any]:
    """A period's fields; `full` adds what only its platform, auditors and admins see (its
    reports, pools, other owners' unsettled works). A field left out is unset, and the routes
    answer with `response_model_exclude_unset`: a payee's answer does not name them at all."""
    p = view.period
    shown = {
        "period_id": p.period_id,
        "platform_id": p.platform_id,
        "platform": view.platform,
        "currency": p.currency,
        "period": days(p.first_day, p.end_day),
        "status": p.status.value,
        "root": p.root,
        "total": str(p.total),
        "line_count": p.line_count,
        "token": p.token,
        "inputs_hash": p.inputs_hash,
        "dispute_ends": p.dispute_ends,
        "pools": p.pools,
        "unsettled_works": p.inputs.get("unsettled", {}),
        "reports": [r["report_id"] for r in p.inputs["reports"]],
        "adjustments_applied": len(p.inputs.get("adjustments", [])),
        "commit": chain_status(view.op),
        "finalise": chain_status(view.finalise_op) if view.finalise_op else None,
    }
    if not full:
        for private in PRIVATE_PERIOD_FIELDS:
            shown.pop(private)
    return shown


def period(view: PeriodView, *, full: bool = True) -> schemas.PeriodPublic:
    return schemas.PeriodPublic(**_period_fields(view, full))


def period_detail(
    view: PeriodView, *, full: bool, on_chain: OnChainPeriod | None, disputes: list[DisputeView]
) -> schemas.PeriodDetail:
    """`on_chain`: the registry's record, None while the node does not answer."""
    return schemas.PeriodDetail(
        **_period_fields(view, full),
        open_disputes=None if on_chain is None else on_chain.open_disputes,
        owed=str(on_chain.owed) if on_chain is not None and on_chain.committed else None,
        disputes=[dispute(d) for d in disputes],
    )


def dispute(view: DisputeView) -> schemas.DisputePublic:
    d = view.dispute
    return schemas.DisputePublic(
        period_id=view.period_id,
        dispute_id=d.dispute_id,
        line_index=d.line_index,
        payee=d.payee,
        work_id=d.work_id,
        line_amount=str(d.line_amount),
        currency=view.currency,
        claimed_amount=str(d.claimed_amount),
        reason=d.reason,
        reason_hash=d.reason_hash,
        deadline=d.deadline,
        bond=str(d.bond),
        state=d.state.value,
        line_state=LINE_STATE[d.state],
        by_default=d.by_default,
        corrected_amount=None if d.corrected_amount is None else str(d.corrected_amount),
        decision_reason=d.decision_reason,
        decision_reason_hash=d.decision_reason_hash,
        carried_to=view.carried_to,
        dispute_tx=chain_status(view.dispute_op) if view.dispute_op else None,
        decision_tx=chain_status(view.decision_op) if view.decision_op else None,
    )


def arbiter_seat(seat: Seat) -> schemas.ArbiterSeat:
    return schemas.ArbiterSeat(
        arbiter=seat.arbiter,
        pending=seat.pending,
        arbiter_account_id=seat.arbiter_account_id,
        held_by_service=seat.held_by_service,
        external=not seat.held_by_service and seat.arbiter_account_id is None,
        decision_window=seat.decision_window,
        default_outcome="upheld" if seat.default_upheld else "rejected",
        bond_token=seat.bond_token,
        bond_amount=str(seat.bond_amount),
        bond_currency=seat.bond_currency,
        bond_sink=seat.bond_sink,
    )


def _line_dispute(d: LineDispute) -> schemas.LineDisputeState:
    return schemas.LineDisputeState(
        dispute_id=d.dispute_id,
        state=LINE_STATE[d.state],
        deadline=d.deadline,
        claimed_amount=str(d.claimed_amount),
        corrected_amount=None if d.corrected_amount is None else str(d.corrected_amount),
    )


def distribution(view: DistributionView) -> schemas.DistributionPublic:
    d, p = view.dist, view.platform
    copy = None
    if d.copy_sha256 is not None:
        copy = schemas.DistributionCopy(sha256=d.copy_sha256, size=d.copy_size, url=f"/distributions/{d.id}/copy")
    return schemas.DistributionPublic(
        id=d.id,
        work_id=view.work.work_id,
        platform=schemas.PartyRef(account_id=p.id, name=p.name, address=p.address),
        session=d.session,
        tier=d.tier,
        payload=payload_hex(d.payload),
        watermark_key_id=d.key_id,
        media_kind=d.media_kind,
        status=view.status,
        error=view.error,
        progress=schemas.DistributionProgress(
            frames_done=d.frames_done, frames_total=d.frames_total, job_id=view.job_id
        ),
        copy_file=copy,
        record_hash=d.record_hash,
        chain=chain_status(view.op) if view.op else None,
        created_at=d.created_at,
    )


def trace(found: Trace) -> schemas.TraceOut:
    w = found.detection
    reading = schemas.WatermarkReading(
        found=w.payload is not None,
        payload=payload_hex(w.payload) if w.payload is not None else None,
        confidence=round(w.confidence, 4),
        sync=round(w.sync, 2),
        media_kind=w.kind,
        frames=w.frames,
        keys_tried=found.keys_tried,
    )
    check = None
    if found.chain is not None:
        check = schemas.AnchorCheck(
            anchored=found.chain.anchored,
            record_hash_matches=found.chain.record_hash_matches,
            anchored_at=found.chain.anchored_at,
        )
    return schemas.TraceOut(
        watermark=reading,
        distribution=distribution(found.distribution) if found.distribution else None,
        on_chain=check,
        colluders=[
            schemas.ColluderOut(distribution=distribution(c.distribution), score=round(c.score, 2))
            for c in found.colluders
        ],
    )


def match(outcome: MatchOutcome, registry: str | None) -> schemas.MatchOut:
    q = outcome.query
    query = schemas.QuerySummary(
        kind=q.kind, frames_sampled=q.sampled, frames_usable=len(q), duration_seconds=round(q.duration, 3)
    )
    found, w, op = outcome.match, outcome.work, outcome.op
    if found is None:
        return schemas.MatchOut(matched=False, query=query)
    assert w is not None and op is not None  # a match names its work, registered under an operation
    return schemas.MatchOut(
        matched=True,
        work=schemas.MatchedWork(
            work_id=w.work_id,
            title=w.title,
            kind=w.kind,
            owner_account_id=w.owner_id,
            registry=registry,
            chain=chain_status(op),
        ),
        offset_seconds=found.offset,
        duration_seconds=found.duration,
        speed=found.speed,
        confidence=found.confidence,
        frames_agreeing=found.votes,
        mean_bits_apart=found.distance,
        derivative_of=_case_source(derivative_doc(outcome.derived_from, q)) if outcome.derived_from else None,
        query=query,
    )


def rule(record: SettlementRuleRecord) -> schemas.RulePublic:
    return schemas.RulePublic(
        version=record.version,
        platform_id=record.platform_id,
        currency=record.currency,
        effective_from=day_text(record.effective_from),
        rule=record.body,
        content_hash=record.content_hash,
    )


def _case_match(m: dict[str, Any]) -> schemas.CaseMatch:
    return schemas.CaseMatch(
        offset_seconds=m["offset_seconds"],
        duration_seconds=m["duration_seconds"],
        confidence=m["confidence"],
        seconds_compared=m.get("seconds_compared"),
        whole_copy_compared=m.get("whole_copy_compared"),
    )


def _case_source(source: dict[str, Any] | None) -> schemas.CaseSource | None:
    """A case's `derivative_of` (ledger.piracy.evidence.derivative_doc)."""
    if source is None:
        return None
    return schemas.CaseSource(
        work_id=source["work_id"],
        title=source["title"],
        kind=source["kind"],
        licence_id=source["licence"]["id"],
        chain_licence_id=source["licence"]["chain_licence_id"],
        match=_case_match(source["match"]),
    )


def case(
    view: CaseView, *, evidence_registry: str | None, screenshot: bool, with_counter_link: bool
) -> schemas.CasePublic:
    """A case; its notices name the counter-notice link in full only to its rights holder, who
    sends them: the link's token lets whoever holds it answer for the notice's recipient."""
    c, bundle = view.case, view.case.evidence
    m = bundle["match"]
    mark = bundle["watermark"]
    platform = None
    if view.platform is not None:
        platform = schemas.PartyRef(account_id=view.platform.id, name=view.platform.name, address=view.platform.address)
    return schemas.CasePublic(
        id=c.id,
        work_id=view.work.work_id,
        title=view.work.title,
        url=c.url,
        page_url=c.page_url,
        status=c.status.value,
        content_sha256=c.content_sha256,
        content_size=c.content_size,
        media_kind=c.media_kind,
        work_media_kind=media_of_work(view.work),
        match=_case_match(m),
        derivative_of=_case_source(bundle.get("derivative_of")),
        leak=schemas.CaseLeak(payload=mark.get("payload"), distribution_id=c.distribution_id, platform=platform),
        evidence_hash=c.evidence_hash,
        evidence_url=f"/cases/{c.id}/evidence",
        anchor=chain_status(view.op),
        evidence_registry=evidence_registry,
        screenshot=screenshot,
        first_seen_at=c.first_seen_at,
        last_seen_at=c.last_seen_at,
        sightings=c.sightings,
        checks=c.checks,
        last_checked_at=c.last_checked_at,
        gone_at=c.gone_at,
        lifetime_seconds=c.lifetime_seconds,
        history=[
            schemas.CaseLifeOut(
                found_at=life.found_at,
                gone_at=life.gone_at,
                lifetime_seconds=life.lifetime_seconds,
                found_again_at=life.found_again_at,
            )
            for life in view.lives
        ],
        notices=[
            schemas.NoticePublic(
                format=n.format,
                language=n.language,
                subject=n.subject,
                body=n.body if with_counter_link else without_link_token(n.body),
                delivery=n.delivery.value,
                attempts=n.attempts,
                delivered_at=n.delivered_at,
                response_status=n.response_status,
                last_error=n.last_error,
            )
            for n in view.notices
        ],
    )


def statement(s: Statement) -> schemas.Statement:
    """A statement; a line's `proof` is left unset (and so out of the answer) when none was asked for."""
    return schemas.Statement(
        format=s.format,
        chain_id=s.chain_id,
        contract=s.contract,
        period_id=s.period_id,
        platform=s.platform,
        period=schemas.DayRange(first_day=s.first_day, last_day=s.last_day),
        currency=s.currency,
        token=s.token,
        payout=s.payout,
        root=s.root,
        inputs_hash=s.inputs_hash,
        total=str(s.total),
        line_count=s.line_count,
        status=s.status,
        payee=s.payee,
        payee_total=str(s.payee_total),
        lines=[
            schemas.StatementLine(
                index=entry.line.index,
                payee=entry.line.payee,
                work_id=entry.line.work_id,
                work_title=s.titles.get(entry.line.work_id),
                via_work_id=entry.line.via_work_id,
                via_title=s.titles.get(entry.line.via_work_id) if entry.line.via_work_id else None,
                amount=str(entry.line.amount),
                rule_version=entry.line.rule_version,
                split_version=entry.line.split_version,
                adjustment=str(entry.line.adjustment),
                **({} if entry.proof is None else {"proof": list(entry.proof)}),
                **({} if entry.dispute is None else {"dispute": _line_dispute(entry.dispute)}),
            )
            for entry in s.lines
        ],
    )


def upstream_revenue(r: UpstreamRevenue) -> schemas.UpstreamRevenue:
    fields = asdict(r)
    period = schemas.DayRange(first_day=fields.pop("first_day"), last_day=fields.pop("last_day"))
    return schemas.UpstreamRevenue(**fields | {"period": period, "amount": str(r.amount)})


def held_row(r: HeldRow) -> schemas.HeldRow:
    return schemas.HeldRow(
        row=r.row,
        report_id=r.report_id,
        platform=r.platform,
        work_id=r.work_id,
        territory=r.territory,
        date=r.date,
        plays=r.plays,
        valid_plays=r.valid_plays,
        watch_minutes=r.watch_minutes,
        ad_revenue=r.ad_revenue,
        state="released" if r.released_into else "held",
        reason_code=r.reason_code,
        reason=r.reason,
        would_earn=schemas.WouldEarn(amount=str(r.would_earn.amount), currency=r.would_earn.currency)
        if r.would_earn
        else None,
        released_into=r.released_into,
    )


def lifetimes(summary: Lifetimes) -> schemas.LifetimeSummary:
    return schemas.LifetimeSummary(
        open=summary.open,
        closed=summary.closed,
        median_lifetime_seconds=summary.median_lifetime_seconds,
        mean_lifetime_seconds=summary.mean_lifetime_seconds,
    )


def crawl_job(job: CrawlJob) -> schemas.CrawlJob:
    return schemas.CrawlJob(
        job_id=job.job_id,
        submitted_at=job.submitted_at,
        submitter=job.submitter,
        seeds=list(job.seeds),
        rescan_every=job.rescan_every,
        counts=job.counts,
    )


def job(row: MediaJob) -> schemas.JobPublic:
    """A job as its owner follows it; its ledger step shows as running."""
    status = JobStatus.running if row.status == JobStatus.finishing else row.status
    total = row.progress_total
    done = total if row.status in (JobStatus.finishing, JobStatus.done) and total else row.progress_done
    return schemas.JobPublic(
        id=row.id,
        kind=row.kind,
        status=status.value,
        progress=schemas.JobProgress(done=done, total=total, fraction=min(1.0, done / total) if total else None),
        attempts=row.attempts,
        result=schemas.JobResult(**row.result) if row.result else None,
        error=schemas.JobError(code=row.error_code or "failed", message=row.error or "") if row.error else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def signing_domain(domain: SigningDomain) -> schemas.SigningDomain:
    return schemas.SigningDomain(
        domain=schemas.SigningDomainFields(
            name=domain.name,
            version=domain.version,
            chainId=domain.chain_id,
            verifyingContract=domain.verifying_contract,
        ),
        types={
            name: [schemas.TypedField(name=f["name"], type=f["type"]) for f in fields]
            for name, fields in signing.TYPES.items()
        },
        primary_type=signing.PRIMARY_TYPE,
    )


def health(h: Health) -> schemas.Health:
    f = h.funding
    return schemas.Health(
        status=h.status,
        problems=list(h.problems),
        warnings=list(h.warnings),
        funding=schemas.HealthFunding(
            address=f.address,
            balance=None if f.balance is None else str(f.balance),
            warn_below=str(f.warn_below),
            warning=f.warning,
        ),
        chain=schemas.HealthChain(
            managed=h.chain.managed,
            rpc_url=h.chain.rpc_url,
            chain_id=h.chain.chain_id,
            block_number=h.chain.block_number,
        ),
        contracts=h.contracts,
        operator=h.operator,
        database=h.database,
        outbox_unfinished=h.outbox_unfinished,
        leading=list(h.leading),
    )


def audit(result: AuditResult) -> schemas.AuditOut:
    return schemas.AuditOut(
        period_id=result.period_id,
        recomputed_root=result.recomputed_root,
        stored_root=result.stored_root,
        chain_root=result.chain_root,
        recomputed_inputs_hash=result.recomputed_inputs_hash,
        chain_inputs_hash=result.chain_inputs_hash,
        total=str(result.total),
        currency=result.currency,
        line_count=result.line_count,
        problems=list(result.problems),
        ok=result.ok,
    )
