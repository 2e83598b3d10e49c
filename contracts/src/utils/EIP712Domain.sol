// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {ShortStrings, ShortString} from "@openzeppelin/contracts/utils/ShortStrings.sol";

/**
 * @title EIP712Domain
 * @notice EIP-712 typed-data hashing under the domain `(name, version, chainId, verifyingContract)`, with that domain
 * published through ERC-5267 `eip712Domain()`.
 * @dev Why not OpenZeppelin's `EIP712`: in OpenZeppelin 5.7 it imports `MessageHashUtils`, which imports `Strings` and
 * `Bytes`, whose inline `mcopy` does not compile for a Shanghai EVM; ReelLedger's contracts are built for Shanghai so
 * that they run on every chain from Shanghai on (Ganache 7 stops there). The domain separator, the digest and
 * `eip712Domain()` are the ones OpenZeppelin's `EIP712` gives for the same name and version, so signatures made for
 * either verify under the other. Name and version are at most 31 bytes (kept in immutables, no storage).
 *
 * The separator is computed once and recomputed only if the chain id changes (after a fork) or the code runs at
 * another address (a delegatecall), as in OpenZeppelin's.
 */
abstract contract EIP712Domain is IERC5267 {
    using ShortStrings for *;

    /// @dev The type hash of the domain.
    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    bytes32 private immutable _cachedDomainSeparator;
    uint256 private immutable _cachedChainId;
    address private immutable _cachedThis;
    bytes32 private immutable _hashedName;
    bytes32 private immutable _hashedVersion;
    ShortString private immutable _name;
    ShortString private immutable _version;

    /**
     * @param name The signing domain's name, at most 31 bytes.
     * @param version The signing domain's version, at most 31 bytes.
     */
    constructor(string memory name, string memory version) {
        _name = name.toShortString();
        _version = version.toShortString();
        _hashedName = keccak256(bytes(name));
        _hashedVersion = keccak256(bytes(version));
        _cachedChainId = block.chainid;
        _cachedThis = address(this);
        _cachedDomainSeparator = _buildDomainSeparator();
    }

    /// @inheritdoc IERC5267
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        // 0x0f: name, version, chainId and verifyingContract are set; no salt, no extensions.
        return (hex"0f", _name.toString(), _version.toString(), block.chainid, address(this), bytes32(0), extensions);
    }

    /// @dev The domain separator for the current chain and address.
    function _domainSeparatorV4() internal view returns (bytes32) {
        if (address(this) == _cachedThis && block.chainid == _cachedChainId) return _cachedDomainSeparator;
        return _buildDomainSeparator();
    }

    /**
     * @dev The digest to sign for a struct hash: `keccak256("\x19\x01" ‖ domainSeparator ‖ structHash)`.
     * @param structHash The EIP-712 `hashStruct` of the message.
     * @return digest The digest.
     */
    function _hashTypedDataV4(bytes32 structHash) internal view returns (bytes32 digest) {
        bytes32 separator = _domainSeparatorV4();
        // The 66 bytes are laid out in scratch and free memory, which is restored: no allocation.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, hex"1901")
            mstore(add(ptr, 0x02), separator)
            mstore(add(ptr, 0x22), structHash)
            digest := keccak256(ptr, 0x42)
        }
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(_DOMAIN_TYPEHASH, _hashedName, _hashedVersion, block.chainid, address(this)));
    }
}
