from ledger.config import redact_url


def test_rpc_url_credentials_never_reach_reports():
    shown = redact_url("https://alice:s3cret@rpc.example.org:8545/v3/APIKEY123?token=abc")
    assert shown == "https://rpc.example.org:8545"
