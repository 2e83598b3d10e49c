"""The one place that talks to the chain: artifacts, the node, the outbox and the registries.

Callers ask for domain operations ("register work", "grant licence") and get domain
results or errors named after the contract's custom errors.
"""
