"""The service's 0x strings as web3's types.

ReelLedger keeps addresses and hashes as plain `0x` strings (in the database, the API and the
outbox); web3 and eth-typing spell them as NewTypes of str. These say which is which for the type
checker and change nothing at run time: an address stored or configured here is already
checksummed (EIP-55) wherever web3 requires it.
"""

from __future__ import annotations

from typing import cast

from eth_typing import ChecksumAddress, HexStr


def address(text: str) -> ChecksumAddress:
    """An account or contract address kept as text."""
    return cast(ChecksumAddress, text)


def hex_str(text: str) -> HexStr:
    """A transaction hash or other 0x data kept as text."""
    return cast(HexStr, text)
