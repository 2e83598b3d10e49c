// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {WorkRegistry} from "./WorkRegistry.sol";
import {ILicenseRegistry} from "./interfaces/ILicenseRegistry.sol";

/**
 * @title LicenseRegistry
 * @notice Licences on works registered in a {WorkRegistry}, with scoped sub-licensing.
 *
 * The owner of a work (or one of its operators) grants root licences. The holder of a sublicensable licence (or one
 * of its operators) may grant sub-licences whose scope lies within its own, up to {MAX_DEPTH} levels below the root.
 * A licence is never edited: it is granted once and may be revoked once. Revoking a licence invalidates every licence
 * below it.
 *
 * A scope is a set of territories (bit `i` of `territories` is territory `i` of a fixed, published table of
 * ISO 3166 codes), a set of rights (bit 0 streaming, bit 1 download, bit 2 broadcast, bit 3 theatrical, bit 4 derive,
 * other bits reserved) and a window `[start, end)` in Unix seconds. Exclusive licences may not overlap any non-revoked sibling
 * licence (same work, same parent; root licences are siblings of each other), and no licence may overlap a
 * non-revoked exclusive sibling. Two scopes overlap when their territories intersect, their rights intersect and
 * their windows intersect.
 *
 * The `derive` right (making derivative works: re-edits, dubs, remakes...) exists only on root licences granted with
 * {grantWithDerivativeTerms}, which fixes the upstream terms (kinds allowed, share, minimum per play) with the licence.
 * {grant} and {grantSublicense} refuse it, so every derivative's terms come from the parent work's owner.
 */
contract LicenseRegistry is ILicenseRegistry {
    /// @dev Storage layout of a licence: five slots, the last two fully packed.
    struct LicenseRecord {
        bytes32 workId; // slot 0
        uint256 parentId; // slot 1
        uint256 territories; // slot 2
        address licensor; // slot 3: 20 bytes
        uint64 start; //          8 bytes
        uint32 rights; //         4 bytes
        address licensee; // slot 4: 20 bytes
        uint64 end; //            8 bytes
        bool exclusive; //        1 byte
        bool sublicensable; //    1 byte
        bool revoked; //          1 byte
        uint8 depth; //           1 byte
    }

    /// @notice Maximum depth of a licence below its root licence (the root has depth 0).
    uint8 public constant MAX_DEPTH = 8;

    /// @notice The right to make derivative works of the licensed work (rights bit 4).
    uint32 public constant DERIVE_RIGHT = 1 << 4;

    /// @notice Every published kind of derivative: re-edit, dub, subtitle, remake, trailer, compilation (bits 0-5).
    uint32 public constant ALL_DERIVATIVE_KINDS = (1 << 6) - 1;

    /// @dev Basis points in a whole.
    uint16 private constant _BPS = 10_000;

    /// @dev The registry of works and owners this registry defers to.
    WorkRegistry private immutable _works;

    /// @dev Number of licences granted; licence ids are `1..licenseCount()`.
    uint256 private _licenseCount;

    /// @dev Licences by id.
    mapping(uint256 licenseId => LicenseRecord) private _licenses;

    /// @dev Upstream terms of licences granted with the `derive` right; zero kinds for every other licence.
    mapping(uint256 licenseId => DerivativeTerms) private _derivativeTerms;

    /// @dev Licence ids held by each licensee on each work, in grant order.
    mapping(bytes32 workId => mapping(address licensee => uint256[])) private _held;

    /// @dev Exclusive licence ids under each (work, parent); parent 0 is the root level.
    mapping(bytes32 workId => mapping(uint256 parentId => uint256[])) private _exclusiveSiblings;

    /// @dev Non-exclusive licence ids under each (work, parent); parent 0 is the root level.
    mapping(bytes32 workId => mapping(uint256 parentId => uint256[])) private _nonExclusiveSiblings;

    /**
     * @param works_ The registry of works and owners that decides who owns a work and who operates for whom.
     */
    constructor(WorkRegistry works_) {
        _works = works_;
    }

    /**
     * @notice Returns the registry of works and owners this registry defers to.
     * @return The address of the {WorkRegistry}.
     */
    function works() external view returns (address) {
        return address(_works);
    }

    /**
     * @notice Grants a root licence on a work. Only the work owner or one of its operators may call this; the
     * licensor recorded is the work owner.
     * @param workId The work to license.
     * @param licensee The holder of the new licence.
     * @param scope What the licence permits.
     * @return licenseId The id of the new licence.
     */
    function grant(bytes32 workId, address licensee, Scope calldata scope) external returns (uint256 licenseId) {
        if (scope.rights & DERIVE_RIGHT != 0) revert LicenseDeriveWithoutTerms(scope.rights);
        licenseId = _grantRoot(workId, licensee, scope);
    }

    /**
     * @notice Grants a root licence with the `derive` right and the upstream terms every derivative registered
     * under it owes the work. Only the work owner or one of its operators may call this. The terms are stored with
     * the licence and never change.
     * @param workId The work to license (the parent of future derivatives).
     * @param licensee The holder of the new licence (the owner of future derivatives).
     * @param scope What the licence permits; its rights must include {DERIVE_RIGHT}.
     * @param terms The upstream terms: a non-empty set of published kinds and a share of at most 10,000 bps.
     * @return licenseId The id of the new licence.
     */
    function grantWithDerivativeTerms(
        bytes32 workId,
        address licensee,
        Scope calldata scope,
        DerivativeTerms calldata terms
    ) external returns (uint256 licenseId) {
        if (scope.rights & DERIVE_RIGHT == 0) revert LicenseTermsWithoutDerive(scope.rights);
        uint32 kinds = terms.kinds;
        uint16 shareBps = terms.shareBps;
        if (kinds == 0 || kinds & ~ALL_DERIVATIVE_KINDS != 0 || shareBps > _BPS) {
            revert LicenseInvalidDerivativeTerms(kinds, shareBps);
        }
        licenseId = _grantRoot(workId, licensee, scope);
        _derivativeTerms[licenseId] = terms;
        emit LicenseDerivativeTermsSet(licenseId, workId, terms);
    }

    /**
     * @notice Grants a sub-licence under `parentId`. Only the parent's licensee or one of its operators may call
     * this. The parent must be valid now (not revoked, no revoked ancestor, not expired) and sublicensable, below
     * {MAX_DEPTH}, and the new scope must lie within the parent's: territories and rights are subsets, the window is
     * inside the parent's, and an exclusive sub-licence needs an exclusive parent.
     * @param parentId The licence to sub-license.
     * @param licensee The holder of the new licence.
     * @param scope What the licence permits.
     * @return licenseId The id of the new licence.
     */
    function grantSublicense(uint256 parentId, address licensee, Scope calldata scope)
        external
        returns (uint256 licenseId)
    {
        LicenseRecord storage parent = _get(parentId);
        address parentLicensee = parent.licensee;
        if (parentLicensee != msg.sender && !_works.isOperator(parentLicensee, msg.sender)) {
            revert LicenseUnauthorized(parentId, msg.sender);
        }
        _checkLicenseeAndScope(licensee, scope);
        if (parent.end <= block.timestamp || _hasRevokedOnPath(parentId)) revert LicenseParentNotValid(parentId);
        if (!parent.sublicensable) revert LicenseNotSublicensable(parentId);
        uint8 parentDepth = parent.depth;
        if (parentDepth >= MAX_DEPTH) revert LicenseTooDeep(parentId, MAX_DEPTH);
        _checkWithinParent(parentId, parent, scope);
        // Only a parent granted with upstream terms has the right to pass on, and the terms stay with it.
        if (scope.rights & DERIVE_RIGHT != 0) revert LicenseDeriveWithoutTerms(scope.rights);

        bytes32 workId = parent.workId;
        _checkSiblingConflicts(workId, parentId, scope);
        licenseId = _store(workId, parentId, parentLicensee, licensee, scope, parentDepth + 1);
    }

    /**
     * @notice Revokes a licence, invalidating it and every licence below it. The current work owner or one of its
     * operators may revoke any licence of the work; the licensee of the parent licence or one of its operators may
     * revoke a sub-licence.
     * @param licenseId The licence to revoke.
     */
    function revoke(uint256 licenseId) external {
        LicenseRecord storage license = _get(licenseId);
        bytes32 workId = license.workId;
        if (!_mayRevoke(workId, license.parentId, msg.sender)) revert LicenseUnauthorized(licenseId, msg.sender);
        if (license.revoked) revert LicenseAlreadyRevoked(licenseId);
        license.revoked = true;
        emit LicenseRevoked(licenseId, workId, msg.sender);
    }

    /**
     * @notice Returns whether a licence is in force at time `at`: it exists, neither it nor any ancestor is revoked,
     * and `start <= at < end`.
     * @dev Walks up at most {MAX_DEPTH} parents.
     * @param licenseId The licence.
     * @param at The time to evaluate, in Unix seconds.
     * @return True if in force.
     */
    function isValid(uint256 licenseId, uint64 at) public view returns (bool) {
        if (licenseId == 0 || licenseId > _licenseCount) return false;
        LicenseRecord storage license = _licenses[licenseId];
        if (at < license.start || at >= license.end) return false;
        return !_hasRevokedOnPath(licenseId);
    }

    /**
     * @notice Finds a licence of `licensee` on `workId` that covers `territory` and every right in `right` and is
     * valid at `at`.
     * @dev Returns `(false, 0)` when `right` is zero: an empty set of rights is not a licensed use.
     * @param workId The work.
     * @param licensee The licensee.
     * @param territory The territory index (bit position in the territory mask).
     * @param right The required rights; all of these bits must be in scope.
     * @param at The time to evaluate, in Unix seconds.
     * @return ok Whether such a licence exists.
     * @return licenseId The first such licence in grant order, or zero.
     */
    function isLicensed(bytes32 workId, address licensee, uint8 territory, uint32 right, uint64 at)
        external
        view
        returns (bool ok, uint256 licenseId)
    {
        if (right == 0) return (false, 0);
        uint256[] storage ids = _held[workId][licensee];
        uint256 territoryBit = uint256(1) << territory;
        uint256 length = ids.length;
        for (uint256 i; i < length; ++i) {
            uint256 id = ids[i];
            LicenseRecord storage license = _licenses[id];
            if (license.territories & territoryBit == 0 || license.rights & right != right) continue;
            if (isValid(id, at)) return (true, id);
        }
        return (false, 0);
    }

    /**
     * @notice Returns a licence. Reverts with {LicenseNotFound} if it does not exist.
     * @param licenseId The licence.
     * @return The licence.
     */
    function getLicense(uint256 licenseId) external view returns (License memory) {
        LicenseRecord storage r = _get(licenseId);
        return License({
            workId: r.workId,
            parentId: r.parentId,
            licensor: r.licensor,
            licensee: r.licensee,
            scope: Scope({
                territories: r.territories,
                rights: r.rights,
                start: r.start,
                end: r.end,
                exclusive: r.exclusive,
                sublicensable: r.sublicensable
            }),
            revoked: r.revoked,
            depth: r.depth
        });
    }

    /**
     * @notice Returns the upstream terms of a licence; all zero for a licence without the `derive` right. Reverts
     * with {LicenseNotFound} if it does not exist.
     * @param licenseId The licence.
     * @return The terms fixed when the licence was granted.
     */
    function derivativeTerms(uint256 licenseId) external view returns (DerivativeTerms memory) {
        _get(licenseId);
        return _derivativeTerms[licenseId];
    }

    /**
     * @notice Returns the number of licences granted; ids run from 1 to this number.
     * @return The number of licences.
     */
    function licenseCount() external view returns (uint256) {
        return _licenseCount;
    }

    /**
     * @notice Returns the ids of all licences (root and sub-licences, revoked or not) held by `licensee` on `workId`.
     * @param workId The work.
     * @param licensee The licensee.
     * @return The licence ids, in grant order.
     */
    function licensesOf(bytes32 workId, address licensee) external view returns (uint256[] memory) {
        return _held[workId][licensee];
    }

    /**
     * @notice Returns the licences granted directly under `parentId` on `workId` (root licences when `parentId` is
     * zero), split by exclusivity. Revoked licences are included.
     * @param workId The work.
     * @param parentId The parent licence, or zero for the root level.
     * @return exclusive Ids of exclusive licences, in grant order.
     * @return nonExclusive Ids of non-exclusive licences, in grant order.
     */
    function siblingsOf(bytes32 workId, uint256 parentId)
        external
        view
        returns (uint256[] memory exclusive, uint256[] memory nonExclusive)
    {
        return (_exclusiveSiblings[workId][parentId], _nonExclusiveSiblings[workId][parentId]);
    }

    /// @dev Grants a root licence after checking the caller, the scope and the root siblings.
    function _grantRoot(bytes32 workId, address licensee, Scope calldata scope) private returns (uint256 licenseId) {
        (address owner,) = _works.work(workId);
        if (owner == address(0)) revert LicenseWorkNotRegistered(workId);
        if (owner != msg.sender && !_works.isOperator(owner, msg.sender)) revert LicenseUnauthorized(0, msg.sender);
        _checkLicenseeAndScope(licensee, scope);
        _checkSiblingConflicts(workId, 0, scope);
        licenseId = _store(workId, 0, owner, licensee, scope, 0);
    }

    /// @dev Returns the stored licence, reverting with {LicenseNotFound} if it does not exist.
    function _get(uint256 licenseId) private view returns (LicenseRecord storage) {
        if (licenseId == 0 || licenseId > _licenseCount) revert LicenseNotFound(licenseId);
        return _licenses[licenseId];
    }

    /// @dev Whether the licence or any of its ancestors is revoked. Bounded by {MAX_DEPTH} + 1 iterations.
    function _hasRevokedOnPath(uint256 licenseId) private view returns (bool) {
        while (licenseId != 0) {
            LicenseRecord storage license = _licenses[licenseId];
            if (license.revoked) return true;
            licenseId = license.parentId;
        }
        return false;
    }

    /// @dev Whether `account` may revoke a licence of `workId` whose parent is `parentId`.
    function _mayRevoke(bytes32 workId, uint256 parentId, address account) private view returns (bool) {
        if (_works.isAuthorized(workId, account)) return true;
        if (parentId == 0) return false;
        address parentLicensee = _licenses[parentId].licensee;
        return parentLicensee == account || _works.isOperator(parentLicensee, account);
    }

    /// @dev Checks the licensee and the scope's own consistency (non-empty, window non-empty and not over).
    function _checkLicenseeAndScope(address licensee, Scope calldata scope) private view {
        if (licensee == address(0)) revert LicenseInvalidLicensee(licensee);
        if (scope.territories == 0 || scope.rights == 0) revert LicenseEmptyScope(scope.territories, scope.rights);
        if (scope.start >= scope.end || scope.end <= block.timestamp) {
            revert LicenseInvalidWindow(scope.start, scope.end, uint64(block.timestamp));
        }
    }

    /// @dev Checks that `scope` lies within the parent's scope.
    function _checkWithinParent(uint256 parentId, LicenseRecord storage parent, Scope calldata scope) private view {
        uint256 extraTerritories = scope.territories & ~parent.territories;
        uint32 extraRights = scope.rights & ~parent.rights;
        if (extraTerritories != 0 || extraRights != 0 || scope.start < parent.start || scope.end > parent.end) {
            revert LicenseScopeExceedsParent(parentId, extraTerritories, extraRights, scope.start, scope.end);
        }
        if (scope.exclusive && !parent.exclusive) revert LicenseExclusiveExceedsParent(parentId);
    }

    /**
     * @dev Reverts with {LicenseExclusiveConflict} if `scope` overlaps a non-revoked sibling under (`workId`,
     * `parentId`) where either is exclusive. A non-exclusive request only checks the exclusive siblings.
     */
    function _checkSiblingConflicts(bytes32 workId, uint256 parentId, Scope calldata scope) private view {
        _checkOverlaps(_exclusiveSiblings[workId][parentId], scope);
        if (scope.exclusive) _checkOverlaps(_nonExclusiveSiblings[workId][parentId], scope);
    }

    /// @dev Reverts with {LicenseExclusiveConflict} on the first non-revoked licence in `ids` overlapping `scope`.
    function _checkOverlaps(uint256[] storage ids, Scope calldata scope) private view {
        uint256 length = ids.length;
        for (uint256 i; i < length; ++i) {
            uint256 id = ids[i];
            LicenseRecord storage other = _licenses[id];
            if (
                !other.revoked && other.start < scope.end && scope.start < other.end && other.rights & scope.rights != 0
                    && other.territories & scope.territories != 0
            ) revert LicenseExclusiveConflict(id);
        }
    }

    /// @dev Records a new licence and emits {LicenseGranted}.
    function _store(
        bytes32 workId,
        uint256 parentId,
        address licensor,
        address licensee,
        Scope calldata scope,
        uint8 depth
    ) private returns (uint256 licenseId) {
        licenseId = ++_licenseCount;
        LicenseRecord storage r = _licenses[licenseId];
        r.workId = workId;
        if (parentId != 0) r.parentId = parentId;
        r.territories = scope.territories;
        r.licensor = licensor;
        r.start = scope.start;
        r.rights = scope.rights;
        r.licensee = licensee;
        r.end = scope.end;
        r.exclusive = scope.exclusive;
        r.sublicensable = scope.sublicensable;
        r.depth = depth;

        _held[workId][licensee].push(licenseId);
        if (scope.exclusive) _exclusiveSiblings[workId][parentId].push(licenseId);
        else _nonExclusiveSiblings[workId][parentId].push(licenseId);

        emit LicenseGranted(licenseId, workId, parentId, licensor, licensee, scope);
    }
}
