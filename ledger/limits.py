"""What the ledger takes from outside: text that displays as what it is, numbers that both the
database and the contracts hold, and times in a range that arithmetic on them cannot leave.

Text. Refused anywhere: control characters (a NUL cuts a PostgreSQL string, others rewrite a
terminal or a log line), lone surrogates (not encodable), the bidirectional overrides and
isolates U+202A-U+202E and U+2066-U+2069 (they make "evil\u202egpj.exe" read as "evilexe.jpg" and
an account name impersonate another), and, in single-line text, line and paragraph separators.
Multi-line text (reasons, notes) may hold \\n and \\t. Text made only of invisible characters
(spaces, zero-width and other format characters, combining marks, fillers) is refused as empty.
The bidi marks U+200E/U+200F/U+061C and joiners U+200C/U+200D stay allowed: right-to-left names
and emoji sequences need them.

Names and titles (what people read and compare) are normalised: NFC, then surrounding
whitespace stripped, so that two spellings of one name are one name. Identifiers and text whose
hash goes on chain (report ids, payment references, dispute reasons, URLs) are kept verbatim,
byte for byte as sent, so a hash a client computes over its own text matches; they are only
checked.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta

DB_INT_MAX = 2**63 - 1  # a BIGINT; the contracts' uint64 holds it too
ROW_ID_MAX = 2**31 - 1  # ids: the tables' id columns are 32-bit INTEGERs on PostgreSQL
OFFSET_MAX = 2**62  # list offsets: no table holds that many rows

# Times: 1970 (the contracts' and the day numbers' zero) to 2200. Checked on the value as sent,
# before any conversion to UTC or subtraction, which are then always representable.
FIRST_YEAR = 1970
LAST_YEAR = 2200

# A rule or split version is in force from at most this far ahead. A later version may never
# start before the latest one, so a date far ahead (9999-12-31) would block every correction;
# within the horizon, a new version can always be dated at or after it.
EFFECTIVE_HORIZON_DAYS = 366

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\u2028\u2029\x85")
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})
FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")  # letters and symbols that draw nothing
MULTILINE_ALLOWED = frozenset("\n\t")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` is refused as text, or None."""
    for ch in value:
        if ch in BIDI_CONTROLS:
            return f"holds the bidirectional control U+{ord(ch):04X}, which changes how the text reads"
        category = unicodedata.category(ch)
        if category == "Cc" and not (multiline and ch in MULTILINE_ALLOWED):
            allowed = " (only \\n and \\t are allowed)" if multiline else ""
            return f"holds the control character U+{ord(ch):04X}{allowed}"
        if category == "Cs":
            return f"holds the lone surrogate U+{ord(ch):04X}, which is not text"
        if ch in LINE_BREAKS and not multiline:
            return f"holds the line break U+{ord(ch):04X}; it is one line"
    if value and all(ch.isspace() or ch in FILLERS or unicodedata.category(ch) in INVISIBLE_CATEGORIES for ch in value):
        return "holds only invisible characters (spaces, zero-width or format characters)"
    return None


def normal_name(value: str) -> str:
    """A name or title as stored and compared: NFC, without surrounding whitespace."""
    return unicodedata.normalize("NFC", value).strip()


def year_problem(year: int) -> str | None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return f"is in a year from {FIRST_YEAR} to {LAST_YEAR}"
    return None


def horizon_day(today: date | None = None) -> date:
    return (today or datetime.now(UTC).date()) + timedelta(days=EFFECTIVE_HORIZON_DAYS)


HORIZON_REASON = (
    f"versions take effect at most {EFFECTIVE_HORIZON_DAYS} days ahead, because a later version cannot "
    "start before an earlier one and a date further out would block every change until then"
)
