"""The SettlementRegistry is deployed with the configured arbiter and dispute terms, and the
binding reads and writes its dispute interface (disputes, the arbiter seat, period fields)."""

from __future__ import annotations

from eth_utils import to_checksum_address

from ledger.chain.outbox import raise_for
from ledger.service import Ledger
from tests.helpers.settings import make_settings

SOCIETY = to_checksum_address("0x" + "50c1e7".rjust(40, "0"))  # a rights society's multisig
SINK = to_checksum_address("0x" + "b0bd".rjust(40, "0"))


def test_the_registry_is_deployed_with_the_configured_terms_and_the_signer_as_default_arbiter(tmp_path):
    settings = make_settings(tmp_path, decision_window=3_600, dispute_default="upheld", dispute_bond=250)
    ledger = Ledger(settings).start()
    try:
        chain = ledger.chain
        registry = chain.settlement
        assert registry.arbiter() == chain.signer
        terms = registry.contract.functions.disputeTerms().call()
        token = chain.addresses["TestStablecoin"]
        assert tuple(terms) == (3_600, True, token, 250, chain.signer)  # bond in the settlement token, sink the signer

        # The signer hands the seat over; the seat moves only when the successor accepts.
        op = chain.outbox.submit("handover:test", chain.signer, registry.begin_arbiter_handover(SOCIETY))
        raise_for(chain.outbox.wait(op.id, timeout=30))
        assert registry.pending_arbiter() == SOCIETY
        assert registry.arbiter() == chain.signer

        never = "0x" + "ab" * 32
        dispute = registry.dispute_of(never, 0)
        assert dispute.state == "none" and dispute.deadline == 0 and dispute.bond == 0
        assert not registry.is_line_held(never, 0) and not registry.is_line_voided(never, 0)
    finally:
        ledger.stop()


def test_a_configured_arbiter_and_bond_sink_are_deployed(tmp_path):
    settings = make_settings(tmp_path, arbiter=SOCIETY, bond_sink=SINK, dispute_bond=1)
    ledger = Ledger(settings).start()
    try:
        registry = ledger.chain.settlement
        assert registry.arbiter() == SOCIETY
        decision_window, upheld, _, bond, sink = registry.contract.functions.disputeTerms().call()
        assert (decision_window, upheld, bond, sink) == (120, False, 1, SINK)
    finally:
        ledger.stop()
