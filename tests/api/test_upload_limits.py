"""Upload size limits: a file over the service's limit is refused with 413 and a reason, whether
the request declares its length or streams it chunked, and nothing of it is kept."""

from __future__ import annotations

import json
import os

from ledger.models import Role
from tests.helpers.service import running_service

LIMIT = 256 * 1024


def _multipart(raw: bytes, boundary: str = "limit-test-boundary", extra: dict | None = None) -> tuple[bytes, dict]:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in (extra or {}).items()
    ]
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'.encode()
    body = b"".join(parts) + head + raw + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def _chunked(body: bytes, size: int = 64 * 1024):
    for at in range(0, len(body), size):
        yield body[at : at + size]


def test_uploads_over_the_limit_are_refused_and_leave_nothing(tmp_path):
    with running_service(tmp_path / "data", max_upload_bytes=LIMIT, max_detect_bytes=LIMIT) as svc:
        _, _, crawler = svc.new_account(Role.crawler)
        _, _, studio = svc.new_account(Role.rights_holder)
        big = b"\x89PNG" + os.urandom(LIMIT)  # just over, and looks like media so it would be kept
        body, headers = _multipart(big)
        for path in ("/detect", "/match"):
            declared = crawler.post(path, content=body, headers=headers)
            assert declared.status_code == 413, declared.text
            error = declared.json()["error"]
            assert (
                error["code"] == "too_large" and error["details"]["limit"] == LIMIT and str(LIMIT) in error["message"]
            )
            streamed = crawler.post(path, content=_chunked(body), headers=headers)  # no Content-Length
            assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "too_large"

        meta = {"metadata": json.dumps({"title": "Too big", "kind": "film"})}
        body, headers = _multipart(big, extra=meta)
        for content in (body, _chunked(body)):
            refused = studio.post("/works", content=content, headers=headers)
            assert refused.status_code == 413, refused.text
        assert studio.get("/works").json()["total"] == 0
        assert list((tmp_path / "data" / "uploads").glob("*")) == []

        small = b"not media at all\n" * 100  # under the limit: read, and refused for what it is
        body, headers = _multipart(small)
        assert crawler.post("/detect", content=_chunked(body), headers=headers).status_code == 422
