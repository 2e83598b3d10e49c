import pytest

from tests.helpers.scripts_run import Service


@pytest.fixture
def settling(tmp_path):
    """A service started by scripts/run whose periods finalise 3 seconds after they are committed."""
    yield from _settling(tmp_path / "data")


@pytest.fixture(params=["sqlite", "postgresql"])
def settling_on_each_database(request, tmp_path):
    """`settling` on its own SQLite file, then on a temporary PostgreSQL database."""
    database = {"REELLEDGER_DATABASE_URL": request.getfixturevalue("postgres_url")} if request.param != "sqlite" else {}
    yield from _settling(tmp_path / "data", **database)


def _settling(data_dir, **env: str):
    service = Service(data_dir)
    service.extra_env.update(env, REELLEDGER_DISPUTE_WINDOW="3")
    service.start()
    yield service
    service.stop()
