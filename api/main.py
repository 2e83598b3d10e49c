"""The FastAPI application; the ledger starts and stops with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from api import docs, errors, openapi
from api.console import routes as console
from api.limits import BodyLimits
from api.observe import Observe
from api.routes import (
    accounts,
    cases,
    counter_notices,
    crawls,
    derivations,
    derivatives,
    disputes,
    distributions,
    health,
    jobs,
    licences,
    matching,
    metrics,
    periods,
    reports,
    rules,
    splits,
    statements,
    works,
)
from ledger.config import Settings
from ledger.json_limits import restore_recursion_limit
from ledger.service import Ledger

restore_recursion_limit()  # after the imports above, one of which raises it to 100,000 (see ledger/json_limits.py)


# Gzip at level 1: statements (mostly hex proofs) halve as well as at level 6 in 40 % of the
# time (0.25 s for 11 MiB), listings and the console's scripts shrink more. Media and
# evidence bytes do not, and are sent as they are.
UNCOMPRESSED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/octet-stream")


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ledger = Ledger(settings).start()
        app.state.ledger = ledger
        try:
            yield
        finally:
            ledger.stop()

    app = FastAPI(title="ReelLedger", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    errors.install(app)
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=1, exclude_content_types=UNCOMPRESSED)
    app.add_middleware(BodyLimits)  # sizes and JSON depth checked before anything reads a body
    app.add_middleware(Observe)  # outermost: request ids, counts and times, refusals of BodyLimits included
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(accounts.router)
    app.include_router(works.router)
    app.include_router(derivatives.router)
    app.include_router(licences.router)
    app.include_router(derivations.router)
    app.include_router(splits.router)
    app.include_router(rules.router)
    app.include_router(reports.router)
    app.include_router(periods.router)
    app.include_router(statements.router)
    app.include_router(disputes.router)
    app.include_router(distributions.router)
    app.include_router(matching.router)
    app.include_router(cases.router)
    app.include_router(counter_notices.router)
    app.include_router(crawls.router)
    app.include_router(jobs.router)
    app.include_router(console.router)
    app.add_api_route("/", console.console_home, include_in_schema=False)
    app.mount("/console/static", StaticFiles(directory=console.STATIC), name="console-static")
    openapi.install(app)
    docs.install(app)
    return app
