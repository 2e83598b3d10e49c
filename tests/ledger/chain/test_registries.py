"""Works, licences and splits through the Python chain layer, against a real Anvil node:
results come back as domain values, refusals as the contracts' custom error names."""

from __future__ import annotations

import hashlib

import pytest

from ledger.chain.errors import ChainRevert
from ledger.chain.registries import Right, Scope
from ledger.errors import NotFound

DAY = 86_400
CN, HK, US = 1 << 0, 1 << 1, 1 << 2


def content_hash(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


@pytest.fixture
def studio(ledger, accounts):
    """A rights holder who owns one registered work, registered by the service as its operator."""
    owner = accounts.new("studio")
    ledger.registries.set_operator("studio-approves-service", owner, ledger.chain.signer, True)
    work = content_hash("The Long Night, master")
    ledger.registries.register_work(
        "register-long-night",
        ledger.chain.signer,
        work_id=work,
        owner=owner,
        fingerprint=b"\xab" * 32,
        metadata_hash=content_hash("metadata v1"),
        metadata_uri="ipfs://long-night/v1",
    )
    return owner, work


def now(ledger) -> int:
    return ledger.chain.w3.eth.get_block("latest")["timestamp"]


def test_registered_work_reads_back_with_owner_fingerprint_and_metadata(ledger, studio):
    owner, work = studio
    record = ledger.registries.work(work)
    assert record.owner == owner
    assert record.fingerprint == b"\xab" * 32
    assert (record.metadata_hash, record.metadata_uri) == (content_hash("metadata v1"), "ipfs://long-night/v1")


def test_metadata_update_is_what_reads_back(ledger, studio):
    owner, work = studio
    ledger.registries.update_metadata("meta-v2", owner, work, content_hash("metadata v2"), "ipfs://long-night/v2")
    assert ledger.registries.work(work).metadata_uri == "ipfs://long-night/v2"


def test_same_content_hash_twice_is_reported_by_name(ledger, studio):
    owner, work = studio
    with pytest.raises(ChainRevert) as raised:
        ledger.registries.register_work(
            "register-again",
            owner,
            work_id=work,
            owner=owner,
            fingerprint=b"\x00" * 32,
            metadata_hash=b"\x00" * 32,
            metadata_uri="",
        )
    assert raised.value.name == "WorkAlreadyRegistered"


def test_registering_for_someone_who_did_not_approve_is_refused(ledger, accounts):
    stranger = accounts.new("stranger")
    with pytest.raises(ChainRevert) as raised:
        ledger.registries.register_work(
            "register-for-stranger",
            ledger.chain.signer,
            work_id=content_hash("x"),
            owner=stranger,
            fingerprint=b"\x00" * 32,
            metadata_hash=b"\x00" * 32,
            metadata_uri="",
        )
    assert raised.value.name == "WorkUnauthorized"


def test_ownership_moves_only_when_the_new_owner_accepts(ledger, accounts, studio):
    owner, work = studio
    buyer = accounts.new("buyer")
    ledger.registries.transfer_work("sell", owner, work, buyer)
    assert ledger.registries.work(work).owner == owner
    assert ledger.registries.work(work).pending_owner == buyer
    ledger.registries.accept_work("buy", buyer, work)
    assert ledger.registries.work(work).owner == buyer
    assert ledger.registries.work(work).pending_owner is None


def test_unregistered_work_is_not_found(ledger):
    with pytest.raises(NotFound):
        ledger.registries.work(content_hash("never registered"))


def test_licence_chain_answers_who_may_stream_where_and_when(ledger, accounts, studio):
    owner, work = studio
    platform, reseller = accounts.new("platform"), accounts.new("reseller")
    t = now(ledger)
    root = ledger.registries.grant_licence(
        "lic-root",
        owner,
        work_id=work,
        licensee=platform,
        scope=Scope(CN | HK, Right.STREAMING | Right.DOWNLOAD, t, t + 30 * DAY, exclusive=False, sublicensable=True),
    )
    child = ledger.registries.grant_sublicence(
        "lic-child",
        platform,
        parent_id=root,
        licensee=reseller,
        scope=Scope(HK, Right.STREAMING, t, t + 10 * DAY),
    )
    reg = ledger.registries
    assert reg.licence(child).parent_id == root
    assert reg.is_licensed(work, reseller, 1, Right.STREAMING, t + DAY) == child
    assert reg.is_licensed(work, reseller, 0, Right.STREAMING, t + DAY) is None  # CN not sub-licensed
    assert reg.is_licensed(work, reseller, 1, Right.STREAMING, t + 20 * DAY) is None  # window over

    ledger.registries.revoke_licence("revoke-root", owner, root)
    assert not reg.licence_valid(child, t + DAY)
    assert reg.is_licensed(work, reseller, 1, Right.STREAMING, t + DAY) is None


def test_sublicence_wider_than_its_parent_is_reported_by_name(ledger, accounts, studio):
    owner, work = studio
    platform = accounts.new("platform")
    t = now(ledger)
    root = ledger.registries.grant_licence(
        "lic-root",
        owner,
        work_id=work,
        licensee=platform,
        scope=Scope(CN, Right.STREAMING, t, t + 30 * DAY, sublicensable=True),
    )
    with pytest.raises(ChainRevert) as raised:
        ledger.registries.grant_sublicence(
            "lic-wide",
            platform,
            parent_id=root,
            licensee=accounts.new("reseller"),
            scope=Scope(CN | US, Right.STREAMING, t, t + 10 * DAY),
        )
    assert raised.value.name == "LicenseScopeExceedsParent"


def test_second_overlapping_exclusive_licence_is_reported_by_name(ledger, accounts, studio):
    owner, work = studio
    t = now(ledger)
    first = ledger.registries.grant_licence(
        "excl-1",
        owner,
        work_id=work,
        licensee=accounts.new("platform-a"),
        scope=Scope(CN, Right.STREAMING, t, t + 30 * DAY, exclusive=True),
    )
    with pytest.raises(ChainRevert) as raised:
        ledger.registries.grant_licence(
            "excl-2",
            owner,
            work_id=work,
            licensee=accounts.new("platform-b"),
            scope=Scope(CN | HK, Right.STREAMING, t + DAY, t + 60 * DAY, exclusive=True),
        )
    assert raised.value.name == "LicenseExclusiveConflict"
    assert int(raised.value.args_by_name["conflictingLicenseId"]) == first


def test_split_versions_are_kept_and_chosen_by_time(ledger, accounts, studio):
    owner, work = studio
    investor = accounts.new("investor")
    t = now(ledger)
    v1 = ledger.registries.set_split("split-1", owner, work_id=work, payees=[owner, investor], bps=[6000, 4000])
    v2 = ledger.registries.set_split(
        "split-2", owner, work_id=work, payees=[owner, investor], bps=[5000, 5000], effective_from=t + 10 * DAY
    )
    assert (v1, v2) == (1, 2)
    assert ledger.registries.split_at(work, t + DAY).bps == (6000, 4000)
    assert ledger.registries.split_at(work, t + 11 * DAY).bps == (5000, 5000)
    assert ledger.registries.split_version(work, 1).payees == (owner, investor)


def test_split_not_summing_to_10000_is_reported_by_name(ledger, accounts, studio):
    owner, work = studio
    with pytest.raises(ChainRevert) as raised:
        ledger.registries.set_split(
            "split-bad", owner, work_id=work, payees=[owner, accounts.new("investor")], bps=[6000, 3999]
        )
    assert raised.value.name == "SplitSharesSum"
    assert int(raised.value.args_by_name["sum"]) == 9999


def test_missing_split_version_is_not_found(ledger, studio):
    _, work = studio
    with pytest.raises(NotFound):
        ledger.registries.split_version(work, 1)
