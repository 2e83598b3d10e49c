"""Licences with upstream terms and derivative registration through the Python chain layer, against a
real Anvil node: the terms and edges read back as domain values, refusals come back by name."""

from __future__ import annotations

import hashlib

import pytest

from ledger.chain.errors import ChainRevert
from ledger.chain.registries import DerivativeParent, DerivativeTerms, Right, Scope
from ledger.choices import DerivativeKind
from ledger.errors import NotFound

DAY = 86_400


def content_hash(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


@pytest.fixture
def owners(ledger, accounts):
    """A producer and a short-video studio, each with one registered work, the service their operator."""
    result = {}
    for label in ("producer", "studio"):
        owner = accounts.new(label)
        ledger.registries.set_operator(f"{label}-approves-service", owner, ledger.chain.signer, True)
        work = content_hash(f"{label} master")
        ledger.registries.register_work(
            f"register-{label}",
            ledger.chain.signer,
            work_id=work,
            owner=owner,
            fingerprint=b"\x00" * 32,
            metadata_hash=b"\x00" * 32,
            metadata_uri="",
        )
        result[label] = (owner, work)
    return result


def _derive_scope(ledger) -> Scope:
    t = ledger.chain.w3.eth.get_block("latest")["timestamp"]
    return Scope(1, Right.STREAMING | Right.DERIVE, t, t + 30 * DAY)


def _grant(ledger, owners, terms: DerivativeTerms, key: str = "derive-licence") -> int:
    _, drama = owners["producer"]
    studio, _ = owners["studio"]
    return ledger.registries.grant_licence_with_terms(
        key, ledger.chain.signer, work_id=drama, licensee=studio, scope=_derive_scope(ledger), terms=terms
    )


def test_terms_granted_with_a_licence_read_back(ledger, owners):
    terms = DerivativeTerms((DerivativeKind.re_edit, DerivativeKind.dub), 3000, 1500)
    licence = _grant(ledger, owners, terms)
    assert ledger.registries.derivative_terms(licence) == terms
    assert ledger.registries.licence(licence).scope.rights == Right.STREAMING | Right.DERIVE


def test_licence_without_derive_right_has_no_terms(ledger, owners):
    owner, drama = owners["producer"]
    studio, _ = owners["studio"]
    t = ledger.chain.w3.eth.get_block("latest")["timestamp"]
    licence = ledger.registries.grant_licence(
        "plain", ledger.chain.signer, work_id=drama, licensee=studio, scope=Scope(1, Right.STREAMING, t, t + DAY)
    )
    assert ledger.registries.derivative_terms(licence) is None
    with pytest.raises(NotFound):
        ledger.registries.derivative_terms(licence + 1)


def test_derive_right_without_terms_is_refused_by_name(ledger, owners):
    _, drama = owners["producer"]
    studio, _ = owners["studio"]
    with pytest.raises(ChainRevert) as raised:
        ledger.registries.grant_licence(
            "derive-no-terms", ledger.chain.signer, work_id=drama, licensee=studio, scope=_derive_scope(ledger)
        )
    assert raised.value.name == "LicenseDeriveWithoutTerms"


def test_registered_derivative_reads_back_its_parent_terms_children_and_depth(ledger, owners):
    terms = DerivativeTerms((DerivativeKind.re_edit,), 3000, 0)
    licence = _grant(ledger, owners, terms)
    _, drama = owners["producer"]
    _, re_edit = owners["studio"]
    ledger.registries.register_derivative(
        "derive",
        ledger.chain.signer,
        work_id=re_edit,
        parents=[DerivativeParent(drama, licence, DerivativeKind.re_edit)],
    )
    [edge] = ledger.registries.derivative_parents(re_edit)
    assert (edge.parent_id, edge.licence_id, edge.kind, edge.terms) == (drama, licence, DerivativeKind.re_edit, terms)
    assert ledger.registries.derivative_children(drama) == [re_edit]
    assert ledger.registries.derivative_depth(re_edit) == 1
    assert ledger.registries.derivative_parents(drama) == []


def test_kind_the_licence_does_not_allow_is_refused_by_name(ledger, owners):
    licence = _grant(ledger, owners, DerivativeTerms((DerivativeKind.dub,), 3000))
    _, drama = owners["producer"]
    _, re_edit = owners["studio"]
    with pytest.raises(ChainRevert) as raised:
        ledger.registries.register_derivative(
            "derive-wrong-kind",
            ledger.chain.signer,
            work_id=re_edit,
            parents=[DerivativeParent(drama, licence, DerivativeKind.remake)],
        )
    assert raised.value.name == "DerivativeKindNotLicensed"
    assert ledger.registries.derivative_parents(re_edit) == []
