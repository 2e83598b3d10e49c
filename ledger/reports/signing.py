"""The EIP-712 statement a platform signs for a play report.

The signature covers who reports, which report, the period, how many rows, their totals and
the Merkle root of the rows, so that neither the platform nor ReelLedger can later change a
row or deny the report. Signing and recovery use eth-account.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import keccak

DOMAIN_NAME = "ReelLedger"
DOMAIN_VERSION = "1"

PRIMARY_TYPE = "PlayReport"
TYPES = {
    PRIMARY_TYPE: [
        {"name": "platform", "type": "address"},
        {"name": "reportId", "type": "bytes32"},
        {"name": "periodStart", "type": "uint64"},
        {"name": "periodEnd", "type": "uint64"},
        {"name": "currency", "type": "string"},
        {"name": "rowCount", "type": "uint256"},
        {"name": "plays", "type": "uint256"},
        {"name": "validPlays", "type": "uint256"},
        {"name": "watchMinutes", "type": "uint256"},
        {"name": "adRevenue", "type": "uint256"},
        {"name": "rowsRoot", "type": "bytes32"},
        {"name": "supersedes", "type": "bytes32"},
    ]
}


class BadSignature(ValueError):
    """The signature does not come from the platform the report names."""


@dataclass(frozen=True)
class ReportSummary:
    platform: str
    report_id: bytes  # 32 bytes: keccak of the platform's own report id
    period_start: int
    period_end: int
    currency: str
    row_count: int
    plays: int
    valid_plays: int
    watch_minutes: int
    ad_revenue: int
    rows_root: bytes
    supersedes: bytes = b"\0" * 32  # the report this one corrects, or zero

    def message(self) -> dict[str, Any]:
        body = asdict(self)
        return {
            "platform": body["platform"],
            "reportId": body["report_id"],
            "periodStart": body["period_start"],
            "periodEnd": body["period_end"],
            "currency": body["currency"],
            "rowCount": body["row_count"],
            "plays": body["plays"],
            "validPlays": body["valid_plays"],
            "watchMinutes": body["watch_minutes"],
            "adRevenue": body["ad_revenue"],
            "rowsRoot": body["rows_root"],
            "supersedes": body["supersedes"],
        }


def report_id_hash(platform_report_id: str) -> bytes:
    return keccak(text=platform_report_id)


@dataclass(frozen=True)
class SigningDomain:
    """The EIP-712 domain a report summary is signed in."""

    chain_id: int
    verifying_contract: str  # the SettlementRegistry
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    def fields(self) -> dict[str, Any]:
        """The domain as EIP-712 names its fields (what eth-account takes)."""
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


def domain(chain_id: int, verifying_contract: str) -> SigningDomain:
    return SigningDomain(chain_id=chain_id, verifying_contract=verifying_contract)


def signable(summary: ReportSummary, chain_id: int, verifying_contract: str) -> SignableMessage:
    return encode_typed_data(domain(chain_id, verifying_contract).fields(), TYPES, summary.message())


def signable_hash(summary: ReportSummary, chain_id: int, verifying_contract: str) -> bytes:
    """The EIP-712 digest itself, as the contract's `hashReport` computes it."""
    message = signable(summary, chain_id, verifying_contract)
    return keccak(b"\x19" + message.version + message.header + message.body)


def sign(summary: ReportSummary, private_key: bytes | str, chain_id: int, verifying_contract: str) -> bytes:
    """What a platform (or the service, for a custodial platform) signs."""
    return bytes(Account.sign_message(signable(summary, chain_id, verifying_contract), private_key).signature)


def check(summary: ReportSummary, signature: bytes, chain_id: int, verifying_contract: str) -> None:
    """Raise BadSignature unless `signature` is the named platform's over exactly this summary."""
    try:
        signer = Account.recover_message(signable(summary, chain_id, verifying_contract), signature=signature)
    except Exception as exc:  # malformed signature bytes
        raise BadSignature(f"the signature cannot be read: {exc}") from None
    if signer.lower() != summary.platform.lower():
        raise BadSignature(f"signed by {signer}, not by the platform {summary.platform}")
