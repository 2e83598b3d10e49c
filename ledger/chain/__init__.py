"""The one place that talks to the chain: artifacts, the node, the outbox and one gateway per
contract (`registries` for works, licences and splits; `settlement` for the SettlementRegistry
and each period's PeriodPayout; `anchors` for distributions and evidence; `tokens`).

Callers ask for domain operations ("register work", "commit period") and get outbox calls to
record, domain results as dataclasses, or errors named after the contract's custom errors;
`hexes` converts between the service's `0x` strings and the bytes contracts take. Nothing
outside this package touches a web3 object.
"""
