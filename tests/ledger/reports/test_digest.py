"""A report's totals and row root, as the platform signs them."""

import pytest

from ledger.merkle import StandardMerkleTree, verify
from ledger.reports.digest import ReportDigest
from ledger.reports.rows import LEAF_TYPES, BadRow, ReportRow


def row(day=20_412, plays=10, valid=8, minutes=300, ad=100, currency="CNY", work=b"\x01" * 32):
    return ReportRow(work, "CN", day, plays, valid, minutes, ad, currency)


def test_totals_and_root_cover_every_row():
    rows = [row(), row(work=b"\x02" * 32, plays=5, valid=5, minutes=7, ad=0)]
    digest = ReportDigest("CNY", 20_410, 20_417)
    for r in rows:
        digest.add(r)
    assert (digest.row_count, digest.plays, digest.valid_plays, digest.watch_minutes, digest.ad_revenue) == (
        2,
        15,
        13,
        307,
        100,
    )
    tree = digest.tree()
    assert tree.root == StandardMerkleTree.of([r.leaf() for r in rows], LEAF_TYPES).root
    assert verify(tree.root, LEAF_TYPES, rows[1].leaf(), tree.proof(rows[1].leaf()))


@pytest.mark.parametrize("bad, field", [(row(day=20_417), "date"), (row(currency="USD"), "currency")])
def test_rows_outside_the_period_or_currency_are_refused(bad, field):
    with pytest.raises(BadRow) as raised:
        ReportDigest("CNY", 20_410, 20_417).add(bad)
    assert raised.value.field == field


def test_identical_rows_and_empty_reports_are_refused():
    digest = ReportDigest("CNY", 20_410, 20_417)
    with pytest.raises(BadRow):
        digest.tree()
    digest.add(row())
    digest.add(row())
    with pytest.raises(BadRow, match="identical"):
        digest.tree()


@pytest.mark.parametrize("territory, currency, big", [("CN", "CNY", 0), ("US", "USD", 2**63 - 1), ("GB", "JPY", 12345)])
def test_the_hand_encoded_leaf_equals_the_abi_encoders(territory, currency, big):
    from ledger.merkle import leaf_hash
    from ledger.reports.digest import row_leaf_hash

    r = ReportRow(bytes(range(32)), territory, 20_500, big, big // 2, 7, big, currency)
    assert row_leaf_hash(r) == leaf_hash(LEAF_TYPES, r.leaf())


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 1000])
def test_the_root_alone_is_the_full_trees_root(n):
    from ledger.merkle import root_of

    digest = ReportDigest("CNY", 20_410, 20_417)
    for i in range(n):
        digest.add(row(plays=1_000 + i))
    assert digest.root() == digest.tree().root
    with pytest.raises(ValueError):
        root_of([b"\x01" * 32, b"\x01" * 32])


def test_a_root_hashed_partly_by_a_worker_process_is_the_same_root():
    import os

    from ledger.merkle import packed_root
    from ledger.reports.blocks import SHARED_PAIRS, shared_hashing, worker_pool

    leaves = os.urandom(32 * (4 * SHARED_PAIRS + 3))
    pool = worker_pool(1)
    try:
        assert packed_root(leaves, shared_hashing(lambda: pool)) == packed_root(leaves)
    finally:
        pool.shutdown()
