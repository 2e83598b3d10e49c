// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IWorkRegistry} from "./interfaces/IWorkRegistry.sol";

/**
 * @title WorkRegistry
 * @notice Registry of film and TV works and their copyright owners.
 *
 * A work is identified by `workId`, the SHA-256 digest of its master file. Each work has exactly one owner, who may
 * hand ownership to another account in two steps (offer, then acceptance). An owner may approve operators that act
 * for all of the owner's works, here and in every registry that consults this one (licences and revenue splits).
 *
 * @dev To keep registration at most as expensive as minting an ERC-721 token, contract storage holds a single packed
 * slot per work ({Work}: owner and registration time) plus, only while a transfer is pending, the pending owner. The
 * content fingerprint, the metadata hash and the metadata URI are not stored: they are recorded in the
 * {WorkRegistered} and {WorkMetadataUpdated} events. Event logs are part of the chain, covered by the block's receipts
 * root, and are how clients read the record back: the latest {WorkMetadataUpdated} log for a work (or its
 * {WorkRegistered} log if there is none) carries the current metadata.
 */
contract WorkRegistry is IWorkRegistry {
    /**
     * @notice The stored record of a work.
     * @param owner The current owner of the work; zero when the work is not registered.
     * @param registeredAt The timestamp of the block in which the work was registered.
     */
    struct Work {
        address owner;
        uint48 registeredAt;
    }

    /// @dev Registered works by id. One storage slot per work.
    mapping(bytes32 workId => Work) private _works;

    /// @dev Pending owner of a work during a two-step ownership transfer; zero otherwise.
    mapping(bytes32 workId => address) private _pendingOwners;

    /// @dev Operator approvals: `_operators[owner][operator]`.
    mapping(address owner => mapping(address operator => bool)) private _operators;

    /**
     * @notice Registers a new work for `owner`.
     * @dev The fingerprint, metadata hash and URI are recorded in the {WorkRegistered} event only.
     * @param workId The id of the work (SHA-256 of the master file); must be non-zero and not registered yet.
     * @param owner The owner of the work; must be the caller or have approved the caller as operator.
     * @param fingerprint The perceptual fingerprint of the content.
     * @param metadataHash The hash of the metadata document.
     * @param metadataURI Where the metadata document can be fetched.
     */
    function register(
        bytes32 workId,
        address owner,
        bytes32 fingerprint,
        bytes32 metadataHash,
        string calldata metadataURI
    ) external {
        if (workId == bytes32(0)) revert WorkInvalidId();
        if (owner == address(0)) revert WorkInvalidOwner(owner);
        if (owner != msg.sender && !_operators[owner][msg.sender]) revert WorkUnauthorized(workId, msg.sender);
        Work storage w = _works[workId];
        address current = w.owner;
        if (current != address(0)) revert WorkAlreadyRegistered(workId, current);

        w.owner = owner;
        w.registeredAt = uint48(block.timestamp);

        emit WorkRegistered(workId, owner, msg.sender, fingerprint, metadataHash, metadataURI);
    }

    /**
     * @notice Publishes new metadata for a work. Only the owner or one of its operators may do so.
     * @param workId The id of the work.
     * @param metadataHash The hash of the new metadata document.
     * @param metadataURI Where the new metadata document can be fetched.
     */
    function updateMetadata(bytes32 workId, bytes32 metadataHash, string calldata metadataURI) external {
        _checkOwnerOrOperator(workId, msg.sender);
        emit WorkMetadataUpdated(workId, metadataHash, metadataURI);
    }

    /**
     * @notice Approves or removes `operator` to act for all of the caller's works.
     * @param operator The operator; must be neither zero nor the caller.
     * @param approved Whether to approve (`true`) or remove (`false`) the operator.
     */
    function setOperator(address operator, bool approved) external {
        if (operator == address(0) || operator == msg.sender) revert WorkInvalidOperator(operator);
        _operators[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
    }

    /**
     * @notice Offers ownership of a work to `newOwner`, who must accept it with {acceptWorkOwnership}. A new offer
     * replaces a pending one; `newOwner == address(0)` cancels the pending offer.
     * @param workId The id of the work.
     * @param newOwner The account that may accept ownership, or zero to cancel.
     */
    function transferWorkOwnership(bytes32 workId, address newOwner) external {
        address owner = _checkOwnerOrOperator(workId, msg.sender);
        _pendingOwners[workId] = newOwner;
        emit WorkOwnershipTransferStarted(workId, owner, newOwner);
    }

    /**
     * @notice Accepts a pending ownership transfer. Only the pending owner may call this. Operators of the previous
     * owner lose their authority over the work.
     * @param workId The id of the work.
     */
    function acceptWorkOwnership(bytes32 workId) external {
        address pending = _pendingOwners[workId];
        if (pending == address(0) || pending != msg.sender) revert WorkNotPendingOwner(workId, msg.sender);
        Work storage w = _works[workId];
        address previousOwner = w.owner;
        delete _pendingOwners[workId];
        w.owner = msg.sender;
        emit WorkOwnershipTransferred(workId, previousOwner, msg.sender);
    }

    /**
     * @notice Returns whether `operator` may act for all of `owner`'s works.
     * @param owner The owner.
     * @param operator The operator.
     * @return True if approved.
     */
    function isOperator(address owner, address operator) external view returns (bool) {
        return _operators[owner][operator];
    }

    /**
     * @notice Returns the owner of a registered work. Reverts with {WorkNotRegistered} if it is not registered.
     * @param workId The id of the work.
     * @return The owner.
     */
    function ownerOf(bytes32 workId) external view returns (address) {
        address owner = _works[workId].owner;
        if (owner == address(0)) revert WorkNotRegistered(workId);
        return owner;
    }

    /**
     * @notice Returns the account that may accept ownership of a work, or zero if no transfer is pending.
     * @param workId The id of the work.
     * @return The pending owner.
     */
    function pendingOwnerOf(bytes32 workId) external view returns (address) {
        return _pendingOwners[workId];
    }

    /**
     * @notice Returns the stored record of a work; zeroes if the work is not registered.
     * @param workId The id of the work.
     * @return owner The owner (zero if not registered).
     * @return registeredAt The registration timestamp (zero if not registered).
     */
    function work(bytes32 workId) external view returns (address owner, uint48 registeredAt) {
        Work storage w = _works[workId];
        return (w.owner, w.registeredAt);
    }

    /**
     * @notice Returns whether `account` is the owner of a registered work or an operator of its owner.
     * @param workId The id of the work.
     * @param account The account to check.
     * @return False if the work is not registered.
     */
    function isAuthorized(bytes32 workId, address account) external view returns (bool) {
        address owner = _works[workId].owner;
        return owner != address(0) && (owner == account || _operators[owner][account]);
    }

    /**
     * @dev Reverts unless the work is registered and `account` is its owner or an operator of its owner.
     * @return owner The owner of the work.
     */
    function _checkOwnerOrOperator(bytes32 workId, address account) private view returns (address owner) {
        owner = _works[workId].owner;
        if (owner == address(0)) revert WorkNotRegistered(workId);
        if (owner != account && !_operators[owner][account]) revert WorkUnauthorized(workId, account);
    }
}
