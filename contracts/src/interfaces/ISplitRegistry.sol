// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title ISplitRegistry
 * @notice The events and errors of {SplitRegistry}, the registry of versioned revenue splits of works.
 */
interface ISplitRegistry {
    /**
     * @notice Emitted when a new split version is recorded.
     * @param workId The work.
     * @param version The new version number.
     * @param splitHash `keccak256(abi.encode(payees, bps))`.
     * @param effectiveFrom When the version takes effect, in Unix seconds; 0 for a first version in force from the
     * start.
     * @param payees The payees.
     * @param bps The share of each payee, in basis points.
     */
    event SplitVersionSet(
        bytes32 indexed workId,
        uint32 indexed version,
        bytes32 splitHash,
        uint64 effectiveFrom,
        address[] payees,
        uint16[] bps
    );

    /**
     * @notice The account is neither the owner of the work nor an operator of the owner.
     * @param workId The work.
     * @param account The calling account.
     */
    error SplitUnauthorized(bytes32 workId, address account);

    /**
     * @notice The work is not registered in the work registry.
     * @param workId The work.
     */
    error SplitWorkNotRegistered(bytes32 workId);

    /**
     * @notice The payee and share arrays differ in length.
     * @param payees The number of payees.
     * @param shares The number of shares.
     */
    error SplitLengthMismatch(uint256 payees, uint256 shares);

    /**
     * @notice The number of payees is zero or above {MAX_PAYEES}.
     * @param count The number of payees.
     * @param max The maximum ({MAX_PAYEES}).
     */
    error SplitPayeeCount(uint256 count, uint256 max);

    /**
     * @notice A payee is the zero address.
     * @param index Its position in the payee array.
     */
    error SplitZeroAddress(uint256 index);

    /**
     * @notice A payee appears more than once.
     * @param payee The repeated payee.
     */
    error SplitDuplicatePayee(address payee);

    /**
     * @notice A share is zero.
     * @param index Its position in the share array.
     */
    error SplitZeroShare(uint256 index);

    /**
     * @notice The shares do not sum to {TOTAL_BPS}.
     * @param sum The sum of the shares.
     * @param required The required sum ({TOTAL_BPS}).
     */
    error SplitSharesSum(uint256 sum, uint256 required);

    /**
     * @notice The version would take effect before the current block.
     * @param effectiveFrom The requested start.
     * @param now_ The current block timestamp.
     */
    error SplitEffectiveInPast(uint64 effectiveFrom, uint64 now_);

    /**
     * @notice The version would take effect before the previous version.
     * @param effectiveFrom The requested start.
     * @param previous The start of the latest version.
     */
    error SplitEffectiveBeforePrevious(uint64 effectiveFrom, uint64 previous);

    /**
     * @notice The work has no such split version.
     * @param workId The work.
     * @param version The requested version.
     */
    error SplitVersionNotFound(bytes32 workId, uint32 version);
}
