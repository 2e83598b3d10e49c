"""Handing what a crawl finds to the ReelLedger service, as the crawler's account.

A medium is hashed here and only its frame hashes are sent to be matched (a few KB a
minute of video), so content that is no registered work never leaves the crawler. A video
is hashed in stages (`ledger.matching.STAGES`) and matched after each: a leak decided by its
first seconds is reported without hashing the rest of it. A match
is then reported with the bytes themselves, how they were fetched and a screenshot of the
page: the service matches again, reads the watermark and opens the case; reporting the
same leak twice is harmless (the service counts it as a sighting of one case).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from ledger.crawl.fetch import FetchedMedium
from ledger.crawl.screenshot import screenshot

TIMEOUT = httpx.Timeout(30.0, read=600.0)


class ServiceRefused(Exception):
    """The service said no (4xx): sending the same again would not help. 401 and 403 mean
    the crawler's key is wrong, which no medium can help."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status

    @property
    def bad_key(self) -> bool:
        return self.status in (401, 403)


class ServiceUnavailable(Exception):
    """The service did not answer (`status` None), failed (5xx), or asks to be asked again
    later (409, 429): worth trying again later."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Examined:
    url: str
    matched: bool
    created: bool = False
    case: dict | None = None
    reason: str | None = None  # why nothing was matched, when it was not media at all


class ServiceClient:
    def __init__(self, base_url: str, api_key: str, timeout: httpx.Timeout = TIMEOUT) -> None:
        self.http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout)
        self._api_key = api_key

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            # never the key, which an error about a malformed header quotes
            message = f"the service does not answer: {exc}"
            raise ServiceUnavailable(
                message.replace(self._api_key, "<api key>") if self._api_key else message
            ) from None
        status = response.status_code
        if status >= 500 or status in (409, 429):
            raise ServiceUnavailable(f"the service cannot take it now ({status}): {response.text[:300]}", status)
        if status >= 400:
            raise ServiceRefused(f"the service refused {method} {path} ({status}): {response.text[:500]}", status)
        return response.json()

    def me(self) -> dict:
        return self._call("GET", "/accounts/me")

    def match_frames(self, frames: dict) -> dict:
        return self._call("POST", "/match", json={"frames": frames})

    def report(self, medium: FetchedMedium, shot: bytes | None) -> dict:
        sighting = {
            "url": medium.url,
            "fetched_at": medium.fetched_at.isoformat(),
            "page_url": medium.page_url,
            "final_url": medium.final_url,
            "status": medium.status,
            "http_version": medium.http_version,
            "content_type": medium.content_type or None,
            "headers": medium.headers,
            "sha256": medium.sha256,
        }
        with open(medium.path, "rb") as fh:
            files: dict[str, tuple[str, IO[bytes] | bytes, str]] = {
                "file": (Path(medium.path).name, fh, "application/octet-stream")
            }
            if shot:
                files["screenshot"] = ("page.png", shot, "image/png")
            return self._call("POST", "/cases", files=files, data={"sighting": json.dumps(sighting)})

    def open_cases(self) -> list[dict]:
        found, offset = [], 0
        while True:
            page = self._call("GET", "/cases", params={"status": "open", "offset": offset, "limit": 500})
            found += page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return found

    def record_check(self, case_id: int, alive: bool, http_status: int | None, detail: str) -> dict:
        body = {"alive": alive, "http_status": http_status, "detail": detail[:500]}
        return self._call("POST", f"/cases/{case_id}/checks", json=body)


def examine(
    service: ServiceClient, medium: FetchedMedium, screenshots: bool = True, private_hosts: frozenset[str] = frozenset()
) -> Examined:
    """Match a downloaded medium and, if it is a registered work, report it. The caller keeps
    (and deletes) the file. `private_hosts`: the crawl's, for the page screenshot."""
    from ledger.matching import staged_query
    from watermark.errors import WatermarkError

    answers: list[dict] = []

    def look(frames) -> bool:
        answers.append(service.match_frames(frames.to_json()))
        return decisive_answer(answers[-1])

    try:
        staged_query(medium.path, look)
    except WatermarkError as exc:
        return Examined(medium.url, False, reason=f"not matchable: {exc}")
    found = answers[-1]
    if not found["matched"]:
        return Examined(medium.url, False)
    shot = page_screenshot(medium.page_url or medium.url, private_hosts) if screenshots else None
    answer = service.report(medium, shot)
    return Examined(medium.url, answer["matched"], answer["created"], answer["case"])


def decisive_answer(found: dict) -> bool:
    """Whether the service's answer to /match settles a copy read in part (see
    `ledger.matching.decisive`)."""
    from ledger.matching import decisive

    query = found["query"]
    return found["matched"] and decisive(query["kind"], found.get("frames_agreeing") or 0, query["frames_usable"])


def page_screenshot(url: str, private_hosts: frozenset[str] = frozenset()) -> bytes | None:
    with tempfile.TemporaryDirectory(prefix="reelledger-shot-") as tmp:
        out = Path(tmp) / "page.png"
        return out.read_bytes() if screenshot(url, out, private_hosts=private_hosts) else None
