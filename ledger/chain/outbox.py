"""Every chain write goes through here, so that none is lost and none is sent twice.

An operation's life:

    submit(key, sender, call)
      record   -> row `queued` under its idempotency key (a repeated key returns the same row)
      dry run  -> a revert marks it `rejected` with the custom error's name; nothing is sent
      gas      -> the sender can pay, or is topped up by the funding key (ledger/chain/gas.py);
                  if nobody can pay, it stays `queued` as `insufficient_funds`
      sign     -> nonce, gas, signed bytes and hash stored, row `pending`     (committed first)
      send     -> the stored bytes are broadcast
    reconcile()
      pending  -> receipt found: `confirmed` or `reverted`; unknown to the node: the same
                  bytes are broadcast again (same nonce, same hash: it can be mined only once)
      queued   -> signed and sent as above (the node was down when it was submitted)

A crash between any two steps leaves a row that the next reconcile pass carries on from.
One process signs for a given sender at a time (an in-process lock per sender); run one
service instance per signing key.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from hexbytes import HexBytes
from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from web3 import Web3
from web3.exceptions import ContractLogicError, ProviderConnectionError, TransactionNotFound, Web3RPCError
from web3.types import RPCEndpoint, TxParams

from ledger.chain import web3_types
from ledger.chain.errors import (
    ChainRevert,
    ChainUnavailable,
    GasPending,
    IdempotencyConflict,
    InsufficientFunds,
    OpTimeout,
    decode_revert,
    is_revert,
    revert_data_of,
    revert_payload,
)
from ledger.db import must_get, session
from ledger.keys import KeyStore
from ledger.models import ChainOp, OpStatus, utcnow

if TYPE_CHECKING:
    from ledger.chain.gas import GasStation  # it imports this module

NODE_DOWN = (OSError, ProviderConnectionError)
FINAL = {OpStatus.confirmed, OpStatus.reverted, OpStatus.rejected}
FEE_CACHE_SECONDS = 5.0
RECEIPT_BATCH = 200


@dataclass(frozen=True)
class Call:
    """A transaction to make: `to=None` deploys `data` as init code."""

    label: str
    to: str | None
    data: str
    value: int = 0


class Outbox:
    def __init__(self, engine: Engine, w3: Web3, keys: KeyStore, chain_id: int, confirmations: int = 0) -> None:
        self.engine = engine
        self.w3 = w3
        self.keys = keys
        self.chain_id = chain_id
        self.confirmations = confirmations
        self._sender_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._next_nonce: dict[str, int] = {}
        self._fees: tuple[float, dict[str, Any]] | None = None
        self.gas: GasStation | None = None  # set by the Chain: pays the gas of the accounts it signs for

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
                op = must_get(db, ChainOp, op_id)
                if op.status != OpStatus.queued:  # another thread got here first
                    return op
                tx: dict[str, Any] = {
                    "from": op.sender,
                    "data": op.data,
                    "value": int(op.value),
                    "chainId": self.chain_id,
                }
                if op.to:
                    tx["to"] = op.to
                try:
                    estimate = self.w3.eth.estimate_gas(cast(TxParams, tx), block_identifier="pending")
                    nonce = self._nonce_for(db, op.sender)
                    fees = self._fee_fields()
                except (ContractLogicError, Web3RPCError) as exc:
                    if not is_revert(exc):  # the node refused for its own reasons: try again later
                        return self._note_error(db, op, exc)
                    revert = decode_revert(revert_data_of(exc), op.label)
                    op.status = OpStatus.rejected
                    op.error_name, op.error_args = revert.name, _jsonable(revert.args_by_name)
                    op.updated_at = utcnow()
                    db.add(op)
                    db.commit()
                    return op
                except NODE_DOWN as exc:
                    return self._note_error(db, op, exc)
                tx.update(fees, nonce=nonce, gas=estimate * 6 // 5 + 10_000)
                account = self.keys.account(op.sender)  # a key we hold, before anyone pays its gas
                if self.gas is not None:
                    price = fees.get("maxFeePerGas", fees.get("gasPrice", 0))
                    try:
                        self.gas.cover(op.sender, nonce, tx["gas"] * price + int(op.value))
                    except InsufficientFunds as exc:
                        return self._hold(db, op, exc)
                    except (GasPending, ChainUnavailable, *NODE_DOWN) as exc:
                        return self._note_error(db, op, exc)
                del tx["from"]
                signed = account.sign_transaction(tx)
                op.nonce, op.gas = nonce, tx["gas"]
                op.raw_tx = "0x" + bytes(signed.raw_transaction).hex()
                op.tx_hash = "0x" + bytes(signed.hash).hex()
                op.status, op.last_error, op.updated_at = OpStatus.pending, None, utcnow()
                op.error_name = op.error_args = None  # an earlier insufficient_funds is over
                db.add(op)
                db.commit()  # the signed bytes are safe before anything is broadcast
                self._next_nonce[op.sender] = nonce + 1
                self._broadcast(db, op)
                return op

    def _hold(self, db: Session, op: ChainOp, exc: InsufficientFunds) -> ChainOp:
        """Keep the op queued, unsigned, saying who cannot pay and how much is missing; the
        reconciler tries it again each pass and sends it once the account can pay."""
        op.error_name, op.error_args = InsufficientFunds.code, exc.details
        op.last_error, op.updated_at = str(exc)[:500], utcnow()
        db.add(op)
        db.commit()
        return op

    def _nonce_for(self, db: Session, sender: str) -> int:
        cached = self._next_nonce.get(sender)
        if cached is not None:
            return cached
        highest = db.exec(
            select(func.max(ChainOp.nonce)).where(ChainOp.chain_id == self.chain_id, ChainOp.sender == sender)
        ).one()
        on_chain = self.w3.eth.get_transaction_count(web3_types.address(sender), "pending")
        return max(on_chain, -1 if highest is None else highest + 1)

    def _fee_fields(self) -> dict[str, Any]:
        now = time.monotonic()
        if self._fees and now - self._fees[0] < FEE_CACHE_SECONDS:
            return self._fees[1]
        latest = self.w3.eth.get_block("latest")
        base_fee = latest.get("baseFeePerGas")
        if base_fee is None:
            fields: dict[str, Any] = {"gasPrice": self.w3.eth.gas_price}
        else:
            tip = self.w3.eth.max_priority_fee
            fields = {"maxFeePerGas": 2 * base_fee + tip, "maxPriorityFeePerGas": tip, "type": 2}
        self._fees = (now, fields)
        return fields

    def _broadcast(self, db: Session, op: ChainOp) -> None:
        try:
            self.w3.eth.send_raw_transaction(HexBytes(_signed(op.raw_tx)))
        except NODE_DOWN as exc:
            self._note_error(db, op, exc)
        except Web3RPCError as exc:
            self._on_rejected_broadcast(db, op, exc)

    def _on_rejected_broadcast(self, db: Session, op: ChainOp, exc: Web3RPCError) -> None:
        message = str(exc).lower()
        if "already known" in message or "already imported" in message:
            return
        if "nonce too low" in message or "nonce is too low" in message:
            if self._mined_or_unknown(op.tx_hash):
                return  # ours took the nonce after the caller looked for its receipt: settled next pass
            # Another transaction took this nonce, and ours was not mined: these bytes can
            # never be mined, so sign the op again afresh.
            op.status, op.nonce, op.raw_tx, op.tx_hash, op.gas = OpStatus.queued, None, None, None, None
            op.last_error, op.updated_at = None, utcnow()
            db.add(op)
            db.commit()
            self._next_nonce.pop(op.sender, None)
            return
        self._note_error(db, op, exc)

    def _mined_or_unknown(self, tx_hash: str | None) -> bool:
        """Whether `tx_hash` has a receipt, asked at the moment the node says its nonce is
        used; a node that cannot answer counts as "maybe", so nothing is signed twice."""
        if not tx_hash:
            return False
        try:
            return self.mined(tx_hash)
        except (*NODE_DOWN, Web3RPCError):
            return True

    def mined(self, tx_hash: str) -> bool:
        """Whether the node has a receipt for `tx_hash`."""
        return bool(self._receipts([tx_hash]))

    def _note_error(self, db: Session, op: ChainOp, exc: BaseException) -> ChainOp:
        op.last_error = f"{type(exc).__name__}: {exc}"[:500]
        op.updated_at = utcnow()
        db.add(op)
        db.commit()
        if isinstance(exc, NODE_DOWN):
            self._next_nonce.pop(op.sender, None)
        return op

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
                latest = self.w3.eth.block_number if self.confirmations else None
                receipts = self._receipts([_signed(op.tx_hash) for op in chunk])
                finished += self._settle(chunk, receipts, latest)
            except NODE_DOWN as exc:
                with session(self.engine) as db:
                    self._note_error(db, must_get(db, ChainOp, chunk[0].id), exc)
                raise ChainUnavailable(str(exc)) from exc
        for op in self._unfinished(OpStatus.queued, ids, ChainOp.id):
            finished += self._sign_and_send(op.id).status in FINAL
        return finished

    def _receipts(self, tx_hashes: list[str]) -> dict[str, dict[str, Any]]:
        """Receipts by transaction hash, fetched in one JSON-RPC batch; absent ones are left out."""
        if len(tx_hashes) == 1:
            try:
                receipt = self.w3.eth.get_transaction_receipt(web3_types.hex_str(tx_hashes[0]))
            except TransactionNotFound:
                return {}
            return {
                tx_hashes[0]: {k: receipt.get(k) for k in ("blockNumber", "status", "contractAddress", "revertReason")}
            }
        responses = self.w3.provider.make_batch_request(  # type: ignore[attr-defined]  # HTTPProvider has it
            [("eth_getTransactionReceipt", [tx_hash]) for tx_hash in tx_hashes]
        )
        found = {}
        for response in responses:
            raw = response.get("result") if isinstance(response, dict) else None
            if raw:
                found[raw["transactionHash"].lower()] = {
                    "blockNumber": int(raw["blockNumber"], 16),
                    "status": int(raw["status"], 16),
                    "contractAddress": raw.get("contractAddress") and Web3.to_checksum_address(raw["contractAddress"]),
                    "revertReason": raw.get("revertReason"),  # Besu with --revert-reason-enabled
                }
        return {h: found[h.lower()] for h in tx_hashes if h.lower() in found}

    def _settle(self, ops: list[ChainOp], receipts: dict[str, dict[str, Any]], latest: int | None) -> int:
        """Record the receipts found, in one commit; send again what the node does not know."""
        settled = 0
        with session(self.engine) as db:
            for op in ops:
                receipt = receipts.get(_signed(op.tx_hash))
                row = must_get(db, ChainOp, op.id)
                if row.status != OpStatus.pending:
                    continue
                if receipt is None:
                    self._resend_if_lost(db, row)
                    continue
                if self.confirmations and latest is not None and receipt["blockNumber"] + self.confirmations > latest:
                    continue
                row.block_number = receipt["blockNumber"]
                row.contract_address = receipt["contractAddress"] or None
                if receipt["status"] == 1:
                    row.status = OpStatus.confirmed
                else:
                    revert = self._replay_revert(row, receipt["blockNumber"], receipt.get("revertReason"))
                    row.status = OpStatus.reverted
                    row.error_name, row.error_args = revert.name, _jsonable(revert.args_by_name)
                row.last_error, row.updated_at = None, utcnow()
                db.add(row)
                settled += 1
            db.commit()
        return settled

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
                op.error_name = op.error_args = None
                db.add(op)
            db.commit()
        self._next_nonce.clear()
        return list(lost)

    def _resend_if_lost(self, db: Session, row: ChainOp) -> None:
        try:
            if self.w3.eth.get_transaction(web3_types.hex_str(_signed(row.tx_hash))) is not None:
                return  # still in the pool: wait for it
        except TransactionNotFound:
            pass
        try:
            self.w3.eth.send_raw_transaction(HexBytes(_signed(row.raw_tx)))
        except Web3RPCError as exc:
            self._on_rejected_broadcast(db, row, exc)
            if row.status != OpStatus.pending or row.last_error:
                return
        row.broadcasts += 1
        row.last_error, row.updated_at = None, utcnow()
        db.add(row)
        db.commit()

    def _replay_revert(self, row: ChainOp, block_number: int, reason: str | None = None) -> ChainRevert:
        """Why a mined transaction reverted: the receipt's own revertReason (Besu), the node's
        trace if it offers one, else a replay."""
        if isinstance(reason, (bytes, bytearray)):
            reason = "0x" + bytes(reason).hex()
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
        call: dict[str, Any] = {"from": row.sender, "data": row.data, "value": int(row.value), "gas": row.gas}
        if row.to:
            call["to"] = row.to
        try:
            self.w3.eth.call(cast(TxParams, call), block_identifier=block_number - 1)
        except (ContractLogicError, Web3RPCError) as exc:
            if is_revert(exc):
                return decode_revert(revert_data_of(exc), row.label)
        except Exception:  # the node cannot replay (pruned state): the name stays unknown
            pass
        return ChainRevert("UnknownRevert", {}, row.label)

    # ------------------------------------------------------------------- wait

    def wait(self, op_id: int, timeout: float = 30.0) -> ChainOp:
        """Reconcile one operation until it is final; raises OpTimeout or ChainUnavailable if not in time."""
        deadline = time.monotonic() + timeout
        delay = 0.01
        unavailable: ChainUnavailable | None = None
        while True:
            op = self.get(op_id)
            if op.status in FINAL:
                return op
            try:
                self.reconcile([op_id])
                unavailable = None
            except ChainUnavailable as exc:
                unavailable = exc
            op = self.get(op_id)
            if op.status in FINAL:
                return op
            if op.status == OpStatus.queued and op.error_name == InsufficientFunds.code:
                raise InsufficientFunds.from_details(op.error_args or {}, op.label)
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


def _signed(text: str | None) -> str:
    """A pending operation's transaction hash or signed bytes (stored when it was signed)."""
    assert text is not None, "an operation past signing keeps its signed bytes and hash"
    return text


def raise_for(op: ChainOp) -> ChainOp:
    """The op if it succeeded, else its revert as a ChainRevert."""
    if op.status in (OpStatus.reverted, OpStatus.rejected):
        raise ChainRevert(op.error_name or "UnknownRevert", op.error_args or {}, op.label)
    return op


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        if isinstance(v, (bytes, bytearray)):
            return "0x" + bytes(v).hex()
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53:
            return str(v)
        return v

    return {k: conv(v) for k, v in values.items()}
