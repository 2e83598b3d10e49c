"""A multipart upload read as it streams: the file part is hashed chunk by chunk and written
once, to a temporary file that fingerprinting reads and that is removed afterwards."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from ledger.errors import InvalidInput

MAX_FIELD_BYTES = 64 * 1024


@dataclass
class StreamedUpload:
    fields: dict[str, str] = field(default_factory=dict)
    file_name: str | None = None
    path: Path | None = None
    sha256: bytes | None = None
    size: int = 0

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


async def read_multipart(request: Request, spool_dir: Path, file_field: str = "file") -> StreamedUpload:
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidInput("body", "expected multipart/form-data with a boundary")
    upload = StreamedUpload()
    spool_dir.mkdir(parents=True, exist_ok=True)
    state: dict = {"headers": {}, "name": None, "filename": None, "buffer": None, "sink": None, "done": False}
    digest = hashlib.sha256()
    header = {"field": b"", "value": b""}

    def on_part_begin():
        state["headers"], state["name"], state["filename"] = {}, None, None

    def on_header_field(data, start, end):
        header["field"] += data[start:end]

    def on_header_value(data, start, end):
        header["value"] += data[start:end]

    def on_header_end():
        state["headers"][header["field"].decode("latin-1").lower()] = header["value"]
        header["field"], header["value"] = b"", b""

    def on_headers_finished():
        _, disposition = parse_options_header(state["headers"].get("content-disposition", b""))
        state["name"] = disposition.get(b"name", b"").decode()
        filename = disposition.get(b"filename")
        if state["name"] == file_field:
            if upload.path is not None:
                raise InvalidInput(file_field, "only one file per registration")
            fd, name = tempfile.mkstemp(prefix="upload-", dir=spool_dir)
            upload.path = Path(name)
            upload.file_name = filename.decode(errors="replace") if filename else None
            state["sink"] = os.fdopen(fd, "wb")
        else:
            state["buffer"] = bytearray()

    def on_part_data(data, start, end):
        chunk = data[start:end]
        if state["sink"] is not None:
            digest.update(chunk)
            upload.size += len(chunk)
            state["sink"].write(chunk)
        else:
            state["buffer"] += chunk
            if len(state["buffer"]) > MAX_FIELD_BYTES:
                raise InvalidInput(state["name"] or "field", f"a form field is at most {MAX_FIELD_BYTES} bytes")

    def on_part_end():
        if state["sink"] is not None:
            state["sink"].close()
            state["sink"] = None
        elif state["name"]:
            upload.fields[state["name"]] = bytes(state["buffer"]).decode("utf-8", errors="replace")

    def on_end():
        state["done"] = True

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except InvalidInput:
        _abandon(upload, state)
        raise
    except Exception as exc:  # the parser's own complaint about a malformed body
        _abandon(upload, state)
        raise InvalidInput("body", f"malformed multipart body: {exc}") from None
    if not state["done"]:
        _abandon(upload, state)
        raise InvalidInput("body", "the upload ended before its closing boundary (truncated)")
    if upload.path is not None:
        if upload.size == 0:
            upload.discard()
            raise InvalidInput(file_field, "the uploaded file is empty")
        upload.sha256 = digest.digest()
    return upload


def _abandon(upload: StreamedUpload, state: dict) -> None:
    if state.get("sink") is not None:
        state["sink"].close()
    upload.discard()
