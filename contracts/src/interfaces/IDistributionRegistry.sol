// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title IDistributionRegistry
 * @notice The events and errors of {DistributionRegistry}, the registry of distribution records anchored per work.
 */
interface IDistributionRegistry {
    /**
     * @notice Emitted when a distribution record is anchored.
     * @param workId The work distributed.
     * @param payload The watermark payload the distributed copy carries.
     * @param recordHash SHA-256 of the canonical distribution record.
     * @param anchoredBy The owner of the work or the operator who anchored it.
     */
    event DistributionAnchored(bytes32 indexed workId, uint64 indexed payload, bytes32 recordHash, address anchoredBy);

    /**
     * @notice The account is neither the owner of the work nor an operator of the owner.
     * @param workId The work.
     * @param account The calling account.
     */
    error DistributionUnauthorized(bytes32 workId, address account);

    /**
     * @notice The payload is zero or wider than 48 bits.
     * @param payload The payload given.
     */
    error DistributionInvalidPayload(uint64 payload);

    /// @notice The record hash is zero.
    error DistributionInvalidRecord();

    /**
     * @notice A record is already anchored for this work and payload.
     * @param workId The work.
     * @param payload The payload.
     * @param recordHash The hash anchored before.
     */
    error DistributionAlreadyAnchored(bytes32 workId, uint64 payload, bytes32 recordHash);
}
