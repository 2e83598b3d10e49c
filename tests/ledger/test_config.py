import pytest

from ledger.config import Settings, redact_url


def test_rpc_url_credentials_never_reach_reports():
    shown = redact_url("https://alice:s3cret@rpc.example.org:8545/v3/APIKEY123?token=abc")
    assert shown == "https://rpc.example.org:8545"


@pytest.mark.parametrize(
    "given, origin",
    [
        (None, "http://127.0.0.1:8000"),
        ("https://ledger.example:443/", "https://ledger.example"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("http://Console.Example:8080", "http://console.example:8080"),
    ],
)
def test_the_console_origin_is_written_as_browsers_send_it(given, origin):
    assert Settings(console_origin=given).browser_origin == origin


@pytest.mark.parametrize("given", ["ftp://x", "http://x/console", "127.0.0.1:8000", "http://x?a=1"])
def test_a_console_origin_that_is_not_one_is_refused(given):
    with pytest.raises(ValueError, match="is not an origin"):
        Settings(console_origin=given)


def test_listening_everywhere_gives_browsers_the_machine_itself():
    assert Settings(host="0.0.0.0", port=9000).browser_origin == "http://127.0.0.1:9000"
    assert Settings(host="localhost").browser_origin == "http://localhost:8000"


def test_the_default_data_directory_is_the_repositorys_wherever_a_command_runs(tmp_path, monkeypatch):
    """`./data` once named a new directory in every directory a command ran in: `accounts create`
    made a database the service never saw, and `audit period` failed to open one."""
    from ledger.config import REPO_ROOT

    for name in ("REELLEDGER_DATA_DIR", "REELLEDGER_DATABASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.data_dir == REPO_ROOT / "data"
    assert settings.resolved_database_url == f"sqlite:///{(REPO_ROOT / 'data' / 'reelledger.db').resolve()}"
