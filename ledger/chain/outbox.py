"""Every chain write goes through here, so that none is lost and none is sent twice.

An operation's life:

    submit(key, sender, call)
      record   -> row `queued` under its idempotency key (a repeated key returns the same row)
      dry run  -> a revert marks it `rejected` with the custom error's name; nothing is sent
      gas      -> the sender can pay, or is topped up by the funding key (ledger/chain/gas.py);
                  if nobody can pay, it stays `queued` as `insufficient_funds`
      sign     -> nonce, gas, signed bytes and hash stored, the hash also as the first entry
                  of `sent_txs`; row `pending`                               (committed first)
      send     -> the stored bytes are broadcast
    reconcile(), for each `pending` row, looking for a receipt of ANY hash in `sent_txs`:
      receipt  -> `confirmed` or `reverted` once `confirmations` blocks are on top of its
                  block and that block is still the chain's block at its height; until then
                  it stays pending, and a receipt that a reorg took away counts as none
      none, and the nonce is used on chain by a transaction that is not ours (another
                  program with the same key, a reorg that mined someone else's) while the
                  chain grew `confirmations` blocks -> back to `queued`, signed again at a
                  fresh nonce; the old bytes can never be mined. "Not ours" is what the
                  node names as the nonce's transaction (ots_getTransactionBySenderAndNonce);
                  a node that cannot name it is believed only after NONCE_TAKEN_GRACE
                  seconds more without a receipt of ours
      none, unmined `fee_bump_after` seconds while the chain asks more than it offers
               -> replaced: same nonce and gas, every price field outbid by >= 12.5%
                  (fees.py); stored (appended to `sent_txs`) before it is broadcast
      none, in the node's pool -> wait
      none, unknown to the node (lost, dropped by a reorg) -> the newest stored bytes are
                  broadcast again: same nonce, so at most one version is ever mined
    reconcile(), for each `queued` row: signed and sent as above (the node was down, the
                  sender could not pay, or its nonce was taken)

A crash between any two steps leaves a row that the next reconcile pass carries on from.
One thread signs for a given sender at a time: an in-process lock per sender, and on
PostgreSQL, where several service processes (replicas) may share the outbox, the sender's
key row (`stored_key`) locked FOR UPDATE from before its next nonce is read until the signed
op is committed. So a nonce is leased through the database: the next one is the highest the
outbox holds for the sender plus one (or the chain's count, if higher), read under that lock,
and no two replicas ever sign the same nonce (the unique (chain, sender, nonce) constraint
backs it). On SQLite (one process) the in-process lock and a cached next nonce suffice.
The reconciler thread and requests waiting for their write, in any replica, all reconcile: a
replacement or a re-signing is stored only if the row still holds the version it was decided
on (compare and set), so two passes never both act.

Reorgs are watched only while an op is pending, so `confirmations` is the depth of reorg the
service survives. With 0 (the default, for a development chain) an op is final at its first
receipt: a reorg that later drops it is not noticed, except when the node comes back with
fewer blocks than the op's (`reopen_lost`), and a nonce counts as taken as soon as it is used
in the latest block. Set REELLEDGER_CONFIRMATIONS on any chain that can reorg.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from eth_account.types import TransactionDictType
from hexbytes import HexBytes
from sqlalchemy import Engine, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from web3 import Web3
from web3.exceptions import (
    ContractLogicError,
    ProviderConnectionError,
    TransactionNotFound,
    Web3RPCError,
)
from web3.providers.base import JSONBaseProvider
from web3.types import Nonce, RPCEndpoint, RPCResponse, TxParams, Wei

from ledger.advisory import shared
from ledger.chain import web3_types
from ledger.chain.errors import (
    ChainRevert,
    ChainUnavailable,
    GasPending,
    IdempotencyConflict,
    InsufficientFunds,
    OpTimeout,
    decode_revert,
    error_kind,
    is_revert,
    revert_data_of,
    revert_payload,
)
from ledger.chain.fees import Market, market, outbid, signed_fees, underpriced
from ledger.chain.hexes import to_0x
from ledger.db import must_get, session
from ledger.keys import KeyStore
from ledger.models import ChainOp, OpStatus, StoredKey, utcnow

log = logging.getLogger("reelledger.chain")

if TYPE_CHECKING:
    from ledger.chain.gas import GasStation  # it imports this module

NODE_DOWN = (OSError, ProviderConnectionError)
FINAL = {OpStatus.confirmed, OpStatus.reverted, OpStatus.rejected}
FEE_CACHE_SECONDS = 5.0
RECEIPT_BATCH = 200
FEE_BUMP_AFTER = 60.0
NONCE_TAKEN_GRACE = 2.0  # seconds a nonce used by an unnamed transaction is watched before re-signing
NONCE_USED = ("nonce too low", "nonce is too low", "nonce has already been used")

T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """A transaction to make: `to=None` deploys `data` as init code."""

    label: str
    to: str | None
    data: str
    value: int = 0


@dataclass
class _Pass:
    """What one reconcile pass asked the node, so that each question is asked once per pass."""

    head: int | None  # the latest block number, when confirmations count
    nonces: dict[str, int] = field(default_factory=dict)  # sender -> transaction count in the latest block
    market: Market | None = None


class Outbox:
    def __init__(
        self,
        engine: Engine,
        w3: Web3,
        keys: KeyStore,
        chain_id: int,
        confirmations: int = 0,
        fee_bump_after: float = FEE_BUMP_AFTER,
    ) -> None:
        self.engine = engine
        self.w3 = w3
        self.keys = keys
        self.chain_id = chain_id
        self.confirmations = confirmations
        self.fee_bump_after = fee_bump_after
        self._sender_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._next_nonce: dict[str, int] = {}
        self._taken_at: dict[tuple[int, int], int] = {}  # (op id, nonce) -> head when another's use was first seen
        self._taken_seen: dict[tuple[int, int], float] = {}  # (op id, nonce) -> when a use nobody names was first seen
        self._market: tuple[float, Market] | None = None
        self._shared = shared(engine)  # other processes may sign from this outbox: lease nonces
        self.gas: GasStation | None = None  # set by the Chain: pays the gas of the accounts it signs for
        self.on_error: Callable[[str], None] = _ignore  # told each error's kind (ERROR_KINDS), for metrics

    # ----------------------------------------------------------------- submit

    def submit(self, key: str, sender: str, call: Call) -> ChainOp:
        """Record the call under `key` and send it once; a repeated key sends nothing new."""
        with session(self.engine) as db:
            op = self.record(db, key, sender, call)
            db.commit()
        return self.send(op.id)

    def record(self, db: Session, key: str, sender: str, call: Call) -> ChainOp:
        """Add the call to the outbox inside the caller's transaction, so that it is stored
        together with the domain rows that refer to it, or not at all. Returns the existing
        row when the key was used before for the same call."""
        sender = Web3.to_checksum_address(sender)
        to = Web3.to_checksum_address(call.to) if call.to else None
        existing = db.exec(select(ChainOp).where(ChainOp.idempotency_key == key)).first()
        if existing is None:
            op = ChainOp(
                idempotency_key=key,
                chain_id=self.chain_id,
                sender=sender,
                to=to,
                data=call.data,
                value=call.value,
                label=call.label,
            )
            try:
                with db.begin_nested():  # a savepoint: losing a race keeps the caller's transaction
                    db.add(op)
                return op
            except IntegrityError:  # the same key recorded concurrently: use that row
                existing = db.exec(select(ChainOp).where(ChainOp.idempotency_key == key)).one()
        same = (
            existing.chain_id == self.chain_id
            and existing.sender == sender
            and existing.to == to
            and existing.data == call.data
            and int(existing.value) == call.value
        )
        if not same:
            raise IdempotencyConflict(f"idempotency key {key!r} was used for a different operation ({existing.label})")
        return existing

    def send(self, op_id: int) -> ChainOp:
        """Sign and send a recorded operation unless it already was; a rejected one is tried again."""
        op = self.get(op_id)
        if op.status == OpStatus.rejected:
            op = self._requeue(op)  # nothing reached the chain, so trying again is safe
        if op.status == OpStatus.queued:
            op = self._sign_and_send(op.id)
        return op

    def _requeue(self, op: ChainOp) -> ChainOp:
        with session(self.engine) as db:
            row = must_get(db, ChainOp, op.id)
            if row.status == OpStatus.rejected:
                row.status, row.error_name, row.error_args, row.updated_at = OpStatus.queued, None, None, utcnow()
                db.add(row)
                db.commit()
            return row

    def _lock_for(self, sender: str) -> threading.Lock:
        with self._locks_guard:
            return self._sender_locks.setdefault(sender, threading.Lock())

    def _sign_and_send(self, op_id: int) -> ChainOp:
        for _ in range(3):  # a nonce taken by someone else sends it back to the queue once more
            op = self._sign_and_send_once(op_id)
            if op.status != OpStatus.queued or op.nonce is not None or op.last_error:
                return op
        return op

    def _sign_and_send_once(self, op_id: int) -> ChainOp:
        with session(self.engine) as db:
            sender = must_get(db, ChainOp, op_id).sender
        with self._lock_for(sender):
            with session(self.engine) as db:
                self._lease(db, sender)
                op = must_get(db, ChainOp, op_id)
                if op.status != OpStatus.queued:  # another thread or replica got here first
                    return op
                tx = self._transaction(op)
                try:
                    probe = tx.copy()
                    probe["from"] = web3_types.address(op.sender)
                    estimate = self.w3.eth.estimate_gas(probe, block_identifier="pending")
                    nonce = self._nonce_for(db, op.sender)
                    offer = self._going().offer
                except (ContractLogicError, Web3RPCError) as exc:
                    if not is_revert(exc):  # the node refused for its own reasons: try again later
                        return self._note_error(db, op, exc)
                    revert = decode_revert(revert_data_of(exc), op.label)
                    self.on_error("rejected")
                    op.status = OpStatus.rejected
                    op.error_name, op.error_args = revert.name, _jsonable(revert.args_by_name)
                    op.updated_at = utcnow()
                    db.add(op)
                    db.commit()
                    return op
                except NODE_DOWN as exc:
                    return self._note_error(db, op, exc)
                gas = estimate * 6 // 5 + 10_000
                tx.update(offer.fields())
                tx["nonce"], tx["gas"] = Nonce(nonce), gas
                account = self.keys.account(op.sender)  # a key we hold, before anyone pays its gas
                if self.gas is not None:
                    try:
                        self.gas.cover(op.sender, nonce, gas * offer.cap + int(op.value))
                    except InsufficientFunds as exc:
                        return self._hold(db, op, exc)
                    except (GasPending, ChainUnavailable, *NODE_DOWN) as exc:
                        return self._note_error(db, op, exc)
                signed = account.sign_transaction(_signable(tx))
                tx_hash = to_0x(signed.hash)
                op.nonce, op.gas = nonce, gas
                op.raw_tx, op.tx_hash = to_0x(signed.raw_transaction), tx_hash
                op.sent_txs = [_version(tx_hash)]
                op.status, op.last_error, op.updated_at = OpStatus.pending, None, utcnow()
                op.error_name = op.error_args = None  # an earlier insufficient_funds is over
                db.add(op)
                db.commit()  # the signed bytes are safe before anything is broadcast
                self._next_nonce[op.sender] = nonce + 1
                self._broadcast(db, op)
                return op

    def _transaction(self, op: ChainOp) -> TxParams:
        """The op's call as transaction fields, without nonce, gas or price."""
        tx: TxParams = {"data": web3_types.hex_str(op.data), "value": Wei(int(op.value)), "chainId": self.chain_id}
        if op.to:
            tx["to"] = web3_types.address(op.to)
        return tx

    def _hold(self, db: Session, op: ChainOp, exc: InsufficientFunds) -> ChainOp:
        """Keep the op queued, unsigned, saying who cannot pay and how much is missing; the
        reconciler tries it again each pass and sends it once the account can pay."""
        self.on_error(error_kind(exc))
        op.error_name, op.error_args = InsufficientFunds.code, exc.details
        op.last_error, op.updated_at = str(exc)[:500], utcnow()
        db.add(op)
        db.commit()
        return op

    def _lease(self, db: Session, sender: str) -> None:
        """On PostgreSQL, lock the sender's key row for the rest of `db`'s transaction: the
        nonce lease that keeps replicas from signing the same nonce (see the module's note)."""
        if self._shared:
            db.exec(select(StoredKey.id).where(StoredKey.address == sender).with_for_update()).first()

    def _nonce_for(self, db: Session, sender: str) -> int:
        """The sender's next nonce. Alone (SQLite), this process signed every nonce the outbox
        holds, so the one after its last is cached; with replicas the outbox's highest, read
        under the lease, also counts what the others signed since."""
        cached = self._next_nonce.get(sender)
        if cached is not None and not self._shared:
            return cached
        highest = db.exec(
            select(func.max(ChainOp.nonce)).where(ChainOp.chain_id == self.chain_id, ChainOp.sender == sender)
        ).one()
        ours = -1 if highest is None else highest + 1
        if cached is not None:
            return max(cached, ours)
        on_chain = self.w3.eth.get_transaction_count(web3_types.address(sender), "pending")
        return max(on_chain, ours)

    def _going(self, fresh: bool = False) -> Market:
        """The chain's price, asked at most every few seconds for new transactions; `fresh`
        asks now (to decide a replacement) and keeps the answer for the next ones."""
        now = time.monotonic()
        if not fresh and self._market and now - self._market[0] < FEE_CACHE_SECONDS:
            return self._market[1]
        self._market = (now, market(self.w3))
        return self._market[1]

    def _broadcast(self, db: Session, op: ChainOp) -> None:
        try:
            self.w3.eth.send_raw_transaction(HexBytes(_required(op, op.raw_tx, "signed bytes")))
        except NODE_DOWN as exc:
            self._note_error(db, op, exc)
        except Web3RPCError as exc:
            self._on_rejected_broadcast(db, op, exc)

    def _on_rejected_broadcast(self, db: Session, op: ChainOp, exc: Web3RPCError) -> None:
        message = str(exc).lower()
        if "already known" in message or "already imported" in message:
            return
        if any(words in message for words in NONCE_USED):
            self._after_nonce_used(db, op, _Pass(None))
            return
        self._note_error(db, op, exc)  # a price below the base fee included: a replacement follows

    def _after_nonce_used(self, db: Session, op: ChainOp, seen: _Pass) -> None:
        """The op's nonce is used on chain. By a version of ours (its receipt is there now:
        settled next pass), or by another transaction: once the chain has grown `confirmations`
        blocks since that was first seen, the op goes back to the queue to be signed at a
        fresh nonce; until then it waits. (The depth is counted from what this process saw,
        so a restart counts again, rather than asked of an older block's state, which a
        pruned node or an Anvil restarted from its state file no longer has.) A node that cannot
        answer counts as "maybe ours", so nothing is signed twice."""
        taken = _required(op, op.nonce, "nonce")
        try:
            if self.confirmations and seen.head is None:
                seen.head = self.w3.eth.block_number
            head = seen.head
            if self._current_receipts(self._hashes(op), head):  # asked after the nonce: ours
                return
            holder = self._holder_of(op.sender, taken)
        except (*NODE_DOWN, Web3RPCError):
            return
        if holder is not None and holder in {h.lower() for h in self._hashes(op)}:
            return  # the node holds a version of ours at that nonce: its receipt is settled next pass
        if holder is None and not self.confirmations:
            # The node cannot say which transaction holds the nonce: take it as someone else's
            # only once that has held for a while, so a receipt seen late is never signed twice.
            since = self._taken_seen.setdefault((op.id, taken), time.monotonic())
            if time.monotonic() - since < NONCE_TAKEN_GRACE:
                self._note(db, op, f"nonce {taken} is used on chain and no receipt of ours is seen yet")
                return
        if self.confirmations:
            if head is None:
                raise RuntimeError("the head is read above whenever confirmations count")
            since = self._taken_at.setdefault((op.id, taken), head)
            if head < since + self.confirmations:
                self._note(
                    db,
                    op,
                    f"nonce {op.nonce} is used by another transaction; the op is signed again at a "
                    f"new nonce once the chain has grown {self.confirmations} blocks past it",
                )
                return
        resigned = self._swap(
            db,
            op,
            {"status": OpStatus.pending, "nonce": taken, "tx_hash": op.tx_hash},  # no newer version since
            {
                "status": OpStatus.queued,
                "nonce": None,
                "raw_tx": None,
                "tx_hash": None,
                "gas": None,
                "sent_txs": None,
                "last_error": None,
                "updated_at": utcnow(),
            },
        )
        self._taken_at.pop((op.id, taken), None)
        self._taken_seen.pop((op.id, taken), None)
        if resigned:
            self._next_nonce.pop(op.sender, None)
            log.warning(
                "nonce %d of %s was used by another transaction (%s): operation %d (%s) is signed again at a new nonce",
                taken,
                op.sender,
                holder or "the node does not say which",
                op.id,
                op.label,
            )

    def _holder_of(self, sender: str, nonce: int) -> str | None:
        """The hash of the transaction the node holds at the sender's nonce, lower case; None
        where the node cannot say (Otterscan's method, which Anvil, Erigon and Reth answer)."""
        try:
            response = self.w3.provider.make_request(
                RPCEndpoint("ots_getTransactionBySenderAndNonce"), [web3_types.address(sender), nonce]
            )
        except NODE_DOWN:
            raise
        except Exception:  # a node that refuses the method with an HTTP error status
            return None
        found = response.get("result") if isinstance(response, dict) else None
        return found.lower() if isinstance(found, str) else None

    def _nonce_used(self, sender: str, nonce: int, seen: _Pass) -> bool:
        """Whether the account's transaction count in the latest block has passed `nonce`."""
        if sender not in seen.nonces:
            seen.nonces[sender] = self.w3.eth.get_transaction_count(web3_types.address(sender), "latest")
        return seen.nonces[sender] > nonce

    def _swap(self, db: Session, op: ChainOp, expected: dict[str, Any], values: dict[str, Any]) -> bool:
        """Store `values` on the op's row only if it still holds `expected` (compare and set);
        `op` is refreshed either way. True if this call stored them."""
        stored: bool = (
            db.exec(
                update(ChainOp)
                .where(col(ChainOp.id) == op.id, *(getattr(ChainOp, name) == value for name, value in expected.items()))
                .values(**values)
            ).rowcount
            == 1
        )
        db.commit()
        db.refresh(op)
        return stored

    def mined(self, tx_hash: str) -> bool:
        """Whether the node has a receipt for `tx_hash`."""
        return bool(self._receipts([tx_hash]))

    def _note_error(self, db: Session, op: ChainOp, exc: BaseException) -> ChainOp:
        self.on_error(error_kind(exc))
        self._note(db, op, f"{type(exc).__name__}: {exc}")
        if isinstance(exc, NODE_DOWN):
            self._next_nonce.pop(op.sender, None)
        return op

    def _note(self, db: Session, op: ChainOp, problem: str) -> None:
        op.last_error = problem[:500]
        op.updated_at = utcnow()
        db.add(op)
        db.commit()

    # -------------------------------------------------------------- reconcile

    def reconcile(self, op_ids: Iterable[int] | None = None) -> int:
        """One pass over unfinished operations; returns how many became final."""
        ids = None if op_ids is None else list(op_ids)
        finished = 0
        # Signed transactions first, in nonce order, so that a resent batch fills its own gaps
        # before anything new takes the next nonce.
        pending = self._unfinished(OpStatus.pending, ids, ChainOp.id)
        for start in range(0, len(pending), RECEIPT_BATCH):
            chunk = pending[start : start + RECEIPT_BATCH]
            try:
                finished += self._settle(chunk)
            except NODE_DOWN as exc:
                with session(self.engine) as db:
                    self._note_error(db, must_get(db, ChainOp, chunk[0].id), exc)
                raise ChainUnavailable(str(exc)) from exc
        for op in self._unfinished(OpStatus.queued, ids, ChainOp.id):
            finished += self._sign_and_send(op.id).status in FINAL
        return finished

    @staticmethod
    def _hashes(op: ChainOp) -> list[str]:
        """Every hash signed for the op's nonce, oldest first; a receipt for any is its receipt."""
        if op.sent_txs:
            return [version["hash"] for version in op.sent_txs]
        return [op.tx_hash] if op.tx_hash else []

    def _receipts(self, tx_hashes: list[str]) -> dict[str, dict[str, Any]]:
        """Receipts by transaction hash, fetched in one JSON-RPC batch; absent ones are left out."""
        if len(tx_hashes) == 1:
            try:
                receipt = self.w3.eth.get_transaction_receipt(web3_types.hex_str(tx_hashes[0]))
            except TransactionNotFound:
                return {}
            fields = {k: receipt.get(k) for k in ("blockNumber", "status", "contractAddress", "revertReason")}
            return {tx_hashes[0]: {**fields, "blockHash": to_0x(receipt["blockHash"])}}
        responses = self._batch("eth_getTransactionReceipt", [[tx_hash] for tx_hash in tx_hashes]) if tx_hashes else []
        found: dict[str, dict[str, Any]] = {}
        for response in responses:
            raw = response.get("result") if isinstance(response, dict) else None
            if raw:
                found[raw["transactionHash"].lower()] = {
                    "blockNumber": int(raw["blockNumber"], 16),
                    "blockHash": raw["blockHash"].lower(),
                    "status": int(raw["status"], 16),
                    "contractAddress": raw.get("contractAddress") and Web3.to_checksum_address(raw["contractAddress"]),
                    "revertReason": raw.get("revertReason"),  # Besu with --revert-reason-enabled
                }
        return {h: found[h.lower()] for h in tx_hashes if h.lower() in found}

    def _current_receipts(self, tx_hashes: list[str], head: int | None) -> dict[str, dict[str, Any]]:
        """The receipts found, less those deep enough to count whose block is no longer the
        chain's block at that height (a node may still answer for a block a reorg replaced)."""
        receipts = self._receipts(tx_hashes)
        if not self.confirmations or not receipts:
            return receipts
        if head is None:
            head = self.w3.eth.block_number
        deep = sorted({r["blockNumber"] for r in receipts.values() if r["blockNumber"] + self.confirmations <= head})
        chain = self._block_hashes(deep)
        return {
            h: r
            for h, r in receipts.items()
            if r["blockNumber"] not in chain or chain[r["blockNumber"]] == r["blockHash"]
        }

    def _block_hashes(self, numbers: list[int]) -> dict[int, str | None]:
        """The hash of the chain's block at each height now (None past its head)."""
        if not numbers:
            return {}
        responses = self._batch("eth_getBlockByNumber", [[hex(number), False] for number in numbers])
        blocks = [response.get("result") if isinstance(response, dict) else None for response in responses]
        by_number = {int(b["number"], 16): b["hash"].lower() for b in blocks if b}
        return {number: by_number.get(number) for number in numbers}

    def _batch(self, method: str, params: list[list[Any]]) -> list[RPCResponse] | RPCResponse:
        """One JSON-RPC batch of `method`, once per entry of `params`: a list of responses, or one
        error response for the whole batch."""
        provider = cast(JSONBaseProvider, self.w3.provider)  # an HTTPProvider (ledger/chain/client.py)
        return provider.make_batch_request([(RPCEndpoint(method), p) for p in params])

    def _settle(self, ops: list[ChainOp]) -> int:
        """Record the receipts found, in one commit; see to the ops that have none."""
        seen = _Pass(self.w3.eth.block_number if self.confirmations else None)
        receipts = self._current_receipts([h for op in ops for h in self._hashes(op)], seen.head)
        settled = 0
        with session(self.engine) as db:
            for op in ops:
                row = must_get(db, ChainOp, op.id)
                if row.status != OpStatus.pending:
                    continue
                mined = next(((h, receipts[h]) for h in self._hashes(row) if h in receipts), None)
                if mined is None:
                    self._unmined(db, row, seen)
                    continue
                tx_hash, receipt = mined
                if self.confirmations and receipt["blockNumber"] + self.confirmations > seen.head:
                    continue  # seen, not yet deep enough: a reorg may still take it away
                row.tx_hash, row.block_number = tx_hash, receipt["blockNumber"]
                row.contract_address = receipt["contractAddress"] or None
                if receipt["status"] == 1:
                    row.status = OpStatus.confirmed
                else:
                    revert = self._replay_revert(row, receipt["blockNumber"], receipt.get("revertReason"))
                    self.on_error("reverted")
                    row.status = OpStatus.reverted
                    row.error_name, row.error_args = revert.name, _jsonable(revert.args_by_name)
                row.last_error, row.updated_at = None, utcnow()
                db.add(row)
                settled += 1
            db.commit()
        return settled

    def _unmined(self, db: Session, row: ChainOp, seen: _Pass) -> None:
        """A pending op without a receipt: its nonce taken, its price too low, or lost."""
        nonce = _required(row, row.nonce, "nonce")
        if self._nonce_used(row.sender, nonce, seen):  # by ours, mined meanwhile, or by another's
            self._after_nonce_used(db, row, seen)
            return
        self._taken_at.pop((row.id, nonce), None)  # free again: whatever took it was reorged away
        self._taken_seen.pop((row.id, nonce), None)
        if self._bump_due(row) and self._replace(db, row, seen):
            return
        if not self._in_pool(_required(row, row.tx_hash, "hash")):
            self._resend(db, row)

    def _in_pool(self, tx_hash: str) -> bool:
        try:
            return self.w3.eth.get_transaction(web3_types.hex_str(tx_hash)) is not None
        except TransactionNotFound:
            return False

    def _bump_due(self, row: ChainOp) -> bool:
        """Whether the newest version has waited `fee_bump_after` seconds (a row signed before
        versions were kept has waited long enough)."""
        return not row.sent_txs or time.time() - row.sent_txs[-1]["at"] >= self.fee_bump_after

    def _replace(self, db: Session, row: ChainOp, seen: _Pass) -> bool:
        """If the chain now asks more than the newest version offers, sign the same nonce
        and gas again at an outbidding price, store it, then broadcast it. True if the op
        was dealt with this pass (replaced, or the replacement could not be paid for yet)."""
        old = signed_fees(_required(row, row.raw_tx, "signed bytes"))
        if seen.market is None:
            seen.market = self._going(fresh=True)
        if old is None or not underpriced(old, seen.market):
            return False
        new = outbid(old, seen.market)
        nonce, gas = _required(row, row.nonce, "nonce"), _required(row, row.gas, "gas")
        if self.gas is not None:
            try:
                self.gas.cover(row.sender, nonce, gas * new.cap + int(row.value))
            except (InsufficientFunds, GasPending, ChainUnavailable, *NODE_DOWN) as exc:
                self._note_error(db, row, exc)
                return True
        tx = self._transaction(row)
        tx.update(new.fields())
        tx["nonce"], tx["gas"] = Nonce(nonce), gas
        signed = self.keys.account(row.sender).sign_transaction(_signable(tx))
        replaced = to_0x(signed.hash)
        stored = self._swap(
            db,
            row,
            {"status": OpStatus.pending, "tx_hash": row.tx_hash},
            {
                "raw_tx": to_0x(signed.raw_transaction),
                "tx_hash": replaced,
                "sent_txs": [*row.sent_txs, _version(replaced)]
                if row.sent_txs
                else [{"hash": row.tx_hash, "at": 0}, _version(replaced)],
                "last_error": None,
                "updated_at": utcnow(),
            },
        )
        if stored:  # else another pass replaced or settled it first
            log.warning(
                "operation %d (%s) at nonce %d offered less than the chain asks; replaced by %s",
                row.id,
                row.label,
                row.nonce,
                replaced,
            )
            self._broadcast(db, row)
        return True

    def _resend(self, db: Session, row: ChainOp) -> None:
        """Broadcast the newest stored bytes again: the node lost them, or a reorg dropped
        the block that held them and the nonce is still free."""
        try:
            self.w3.eth.send_raw_transaction(HexBytes(_required(row, row.raw_tx, "signed bytes")))
        except Web3RPCError as exc:
            self._on_rejected_broadcast(db, row, exc)
            if row.status != OpStatus.pending or row.last_error:
                return
        row.broadcasts += 1
        row.last_error, row.updated_at = None, utcnow()
        db.add(row)
        db.commit()

    def _unfinished(self, status: OpStatus, ids: list[int] | None, *order: Any) -> list[ChainOp]:
        with session(self.engine) as db:
            query = select(ChainOp).where(ChainOp.chain_id == self.chain_id, ChainOp.status == status)
            if ids is not None:
                query = query.where(col(ChainOp.id).in_(ids))
            return list(db.exec(query.order_by(*order)).all())

    def reopen_lost(self) -> list[ChainOp]:
        """Send again what the node has forgotten: confirmed operations in blocks past its head.

        A node restarted from an older state (a hard kill between two state dumps, a reorg)
        no longer has their blocks; their signed bytes are still here, so they become pending
        and the next pass broadcasts them with their original nonce and hash.
        """
        head = self.w3.eth.block_number
        with session(self.engine) as db:
            lost = db.exec(
                select(ChainOp).where(
                    ChainOp.chain_id == self.chain_id,
                    col(ChainOp.status).in_([OpStatus.confirmed, OpStatus.reverted]),
                    col(ChainOp.block_number) > head,
                )
            ).all()
            for op in lost:
                op.status, op.block_number, op.updated_at = OpStatus.pending, None, utcnow()
                op.tx_hash = self._hashes(op)[-1]  # the newest version, the one `raw_tx` holds
                op.error_name = op.error_args = None
                db.add(op)
            db.commit()
        self._next_nonce.clear()
        return list(lost)

    def _replay_revert(self, row: ChainOp, block_number: int, reason: str | None = None) -> ChainRevert:
        """Why a mined transaction reverted: the receipt's own revertReason (Besu), the node's
        trace if it offers one, else a replay."""
        if isinstance(reason, (bytes, bytearray)):
            reason = to_0x(reason)
        if revert_payload(reason) not in (None, "0x"):
            return decode_revert(revert_payload(reason), row.label)
        try:
            trace = (
                self.w3.provider.make_request(
                    RPCEndpoint("debug_traceTransaction"), [row.tx_hash, {"tracer": "callTracer"}]
                ).get("result")
                or {}
            )
            if trace.get("output"):
                return decode_revert(trace["output"], row.label)
        except Exception:  # the debug namespace is often closed on production nodes
            pass
        call: TxParams = {
            "from": web3_types.address(row.sender),
            "data": web3_types.hex_str(row.data),
            "value": Wei(int(row.value)),
            "gas": _required(row, row.gas, "gas"),
        }
        if row.to:
            call["to"] = web3_types.address(row.to)
        try:
            self.w3.eth.call(call, block_identifier=block_number - 1)
        except (ContractLogicError, Web3RPCError) as exc:
            if is_revert(exc):
                return decode_revert(revert_data_of(exc), row.label)
        except Exception:  # the node cannot replay (pruned state): the name stays unknown
            pass
        return ChainRevert("UnknownRevert", {}, row.label)

    # ------------------------------------------------------------------- wait

    def wait(self, op_id: int, timeout: float = 30.0, done: Callable[[ChainOp], bool] | None = None) -> ChainOp:
        """Reconcile one operation until it is final (or until `done` says it is far enough along);
        raises InsufficientFunds if it is held for gas money, OpTimeout or ChainUnavailable if not in time."""
        finished = done or _final
        deadline = time.monotonic() + timeout
        delay = 0.01
        unavailable: ChainUnavailable | None = None
        while True:
            op = self.get(op_id)
            if finished(op):
                return op
            try:
                self.reconcile([op_id])
                unavailable = None
            except ChainUnavailable as exc:
                unavailable = exc
            op = self.get(op_id)
            if finished(op):
                return op
            if op.status == OpStatus.queued and op.error_name == InsufficientFunds.code:
                raise InsufficientFunds.from_details(_required(op, op.error_args, "shortfall details"), op.label)
            if time.monotonic() >= deadline:
                if unavailable or op.status == OpStatus.queued:
                    raise ChainUnavailable(
                        f"operation {op.id} ({op.label}) is kept and will be sent when the node answers"
                    ) from unavailable
                raise OpTimeout(f"operation {op.id} ({op.label}) is not final yet; it stays in the outbox")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def get(self, op_id: int) -> ChainOp:
        with session(self.engine) as db:
            return must_get(db, ChainOp, op_id)

    def by_key(self, key: str) -> ChainOp | None:
        with session(self.engine) as db:
            return db.exec(select(ChainOp).where(ChainOp.idempotency_key == key)).first()

    def unfinished(self) -> int:
        with session(self.engine) as db:
            return db.exec(
                select(func.count())
                .select_from(ChainOp)
                .where(ChainOp.chain_id == self.chain_id, col(ChainOp.status).in_([OpStatus.pending, OpStatus.queued]))
            ).one()


def _ignore(kind: str) -> None:
    pass


def _final(op: ChainOp) -> bool:
    return op.status in FINAL


def raise_for(op: ChainOp) -> ChainOp:
    """The op if it succeeded, else its revert as a ChainRevert."""
    if op.status in (OpStatus.reverted, OpStatus.rejected):
        raise ChainRevert(op.error_name or "UnknownRevert", op.error_args or {}, op.label)
    return op


def _required(op: ChainOp, value: T | None, what: str) -> T:
    """A field that the op's state guarantees (a pending op keeps the nonce, gas, bytes and hash
    it was signed with; a held one its shortfall): its absence is a broken invariant."""
    if value is None:
        raise RuntimeError(f"operation {op.id} ({op.label}) is {op.status.value} but has no {what}")
    return value


def _signable(tx: TxParams) -> TransactionDictType:
    """The fields as eth-account types them: a plain dict of the same values web3 spells as TxParams."""
    return cast(TransactionDictType, tx)


def _version(tx_hash: str) -> dict[str, Any]:
    """An entry of `sent_txs`: a hash signed for the op's nonce and when (Unix seconds)."""
    return {"hash": tx_hash, "at": time.time()}


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        if isinstance(v, (bytes, bytearray)):
            return to_0x(v)
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53:
            return str(v)
        return v

    return {k: conv(v) for k, v in values.items()}
