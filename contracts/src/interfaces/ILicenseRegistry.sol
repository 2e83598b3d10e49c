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
     * @param rights Bitmask of rights: bit 0 streaming, bit 1 download, bit 2 broadcast, bit 3 theatrical, bit 4 derive
     * (root licences with upstream terms only).
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
     * @notice What the holder of a licence with the `derive` right owes upstream for each derivative registered
     * under it (see {DerivativeRegistry}). Fixed at grant time, never edited.
     * @param kinds Bitmask of the kinds of derivative allowed: bit 0 re-edit, bit 1 dub, bit 2 subtitle, bit 3
     * remake, bit 4 trailer, bit 5 compilation; never empty.
     * @param shareBps The share of the derivative's earnings owed to the licensed work, in basis points (at most
     * 10,000).
     * @param minPerValidPlayMicro The minimum owed per valid play of the derivative, in millionths of the minor
     * unit; zero for none.
     */
    struct DerivativeTerms {
        uint32 kinds;
        uint16 shareBps;
        uint128 minPerValidPlayMicro;
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
     * @notice Emitted, after {LicenseGranted}, when a root licence carrying the `derive` right is granted with its
     * upstream terms.
     * @param licenseId The licence.
     * @param workId The licensed work (the parent of future derivatives).
     * @param terms What each derivative registered under the licence owes upstream.
     */
    event LicenseDerivativeTermsSet(uint256 indexed licenseId, bytes32 indexed workId, DerivativeTerms terms);

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

    /**
     * @notice A licence with the `derive` right must be a root licence granted with upstream terms
     * ({grantWithDerivativeTerms}); {grant} and {grantSublicense} refuse that right.
     * @param rights The requested rights.
     */
    error LicenseDeriveWithoutTerms(uint32 rights);

    /**
     * @notice Upstream terms were given for a scope without the `derive` right.
     * @param rights The requested rights.
     */
    error LicenseTermsWithoutDerive(uint32 rights);

    /**
     * @notice The upstream terms are malformed: no kind, a kind bit outside the published kinds, or a share above
     * 10,000 basis points.
     * @param kinds The requested kinds mask.
     * @param shareBps The requested share.
     */
    error LicenseInvalidDerivativeTerms(uint32 kinds, uint16 shareBps);
}
