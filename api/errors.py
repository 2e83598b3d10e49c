"""Every refusal is a 4xx (or a 503 for an outage) with a machine-readable body:

    {"error": {"code": "...", "message": "...", "details": {...}}}

never a 500 or a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from api.console.routes import not_found_page
from ledger.chain.errors import ChainRevert, ChainUnavailable, IdempotencyConflict, InsufficientFunds
from ledger.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    LedgerError,
    NotFound,
    TooDeep,
    TooLarge,
    TooWide,
    Unauthenticated,
    Unavailable,
)
from ledger.logs import request_id

log = logging.getLogger("reelledger.api")

STATUS: dict[type[LedgerError], int] = {
    InvalidInput: 422,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    TooLarge: 413,
    TooDeep: 413,
    TooWide: 413,
    Unavailable: 503,
}


class BodyRefused(HTTPException):
    """A body refused as it streams in (api.limits): raised from the receive channel, where
    FastAPI passes an HTTPException on as it is; rendered with its own code."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(status, message)
        self.code, self.message, self.details = code, message, details


def error_body(code: str, message: str, **details: Any) -> dict[str, dict[str, Any]]:
    return {"error": {"code": code, "message": message, "details": details}}


# Every custom error our contracts (and the OpenZeppelin code they use) can revert with, and its
# HTTP status: one decision per name, read off here rather than guessed from a suffix
# (tests/api/test_revert_statuses.py fails when a contract gains an error this table lacks).
# 403: the caller may not; 404: what it names does not exist; 409: the state forbids it now (a
# repeat, a window, a conflict); 422: the request itself is malformed or out of range.
REVERT_STATUS: dict[str, int] = {
    **dict.fromkeys(
        [
            "AccessControlUnauthorizedAccount",
            "DerivativeLicenseNotHeld",
            "DerivativeUnauthorized",
            "DistributionUnauthorized",
            "LicenseNotSublicensable",
            "LicenseUnauthorized",
            "OwnableUnauthorizedAccount",
            "PeriodPayoutOnlyRegistry",
            "SettlementInvalidReportSignature",
            "SettlementNotArbiter",
            "SettlementNotPendingArbiter",
            "SettlementNotPayee",
            "SplitUnauthorized",
            "WorkNotPendingOwner",
            "WorkUnauthorized",
        ],
        403,
    ),
    **dict.fromkeys(
        [
            "DerivativeWorkNotRegistered",
            "EvidenceUnknownWork",
            "LicenseNotFound",
            "LicenseWorkNotRegistered",
            "SettlementNoSuchOpenDispute",
            "SettlementSupersededReportUnknown",
            "SplitVersionNotFound",
            "SplitWorkNotRegistered",
            "WorkNotRegistered",
        ],
        404,
    ),
    **dict.fromkeys(
        [
            "DerivativeAlreadyHasParents",
            "DerivativeHasChildren",
            "DerivativeLicenseNotValid",
            "DerivativeTooDeep",
            "DistributionAlreadyAnchored",
            "ERC20InsufficientAllowance",
            "ERC20InsufficientBalance",
            "EvidenceAlreadyAnchored",
            "InvalidAccountNonce",
            "LicenseAlreadyRevoked",
            "LicenseExclusiveConflict",
            "LicenseParentNotValid",
            "PeriodPayoutInsufficientFunding",
            "PeriodPayoutLineAlreadySettled",
            "PeriodPayoutLineHeld",
            "PeriodPayoutLineVoided",
            "ReentrancyGuardReentrantCall",
            "SettlementCarryExceedsVoided",
            "SettlementDecisionWindowClosed",
            "SettlementDecisionWindowOpen",
            "SettlementDisputeWindowClosed",
            "SettlementDisputeWindowOpen",
            "SettlementLineAlreadyDisputed",
            "SettlementLineHeld",
            "SettlementLineVoided",
            "SettlementOverfunded",
            "SettlementPeriodAlreadyCommitted",
            "SettlementPeriodAlreadyFinalized",
            "SettlementPeriodNotCommitted",
            "SettlementPeriodNotFinalized",
            "SettlementReportAlreadyAnchored",
            "WorkAlreadyRegistered",
        ],
        409,
    ),
    **dict.fromkeys(
        [
            "AccessControlBadConfirmation",
            "DerivativeCycle",
            "DerivativeDuplicateParent",
            "DerivativeInvalidParentCount",
            "DerivativeKindNotLicensed",
            "DerivativeLicenseNotOnParent",
            "DerivativeSharesExceedWhole",
            "DistributionInvalidPayload",
            "DistributionInvalidRecord",
            "ECDSAInvalidSignature",
            "ECDSAInvalidSignatureLength",
            "ECDSAInvalidSignatureS",
            "ERC20InvalidApprover",
            "ERC20InvalidReceiver",
            "ERC20InvalidSender",
            "ERC20InvalidSpender",
            "ERC2612ExpiredSignature",
            "ERC2612InvalidSigner",
            "EvidenceInvalidHash",
            "InvalidShortString",
            "LicenseDeriveWithoutTerms",
            "LicenseEmptyScope",
            "LicenseExclusiveExceedsParent",
            "LicenseInvalidDerivativeTerms",
            "LicenseInvalidLicensee",
            "LicenseInvalidWindow",
            "LicenseScopeExceedsParent",
            "LicenseTermsWithoutDerive",
            "LicenseTooDeep",
            "OwnableInvalidOwner",
            "PeriodPayoutInvalidProof",
            "PeriodPayoutTransferFailed",
            "SafeCastOverflowedUintDowncast",
            "SafeERC20FailedOperation",
            "SettlementAmountTooLarge",
            "SettlementArbiterIsSettler",
            "SettlementCorrectionOnRejection",
            "SettlementEmptyRoot",
            "SettlementInvalidBondTerms",
            "SettlementInvalidCarry",
            "SettlementInvalidPeriod",
            "SettlementInvalidProof",
            "SettlementZeroToken",
            "SettlementZeroArbiter",
            "SplitDuplicatePayee",
            "SplitEffectiveBeforePrevious",
            "SplitEffectiveInPast",
            "SplitLengthMismatch",
            "SplitPayeeCount",
            "SplitSharesSum",
            "SplitZeroAddress",
            "SplitZeroShare",
            "StringTooLong",
            "WorkInvalidId",
            "WorkInvalidOperator",
            "WorkInvalidOwner",
        ],
        422,
    ),
}


# The refusals a caller meets when the service may not act for the account that owns what it names:
# their answer tells the operator how to approve the service (WorkRegistry.setOperator). Listed by
# name, as REVERT_STATUS is; OpenZeppelin's AccessControl/Ownable refusals are about the service's own
# roles, which no account approval changes, so they are not here.
OPERATOR_HINT: frozenset[str] = frozenset(
    [
        "DerivativeUnauthorized",
        "DistributionUnauthorized",
        "LicenseUnauthorized",
        "SplitUnauthorized",
        "WorkUnauthorized",
    ]
)


def _revert_status(name: str) -> int:
    """A revert the table does not know (another contract's, or `UnknownRevert`) is 422."""
    return REVERT_STATUS.get(name, 422)


def is_console_path(path: str) -> bool:
    """Addresses under /console are opened by people in a browser: refused with a page, not JSON."""
    return path == "/console" or path.startswith("/console/")


def install(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def ledger_error(_: Request, exc: LedgerError) -> JSONResponse:
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        details = exc.details
        if (
            isinstance(exc, InvalidInput) and "problems" not in details
        ):  # as a malformed request's; a report lists its own
            details = {**details, "problems": [{"field": details["field"], "problem": exc.message}]}
        return JSONResponse(error_body(exc.code, exc.message, **details), status, headers=headers)

    @app.exception_handler(ChainRevert)
    async def chain_revert(request: Request, exc: ChainRevert) -> JSONResponse:
        details = {k: str(v) for k, v in exc.args_by_name.items()}
        message = f"the chain refused: {exc}"
        if exc.name in OPERATOR_HINT:
            operator = request.app.state.ledger.chain.signer
            message += (
                "; an account with its own address approves the service first: "
                f"WorkRegistry.setOperator({operator}, true)"
            )
        return JSONResponse(error_body(exc.name, message, **details), _revert_status(exc.name))

    @app.exception_handler(IdempotencyConflict)
    async def idempotency(_: Request, exc: IdempotencyConflict) -> JSONResponse:
        return JSONResponse(error_body("idempotency_key_reused", str(exc)), 409)

    @app.exception_handler(InsufficientFunds)
    async def insufficient_funds(_: Request, exc: InsufficientFunds) -> JSONResponse:
        # The service's gas money ran out: an outage of the operator's making, not the caller's
        # fault; the write is kept and sent once the account can pay.
        return JSONResponse(error_body(InsufficientFunds.code, str(exc), **exc.details), 503)

    @app.exception_handler(ChainUnavailable)
    async def chain_down(_: Request, exc: ChainUnavailable) -> JSONResponse:
        return JSONResponse(error_body("chain_unavailable", "the chain node does not answer; try again"), 503)

    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    async def database_down(_: Request, exc: DBAPIError) -> JSONResponse:
        log.warning("database error: %s", type(exc.orig).__name__ if exc.orig else type(exc).__name__)
        return JSONResponse(
            error_body(
                "database_unavailable",
                "the database failed; nothing half-written is kept: "
                "retry (a write with the same Idempotency-Key is made once)",
            ),
            503,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        return JSONResponse(error_body("invalid_request", "the request is malformed", problems=problems), 422)

    @app.exception_handler(BodyRefused)
    async def body_refused(_: Request, exc: BodyRefused) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, **exc.details), exc.status_code, headers={"Connection": "close"}
        )

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, _: ClientDisconnect) -> JSONResponse:
        """The client hung up mid-body: nothing was kept (streamed bodies count only once whole)
        and nobody reads this answer, so it is a line in the log, not a traceback."""
        log.info("%s %s: the client disconnected before its body ended", request.method, request.url.path)
        return JSONResponse(error_body("client_disconnected", "the request body ended early"), 400)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404 and is_console_path(request.url.path):  # a person's mistyped address
            return not_found_page(request)
        return JSONResponse(
            error_body(f"http_{exc.status_code}", str(exc.detail)), exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        rid = request_id.get()  # answered outside api.observe, which names the other answers
        headers = {"X-Request-ID": rid} if rid else None
        return JSONResponse(error_body("internal_error", "an unexpected error; it was logged"), 500, headers=headers)
