import pytest

from tests.helpers.scripts_run import Service


@pytest.fixture
def running(tmp_path):
    """A service started by scripts/run, on a data directory of its own."""
    service = Service(tmp_path / "data")
    service.start()
    yield service
    service.stop()


@pytest.fixture
def settling(tmp_path):
    """A service started by scripts/run whose periods finalise 3 seconds after they are committed."""
    yield from _settling(tmp_path / "data")


@pytest.fixture
def settling_on_postgresql(postgres_url, tmp_path):
    """`settling` on a temporary PostgreSQL database."""
    yield from _settling(tmp_path / "data", REELLEDGER_DATABASE_URL=postgres_url)


def _settling(data_dir, **env: str):
    service = Service(data_dir)
    service.extra_env.update(env, REELLEDGER_DISPUTE_WINDOW="3")
    service.start()
    yield service
    service.stop()
