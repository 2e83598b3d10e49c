"""The evidence bundle (存证): the canonical document whose SHA-256 is anchored on chain.

It holds what a court or a platform's legal desk asks of a sighting: where and when the copy
was fetched and what the server answered, the SHA-256 of the bytes fetched, which registered
work it is (and where in it), and whose distribution the watermark names. Anyone holding the
document re-hashes it and compares with `EvidenceRegistry.anchorOf`; anyone holding the copy
re-hashes that and compares with `content.sha256`. Nothing secret goes in it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledger.distributions.records import document, payload_hex
from ledger.models import Account, Work

if TYPE_CHECKING:
    from ledger.distributions.trace import Trace
    from ledger.matching import DerivedFrom
    from ledger.piracy.cases import Sighting
    from watermark.hash_sequence import HashSequence
    from watermark.matcher import Match

BUNDLE_VERSION = 1
# Response headers that can carry a credential or a tracking session of the crawler's own.
PRIVATE_HEADERS = {"set-cookie", "set-cookie2", "authorization", "proxy-authorization", "cookie"}


def public_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): str(v)[:4000] for k, v in sorted(headers.items()) if k.lower() not in PRIVATE_HEADERS}


def match_doc(match: Match, query: HashSequence | None = None, *, whole: bool = True) -> dict[str, Any]:
    """How the copy matched its work (a watermark.matcher.Match), as the bundle says it.
    A video matched on its first stretch only (`whole` False: the verdict was decisive
    before the end) says how many seconds of it were compared, so that the duration reads
    as what it is: the least of the copy that agrees with the work."""
    doc: dict[str, Any] = {
        "offset_seconds": round(match.offset, 3),
        "duration_seconds": round(match.duration, 3),
        "speed": round(match.speed, 4),
        "frames_agreeing": match.votes,
        "frames": match.frames,
        "confidence": match.confidence,
    }
    if query is not None and query.kind == "video":
        doc["seconds_compared"] = round(query.duration, 3)
        doc["whole_copy_compared"] = whole
    return doc


def derivative_doc(derived: DerivedFrom, query: HashSequence | None = None) -> dict[str, Any]:
    """The ancestor whose footage a derivative's copy shows, and the licence it is used under:
    what keeps the copy from reading as one of the ancestor's. The licence's terms stay out (the
    bundle is public); its ids find it in ReelLedger and on chain."""
    return {
        "work_id": derived.parent.work_id,
        "title": derived.parent.title,
        "kind": derived.edge.kind.value,
        "licence": {"id": derived.licence.id, "chain_licence_id": derived.licence.chain_licence_id},
        "match": match_doc(derived.match, query),
    }


def watermark_doc(trace: Trace | None) -> dict[str, Any]:
    """What the copy's watermark says (a ledger Trace, or None when it was not read); the
    distributions of a copy mixed from several (collusion) under "colluders"."""
    colluders = [
        {
            "distribution": c.distribution.dist.id,
            "platform": {"name": c.distribution.platform.name, "address": c.distribution.platform.address},
            "session": c.distribution.dist.session,
            "payload": payload_hex(c.distribution.dist.payload),
            "score": round(c.score, 2),
        }
        for c in (trace.colluders if trace is not None else ())
    ]
    if trace is None or trace.detection.payload is None:
        return {"found": False, "colluders": colluders} if colluders else {"found": False}
    found: dict[str, Any] = {
        "found": True,
        "payload": payload_hex(trace.detection.payload),
        "confidence": round(trace.detection.confidence, 4),
        "frames": trace.detection.frames,
    }
    if trace.distribution is not None:
        view = trace.distribution
        found["distribution"] = {
            "id": view.dist.id,
            "platform": {"name": view.platform.name, "address": view.platform.address},
            "session": view.dist.session,
            "record_hash": view.dist.record_hash,
            "record_anchored": bool(trace.chain and trace.chain.anchored and trace.chain.record_hash_matches),
        }
    if colluders:
        found["colluders"] = colluders
    return found


def bundle_of(
    *,
    sighting: Sighting,
    content_sha256: str,
    content_size: int,
    media_kind: str,
    screenshot_sha256: str | None,
    work: Work,
    chain_id: int | None,
    work_registry: str | None,
    registration_tx: str | None,
    match: dict[str, Any],
    watermark: dict[str, Any],
    crawler: Account,
    recorded_at: datetime,
    derivative_of: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The bundle of one sighting; `match`, `watermark` and `derivative_of` (the copy is of a
    derivative `work` and shows that ancestor's footage) as `match_doc`, `watermark_doc` and
    `derivative_doc` make them. A bundle without an ancestor has no `derivative_of` key, as before."""
    bundle = {
        "version": BUNDLE_VERSION,
        "kind": "reelledger.piracy-evidence",
        "url": sighting.url,
        "page_url": sighting.page_url,
        "final_url": sighting.final_url,
        "fetched_at": sighting.fetched_at.isoformat(),
        "http": {
            "status": sighting.status,
            "version": sighting.http_version,
            "headers": public_headers(sighting.headers),
        },
        "content": {
            "sha256": content_sha256,
            "size": content_size,
            "media_kind": media_kind,
            "content_type": sighting.content_type,
        },
        "screenshot": {"sha256": screenshot_sha256} if screenshot_sha256 else None,
        "work": {
            "work_id": work.work_id,
            "title": work.title,
            "chain_id": chain_id,
            "registry": work_registry,
            "registration_tx": registration_tx,
        },
        "match": match,
        "watermark": watermark,
        "crawler": crawler.address,
        "recorded_at": recorded_at.isoformat(),
    }
    if derivative_of is not None:
        bundle["derivative_of"] = derivative_of
    return bundle


def bundle_hash(bundle: dict[str, Any]) -> bytes:
    return hashlib.sha256(document(bundle)).digest()
