"""Limits on what a request may make the service build: how deep JSON may nest, and the
process's recursion limit.

No request of ours nests JSON deeper than a handful of levels (a report row is 2 deep inside
its array, a settlement rule 3), so every JSON text, NDJSON line and JSON report is refused
past MAX_JSON_DEPTH levels before a parser sees it. A decoder that recursed a level per
bracket would otherwise overflow the C stack (the process dies) or, for a streaming parser
that keeps the path to every value, take memory quadratic in the depth.

The scan is a small state machine (inside a string, after a backslash, depth) run over bytes
as they arrive, with no Python step per byte: escapes are dropped by a regular expression,
every byte but quotes and brackets by bytes.translate, the quotes left pair up as strings, and
the brackets outside them are summed in C. About 300 MB/s on report rows; it holds a depth,
two flags and at most one byte between chunks.
"""

from __future__ import annotations

import re
import sys
from itertools import accumulate

from ledger.errors import TooDeep, TooWide

MAX_JSON_DEPTH = 32
# A body parsed whole becomes one Python object per value: 16 MiB of "[{},{},...]" is 5.6
# million dicts (over 400 MiB). No request holds more than a few thousand values (frame hashes
# travel as one base64 string); play reports, parsed row by row, are not counted.
MAX_JSON_VALUES = 100_000
# Python's own default is 1000; a few times that leaves room for deep but legitimate call
# chains (SQLAlchemy, pydantic, rich) while a runaway recursion still ends in a RecursionError
# long before the C stack does.
RECURSION_LIMIT = 4000

# Escapes are dropped first (left to right, as a JSON lexer pairs backslashes; in NDJSON an
# escape never takes the newline), then every byte but quotes and brackets; the quotes that are
# left pair up as strings' ends.
_ESCAPES = re.compile(rb"\\.", re.S)
_LINE_ESCAPES = re.compile(rb"\\[^\n]")
_DROP = bytes(b for b in range(256) if b not in b'"[]{}')
_DROP_BUT_COMMAS = bytes(b for b in range(256) if b not in b'"[]{},')
_DROP_BUT_NEWLINES = bytes(b for b in range(256) if b not in b'"[]{}\n')
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


def restore_recursion_limit() -> None:
    """Undo what py_ecc (imported through the Ethereum libraries) does on import: it raises the
    limit to 100,000, at which a deeply nested body recurses through the C stack and the
    process dies with a segmentation fault. It is imported here first, so that no later
    import raises the limit again."""
    try:
        import py_ecc  # noqa: F401
    except ImportError:
        pass
    sys.setrecursionlimit(RECURSION_LIMIT)


class DepthScanner:
    """Feed it a JSON body (or NDJSON, `lines=True`: each line its own document) chunk by chunk;
    `feed` raises TooDeep as soon as the nesting passes `limit`, and TooWide once a JSON body
    holds more than `max_values` values (elements and members, when given)."""

    def __init__(
        self, limit: int = MAX_JSON_DEPTH, lines: bool = False, field: str = "body", max_values: int | None = None
    ) -> None:
        self.limit, self.lines, self.field, self.max_values = limit, lines, field, max_values
        self.values = 0  # commas and opening brackets outside strings, counted with max_values
        self.depth = 0  # of the document (NDJSON: the line) being read
        self._in_string = False
        self._escape = b""  # a backslash that ended the last chunk: it escapes the next byte
        self._broken = False  # closed more than it opened: no parser reads a JSON body past that

    def feed(self, chunk: bytes) -> None:
        if self._broken or not chunk:
            return
        data = self._escape + chunk
        self._escape = b""
        if b"\\" in data:
            data = (_LINE_ESCAPES if self.lines else _ESCAPES).sub(b"", data)
            if data.endswith(b"\\"):
                self._escape, data = b"\\", data[:-1]
        counting = self.max_values is not None and not self.lines
        marks = data.translate(None, _DROP_BUT_NEWLINES if self.lines else _DROP_BUT_COMMAS if counting else _DROP)
        if not self.lines:
            outside = self._outside(marks)
            self._add(outside.translate(None, b",") if counting else outside)
            if counting:
                self.values += outside.count(b",") + outside.count(b"[") + outside.count(b"{")
                if self.max_values is not None and self.values > self.max_values:
                    raise TooWide(self.field, self.max_values)
            return
        before = self._in_string
        joined: bytes | None = self._outside(marks)
        if joined is not None and joined.count(b"\n") != marks.count(b"\n"):  # a string left open at a line's end
            joined = None
        self._add_lines(marks, joined, before)

    def _outside(self, marks: bytes) -> bytes:
        """The brackets (and newlines) outside strings; the string state carried on."""
        if b'"' not in marks:
            return b"" if self._in_string else marks
        parts = marks.split(b'"')
        outside = b"".join(parts[1::2] if self._in_string else parts[0::2])
        self._in_string ^= len(parts) % 2 == 0
        return outside

    def _levels(self, brackets: bytes, depth: int) -> list[int]:
        return list(accumulate(map(_STEP.__getitem__, brackets), initial=depth))

    def _add(self, brackets: bytes) -> None:
        opens = brackets.count(b"[") + brackets.count(b"{")
        if self.depth + opens <= self.limit:
            self.depth += 2 * opens - len(brackets)
        else:
            levels = self._levels(brackets, self.depth)
            cut = next((i for i, level in enumerate(levels) if level < 0), len(levels))
            self._check(max(levels[:cut]))
            self.depth = levels[-1]
        self._broken = self.depth < 0  # more closed than opened: a parser stops there

    def _add_lines(self, marks: bytes, joined: bytes | None, in_string: bool) -> None:
        if joined is not None:
            # Every line starts at a level >= 0 while the running sum stays >= 0, so no line is
            # deeper than the running sum: one pass over the chunk, unless a line is malformed.
            levels = self._levels(joined.replace(b"\n", b""), self.depth)
            if min(levels) >= 0 and max(levels) <= self.limit:
                tail = joined[joined.rfind(b"\n") + 1 :]
                start = self.depth if b"\n" not in joined else 0
                self.depth = max(start + 2 * (tail.count(b"[") + tail.count(b"{")) - len(tail), 0)
                return
        self._in_string = in_string
        for number, line in enumerate(marks.split(b"\n")):
            if number:
                self.depth, self._in_string = 0, False
            brackets = self._outside(line)
            levels = self._levels(brackets, self.depth)
            cut = next((i for i, level in enumerate(levels) if level < 0), len(levels))
            self._check(max(levels[:cut]))
            self.depth = max(levels[-1], 0) if cut == len(levels) else 0

    def _check(self, depth: int) -> None:
        if depth > self.limit:
            raise TooDeep(self.field, self.limit)


def check_depth(
    text: str | bytes | bytearray, field: str = "body", limit: int = MAX_JSON_DEPTH, max_values: int | None = None
) -> None:
    """Raise TooDeep when the JSON `text` nests deeper than `limit` (TooWide when it holds more
    than `max_values` values, if given); cheap for shallow texts."""
    if isinstance(text, str):
        if max_values is None and text.count("[") + text.count("{") <= limit:
            return
        text = text.encode("utf-8", "surrogatepass")
    elif max_values is None and text.count(b"[") + text.count(b"{") <= limit:
        return
    DepthScanner(limit, field=field, max_values=max_values).feed(bytes(text))
