"""The FastAPI application; the ledger starts and stops with it."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.routes import health
from ledger.config import Settings
from ledger.service import Ledger


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        ledger = Ledger(settings).start()
        app.state.ledger = ledger
        try:
            yield
        finally:
            ledger.stop()

    app = FastAPI(title="ReelLedger", version="0.1.0", lifespan=lifespan)
    app.include_router(health.router)
    return app
