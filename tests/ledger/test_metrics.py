"""The ledger's metrics on their own: each ledger counts in a registry of its own, and a database
or Redis that does not answer shows as a gauge at 0, never as a failed scrape."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from ledger.metrics import Metrics, OutboxCollector
from tests.helpers.settings import free_port


def samples(metrics: Metrics) -> dict[str, float]:
    """Every sample of a scrape, by name and labels as Prometheus writes them."""
    found = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


def test_two_ledgers_in_one_process_count_apart():
    first, second = Metrics(), Metrics()
    first.chain_error("node_unavailable")
    first.chain_error("something new")  # an unknown kind counts as other: the label set stays fixed
    second.report_accepted(rows=3)
    a, b = samples(first), samples(second)
    assert a['reelledger_chain_errors_total{kind="node_unavailable"}'] == 1
    assert a['reelledger_chain_errors_total{kind="other"}'] == 1
    assert b['reelledger_chain_errors_total{kind="node_unavailable"}'] == 0
    assert (a["reelledger_report_rows_total"], b["reelledger_report_rows_total"]) == (0, 3)


def test_a_database_that_does_not_answer_is_a_gauge_at_zero():
    metrics = Metrics()
    down = create_engine(
        f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none", connect_args={"connect_timeout": 2}
    )
    metrics.register(OutboxCollector(down, chain_id=31337))
    found = samples(metrics)
    assert found["reelledger_database_up"] == 0
    assert "reelledger_outbox_ops" not in str(found)


def test_a_redis_that_does_not_answer_is_a_gauge_at_zero():
    metrics = Metrics(f"redis://127.0.0.1:{free_port()}/0")
    metrics.watch_queue("reelledger-media")
    found = samples(metrics)
    assert found["reelledger_queue_up"] == 0
    assert not [name for name in found if name.startswith(("reelledger_jobs", "reelledger_crawl_"))]
