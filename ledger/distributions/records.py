"""The canonical distribution record: the bytes whose SHA-256 is anchored on chain.

Anyone holding the record can re-hash it and compare with `DistributionRegistry.anchorOf`;
so the record names everything a trace relies on (work, payload, key, recipient, the copy's
own SHA-256) and nothing secret."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ledger.models import Account, DistributionRecord, Work


def payload_hex(payload: int) -> str:
    return f"0x{payload:012x}"


def record_of(dist: DistributionRecord, work: Work, owner: Account, platform: Account) -> dict[str, Any]:
    return {
        "distribution": dist.id,
        "work_id": work.work_id,
        "owner": owner.address,
        "payload": payload_hex(dist.payload),
        "watermark_key_id": dist.key_id,
        "platform": {"name": platform.name, "address": platform.address},
        "session": dist.session,
        "tier": dist.tier,
        "media_kind": dist.media_kind,
        "copy_sha256": dist.copy_sha256,
        "copy_size": dist.copy_size,
        "created_at": dist.created_at.isoformat(),
    }


def document(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: dict[str, Any]) -> bytes:
    return hashlib.sha256(document(record)).digest()
