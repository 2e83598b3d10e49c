// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title IWorkRegistry
 * @notice The events and errors of {WorkRegistry}, the registry of works and their copyright owners.
 */
interface IWorkRegistry {
    /**
     * @notice Emitted when a work is registered.
     * @param workId The id of the work (SHA-256 of the master file).
     * @param owner The owner of the work.
     * @param registrar The account that submitted the registration (the owner or one of its operators).
     * @param fingerprint The perceptual fingerprint of the content.
     * @param metadataHash The hash of the metadata document.
     * @param metadataURI Where the metadata document can be fetched.
     */
    event WorkRegistered(
        bytes32 indexed workId,
        address indexed owner,
        address indexed registrar,
        bytes32 fingerprint,
        bytes32 metadataHash,
        string metadataURI
    );

    /**
     * @notice Emitted when the metadata of a work is replaced. The latest such event is the current metadata.
     * @param workId The id of the work.
     * @param metadataHash The hash of the new metadata document.
     * @param metadataURI Where the new metadata document can be fetched.
     */
    event WorkMetadataUpdated(bytes32 indexed workId, bytes32 metadataHash, string metadataURI);

    /**
     * @notice Emitted when an ownership transfer is offered, or cancelled (`newOwner` is zero).
     * @param workId The id of the work.
     * @param previousOwner The current owner of the work.
     * @param newOwner The account that may accept ownership; zero when a pending transfer is cancelled.
     */
    event WorkOwnershipTransferStarted(bytes32 indexed workId, address indexed previousOwner, address indexed newOwner);

    /**
     * @notice Emitted when the pending owner accepts ownership of a work.
     * @param workId The id of the work.
     * @param previousOwner The owner before the transfer.
     * @param newOwner The owner after the transfer.
     */
    event WorkOwnershipTransferred(bytes32 indexed workId, address indexed previousOwner, address indexed newOwner);

    /**
     * @notice Emitted when an owner approves or removes an operator.
     * @param owner The owner granting or removing the approval.
     * @param operator The operator.
     * @param approved Whether the operator is approved after this change.
     */
    event OperatorSet(address indexed owner, address indexed operator, bool approved);

    /// @notice The work id is zero, which is reserved.
    error WorkInvalidId();

    /**
     * @notice The zero address cannot own a work.
     * @param owner The rejected owner.
     */
    error WorkInvalidOwner(address owner);

    /**
     * @notice The work is already registered.
     * @param workId The id of the work.
     * @param owner Its current owner.
     */
    error WorkAlreadyRegistered(bytes32 workId, address owner);

    /**
     * @notice The work is not registered.
     * @param workId The id of the work.
     */
    error WorkNotRegistered(bytes32 workId);

    /**
     * @notice The account is neither the owner of the work nor an operator of the owner. For registration, the owner
     * is the one named in the call.
     * @param workId The id of the work (for registration: the requested id).
     * @param account The calling account.
     */
    error WorkUnauthorized(bytes32 workId, address account);

    /**
     * @notice The account is not the pending owner of the work.
     * @param workId The id of the work.
     * @param account The calling account.
     */
    error WorkNotPendingOwner(bytes32 workId, address account);

    /**
     * @notice The operator is the zero address or the caller itself.
     * @param operator The rejected operator.
     */
    error WorkInvalidOperator(address operator);
}
