"""A work's derivative family over HTTP: its parents up to the roots and its children down to the
leaves, each edge with its kind, licence, upstream terms and chain status; read by the owners of
the family's works, auditors and admins, and not found by anyone else."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date

import pytest

from ledger.models import DerivativeKind, Role
from tests.helpers.derivatives import declare_parent, derive, edge_beyond_the_depth_bound, grant_derive_licence
from tests.helpers.service import written
from tests.helpers.settlement import RULE


def register(service, client, title: str) -> str:
    digest = hashlib.sha256(f"{title}-{id(client)}".encode()).hexdigest()
    r = client.post("/works", json={"sha256": digest, "title": title, "kind": "film"})
    return written(service, r).json()["work_id"]


@pytest.fixture(scope="module")
def family(service):
    """A drama (A) re-edited (B) and dubbed (A's own dub studio, D), the re-edit compiled (C)."""
    people = {name: service.new_account(Role.rights_holder) for name in ("a", "b", "c", "d")}
    clients = {name: p[2] for name, p in people.items()}
    drama = register(service, clients["a"], "Drama")
    re_edit = register(service, clients["b"], "Drama, the re-edit")
    dub = register(service, clients["d"], "Drama, dubbed")
    compilation = register(service, clients["c"], "Best of the re-edit")
    licences = {
        "re_edit": derive(service, clients["a"], drama, clients["b"], re_edit, share_bps=3000, min_micro=2500),
        "dub": derive(service, clients["a"], drama, clients["d"], dub, kind=DerivativeKind.dub, share_bps=5000),
        "compilation": derive(
            service, clients["b"], re_edit, clients["c"], compilation, kind=DerivativeKind.compilation, share_bps=1000
        ),
    }
    r = clients["b"].post(
        f"/works/{re_edit}/rules", json={"effective_from": str(date.today()), "currency": "CNY", "rule": RULE}
    )
    assert r.status_code == 201, r.text
    works = {"drama": drama, "re_edit": re_edit, "dub": dub, "compilation": compilation}
    return {"clients": clients, "ids": {k: p[0] for k, p in people.items()}, "licences": licences, "works": works}


def edges(answer: dict, side: str) -> set[tuple[str, str, int]]:
    return {(e["derivative"]["title"], e["parent"]["title"], e["depth"]) for e in answer[side]}


def test_a_root_sees_its_children_down_to_the_leaves_with_the_terms_of_each_edge(family):
    r = family["clients"]["a"].get(f"/works/{family['works']['drama']}/family")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["work"]["title"] == "Drama" and body["parents"] == [] and not body["truncated"]
    assert edges(body, "children") == {
        ("Drama, the re-edit", "Drama", 1),
        ("Drama, dubbed", "Drama", 1),
        ("Best of the re-edit", "Drama, the re-edit", 2),
    }
    re_edit = next(e for e in body["children"] if e["derivative"]["work_id"] == family["works"]["re_edit"])
    assert re_edit["kind"] == "re_edit" and re_edit["licence_id"] == family["licences"]["re_edit"]
    assert (re_edit["share_bps"], re_edit["min_per_valid_play_micro"], re_edit["currency"]) == (3000, 2500, "CNY")
    assert re_edit["chain"]["status"] == "confirmed" and re_edit["chain"]["tx_hash"]


def test_a_middle_work_shows_its_parent_and_its_child_to_the_owner_of_either(family):
    for owner in ("b", "c", "a"):
        r = family["clients"][owner].get(f"/works/{family['works']['re_edit']}/family")
        assert r.status_code == 200, (owner, r.text)
        body = r.json()
        assert edges(body, "parents") == {("Drama, the re-edit", "Drama", 1)}
        assert edges(body, "children") == {("Best of the re-edit", "Drama, the re-edit", 1)}
        compilation = body["children"][0]
        assert (compilation["kind"], compilation["share_bps"]) == ("compilation", 1000)


def test_a_leaf_sees_every_ancestor_nearest_first(family):
    body = family["clients"]["c"].get(f"/works/{family['works']['compilation']}/family").json()
    assert [(e["parent"]["title"], e["depth"]) for e in body["parents"]] == [
        ("Drama, the re-edit", 1),
        ("Drama", 2),
    ]
    assert body["children"] == []


def test_auditors_read_any_family_and_outsiders_find_no_such_work(service, family):
    _, _, auditor = service.new_account(Role.auditor)
    assert auditor.get(f"/works/{family['works']['dub']}/family").status_code == 200
    for role in (Role.rights_holder, Role.platform, Role.crawler):
        _, _, outsider = service.new_account(role)
        r = outsider.get(f"/works/{family['works']['dub']}/family")
        assert r.status_code == 404, (role, r.text)
    # the dub's studio owns a work in the drama's family, not in the compilation's
    assert family["clients"]["d"].get(f"/works/{family['works']['compilation']}/family").status_code == 404


def test_an_edge_whose_registration_the_chain_refused_is_no_edge(service, family):
    clients, ids = family["clients"], family["ids"]
    refused = register(service, clients["b"], "Drama, refused")
    licence = grant_derive_licence(service, clients["a"], family["works"]["drama"], ids["b"])
    ledger = service.ledger  # the licence is revoked on chain behind the service, which still holds it valid
    ledger.registries.revoke_licence(f"behind-{uuid.uuid4().hex}", ledger.chain.signer, licence["chain_licence_id"])
    declared = declare_parent(clients["b"], refused, licence["id"], DerivativeKind.re_edit)
    assert declared.status_code == 409 and declared.json()["error"]["code"] == "DerivativeLicenseNotValid"
    body = clients["a"].get(f"/works/{family['works']['drama']}/family").json()
    assert "Drama, refused" not in {e["derivative"]["title"] for e in body["children"]}
    assert clients["b"].get(f"/works/{refused}/family").json()["parents"] == []


def test_unknown_and_malformed_work_ids_are_refused(family):
    client = family["clients"]["a"]
    assert client.get(f"/works/0x{'ab' * 32}/family").status_code == 404
    assert client.get("/works/not-a-work/family").status_code == 422


def test_a_family_deeper_than_the_bound_is_cut_and_says_so(service):
    owner_id, _, owner = service.new_account(Role.rights_holder)
    chain = [register(service, owner, f"Generation {n}") for n in range(5)]
    for parent, child in zip(chain[:3], chain[1:4], strict=True):
        derive(service, owner, parent, owner, child, kind=DerivativeKind.remake, share_bps=500)
    licence = grant_derive_licence(service, owner, chain[3], owner_id, kinds=(DerivativeKind.remake,), share_bps=500)
    too_deep = declare_parent(owner, chain[4], licence["id"], DerivativeKind.remake)
    assert too_deep.status_code == 409 and too_deep.json()["error"]["code"] == "derivative_too_deep"
    edge_beyond_the_depth_bound(service, chain[4], chain[3], licence["id"])  # as a graph the chain refused would be
    leaf = owner.get(f"/works/{chain[-1]}/family").json()
    assert [e["parent"]["title"] for e in leaf["parents"]] == ["Generation 3", "Generation 2", "Generation 1"]
    assert leaf["truncated"]
    middle = owner.get(f"/works/{chain[2]}/family").json()
    assert len(middle["parents"]) == 2 and len(middle["children"]) == 2 and not middle["truncated"]


def test_a_licence_s_minimum_reads_in_the_ledger_s_currency(service):
    """A minimum per valid play is shown as money, in the currency every derivative earns in,
    by the licence the CLI grants and the derivation it registers."""
    import time

    from typer.testing import CliRunner

    from ledger.cli import app

    (_, _, owner), (maker_id, _, maker) = (service.new_account(Role.rights_holder) for _ in range(2))
    drama, re_edit = register(service, owner, "Minimum drama"), register(service, maker, "Minimum re-edit")

    def cli(client, *args: str) -> str:
        key = client.headers["Authorization"].removeprefix("Bearer ")
        env = {"REELLEDGER_URL": service.url, "REELLEDGER_API_KEY": key, "COLUMNS": "250"}
        result = CliRunner().invoke(app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    window = ["--territory", "CN", "--start", str(int(time.time()) - 60), "--end", "2030-01-01"]
    terms = ["--derive", "re_edit", "--upstream-bps", "3000", "--upstream-min-micro", "20000"]
    granted = cli(owner, "licences", "grant", drama, "--licensee", str(maker_id), *window, *terms)
    assert "derive re_edit: 30 % upstream, at least 0.0002 CNY per valid play\n" in granted, granted
    licence_id = granted.split("licence ", 1)[1].split(" ", 1)[0]
    assert owner.get(f"/licences/{licence_id}").json()["derivative"]["currency"] == "CNY"
    derived = cli(maker, "works", "derive", re_edit, "--parent", f"{licence_id}:re_edit")
    upstream = f"re_edit of Minimum drama under licence {licence_id}: 30 % upstream, at least 0.0002 CNY per valid play"
    assert f"{upstream}\n    {drama}\n" in derived, derived
