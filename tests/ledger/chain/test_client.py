"""Contracts recorded by an earlier start are used again only when they are this version's build."""

from __future__ import annotations

import pytest
from sqlmodel import select

from ledger.chain.client import DeploymentOutdated
from ledger.config import Settings
from ledger.db import session
from ledger.models import Deployment
from ledger.service import Ledger
from tests.helpers.settings import make_settings


def first_start(settings: Settings) -> tuple[Ledger, dict[str, str]]:
    """Start once, deploying the contracts; the stopped ledger and the addresses it recorded."""
    ledger = Ledger(settings).start()
    try:
        return ledger, dict(ledger.chain.addresses)
    finally:
        ledger.stop()


def test_a_recorded_contract_from_another_build_stops_the_start_with_a_reason(tmp_path):
    settings = make_settings(tmp_path)
    ledger, first = first_start(settings)

    # The record of WorkRegistry now names code that is there and unchanged since it was recorded,
    # but is not this version's WorkRegistry, as after an upgrade that changed the contracts.
    with session(ledger.engine) as db:
        work, licences = (
            db.exec(select(Deployment).where(Deployment.name == name)).one()
            for name in ("WorkRegistry", "LicenseRegistry")
        )
        work.address, work.code_hash = licences.address, licences.code_hash
        db.add(work)
        db.commit()

    again = Ledger(settings)
    try:
        with pytest.raises(DeploymentOutdated, match=f"WorkRegistry at {first['LicenseRegistry']}"):
            again.start()
    finally:
        again.stop()


def test_recorded_contracts_of_this_build_are_used_again(tmp_path):
    settings = make_settings(tmp_path)
    _, first = first_start(settings)
    again = Ledger(settings).start()
    try:
        assert again.chain.addresses == first
    finally:
        again.stop()
