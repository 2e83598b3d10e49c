"""The field types of every request: numbers that the database and the contracts both hold,
text that reads as what it is (ledger/limits.py says what is refused and why), times in range.

JSON bodies are strict: a boolean is not a number ("licensee_id": true is not account 1), a
string is not a number nor a boolean. Query strings and paths are text by nature and parse as
usual, with the same bounds. Request models use these types and nothing looser.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, ClassVar

from annotated_types import GroupedMetadata
from eth_utils import is_address, to_checksum_address
from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

from ledger.limits import DB_INT_MAX, OFFSET_MAX, ROW_ID_MAX, normal_name, text_problem, year_problem

# Numbers in JSON bodies.
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Float = Annotated[float, Strict()]  # a JSON integer is a number too; a boolean or a string is not
Uint64 = Annotated[int, Strict(), Field(ge=0, le=DB_INT_MAX)]  # a contract uint64 kept in a BIGINT
RowId = Annotated[int, Strict(), Field(ge=1, le=ROW_ID_MAX, description="A numeric id.")]


def _digits(value: Any) -> Any:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 40:
        return int(value)
    return value


# An amount in minor units: a JSON integer, or its decimal digits as a string, since a browser's
# numbers lose precision past 2^53. Never a boolean, a fraction or "1e3".
MinorUnits = Annotated[int, Strict(), BeforeValidator(_digits)]

# Numbers in paths and query strings.
RowIdPath = Annotated[int, Path(ge=1, le=ROW_ID_MAX, description="A numeric id.")]
RowIdQuery = Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)]
Offset = Annotated[int, Query(ge=0, le=OFFSET_MAX, description="Items to skip.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Items to return at most.")]
LongLimit = Annotated[int, Query(ge=1, le=1000, description="Items to return at most.")]


def _checked(multiline: bool = False, normalise: bool = False) -> AfterValidator:
    def check(value: Any) -> Any:
        if value is None:
            return None
        problem = text_problem(value, multiline=multiline)
        if problem:
            raise PydanticCustomError("text", "the text {problem}", {"problem": problem})
        if normalise:
            value = normal_name(value)
            if not value:
                raise PydanticCustomError("text", "the text is empty")
        return value

    return AfterValidator(check)


@dataclass(frozen=True)
class _Text(GroupedMetadata):
    """Strict text of bounded length, checked by ledger/limits.py (`Annotated[str, Token(66)]`)."""

    max_length: int
    min_length: int = 1
    description: str | None = None
    pattern: str | None = None
    multiline: ClassVar[bool] = False
    normalise: ClassVar[bool] = False

    def __iter__(self) -> Iterator[object]:
        yield Strict()
        yield Field(
            min_length=self.min_length, max_length=self.max_length, pattern=self.pattern, description=self.description
        )
        yield _checked(self.multiline, self.normalise)


class Name(_Text):
    """A name or title, on one line; stored NFC and stripped."""

    normalise = True


class Prose(_Text):
    """Multi-line free text kept verbatim (its hash may go on chain)."""

    multiline = True


class Token(_Text):
    """An identifier, reference or URL on one line, kept verbatim."""


# Query and path parameters are text by nature: FastAPI reads their Query()/Path() from the annotation
# itself, so they are spelled out where they are used, with this check, as a token's.
CHECKED_TEXT = _checked()
# A work id in a query string (the lists of distributions and cases filter by it).
WorkIdQuery = Annotated[str, Query(max_length=66), CHECKED_TEXT]


def _address(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str) or not is_address(value):
        raise PydanticCustomError(
            "address", "an EVM address is 0x and 40 hex digits (in one case, or with a valid EIP-55 checksum)"
        )
    return to_checksum_address(value)


# An EVM address in any case, compared and stored checksummed (EIP-55).
Address = Annotated[str, Strict(), Field(max_length=42), AfterValidator(_address)]
AddressQuery = Annotated[str | None, Query(max_length=42), AfterValidator(_address)]


def _in_range(value: Any) -> Any:
    if value is not None:
        problem = year_problem(value.year)
        if problem:
            raise PydanticCustomError("time_range", "the time {problem}", {"problem": problem})
    return value


Day = Annotated[date, AfterValidator(_in_range)]  # in a body or a query string
When = Annotated[AwareDatetime, AfterValidator(_in_range)]  # with a time zone; checked before conversion


__all__ = [
    "Address",
    "AddressQuery",
    "Bool",
    "Day",
    "Float",
    "Int",
    "Limit",
    "LongLimit",
    "MinorUnits",
    "Offset",
    "RowId",
    "RowIdPath",
    "RowIdQuery",
    "Uint64",
    "When",
    "CHECKED_TEXT",
    "Name",
    "Prose",
    "Token",
    "WorkIdQuery",
]
