// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title IEvidenceRegistry
 * @notice The events and errors of {EvidenceRegistry}, the registry of anchored piracy evidence bundles.
 */
interface IEvidenceRegistry {
    /**
     * @notice Emitted when an evidence bundle is anchored.
     * @param evidenceHash SHA-256 of the canonical evidence bundle.
     * @param workId The work the evidence concerns.
     * @param anchoredBy The account that anchored it.
     * @param anchoredAt When it was anchored, in Unix seconds.
     */
    event EvidenceAnchored(
        bytes32 indexed evidenceHash, bytes32 indexed workId, address indexed anchoredBy, uint48 anchoredAt
    );

    /// @notice The evidence hash is zero.
    error EvidenceInvalidHash();

    /**
     * @notice The work is not registered in the work registry.
     * @param workId The work given.
     */
    error EvidenceUnknownWork(bytes32 workId);

    /**
     * @notice The evidence hash is already anchored.
     * @param evidenceHash The hash.
     * @param workId The work it was anchored for.
     * @param anchoredAt When it was anchored, in Unix seconds.
     */
    error EvidenceAlreadyAnchored(bytes32 evidenceHash, bytes32 workId, uint48 anchoredAt);
}
