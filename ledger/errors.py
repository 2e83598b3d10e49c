"""Domain errors: each carries a machine-readable code, and the API maps each class to one status."""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(LedgerError):
    code = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


class Unauthenticated(LedgerError):
    code = "unauthenticated"


class Forbidden(LedgerError):
    code = "forbidden"


class NotFound(LedgerError):
    code = "not_found"

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"no {kind} {ident}", kind=kind, id=str(ident))


class Conflict(LedgerError):
    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code


class Gone(LedgerError):
    """What was there and is no more (an expired link): 410."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code


class TooLarge(LedgerError):
    code = "too_large"

    def __init__(self, field: str, message: str, limit: int) -> None:
        super().__init__(message, field=field, limit=limit)


class TooDeep(LedgerError):
    """JSON nested past the limit: refused before any parser builds it."""

    code = "body_too_deep"

    def __init__(self, field: str, limit: int) -> None:
        super().__init__(
            f"the JSON in {field} nests deeper than {limit} levels, deeper than anything ReelLedger reads",
            field=field,
            limit=limit,
        )
        self.field, self.limit = field, limit


class TooWide(LedgerError):
    """A JSON body parsed whole that holds more values than any request needs."""

    code = "body_too_wide"

    def __init__(self, field: str, limit: int) -> None:
        super().__init__(
            f"the JSON in {field} holds more than {limit} values, more than any request needs", field=field, limit=limit
        )


class Unavailable(LedgerError):
    code = "unavailable"
