// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/**
 * @title SignatureCheck
 * @notice Whether a signature from calldata is `signer`'s signature of a digest: ECDSA for an account without code,
 * ERC-1271 `isValidSignature` for a contract.
 * @dev What OpenZeppelin's `SignatureChecker.isValidSignatureNowCalldata` decides, without it: in OpenZeppelin 5.7 that
 * library imports `Bytes`, whose inline `mcopy` does not compile for a Shanghai EVM, the target of ReelLedger's
 * contracts. The ECDSA part is OpenZeppelin's own (`tryRecoverCalldata`: no malleable `s`, no zero address).
 *
 * A contract's answer counts only if the call succeeds and returns at least one word equal to the ERC-1271 magic
 * value; only that word is read, so a contract returning a large buffer costs the caller no memory. Unlike an ECDSA
 * signature, a contract's verdict can change from one block to the next.
 */
library SignatureCheck {
    /**
     * @param signer The account whose signature is expected.
     * @param digest The signed digest.
     * @param signature The signature.
     * @return True if it is `signer`'s signature of `digest`.
     */
    function isValidNowCalldata(address signer, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        if (signer.code.length == 0) {
            (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
            return err == ECDSA.RecoverError.NoError && recovered == signer;
        }
        return _isValidERC1271Calldata(signer, digest, signature);
    }

    /// @dev `isValidSignature(digest, signature)` encoded by hand from calldata, its answer read from scratch space.
    function _isValidERC1271Calldata(address signer, bytes32 digest, bytes calldata signature)
        private
        view
        returns (bool valid)
    {
        bytes4 magic = IERC1271.isValidSignature.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let length := signature.length
            mstore(ptr, magic)
            mstore(add(ptr, 0x04), digest)
            mstore(add(ptr, 0x24), 0x40)
            mstore(add(ptr, 0x44), length)
            calldatacopy(add(ptr, 0x64), signature.offset, length)
            mstore(add(add(ptr, 0x64), length), 0) // zero padding up to the next word
            let padded := and(add(length, 0x1f), not(0x1f))
            let success := staticcall(gas(), signer, ptr, add(0x64, padded), 0x00, 0x20)
            valid := and(success, and(gt(returndatasize(), 0x1f), eq(mload(0x00), magic)))
        }
    }
}
