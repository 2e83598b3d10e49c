"""The field types of every request: numbers that the database and the contracts both hold,
text that reads as what it is (ledger/limits.py says what is refused and why), times in range.

JSON bodies are strict: a boolean is not a number ("licensee_id": true is not account 1), a
string is not a number nor a boolean. Query strings and paths are text by nature and parse as
usual, with the same bounds. Request models use these types and nothing looser.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError
from web3 import Web3

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


def _checked(multiline: bool = False, normalise: bool = False):
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


def _text(max_length: int, min_length: int, multiline: bool, normalise: bool, description: str | None):
    return Annotated[
        str,
        Strict(),
        Field(min_length=min_length, max_length=max_length, description=description),
        _checked(multiline, normalise),
    ]


def name(max_length: int, min_length: int = 1, description: str | None = None):
    """A name or title, on one line; stored NFC and stripped."""
    return _text(max_length, min_length, False, True, description)


def prose(max_length: int, min_length: int = 1, description: str | None = None):
    """Multi-line free text kept verbatim (its hash may go on chain)."""
    return _text(max_length, min_length, True, False, description)


def token(max_length: int, min_length: int = 1, description: str | None = None, pattern: str | None = None):
    """An identifier, reference or URL on one line, kept verbatim."""
    return Annotated[
        str,
        Strict(),
        Field(min_length=min_length, max_length=max_length, pattern=pattern, description=description),
        _checked(),
    ]


def query_text(max_length: int, description: str | None = None, min_length: int | None = None):
    """A text query parameter, checked like a token."""
    return Annotated[str, Query(min_length=min_length, max_length=max_length, description=description), _checked()]


def _address(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str) or not Web3.is_address(value):
        raise PydanticCustomError(
            "address", "an EVM address is 0x and 40 hex digits (in one case, or with a valid EIP-55 checksum)"
        )
    return Web3.to_checksum_address(value)


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
    "name",
    "path_text",
    "prose",
    "query_text",
    "token",
]


def path_text(max_length: int, description: str | None = None):
    """A text path parameter, checked like a token."""
    return Annotated[str, Path(max_length=max_length, description=description), _checked()]
