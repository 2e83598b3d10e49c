// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title ILicenseRegistry
 * @notice The structs, events and errors of {LicenseRegistry}, the registry of licences and sub-licences of works.
 */
interface ILicenseRegistry {
    /**
     * @notice What a licence permits.
     * @param territories Bitmask of territories; bit `i` is territory `i` of the published territory table.
     * @param rights Bitmask of rights: bit 0 streaming, bit 1 download, bit 2 broadcast, bit 3 theatrical.
     * @param start First second of validity (inclusive).
     * @param end End of validity (exclusive).
     * @param exclusive Whether no overlapping sibling licence may exist.
     * @param sublicensable Whether the licensee may grant sub-licences.
     */
    struct Scope {
        uint256 territories;
        uint32 rights;
        uint64 start;
        uint64 end;
        bool exclusive;
        bool sublicensable;
    }

    /**
     * @notice A licence as returned by {getLicense}.
     * @param workId The licensed work.
     * @param parentId The licence this one was granted under; zero for a root licence granted by the work owner.
     * @param licensor The grantor: the work owner at grant time (root) or the parent's licensee (sub-licence).
     * @param licensee The holder of the licence.
     * @param scope What the licence permits.
     * @param revoked Whether the licence itself has been revoked (ancestors are not considered; see {isValid}).
     * @param depth Distance from the root licence (root is 0).
     */
    struct License {
        bytes32 workId;
        uint256 parentId;
        address licensor;
        address licensee;
        Scope scope;
        bool revoked;
        uint8 depth;
    }

    /**
     * @notice Emitted when a licence is granted.
     * @param licenseId The id of the new licence.
     * @param workId The licensed work.
     * @param parentId The parent licence; zero for a root licence.
     * @param licensor The grantor.
     * @param licensee The holder.
     * @param scope What the licence permits.
     */
    event LicenseGranted(
        uint256 indexed licenseId,
        bytes32 indexed workId,
        uint256 indexed parentId,
        address licensor,
        address licensee,
        Scope scope
    );

    /**
     * @notice Emitted when a licence is revoked. Its descendants become invalid with it.
     * @param licenseId The revoked licence.
     * @param workId The licensed work.
     * @param by The account that revoked it.
     */
    event LicenseRevoked(uint256 indexed licenseId, bytes32 indexed workId, address indexed by);

    /**
     * @notice No licence has this id.
     * @param licenseId The requested id.
     */
    error LicenseNotFound(uint256 licenseId);

    /**
     * @notice The account may not act on this licence.
     * @param licenseId The licence acted on: the licence being revoked, the parent of a sub-licence, or zero for a
     * root grant.
     * @param account The calling account.
     */
    error LicenseUnauthorized(uint256 licenseId, address account);

    /**
     * @notice The work is not registered in the work registry.
     * @param workId The id of the work.
     */
    error LicenseWorkNotRegistered(bytes32 workId);

    /**
     * @notice The zero address cannot hold a licence.
     * @param licensee The rejected licensee.
     */
    error LicenseInvalidLicensee(address licensee);

    /**
     * @notice The scope has no territory or no right.
     * @param territories The requested territories.
     * @param rights The requested rights.
     */
    error LicenseEmptyScope(uint256 territories, uint32 rights);

    /**
     * @notice The window is empty (`start >= end`) or already over (`end <= now_`).
     * @param start The requested start.
     * @param end The requested end.
     * @param now_ The current block timestamp.
     */
    error LicenseInvalidWindow(uint64 start, uint64 end, uint64 now_);

    /**
     * @notice The parent licence is revoked, has a revoked ancestor, or has expired.
     * @param parentId The parent licence.
     */
    error LicenseParentNotValid(uint256 parentId);

    /**
     * @notice The parent licence does not allow sub-licensing.
     * @param parentId The parent licence.
     */
    error LicenseNotSublicensable(uint256 parentId);

    /**
     * @notice The requested scope is not within the parent's scope.
     * @param parentId The parent licence.
     * @param extraTerritories Requested territory bits the parent does not have.
     * @param extraRights Requested right bits the parent does not have.
     * @param start The requested start.
     * @param end The requested end.
     */
    error LicenseScopeExceedsParent(
        uint256 parentId, uint256 extraTerritories, uint32 extraRights, uint64 start, uint64 end
    );

    /**
     * @notice An exclusive sub-licence was requested under a non-exclusive parent.
     * @param parentId The parent licence.
     */
    error LicenseExclusiveExceedsParent(uint256 parentId);

    /**
     * @notice The parent licence is already at the maximum depth.
     * @param parentId The parent licence.
     * @param maxDepth The maximum depth ({MAX_DEPTH}).
     */
    error LicenseTooDeep(uint256 parentId, uint8 maxDepth);

    /**
     * @notice The requested licence overlaps a non-revoked sibling and one of the two is exclusive.
     * @param conflictingLicenseId The existing sibling licence.
     */
    error LicenseExclusiveConflict(uint256 conflictingLicenseId);

    /**
     * @notice The licence has already been revoked.
     * @param licenseId The licence.
     */
    error LicenseAlreadyRevoked(uint256 licenseId);
}
