import pytest

from tests.helpers.scripts_run import Service


@pytest.fixture
def settling(tmp_path):
    """A service started by scripts/run whose periods finalise 3 seconds after they are committed."""
    service = Service(tmp_path / "data")
    service.extra_env["REELLEDGER_DISPUTE_WINDOW"] = "3"
    service.start()
    yield service
    service.stop()
