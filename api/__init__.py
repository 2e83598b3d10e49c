"""ReelLedger's HTTP API: thin routers over `ledger` functions."""
