"""Every custom error a deployed contract can revert with has its HTTP status decided in one
table (api.errors.REVERT_STATUS), not guessed from its name: a contract that gains an error
fails here until someone decides what a client is told."""

from __future__ import annotations

from api.errors import OPERATOR_HINT, REVERT_STATUS, _revert_status
from ledger.chain import artifacts


def errors_of(name: str) -> set[str]:
    return {entry["name"] for entry in artifacts.load(name).abi if entry.get("type") == "error"}


def test_every_error_of_every_contract_has_its_status():
    names = set().union(*(errors_of(path.stem) for path in artifacts.ARTIFACTS_DIR.glob("*.json")))
    assert names - REVERT_STATUS.keys() == set()
    assert REVERT_STATUS.keys() - names == set()  # no entry for an error nothing raises
    assert set(REVERT_STATUS.values()) == {403, 404, 409, 422}


def test_names_the_old_suffix_rule_got_wrong_are_answered_by_what_they_mean():
    assert _revert_status("SettlementNotPayee") == 403  # another payee's line
    assert _revert_status("AccessControlUnauthorizedAccount") == 403
    assert _revert_status("SettlementNoSuchOpenDispute") == 404
    assert _revert_status("SettlementLineAlreadyDisputed") == 409
    assert _revert_status("SettlementPeriodAlreadyCommitted") == 409
    assert _revert_status("UnknownRevert") == 422  # a revert nobody could name


def test_the_operator_hint_is_given_for_the_listed_account_refusals_only():
    # Decided by name, as the statuses are: each is a 403 a deployed contract raises, and the service's own
    # role refusals (AccessControl, Ownable), which no account's approval changes, are not among them.
    forbidden = {name for name, status in REVERT_STATUS.items() if status == 403}
    assert OPERATOR_HINT == {
        "DerivativeUnauthorized",
        "DistributionUnauthorized",
        "LicenseUnauthorized",
        "SplitUnauthorized",
        "WorkUnauthorized",
    }
    assert OPERATOR_HINT <= forbidden
    assert {"AccessControlUnauthorizedAccount", "OwnableUnauthorizedAccount"}.isdisjoint(OPERATOR_HINT)
