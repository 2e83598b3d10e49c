"""Fixtures: the piracy site, a crawl configuration fast enough for tests, tiny clips, Redis."""

from __future__ import annotations

import uuid

import pytest
import redis

from ledger.crawl import CrawlConfig
from tests.helpers.crawl import REDIS_URL
from tests.helpers.piracy_site import PiracySite, make_clip


@pytest.fixture
def site():
    with PiracySite() as running:
        yield running


@pytest.fixture
def config() -> CrawlConfig:
    """Polite but quick: 20 ms between requests to a host, a 10 s deadline per resource."""
    return CrawlConfig(host_interval=0.02, connect_timeout=2, read_timeout=5, resource_deadline=10)


@pytest.fixture
def work_dir(tmp_path):
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def clip(tmp_path_factory):
    """A 6 s, 96 x 64, 10 fps H.264 MP4."""
    return make_clip(tmp_path_factory.mktemp("clips") / "film.mp4")


@pytest.fixture
def redis_prefix():
    """A Redis client on db 15 and a key prefix of this test's own; its keys are deleted after."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"test-crawl-{uuid.uuid4().hex[:12]}"
    yield client, prefix
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()
