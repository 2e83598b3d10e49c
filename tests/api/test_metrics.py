"""GET /metrics over real HTTP on loopback, once on SQLite and once on PostgreSQL: requests counted
by route template (never the path asked for), the outbox's depth and oldest write read from the
database at the scrape, chain errors by kind, report rows after an ingest, the crawl queue from
its Redis; request ids taken from X-Request-ID or made anew, and sent back."""

from __future__ import annotations

import re
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families
from web3.types import RPCEndpoint

from ledger.chain.outbox import Call
from ledger.models import Role
from tests.helpers.crawl import REDIS_URL
from tests.helpers.service import running_service, settle
from tests.helpers.settlement import make_deal, post_report, rows


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(request, tmp_path_factory):
    """The service, its crawl queue on the Redis database the crawl tests use."""
    url = request.getfixturevalue("module_postgres_url") if request.param == "postgresql" else None
    with running_service(tmp_path_factory.mktemp("svc") / "data", url, write_wait=10, redis_url=REDIS_URL) as svc:
        yield svc


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by (name, sorted labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_by_route_template_never_by_path(service, studio):
    _, _, client = studio
    unknown = "0x" + uuid.uuid4().hex * 2
    before = scrape(service.client())
    for _ in range(3):
        assert client.get(f"/works/{unknown}").status_code == 404
    assert service.client().get(f"/works/{unknown}").status_code == 401
    assert service.client().get(f"/no/such/{unknown}").status_code == 404
    after = scrape(service.client())

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = {"method": "GET", "route": "/works/{work_id}"}
    assert delta("reelledger_http_requests_total", **route, status="4xx") == 4
    assert delta("reelledger_http_request_duration_seconds_count", **route) == 4
    assert delta("reelledger_http_requests_total", method="GET", route="unmatched", status="4xx") == 1
    assert delta("reelledger_http_requests_total", method="GET", route="/metrics", status="2xx") == 1
    text = service.client().get("/metrics").text
    assert unknown not in text and uuid.UUID(unknown[2:34]).hex not in text


def test_a_write_the_chain_has_not_mined_shows_in_the_outbox_gauges(service):
    ledger = service.ledger
    w3 = ledger.chain.w3
    w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [False])  # the node takes writes, mines none
    try:
        op = ledger.chain.outbox.submit(
            f"metrics-test-{uuid.uuid4().hex}", ledger.chain.signer, Call("test.transfer", ledger.chain.funder, "0x", 1)
        )
        assert op.status.value == "pending"
        samples = scrape(service.client())
        assert value(samples, "reelledger_outbox_ops", status="pending") >= 1
        assert value(samples, "reelledger_outbox_oldest_age_seconds") > 0
        assert value(samples, "reelledger_database_up") == 1
    finally:
        w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [True])
        w3.provider.make_request(RPCEndpoint("evm_mine"), [])
    settle(ledger.chain.outbox)
    samples = scrape(service.client())
    assert value(samples, "reelledger_outbox_ops", status="pending") == 0
    assert value(samples, "reelledger_outbox_ops", status="queued") == 0
    assert value(samples, "reelledger_outbox_oldest_age_seconds") == 0


def test_a_write_the_chain_refuses_counts_as_a_chain_error_of_its_kind(service):
    ledger = service.ledger
    before = scrape(service.client())
    reverting_init_code = "0x60006000fd"  # PUSH1 0 PUSH1 0 REVERT
    op = ledger.chain.outbox.submit(
        f"metrics-revert-{uuid.uuid4().hex}", ledger.chain.signer, Call("test.revert", None, reverting_init_code)
    )
    assert op.status.value == "rejected"
    after = scrape(service.client())
    kind = "reelledger_chain_errors_total"
    assert value(after, kind, kind="rejected") - value(before, kind, kind="rejected") == 1
    assert (kind, (("kind", "node_unavailable"),)) in after  # every kind is shown, at 0 until it happens


def test_accepted_report_rows_are_counted(service):
    deal = make_deal(service)
    before = scrape(service.client())
    response = post_report(deal, f"metrics-{uuid.uuid4().hex[:8]}", rows(deal, days=4))
    assert response.status_code in (201, 202), response.text
    after = scrape(service.client())
    assert value(after, "reelledger_report_rows_total") - value(before, "reelledger_report_rows_total") == 4
    assert value(after, "reelledger_reports_total") - value(before, "reelledger_reports_total") == 1
    route = {"method": "POST", "route": "/reports", "status": "2xx"}
    assert value(after, "reelledger_http_requests_total", **route) >= 1


def test_the_crawl_queue_and_totals_are_read_from_redis(service):
    """A message waiting, one taken by a worker, and a message's counts, on the crawl's own keys."""
    import redis
    from dramatiq import Message
    from dramatiq.brokers.redis import RedisBroker

    from ledger.crawl.job_book import COUNTED, add_counts_once, job_key
    from ledger.metrics import CRAWL_NAMESPACE

    client = redis.Redis.from_url(REDIS_URL)
    queue = f"metrics-test-{uuid.uuid4().hex[:8]}"
    service.ledger.metrics.watch_queue(queue)
    broker = RedisBroker(url=REDIS_URL, namespace=CRAWL_NAMESPACE)
    broker.declare_queue(queue)
    job = f"metrics-{uuid.uuid4().hex[:8]}"
    try:
        before = scrape(service.client())
        for n in range(3):
            broker.enqueue(Message(queue_name=queue, actor_name="noop", args=(n,), kwargs={}, options={}))
        consumer = broker.consume(queue, prefetch=1, timeout=1000)
        assert next(consumer) is not None  # taken, not acknowledged: running
        assert add_counts_once(client, job, f"{job}-1", {"pages": 5, "matched": 2})
        assert not add_counts_once(client, job, f"{job}-1", {"pages": 5, "matched": 2})  # counted once
        after = scrape(service.client())
        assert value(after, "reelledger_queue_up") == 1
        assert value(after, "reelledger_jobs", queue=queue, state="queued") == 2
        assert value(after, "reelledger_jobs", queue=queue, state="running") == 1
        assert value(after, "reelledger_jobs", queue=queue, state="delayed") == 0
        # other tests may crawl meanwhile: the totals grow by at least this message's counts
        assert value(after, "reelledger_crawl_pages_total") - value(before, "reelledger_crawl_pages_total") >= 5
        assert value(after, "reelledger_crawl_matches_total") - value(before, "reelledger_crawl_matches_total") >= 2
    finally:
        broker.flush(queue)
        client.delete(f"{CRAWL_NAMESPACE}:__acks__.{broker.broker_id}.{queue}", job_key(job), f"{COUNTED}:{job}-1")
        broker.close()


def test_a_request_id_is_taken_from_the_header_and_sent_back(service):
    given = "trace-4f2a.b:7_x"
    response = service.client().get("/health", headers={"X-Request-ID": given})
    assert response.headers["x-request-id"] == given


@pytest.mark.parametrize("bad", ["has spaces", "a" * 129, 'quote"d', "new\\nline", ""])
def test_an_unfit_request_id_is_replaced_by_a_new_one(service, bad):
    response = service.client().get("/health", headers={"X-Request-ID": bad})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_a_refusal_before_routing_has_an_id_and_its_route(service):
    """A body refused for its size never reaches the router; it is still counted under its route."""
    before = scrape(service.client())
    response = service.client().post(
        "/accounts", content=b"{" + b" " * 2**21 + b"}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and response.headers["x-request-id"]
    after = scrape(service.client())
    labels = {"method": "POST", "route": "/accounts", "status": "4xx"}
    assert (
        value(after, "reelledger_http_requests_total", **labels)
        - value(before, "reelledger_http_requests_total", **labels)
        == 1
    )


def test_the_metrics_token_when_set_is_required(tmp_path):
    with running_service(tmp_path / "data", metrics_token="scrape-secret-1") as svc:
        assert svc.client().get("/metrics").status_code == 401
        assert svc.client("not-the-token").get("/metrics").status_code == 401
        _, _, admin = svc.new_account(Role.admin)
        assert admin.get("/metrics").status_code == 401  # an API key is no metrics token
        shown = svc.client("scrape-secret-1").get("/metrics")
        assert shown.status_code == 200 and "reelledger_outbox_ops" in shown.text
        assert "scrape-secret-1" not in shown.text
