"""The running system: database, keys, chain and the background loops, started and stopped together.

Any number of service processes (replicas) may share one PostgreSQL database and one chain:
nonces are leased per signer through the database (ledger/chain/outbox.py) and each background
loop runs in the one replica that leads it (ledger/leadership.py). On SQLite there is one process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from ledger.chain.client import Chain
from ledger.chain.errors import ChainUnavailable, InsufficientFunds, OpTimeout
from ledger.chain.gas import FundingReport
from ledger.chain.node import NodeError
from ledger.chain.outbox import raise_for
from ledger.chain.registries import Registries
from ledger.config import Settings, redact_url
from ledger.db import make_engine, migrate, session
from ledger.distributions.keys import WatermarkKeys
from ledger.keys import KeyStore, load_master_key
from ledger.leadership import Leadership
from ledger.logs import carried
from ledger.metrics import Metrics
from ledger.models import ChainOp, OpStatus
from ledger.request_keys import RequestKeys

if TYPE_CHECKING:
    from ledger.matching import WorkMatcher

log = logging.getLogger("reelledger")
SWEEP_EVERY = 5.0  # seconds between looks for uploads that a stopped replica left half-received
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class ChainHealth:
    managed: bool  # the service runs its own Anvil node
    rpc_url: str  # credentials removed
    chain_id: int
    block_number: int | None  # None when the node does not answer


@dataclass(frozen=True)
class Health:
    """`Ledger.health`: degraded when the chain or the database does not answer."""

    status: str
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    funding: FundingReport
    chain: ChainHealth
    contracts: dict[str, str]
    operator: str
    database: str
    outbox_unfinished: int | None  # None when the database does not answer
    leading: tuple[str, ...]  # the background loops this process runs (the others' leaders are elsewhere)


class Ledger:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.metrics = Metrics(self.settings.redis_url)  # this ledger's own registry (GET /metrics)
        self.engine = make_engine(self.settings.resolved_database_url)
        migrate(self.engine)
        master_key = load_master_key(self.settings.data_dir, self.settings.master_key)
        self.keys = KeyStore(self.engine, master_key)
        self.watermark_keys = WatermarkKeys(master_key)
        self.request_keys = RequestKeys(
            self.engine,
            master_key,
            keep=timedelta(seconds=self.settings.idempotency_keep),
            takeover=timedelta(seconds=self.settings.idempotency_takeover),
        )
        self.chain = Chain(self.settings, self.engine, self.keys)
        self.registries = Registries(self.chain)
        self._stop = threading.Event()
        self.leadership = Leadership(self.engine)
        self._pool: Executor | None = None
        self._pool_lock = threading.Lock()
        self._media: Executor | None = None
        self._matcher: WorkMatcher | None = None
        from ledger.media_jobs.service import MediaJobs

        self.media_jobs = MediaJobs(self, self._stop)

    @property
    def matcher(self) -> WorkMatcher:
        """The frame index of every registered work (built at the first call, then kept in step)."""
        with self._pool_lock:
            if self._matcher is None:
                from ledger.matching import WorkMatcher

                self._matcher = WorkMatcher(self.engine)
            return self._matcher

    def start(self) -> Ledger:
        self._sweep_reports()
        self.chain.start()
        self.metrics.watch_chain(self.chain)
        self._stop.clear()
        self.leadership = Leadership(self.engine)
        self.lead("outbox-reconciler", self.settings.reconcile_interval, self._reconcile_pass)
        if self.settings.takedown_webhook:
            self.lead("notice-delivery", self.settings.reconcile_interval, self._deliver_pass)
        if self.leadership.shared:  # alone, the start-up sweep above found everything
            self.lead("interrupted-reports", SWEEP_EVERY, self._sweep_reports)
        log.info(
            "chain %s at %s, contracts %s", self.chain.chain_id, redact_url(self.chain.rpc_url), self.chain.addresses
        )
        self.media_jobs.start()
        self.lead("copies-without-jobs", self.settings.media_poll, self._resume_copies)
        threading.Thread(target=self._build_match_index, name="match-index", daemon=True).start()
        return self

    def _resume_copies(self) -> None:
        from ledger.distributions.copies import resume

        if resumed := resume(self):
            log.warning("making %d watermarked copies whose jobs were never written", resumed)

    def _build_match_index(self) -> None:
        try:
            loaded = self.matcher.refresh()
            self.matcher.index.prepare()
            if loaded:
                log.info(
                    "match index rebuilt from %d registered works (%d frame hashes)", loaded, len(self.matcher.index)
                )
        except Exception:  # the first match builds it instead
            log.exception("could not build the match index at start")

    def lead(self, name: str, every: float, run: Callable[[], object]) -> None:
        """Run `run` every `every` seconds in the one replica that leads `name` (this one, on
        SQLite); another takes over within seconds if it dies. For work that must not be done
        by every replica at once. A pass must be safe to repeat (see ledger/leadership.py)."""
        self.leadership.loop(name, every, run)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def submit_media(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run heavy media work (marking a copy) on the one media worker thread, in order."""
        with self._pool_lock:
            if self._media is None:
                from concurrent.futures import ThreadPoolExecutor

                self._media = ThreadPoolExecutor(max_workers=1, thread_name_prefix="media")
            return self._media.submit(carried(fn), *args, **kwargs)  # its log lines carry the request's id

    def parse_pool(self) -> Executor:
        """Worker processes that parse and hash report rows, started at the first report."""
        with self._pool_lock:
            if self._pool is None:
                from ledger.reports.blocks import worker_pool

                self._pool = worker_pool(self.settings.parse_workers)
            return self._pool

    def stop(self) -> None:
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._media is not None:  # a copy being marked sees `stopping` and gives up
            self._media.shutdown(wait=True, cancel_futures=True)
            self._media = None
        self.leadership.stop()
        self.media_jobs.close()
        self.chain.stop()
        self.engine.dispose()

    def settle(self, op_id: int, timeout: float | None = None) -> ChainOp:
        """Wait a little for a write to become final; if the node is slow or down it stays
        pending and the reconciler finishes it later."""
        try:
            return self.chain.outbox.wait(op_id, self.settings.write_wait if timeout is None else timeout)
        except (ChainUnavailable, OpTimeout):
            return self.chain.outbox.get(op_id)

    def finish_write(self, op_id: int, row_model: type[SQLModel], row_id: int) -> ChainOp:
        """Send a recorded write and wait a little for it. If the chain refuses it, the domain
        row stored with it is removed and the refusal raised by name: nothing half-written stays."""
        self.chain.outbox.send(op_id)
        op = self.settle(op_id)
        if op.status in (OpStatus.rejected, OpStatus.reverted):
            with session(self.engine) as db:
                row = db.get(row_model, row_id)
                if row is not None:
                    db.delete(row)
                    db.commit()
            raise_for(op)
        return op

    def _deliver_pass(self) -> None:
        """Takedown notices, on their own thread: a slow endpoint never holds up a chain write."""
        from ledger.piracy.delivery import deliver_due

        try:
            deliver_due(self)
        except Exception:
            log.exception("takedown notice delivery pass failed")

    def _sweep_reports(self) -> None:
        """Remove the uploads a stopped process left half-received (never one still arriving)."""
        from ledger.reports.ingest import discard_interrupted

        if dropped := discard_interrupted(self.engine):
            log.warning("removed %d play reports whose upload a stop cut off; they can be sent again", dropped)

    def _reconcile_pass(self) -> None:
        try:
            if self.chain.ensure_node():
                log.warning("the managed chain node had stopped and was restarted from its state file")
            if lost := self.chain.recover_lost():
                log.warning("the chain no longer has %d confirmed writes; sending them again", lost)
            self.chain.outbox.reconcile()
            if "SplitRegistry" in self.chain.addresses:
                from ledger.splits import record_versions

                record_versions(self)
            if "SettlementRegistry" in self.chain.addresses:
                from ledger.settlement.periods import advance_periods

                advance_periods(self)
        except ChainUnavailable as exc:
            log.warning("chain node unavailable, writes are kept in the outbox: %s", exc)
        except InsufficientFunds as exc:
            log.warning("a write waits in the outbox for gas money: %s", exc)
        except NodeError as exc:
            log.error("the managed chain node could not be restarted: %s", exc)
        except Exception:  # keep reconciling whatever one pass hit
            log.exception("outbox reconcile pass failed")

    def health(self) -> Health:
        """What a monitor needs: is the chain answering, where are the contracts, is anything stuck."""
        chain = self.chain
        problems: list[str] = []
        warnings: list[str] = []
        try:
            block_number: int | None = chain.block_number()
        except OSError:
            block_number = None
            problems.append("chain node does not answer")
        funding = FundingReport(address=chain.funder, balance=None, warn_below=self.settings.funding_warn_wei)
        if block_number is not None:
            try:
                funding = chain.funding_report(self.settings.funding_warn_wei)
            except OSError:
                pass
        if funding.warning:
            warnings.append(funding.warning)  # worth an operator's look, but the service still works
        try:
            outbox_unfinished: int | None = chain.outbox.unfinished()
        except SQLAlchemyError:
            outbox_unfinished = None
            problems.append("database does not answer")
        return Health(
            status="degraded" if problems else "ok",
            problems=tuple(problems),
            warnings=tuple(warnings),
            funding=funding,
            chain=ChainHealth(
                managed=chain.node is not None,
                rpc_url=redact_url(chain.rpc_url) or "",
                chain_id=chain.chain_id,
                block_number=block_number,
            ),
            contracts=dict(chain.addresses),
            # Accounts with their own address approve this operator (WorkRegistry.setOperator)
            # so that the service can record works, licences and splits on their behalf.
            operator=chain.signer,
            database=self.engine.url.get_backend_name(),
            outbox_unfinished=outbox_unfinished,
            leading=self.leadership.leading,
        )
