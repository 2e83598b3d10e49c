// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {WorkRegistry} from "./WorkRegistry.sol";
import {IDistributionRegistry} from "./interfaces/IDistributionRegistry.sol";

/**
 * @title DistributionRegistry
 * @notice Anchors the records of watermarked distributions of registered works.
 *
 * Every copy of a work that leaves its rights holder (to a platform, a session or a user tier) carries its own
 * invisible watermark payload. The off-chain record that ties the payload to the recipient is hashed, and the hash
 * is anchored here once, by the owner of the work or an operator of the owner. When a leaked copy is later read
 * back, the payload finds the record and the record's hash is checked against this contract, so the trace is
 * evidence fixed before the leak, not an assertion made after it.
 *
 * A payload is unique per work and an anchor is never changed or removed.
 */
contract DistributionRegistry is IDistributionRegistry {
    /// @notice The largest payload: watermark payloads are 48 bits.
    uint64 public constant MAX_PAYLOAD = type(uint48).max;

    /// @dev One anchored record, in one storage slot and a word for the hash.
    struct Anchor {
        bytes32 recordHash;
        uint48 anchoredAt;
        address anchoredBy;
    }

    /// @dev The registry of works and owners this registry defers to.
    WorkRegistry private immutable _works;

    /// @dev Anchors per work and payload.
    mapping(bytes32 workId => mapping(uint64 payload => Anchor)) private _anchors;

    /**
     * @param works_ The registry of works and owners that decides who may anchor for a work.
     */
    constructor(WorkRegistry works_) {
        _works = works_;
    }

    /**
     * @notice Anchors the record of the distribution of `workId` that carries `payload`.
     * @dev Reverts with {DistributionUnauthorized} for an unregistered work too: nobody owns it.
     * @param workId The work distributed.
     * @param payload The copy's watermark payload, 1 to {MAX_PAYLOAD}.
     * @param recordHash SHA-256 of the canonical distribution record, not zero.
     */
    function anchor(bytes32 workId, uint64 payload, bytes32 recordHash) external {
        if (!_works.isAuthorized(workId, msg.sender)) revert DistributionUnauthorized(workId, msg.sender);
        if (payload == 0 || payload > MAX_PAYLOAD) revert DistributionInvalidPayload(payload);
        if (recordHash == bytes32(0)) revert DistributionInvalidRecord();
        Anchor storage slot = _anchors[workId][payload];
        if (slot.recordHash != bytes32(0)) revert DistributionAlreadyAnchored(workId, payload, slot.recordHash);
        slot.recordHash = recordHash;
        slot.anchoredAt = uint48(block.timestamp);
        slot.anchoredBy = msg.sender;
        emit DistributionAnchored(workId, payload, recordHash, msg.sender);
    }

    /**
     * @notice The anchor of the distribution of `workId` carrying `payload`.
     * @return recordHash The anchored record hash, zero if none is anchored.
     * @return anchoredAt When it was anchored, in Unix seconds.
     * @return anchoredBy Who anchored it.
     */
    function anchorOf(bytes32 workId, uint64 payload)
        external
        view
        returns (bytes32 recordHash, uint48 anchoredAt, address anchoredBy)
    {
        Anchor storage slot = _anchors[workId][payload];
        return (slot.recordHash, slot.anchoredAt, slot.anchoredBy);
    }

    /// @notice The work registry this registry defers to.
    function works() external view returns (WorkRegistry) {
        return _works;
    }
}
