"""Building blocks of the external-node walk-throughs: accounts made by an admin over HTTP, users'
own wallets (keys the node funded), and an ERC-20 issued on the node by someone other than the
service, as a real settlement token would be."""

from __future__ import annotations

import uuid

from eth_abi import encode as abi_encode
from eth_account import Account
from web3 import Web3

from ledger.chain import artifacts
from ledger.models import Role
from tests.helpers.service import Client


class Wallet:
    """A user's own wallet on the node: it signs and pays for its transactions itself."""

    def __init__(self, w3: Web3, key: str) -> None:
        self.w3 = w3
        self.account = Account.from_key(key)
        self.key = self.account.key

    @property
    def address(self) -> str:
        return self.account.address

    def send(self, to: str | None, data: str) -> dict:
        """One transaction, mined; returns its receipt (a revert fails the test with the node's word)."""
        tx = {
            "from": self.address,
            "data": data,
            "nonce": self.w3.eth.get_transaction_count(self.address),
            "chainId": self.w3.eth.chain_id,
        }
        if to is not None:
            tx["to"] = to
        tx["gas"] = self.w3.eth.estimate_gas(tx)
        tx["gasPrice"] = self.w3.eth.gas_price
        sent = self.w3.eth.send_raw_transaction(self.account.sign_transaction(tx).raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(sent, timeout=60)
        assert receipt["status"] == 1, receipt
        return receipt

    def call(self, contract, function: str, *args) -> dict:
        return self.send(contract.address, contract.encode_abi(function, list(args)))


def issue_token(w3: Web3, issuer: Wallet):
    """A two-decimal ERC-20 (the test stablecoin's code) issued by `issuer`, not by the service."""
    artifact = artifacts.load("TestStablecoin")
    receipt = issuer.send(None, artifact.bytecode + abi_encode(["address"], [issuer.address]).hex())
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)


class AdminDesk:
    """Accounts made as the README makes them: by an admin, over HTTP (`POST /accounts`, which
    has a service-held rights holder or platform approve the service on chain). A rights holder
    that brings its own wallet approves the service from that wallet, as the README tells it to:
    `WorkRegistry.setOperator(<service signer>, true)`.

    It stands in for the `service` that the settlement helpers take: `new_account`, `ledger`."""

    def __init__(self, service, admin: Client, wallets: dict[str, Wallet] | None = None) -> None:
        self.service = service
        self.admin = admin
        self.wallets = {Web3.to_checksum_address(a): w for a, w in (wallets or {}).items()}

    @property
    def ledger(self):
        return self.service.ledger

    def new_account(self, role: Role, address: str | None = None) -> tuple[int, str, Client]:
        made = self.admin.post(
            "/accounts", json={"name": f"{role.value}-{uuid.uuid4().hex[:8]}", "role": role.value, "address": address}
        )
        assert made.status_code == 201, made.text
        body = made.json()
        account = body["account"]
        if address is not None and role == Role.rights_holder:
            chain = self.ledger.chain
            self.wallets[account["address"]].call(chain.contract("WorkRegistry"), "setOperator", chain.signer, True)
        return account["id"], account["address"], self.service.client(body["api_key"])
