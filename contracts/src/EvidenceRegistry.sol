// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {WorkRegistry} from "./WorkRegistry.sol";
import {IEvidenceRegistry} from "./interfaces/IEvidenceRegistry.sol";

/**
 * @title EvidenceRegistry
 * @notice Anchors evidence of piracy of registered works.
 *
 * When a pirated copy of a work is found on the web, what was found (where, when, what it matched and how) is written
 * down as a canonical JSON evidence bundle. The SHA-256 of the bundle is anchored here once, for the work it infringes,
 * by an account holding {ANCHORER_ROLE}. The block time of the anchor then fixes the latest moment the bundle can have
 * been written: whoever later holds the bundle can hash it, look the hash up with {anchorOf} and show that the
 * evidence existed, unchanged, at that time.
 *
 * An anchor is never changed or removed, and a hash is anchored for one work only.
 *
 * @dev Only the hash is stored; the bundle itself lives off chain. `DEFAULT_ADMIN_ROLE` grants and revokes
 * {ANCHORER_ROLE} (and itself), as OpenZeppelin's `AccessControl` does.
 */
contract EvidenceRegistry is IEvidenceRegistry, AccessControl {
    /// @dev One anchored evidence bundle: the work and a word holding time and anchorer.
    struct Anchor {
        bytes32 workId;
        uint48 anchoredAt;
        address anchoredBy;
    }

    /// @notice The role allowed to anchor evidence.
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");

    /// @dev The registry of works this registry checks works against.
    WorkRegistry private immutable _works;

    /// @dev Anchors by evidence hash.
    mapping(bytes32 evidenceHash => Anchor) private _anchors;

    /**
     * @param works_ The registry of works; evidence may be anchored only for works registered there.
     * @param admin Receives `DEFAULT_ADMIN_ROLE`, which grants and revokes roles.
     * @param anchorer Receives {ANCHORER_ROLE}.
     */
    constructor(WorkRegistry works_, address admin, address anchorer) {
        _works = works_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ANCHORER_ROLE, anchorer);
    }

    /**
     * @notice Anchors the evidence bundle hashed to `evidenceHash`, for the registered work `workId`. Only an
     * anchorer may call this, once per hash.
     * @dev Checks, in order: the caller holds {ANCHORER_ROLE} (`AccessControlUnauthorizedAccount`), the hash is not
     * zero ({EvidenceInvalidHash}), the work is registered ({EvidenceUnknownWork}) and the hash has not been anchored
     * before, for any work ({EvidenceAlreadyAnchored}). The only external call is a read of the work registry, made
     * among the checks and before any state is written.
     * @param evidenceHash SHA-256 of the canonical evidence bundle; not zero.
     * @param workId The work the evidence concerns; registered in {works}.
     */
    function anchor(bytes32 evidenceHash, bytes32 workId) external onlyRole(ANCHORER_ROLE) {
        if (evidenceHash == bytes32(0)) revert EvidenceInvalidHash();
        (address owner,) = _works.work(workId);
        if (owner == address(0)) revert EvidenceUnknownWork(workId);
        Anchor storage slot = _anchors[evidenceHash];
        // A registered work id is never zero, so a non-zero work id marks an anchored hash.
        if (slot.workId != bytes32(0)) revert EvidenceAlreadyAnchored(evidenceHash, slot.workId, slot.anchoredAt);

        uint48 anchoredAt = uint48(block.timestamp);
        slot.workId = workId;
        slot.anchoredAt = anchoredAt;
        slot.anchoredBy = msg.sender;
        emit EvidenceAnchored(evidenceHash, workId, msg.sender, anchoredAt);
    }

    /**
     * @notice The anchor of the evidence bundle hashed to `evidenceHash`.
     * @param evidenceHash SHA-256 of the canonical evidence bundle.
     * @return workId The work the evidence concerns, zero if the hash is not anchored.
     * @return anchoredAt When it was anchored, in Unix seconds; zero if it is not.
     * @return anchoredBy Who anchored it; zero if nobody did.
     */
    function anchorOf(bytes32 evidenceHash)
        external
        view
        returns (bytes32 workId, uint48 anchoredAt, address anchoredBy)
    {
        Anchor storage slot = _anchors[evidenceHash];
        return (slot.workId, slot.anchoredAt, slot.anchoredBy);
    }

    /// @notice The work registry this registry checks works against.
    /// @return The work registry.
    function works() external view returns (WorkRegistry) {
        return _works;
    }
}
