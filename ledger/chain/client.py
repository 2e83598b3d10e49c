"""The connection to one chain: the node (managed or remote), the service signer, the outbox
and the deployed contracts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from sqlalchemy import Engine
from sqlmodel import select
from web3 import Web3
from web3.contract import Contract
from web3.types import RPCEndpoint

from ledger.advisory import exclusive
from ledger.chain import artifacts, web3_types
from ledger.chain.anchors import DISTRIBUTION_REGISTRY, EVIDENCE_REGISTRY, DistributionGateway, EvidenceGateway
from ledger.chain.errors import ChainError, ChainUnavailable
from ledger.chain.gas import FundingReport, GasStation, balance_report
from ledger.chain.node import ManagedAnvil
from ledger.chain.outbox import Call, Outbox, raise_for
from ledger.chain.settlement import SETTLEMENT_REGISTRY, PayoutGateway, SettlementGateway
from ledger.chain.tokens import TokenGateway, check_settlement_token
from ledger.config import Settings
from ledger.db import session
from ledger.keys import KeyStore
from ledger.models import Deployment

SERVICE_KEY_LABEL = "service-signer"
FUNDING_KEY_LABEL = "gas-funder"
DEV_FUNDING_WEI = 10**24  # a million ether on the local node, for gas only


class DeploymentMissing(ChainError):
    """The database remembers contracts that the chain no longer has (a reset or different node)."""


class DeploymentOutdated(ChainError):
    """The recorded contract is still there but was built from other sources than this version's
    artifacts: its ABI may differ, so calls would fail or mean something else."""


@dataclass(frozen=True)
class ContractSpec:
    name: str
    constructor_types: tuple[str, ...] = ()
    constructor_refs: tuple[str, ...] = ()  # names of contracts deployed earlier, passed in order
    constructor_args: Callable[[Chain], list[Any]] | None = None  # or values taken from the chain's settings
    wanted: Callable[[Chain], bool] = lambda chain: True


# Deployment order: each entry may take addresses of the ones before it.
CONTRACTS = (
    ContractSpec("WorkRegistry"),
    ContractSpec("LicenseRegistry", ("address",), ("WorkRegistry",)),
    # The derivative graph: consults the works' owners and the licences' upstream terms.
    ContractSpec("DerivativeRegistry", ("address", "address"), ("WorkRegistry", "LicenseRegistry")),
    ContractSpec("SplitRegistry", ("address",), ("WorkRegistry",)),
    ContractSpec("DistributionRegistry", ("address",), ("WorkRegistry",)),
    # Evidence of piracy, anchored for registered works; the service signer administers it and anchors.
    ContractSpec(
        "EvidenceRegistry",
        ("address", "address", "address"),
        constructor_args=lambda chain: [chain.addresses["WorkRegistry"], chain.signer, chain.signer],
    ),
    # The payout token of a development chain; a configured settlement_token replaces it.
    ContractSpec(
        "TestStablecoin",
        ("address",),
        constructor_args=lambda chain: [chain.signer],
        wanted=lambda chain: chain.settings.settlement_token is None,
    ),
    # The service signer administers the settlement contract and settles periods.
    ContractSpec(
        "SettlementRegistry",
        ("address", "address", "address", "uint64", "(uint64,bool,address,uint256,address)"),
        constructor_args=lambda chain: _settlement_registry_args(chain),
    ),
)


def _settlement_registry_args(chain: Chain) -> list[Any]:
    """The SettlementRegistry's constructor arguments: the service signer administers and settles;
    the arbiter and the bond sink are the configured addresses (the signer when unset); a bond is
    posted in the settlement token."""
    settings = chain.settings
    bond_token = settings.settlement_token or chain.addresses["TestStablecoin"]
    terms = (
        settings.decision_window,
        settings.dispute_default == "upheld",
        web3_types.address(bond_token),
        settings.dispute_bond,
        web3_types.address(settings.bond_sink or chain.signer),
    )
    return [
        chain.signer,
        chain.signer,
        web3_types.address(settings.arbiter or chain.signer),
        settings.dispute_window,
        terms,
    ]


class Chain:
    def __init__(self, settings: Settings, engine: Engine, keys: KeyStore) -> None:
        self.settings: Settings = settings
        self.engine = engine
        self.keys = keys
        self.node: ManagedAnvil | None = None
        if settings.managed_chain:
            self.node = ManagedAnvil(
                binary=settings.anvil_bin,
                port=settings.anvil_port,
                state_file=settings.anvil_state_file,
                chain_id=settings.anvil_chain_id,
                state_interval=settings.anvil_state_interval,
                backup_interval=settings.anvil_state_copy_interval,
                allow_origin=settings.browser_origin,
                # Anvil mines only when a transaction arrives: confirmations need blocks that come anyway.
                block_time=1 if settings.confirmations else None,
            )
        # Set by start(): nothing uses a chain before it has started.
        self.w3: Web3
        self.chain_id: int
        self.outbox: Outbox
        self.signer: str
        self.funder: str  # pays the gas of every other account the service signs for
        self.addresses: dict[str, str] = {}
        self._contracts: dict[str, Contract] = {}

    @property
    def rpc_url(self) -> str:
        if self.node:
            return self.node.url
        assert self.settings.rpc_url is not None  # no managed node: the configured one (Settings.managed_chain)
        return self.settings.rpc_url

    def start(self, deploy: bool = True) -> None:
        """Start the managed node if there is one, connect, and deploy what this chain lacks."""
        if self.node:
            self.node.start()
        self.w3 = Web3(
            Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": 10}, exception_retry_configuration=None)
        )
        try:
            self.chain_id = self.w3.eth.chain_id
        except OSError as exc:
            raise ChainUnavailable(f"no EVM node answers at {self.rpc_url}: {exc}") from exc
        self.signer = self.keys.ensure(SERVICE_KEY_LABEL, self.settings.signer_key)
        self.funder = (
            self.keys.ensure(FUNDING_KEY_LABEL, self.settings.funding_key) if self.settings.funding_key else self.signer
        )
        self.outbox = Outbox(
            self.engine,
            self.w3,
            self.keys,
            self.chain_id,
            self.settings.confirmations,
            fee_bump_after=self.settings.fee_bump_after,
        )
        self.outbox.gas = GasStation(
            self.outbox,
            self.funder,
            floor=self.settings.gas_floor_wei,
            top_up=self.settings.gas_topup_wei,
            wait=self.settings.gas_topup_wait,
        )
        if self.node:
            self.fund(self.funder)
        if self.settings.settlement_token:
            check_settlement_token(self.w3, self.settings.settlement_token, self.settings.settlement_currency)
        # Replicas starting together on one database: one at a time finishes what a previous
        # run left in flight and deploys what the chain lacks; the next finds it deployed.
        with exclusive(self.engine, f"chain-start:{self.chain_id}"):
            self.recover_lost()
            self.outbox.reconcile()  # finish whatever a previous run left in flight
            if deploy:
                self.deploy()

    def ensure_node(self) -> bool:
        """Restart the managed node if it died; returns True if it had to."""
        if not self.node or self.node.running:
            return False
        self.node.start()
        self.fund(self.funder)
        self.recover_lost()
        return True

    def recover_lost(self) -> int:
        """Reopen the writes the node has forgotten; on the managed node, also the gas money
        of their senders, which went with the forgotten state."""
        lost = self.outbox.reopen_lost()
        if self.node:
            for sender in {op.sender for op in lost}:
                self.fund(sender)
        return len(lost)

    def stop(self) -> None:
        if self.node:
            self.node.stop()

    def fund(self, address: str, wei: int = DEV_FUNDING_WEI) -> None:
        """Give an account gas money on the managed development node, by fiat (anvil_setBalance).
        Only the funding key is funded so; the accounts it pays for get real top-ups (gas.py)."""
        if not self.node:
            raise ChainError("funding by fiat is only possible on the managed development node")
        if self.w3.eth.get_balance(web3_types.address(address)) < wei // 2:
            self.w3.provider.make_request(RPCEndpoint("anvil_setBalance"), [address, hex(wei)])

    # ------------------------------------------------------------- deployment

    def deploy(self) -> dict[str, str]:
        """Deploy each contract once per chain id; later starts find the remembered addresses."""
        for spec in CONTRACTS:
            if spec.wanted(self):
                self.addresses[spec.name] = self._deploy_one(spec)
        return dict(self.addresses)

    def _deploy_one(self, spec: ContractSpec) -> str:
        with session(self.engine) as db:
            known = db.exec(
                select(Deployment).where(Deployment.chain_id == self.chain_id, Deployment.name == spec.name)
            ).first()
        if known is not None:
            code = self.w3.eth.get_code(web3_types.address(known.address))
            if Web3.keccak(code).hex().removeprefix("0x") != known.code_hash.removeprefix("0x"):
                raise DeploymentMissing(
                    f"{spec.name} is recorded at {known.address} on chain {self.chain_id} but that address holds "
                    "other code; the chain was reset or this is a different node with the same chain id"
                )
            if not artifacts.load(spec.name).runtime_matches(bytes(code)):
                raise DeploymentOutdated(
                    f"{spec.name} at {known.address} on chain {self.chain_id} was deployed from another build of "
                    "the contracts than this version's; start on a fresh data directory (or database) to deploy "
                    "this version's contracts, or run the version that deployed them"
                )
            return known.address
        artifact = artifacts.load(spec.name)
        args = (
            spec.constructor_args(self) if spec.constructor_args else [self.addresses[r] for r in spec.constructor_refs]
        )
        init_code = artifact.bytecode + abi_encode(list(spec.constructor_types), args).hex()
        key = f"deploy:{self.chain_id}:{spec.name}:{Web3.keccak(hexstr=init_code).hex()[:16]}"
        op = self.outbox.submit(key, self.signer, Call(f"{spec.name}.constructor", None, init_code))
        op = raise_for(self.outbox.wait(op.id, timeout=60))
        address = op.contract_address
        assert address is not None  # a confirmed deployment has its address
        code_hash = Web3.keccak(self.w3.eth.get_code(web3_types.address(address))).hex()
        with session(self.engine) as db:
            db.add(
                Deployment(
                    chain_id=self.chain_id,
                    name=spec.name,
                    address=address,
                    code_hash=code_hash,
                    op_id=op.id,
                )
            )
            db.commit()
        return address

    def contract(self, name: str) -> Contract:
        if name not in self._contracts:
            if name not in self.addresses:
                raise ChainError(f"{name} is not deployed on chain {self.chain_id}")
            self._contracts[name] = self.w3.eth.contract(
                address=web3_types.address(self.addresses[name]), abi=artifacts.load(name).abi
            )
        return self._contracts[name]

    def events(self, contract: str, event: str, from_block: int = 0, **filters: Any) -> list[Any]:
        """Decoded logs of one event, optionally filtered on indexed arguments."""
        return list(
            self.contract(contract).events[event]().get_logs(from_block=from_block, argument_filters=filters or None)
        )

    # --------------------------------------------------------------- gateways

    @property
    def settlement(self) -> SettlementGateway:
        return SettlementGateway(self.contract(SETTLEMENT_REGISTRY))

    def payout(self, address: str) -> PayoutGateway:
        """The PeriodPayout at `address` (a period's, see `settlement.payout_address`)."""
        return PayoutGateway(self.w3, address)

    @property
    def distributions(self) -> DistributionGateway:
        return DistributionGateway(self.contract(DISTRIBUTION_REGISTRY))

    @property
    def evidence(self) -> EvidenceGateway:
        return EvidenceGateway(self.contract(EVIDENCE_REGISTRY))

    def token(self, address: str) -> TokenGateway:
        """Any ERC-20 (through the TestStablecoin's ABI, a superset of ERC-20's)."""
        abi = artifacts.load("TestStablecoin").abi
        return TokenGateway(self.w3.eth.contract(address=web3_types.address(address), abi=abi), "ERC20")

    @property
    def test_stablecoin(self) -> TokenGateway | None:
        """The development chain's payout token, deployed and owned by the service; None on a
        chain with a configured settlement token."""
        if "TestStablecoin" not in self.addresses:
            return None
        return TokenGateway(self.contract("TestStablecoin"), "TestStablecoin")

    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    def latest_block_time(self) -> int:
        """The timestamp of the latest block (a quiet node's may be old)."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def funding_report(self, warn_below: int) -> FundingReport:
        """The funding key's balance for /health (`gas.balance_report`)."""
        return balance_report(self.w3, self.funder, warn_below)

    def call(self, contract: str, function: str, args: list[Any], at: str | None = None) -> Call:
        """The outbox call for `contract.function(*args)`: the deployed `contract`, or the one
        at address `at` (contracts that others deploy, such as a period's payout)."""
        if at is None:
            target = self.contract(contract)
        else:
            target = self.w3.eth.contract(address=web3_types.address(at), abi=artifacts.load(contract).abi)
        return Call(f"{contract}.{function}", target.address, target.encode_abi(function, args))
