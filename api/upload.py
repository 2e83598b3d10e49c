"""A multipart upload read as it streams: the file part is hashed chunk by chunk and, when it
looks like an image or a video, written once to a temporary file that fingerprinting reads and
that is removed afterwards. Hashing and writing run on a worker thread (both release the GIL),
so that receiving the next chunks overlaps with them.

The on-chain fingerprint reads only a video's opening seconds, plus its index, which an MP4
may keep at the end. So by default only the first KEEP_HEAD and the last KEEP_TAIL bytes are
written, at their own offsets in a sparse file of the full size. Watermarking, detection and
matching read every frame, so for them (`whole=True`) the whole file is kept, and a
registration (`whole_media=True`) keeps a media file whole, for its frame hashes."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import tempfile
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import Request
from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from ledger.errors import InvalidInput, LedgerError, TooLarge
from ledger.json_limits import MAX_JSON_VALUES, check_depth
from ledger.limits import text_problem

MAX_FIELD_BYTES = 64 * 1024
SNIFF_BYTES = 64
KEEP_HEAD = 256 * 1024 * 1024
KEEP_TAIL = 32 * 1024 * 1024  # held in memory until the end, so it bounds the memory an upload takes
# Leading bytes of the image and video containers that fingerprinting reads: (offset, bytes).
MEDIA_SIGNATURES = (
    (0, b"\x89PNG"),
    (0, b"\xff\xd8\xff"),
    (0, b"GIF8"),
    (0, b"BM"),
    (0, b"II*\0"),
    (0, b"MM\0*"),
    (8, b"WEBP"),
    (4, b"ftyp"),
    (0, b"\x1aE\xdf\xa3"),
    (8, b"AVI "),
    (0, b"FLV"),
    (0, b"\x00\x00\x01\xba"),
    (0, b"\x00\x00\x01\xb3"),
    (0, b"OggS"),
)


def looks_like_media(head: bytes) -> bool:
    return any(head[at : at + len(sig)] == sig for at, sig in MEDIA_SIGNATURES)


class _Sink:
    """Hashes every chunk and, once the first bytes say it is media, writes it: on a thread."""

    def __init__(self, spool_dir: Path, whole: bool = False, whole_media: bool = False) -> None:
        self.whole = whole
        self.whole_media = whole_media
        self.digest = hashlib.sha256()
        self.size = 0
        self.path: Path | None = None
        self._spool_dir = spool_dir
        self._head: list[bytes] = []  # chunks held until the first SNIFF_BYTES are known
        self._file: BinaryIO | None = None
        self._seen = 0  # bytes of the file passed to _keep so far
        self._tail: deque[tuple[int, bytes]] = deque()  # (offset, chunk) of the last KEEP_TAIL bytes
        self._tail_bytes = 0
        self._decided = False
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=64)  # bounds memory: about 64 chunks in flight
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="upload-sink", daemon=True)
        self._thread.start()

    def put(self, chunk: bytes) -> None:
        if self._error:
            raise self._error
        self.size += len(chunk)
        self._queue.put(chunk)

    def _run(self) -> None:
        try:
            while (chunk := self._queue.get()) is not None:
                self.digest.update(chunk)
                if self._decided:
                    if self._file is not None:
                        self._keep(chunk)
                    continue
                self._head.append(chunk)
                if sum(map(len, self._head)) >= SNIFF_BYTES:
                    self._decide()
        except BaseException as exc:  # reported on the next put or at close
            self._error = exc
            while self._queue.get() is not None:
                pass

    def _decide(self) -> None:
        self._decided = True
        held, self._head = self._head, []
        media = looks_like_media(b"".join(held)[:SNIFF_BYTES])
        self.whole = self.whole or (media and self.whole_media)
        if self.whole or media:
            fd, name = tempfile.mkstemp(prefix="upload-", dir=self._spool_dir)
            self.path = Path(name)
            self._file = os.fdopen(fd, "wb")
            for chunk in held:
                self._keep(chunk)

    def _keep(self, chunk: bytes) -> None:
        file = self._file
        assert file is not None  # opened by _decide before anything is kept
        offset = self._seen
        self._seen += len(chunk)
        if self.whole:
            file.write(chunk)
            return
        if offset < KEEP_HEAD:
            head = chunk[: KEEP_HEAD - offset]
            file.write(head)
            if len(head) == len(chunk):
                return
            chunk, offset = chunk[len(head) :], offset + len(head)
        self._tail.append((offset, chunk))
        self._tail_bytes += len(chunk)
        while self._tail_bytes - len(self._tail[0][1]) >= KEEP_TAIL:
            self._tail_bytes -= len(self._tail.popleft()[1])

    def _finish_file(self) -> None:
        file = self._file
        assert file is not None  # opened by _decide before anything is kept
        for offset, chunk in self._tail:
            file.seek(offset)
            file.write(chunk)
        file.truncate(self._seen)  # the full size; what was skipped reads as zeros

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if not self._decided:
            self._decide()
        if self._file is not None:
            self._finish_file()
            self._file.close()
        if self._error:
            raise self._error


@dataclass
class StreamedUpload:
    fields: dict[str, str] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)  # small binary parts the route asked for by name
    has_file: bool = False
    file_name: str | None = None
    path: Path | None = None  # kept only for media, for fingerprinting (or whole, when asked)
    sha256: bytes | None = None
    size: int = 0

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def _too_large(field: str, limit: int) -> TooLarge:
    return TooLarge(field, f"the upload is larger than this service accepts ({limit} bytes)", limit)


async def read_multipart(
    request: Request,
    spool_dir: Path,
    file_field: str = "file",
    whole: bool = False,
    max_bytes: int | None = None,
    whole_media: bool = False,
    blob_limits: dict[str, int] | None = None,
) -> StreamedUpload:
    """The form's fields and its one file part, read as it streams; a file over `max_bytes`
    is refused (before reading, when Content-Length already says so) and nothing is kept.
    Parts named in `blob_limits` are kept in memory as bytes, each up to its limit."""
    blob_limits = blob_limits or {}
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidInput("body", "expected multipart/form-data with a boundary")
    declared = request.headers.get("content-length", "")
    if (
        max_bytes is not None
        and declared.isdigit()
        and int(declared) > max_bytes + 2 * MAX_FIELD_BYTES + sum(blob_limits.values())
    ):
        raise _too_large(file_field, max_bytes)
    upload = StreamedUpload()
    spool_dir.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {"headers": {}, "name": None, "buffer": None, "sink": None, "done": False}
    header = {"field": b"", "value": b""}

    def on_part_begin() -> None:
        state["headers"], state["name"] = {}, None

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][header["field"].decode("latin-1").lower()] = header["value"]
        header["field"], header["value"] = b"", b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(state["headers"].get("content-disposition", b""))
        state["name"] = disposition.get(b"name", b"").decode()
        filename = disposition.get(b"filename")
        if state["name"] == file_field:
            if upload.has_file:
                raise InvalidInput(file_field, "only one file per registration")
            upload.has_file = True
            upload.file_name = filename.decode(errors="replace") if filename else None
            if upload.file_name and (problem := text_problem(upload.file_name)):
                raise InvalidInput(file_field, f"the file's name {problem}")
            state["sink"] = _Sink(spool_dir, whole, whole_media)
        else:
            state["buffer"] = bytearray()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["sink"] is not None:
            if max_bytes is not None and state["sink"].size + (end - start) > max_bytes:
                raise _too_large(file_field, max_bytes)
            state["sink"].put(bytes(data[start:end]))
        else:
            state["buffer"] += data[start:end]
            limit = blob_limits.get(state["name"], MAX_FIELD_BYTES)
            if len(state["buffer"]) > limit:
                raise InvalidInput(state["name"] or "field", f"the form field {state['name']} is at most {limit} bytes")

    def on_part_end() -> None:
        sink = state["sink"]
        if sink is not None:
            state["sink"] = None
            sink.close()
            upload.path, upload.size, upload.sha256 = sink.path, sink.size, sink.digest.digest()
        elif state["name"] in blob_limits:
            upload.blobs[state["name"]] = bytes(state["buffer"])
        elif state["name"]:
            upload.fields[state["name"]] = bytes(state["buffer"]).decode("utf-8", errors="replace")

    def on_end() -> None:
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
    except LedgerError:
        _abandon(upload, state)
        raise
    except Exception as exc:  # the parser's own complaint about a malformed body
        _abandon(upload, state)
        raise InvalidInput("body", f"malformed multipart body: {exc}") from None
    if not state["done"]:
        _abandon(upload, state)
        raise InvalidInput("body", "the upload ended before its closing boundary (truncated)")
    if upload.has_file and upload.size == 0:
        upload.discard()
        raise InvalidInput(file_field, "the uploaded file is empty")
    return upload


def _abandon(upload: StreamedUpload, state: dict[str, Any]) -> None:
    sink = state.get("sink")
    if sink is not None:
        try:
            sink.close()
        finally:
            if sink.path is not None:
                sink.path.unlink(missing_ok=True)
    upload.discard()


MAX_JSON_BYTES = 16 * 1024 * 1024


async def read_json(request: Request, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """The request's JSON body, read up to `max_bytes` (whether or not its length is declared).

    Its depth and width are checked here too: BodyLimits (api/limits.py) scans only bodies
    typed as JSON or untyped, and a route reads any body that is not multipart/form-data, as
    it spells it, with this (text/plain, multipart/mixed, a multipart type in capitals)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large("body", max_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise _too_large("body", max_bytes)
    check_depth(body, max_values=MAX_JSON_VALUES)
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("body", "the body is not valid JSON") from None


def form_json(text: str | None, name: str) -> Any:
    """A multipart form's JSON field, parsed once it is known to be there, shallow and valid."""
    if text is None:
        raise InvalidInput(name, f"the form has no {name} field")
    check_depth(text, name)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise InvalidInput(name, f"the {name} field is not valid JSON") from None


async def read_whole_file(
    request: Request, spool_dir: Path, max_bytes: int, blob_limits: dict[str, int] | None = None
) -> StreamedUpload:
    """The form with its file part kept whole on disk (marking, detection and matching read
    every frame); a form without one is refused."""
    upload = await read_multipart(request, spool_dir, whole=True, max_bytes=max_bytes, blob_limits=blob_limits)
    if not upload.has_file or upload.path is None:
        upload.discard()
        raise InvalidInput("file", "the form has no file part")
    return upload


def json_field(schema: str, description: str) -> dict[str, Any]:
    """OpenAPI for a form field that holds the named schema as JSON text."""
    return {
        "type": "string",
        "description": description,
        "contentMediaType": "application/json",
        "contentSchema": {"$ref": f"#/components/schemas/{schema}"},
    }


def upload_body(fields: dict[str, str | dict[str, Any]], json_schema: str | None = None) -> dict[str, Any]:
    """OpenAPI for a route that takes a streamed file part (plus `fields`, name: description or
    schema), or a JSON body of the named schema instead."""
    properties = {"file": {"type": "string", "format": "binary", "description": "The file, streamed."}}
    properties |= {
        name: text if isinstance(text, dict) else {"type": "string", "description": text}
        for name, text in fields.items()
    }
    required = ["file", *(name for name, schema in properties.items() if "contentSchema" in schema)]
    content = {"multipart/form-data": {"schema": {"type": "object", "required": required, "properties": properties}}}
    if json_schema:
        content["application/json"] = {"schema": {"$ref": f"#/components/schemas/{json_schema}"}}
    return {"requestBody": {"content": content, "required": True}}
