// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "./utils/BaseTest.sol";
import {WorkRegistry} from "../src/WorkRegistry.sol";
import {LicenseRegistry} from "../src/LicenseRegistry.sol";
import {ILicenseRegistry} from "../src/interfaces/ILicenseRegistry.sol";

contract LicenseRegistryTest is BaseTest {
    WorkRegistry internal works;
    LicenseRegistry internal licenses;

    address internal owner = makeAddr("owner");
    address internal ownerOperator = makeAddr("ownerOperator");
    address internal distributor = makeAddr("distributor");
    address internal distributorOperator = makeAddr("distributorOperator");
    address internal subDistributor = makeAddr("subDistributor");
    address internal newOwner = makeAddr("newOwner");
    address internal stranger = makeAddr("stranger");

    bytes32 internal constant WORK = keccak256("work");
    bytes32 internal constant OTHER_WORK = keccak256("other work");
    bytes32 internal constant UNREGISTERED = keccak256("unregistered");

    uint64 internal constant T0 = 1_700_000_000;
    uint64 internal constant START = T0;
    uint64 internal constant END = T0 + 365 days;

    // Territory bits (indices into the published territory table).
    uint256 internal constant TERRITORY_0 = 1 << 0;
    uint256 internal constant TERRITORY_1 = 1 << 1;
    uint256 internal constant TERRITORY_2 = 1 << 2;
    uint256 internal constant TERRITORY_255 = 1 << 255;
    uint256 internal constant SOME_TERRITORIES = TERRITORY_0 | TERRITORY_1 | TERRITORY_2;

    uint32 internal constant STREAMING = 1 << 0;
    uint32 internal constant DOWNLOAD = 1 << 1;
    uint32 internal constant BROADCAST = 1 << 2;
    uint32 internal constant THEATRICAL = 1 << 3;
    uint32 internal constant ALL_RIGHTS = STREAMING | DOWNLOAD | BROADCAST | THEATRICAL;

    uint8 internal constant MAX_DEPTH = 8;

    function setUp() public {
        vm.warp(T0);
        works = new WorkRegistry();
        licenses = new LicenseRegistry(works);

        vm.startPrank(owner);
        works.register(WORK, owner, bytes32(0), bytes32(0), "");
        works.register(OTHER_WORK, owner, bytes32(0), bytes32(0), "");
        works.setOperator(ownerOperator, true);
        vm.stopPrank();

        vm.prank(distributor);
        works.setOperator(distributorOperator, true);
    }

    // ---------------------------------------------------------------- helpers

    function _scope(uint256 territories, uint32 rights, uint64 start, uint64 end, bool exclusive, bool sublicensable)
        internal
        pure
        returns (ILicenseRegistry.Scope memory)
    {
        return ILicenseRegistry.Scope({
            territories: territories,
            rights: rights,
            start: start,
            end: end,
            exclusive: exclusive,
            sublicensable: sublicensable
        });
    }

    /// @dev A broad, exclusive, sublicensable scope for a root licence.
    function _broad() internal pure returns (ILicenseRegistry.Scope memory) {
        return _scope(SOME_TERRITORIES, ALL_RIGHTS, START, END, true, true);
    }

    function _grant(address licensee, ILicenseRegistry.Scope memory scope) internal returns (uint256 id) {
        vm.prank(owner);
        id = licenses.grant(WORK, licensee, scope);
    }

    function _sub(uint256 parentId, address caller, address licensee, ILicenseRegistry.Scope memory scope)
        internal
        returns (uint256 id)
    {
        vm.prank(caller);
        id = licenses.grantSublicense(parentId, licensee, scope);
    }

    function _assertScope(ILicenseRegistry.Scope memory a, ILicenseRegistry.Scope memory b) internal pure {
        assertEq(a.territories, b.territories, "territories");
        assertEq(a.rights, b.rights, "rights");
        assertEq(a.start, b.start, "start");
        assertEq(a.end, b.end, "end");
        assertEq(a.exclusive, b.exclusive, "exclusive");
        assertEq(a.sublicensable, b.sublicensable, "sublicensable");
    }

    // ---------------------------------------------------------------- constructor / views

    function test_Works_ReturnsWorkRegistry() public view {
        assertEq(licenses.works(), address(works), "works()");
        assertEq(licenses.MAX_DEPTH(), MAX_DEPTH, "MAX_DEPTH");
    }

    function test_GetLicense_Revert_WhenNotFound() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseNotFound.selector, 0));
        licenses.getLicense(0);
        _grant(distributor, _broad());
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseNotFound.selector, 2));
        licenses.getLicense(2);
    }

    // ---------------------------------------------------------------- grant

    function test_Grant_StoresRootLicence() public {
        ILicenseRegistry.Scope memory s = _broad();
        uint256 id = _grant(distributor, s);
        assertEq(id, 1, "ids start at 1");
        assertEq(licenses.licenseCount(), 1, "count");

        ILicenseRegistry.License memory l = licenses.getLicense(id);
        assertEq(l.workId, WORK, "workId");
        assertEq(l.parentId, 0, "root parent");
        assertEq(l.licensor, owner, "licensor is the work owner");
        assertEq(l.licensee, distributor, "licensee");
        _assertScope(l.scope, s);
        assertFalse(l.revoked, "not revoked");
        assertEq(l.depth, 0, "root depth");
        assertEq(licenses.licensesOf(WORK, distributor), ids(1), "licensesOf");
    }

    function test_Grant_EmitsLicenseGranted() public {
        ILicenseRegistry.Scope memory s = _broad();
        vm.expectEmit(true, true, true, true, address(licenses));
        emit ILicenseRegistry.LicenseGranted(1, WORK, 0, owner, distributor, s);
        _grant(distributor, s);
    }

    function test_Grant_ByOperator_RecordsOwnerAsLicensor() public {
        vm.prank(ownerOperator);
        uint256 id = licenses.grant(WORK, distributor, _broad());
        assertEq(licenses.getLicense(id).licensor, owner, "licensor is the owner, not the operator");
    }

    function test_Grant_IdsAreSequentialAcrossWorks() public {
        uint256 a = _grant(distributor, _scope(TERRITORY_0, STREAMING, START, END, false, false));
        vm.prank(owner);
        uint256 b = licenses.grant(OTHER_WORK, distributor, _scope(TERRITORY_0, STREAMING, START, END, false, false));
        uint256 c = _grant(distributor, _scope(TERRITORY_1, STREAMING, START, END, false, false));
        assertEq(a, 1, "first");
        assertEq(b, 2, "second");
        assertEq(c, 3, "third");
        assertEq(licenses.licenseCount(), 3, "count");
        assertEq(licenses.licensesOf(WORK, distributor), ids(1, 3), "per-work list");
        assertEq(licenses.licensesOf(OTHER_WORK, distributor), ids(2), "other work list");
    }

    function test_Grant_AfterOwnershipTransfer_UsesNewOwner() public {
        vm.prank(owner);
        works.transferWorkOwnership(WORK, newOwner);
        vm.prank(newOwner);
        works.acceptWorkOwnership(WORK);

        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseUnauthorized.selector, 0, owner));
        vm.prank(owner);
        licenses.grant(WORK, distributor, _broad());

        vm.prank(newOwner);
        uint256 id = licenses.grant(WORK, distributor, _broad());
        assertEq(licenses.getLicense(id).licensor, newOwner, "licensor is the new owner");
    }

    function test_Grant_Revert_WhenWorkNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseWorkNotRegistered.selector, UNREGISTERED));
        vm.prank(owner);
        licenses.grant(UNREGISTERED, distributor, _broad());
    }

    function test_Grant_Revert_WhenCallerNotOwnerOrOperator() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseUnauthorized.selector, 0, stranger));
        vm.prank(stranger);
        licenses.grant(WORK, distributor, _broad());
    }

    function test_Grant_Revert_WhenLicenseeIsZero() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseInvalidLicensee.selector, address(0)));
        _grant(address(0), _broad());
    }

    function test_Grant_Revert_WhenNoTerritories() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseEmptyScope.selector, 0, ALL_RIGHTS));
        _grant(distributor, _scope(0, ALL_RIGHTS, START, END, false, false));
    }

    function test_Grant_Revert_WhenNoRights() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseEmptyScope.selector, SOME_TERRITORIES, 0));
        _grant(distributor, _scope(SOME_TERRITORIES, 0, START, END, false, false));
    }

    function test_Grant_Revert_WhenStartNotBeforeEnd() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseInvalidWindow.selector, END, END, T0));
        _grant(distributor, _scope(SOME_TERRITORIES, ALL_RIGHTS, END, END, false, false));
    }

    function test_Grant_Revert_WhenEndNotAfterNow() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseInvalidWindow.selector, T0 - 10, T0, T0));
        _grant(distributor, _scope(SOME_TERRITORIES, ALL_RIGHTS, T0 - 10, T0, false, false));
    }

    function test_Grant_AllowsStartInPast() public {
        uint256 id = _grant(distributor, _scope(SOME_TERRITORIES, ALL_RIGHTS, T0 - 10, T0 + 1, false, false));
        assertTrue(licenses.isValid(id, T0), "valid now");
    }

    // ---------------------------------------------------------------- exclusivity (root level)

    function test_Grant_Revert_WhenOverlappingExistingExclusive() public {
        uint256 first = _grant(distributor, _scope(TERRITORY_0 | TERRITORY_1, STREAMING, START, END, true, false));
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseExclusiveConflict.selector, first));
        _grant(stranger, _scope(TERRITORY_1, STREAMING | DOWNLOAD, END - 1, END + 1, false, false));
    }

    function test_Grant_Revert_WhenExclusiveOverlapsExistingNonExclusive() public {
        _grant(distributor, _scope(TERRITORY_2, BROADCAST, START, END, false, false));
        uint256 second = _grant(distributor, _scope(TERRITORY_0, STREAMING, START, END, false, false));
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseExclusiveConflict.selector, second));
        _grant(stranger, _scope(TERRITORY_0, STREAMING, START, END, true, false));
    }

    function test_Grant_NonExclusiveLicencesMayOverlap() public {
        _grant(distributor, _scope(TERRITORY_0, STREAMING, START, END, false, false));
        uint256 id = _grant(stranger, _scope(TERRITORY_0, STREAMING, START, END, false, false));
        assertEq(id, 2, "second overlapping non-exclusive licence granted");
    }

    function test_Grant_ExclusiveAllowedWhenDisjoint() public {
        _grant(distributor, _scope(TERRITORY_0, STREAMING, START, END, true, false));
        // Disjoint territories.
        _grant(stranger, _scope(TERRITORY_1, STREAMING, START, END, true, false));
        // Disjoint rights.
        _grant(stranger, _scope(TERRITORY_0, DOWNLOAD, START, END, true, false));
        // Adjacent windows: [START, END) and [END, END + 1 days) do not overlap.
        uint256 id = _grant(stranger, _scope(TERRITORY_0, STREAMING, END, END + 1 days, true, false));
        assertEq(id, 4, "all disjoint exclusive licences granted");
    }

    function test_Grant_ExclusiveAllowedAfterConflictingLicenceRevoked() public {
        uint256 first = _grant(distributor, _scope(TERRITORY_0, STREAMING, START, END, true, false));
        vm.prank(owner);
        licenses.revoke(first);
        uint256 id = _grant(stranger, _scope(TERRITORY_0, STREAMING, START, END, true, false));
        assertEq(id, 2, "granted after revocation");
    }

    function test_Grant_ExclusivityIsPerWork() public {
        _grant(distributor, _scope(TERRITORY_0, STREAMING, START, END, true, false));
        vm.prank(owner);
        uint256 id = licenses.grant(OTHER_WORK, stranger, _scope(TERRITORY_0, STREAMING, START, END, true, false));
        assertEq(id, 2, "other work unaffected");
    }

    function testFuzz_Grant_ConflictIffOverlapAndOneExclusive(
        uint8 t1,
        uint8 t2,
        uint8 r1,
        uint8 r2,
        uint32 s1,
        uint32 s2,
        uint32 len1,
        uint32 len2,
        bool ex1,
        bool ex2
    ) public {
        ILicenseRegistry.Scope memory a = _fuzzScope(t1, r1, s1, len1, ex1);
        ILicenseRegistry.Scope memory b = _fuzzScope(t2, r2, s2, len2, ex2);
        uint256 first = _grant(distributor, a);

        bool overlap =
            (a.territories & b.territories) != 0 && (a.rights & b.rights) != 0 && a.start < b.end && b.start < a.end;
        if (overlap && (ex1 || ex2)) {
            vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseExclusiveConflict.selector, first));
            _grant(stranger, b);
        } else {
            uint256 second = _grant(stranger, b);
            assertEq(second, first + 1, "granted");
        }
    }

    function _fuzzScope(uint8 t, uint8 r, uint32 s, uint32 len, bool ex)
        internal
        pure
        returns (ILicenseRegistry.Scope memory)
    {
        uint256 territories = bound(t, 1, 15);
        uint32 rights = uint32(bound(r, 1, 15));
        uint64 start = T0 + uint64(bound(s, 0, 30 days));
        uint64 end = start + uint64(bound(len, 1, 30 days));
        return _scope(territories, rights, start, end, ex, false);
    }

    // ---------------------------------------------------------------- grantSublicense

    function test_GrantSublicense_StoresChildAndEmits() public {
        uint256 parent = _grant(distributor, _broad());
        ILicenseRegistry.Scope memory s = _scope(TERRITORY_1, STREAMING, START + 1 days, END - 1 days, true, true);

        vm.expectEmit(true, true, true, true, address(licenses));
        emit ILicenseRegistry.LicenseGranted(2, WORK, parent, distributor, subDistributor, s);
        uint256 id = _sub(parent, distributor, subDistributor, s);

        ILicenseRegistry.License memory l = licenses.getLicense(id);
        assertEq(l.workId, WORK, "workId inherited");
        assertEq(l.parentId, parent, "parent");
        assertEq(l.licensor, distributor, "licensor is the parent's licensee");
        assertEq(l.licensee, subDistributor, "licensee");
        _assertScope(l.scope, s);
        assertEq(l.depth, 1, "depth");
        assertEq(licenses.licensesOf(WORK, subDistributor), ids(id), "licensesOf");
        assertTrue(licenses.isValid(id, START + 1 days), "valid in window");
    }

    function test_GrantSublicense_ByLicenseeOperator() public {
        uint256 parent = _grant(distributor, _broad());
        uint256 id = _sub(parent, distributorOperator, subDistributor, _broad());
        assertEq(licenses.getLicense(id).licensor, distributor, "licensor is the licensee, not its operator");
    }

    function test_GrantSublicense_IdenticalScopeAllowed() public {
        uint256 parent = _grant(distributor, _broad());
        uint256 id = _sub(parent, distributor, subDistributor, _broad());
        _assertScope(licenses.getLicense(id).scope, _broad());
    }

    function test_GrantSublicense_UpToMaxDepth() public {
        uint256 id = _grant(distributor, _broad());
        for (uint256 i = 1; i <= MAX_DEPTH; ++i) {
            id = _sub(id, distributor, distributor, _broad());
            assertEq(licenses.getLicense(id).depth, i, "depth increments");
        }
        assertTrue(licenses.isValid(id, T0), "deepest licence valid");
    }

    function test_GrantSublicense_Revert_WhenTooDeep() public {
        uint256 id = _grant(distributor, _broad());
        for (uint256 i = 1; i <= MAX_DEPTH; ++i) {
            id = _sub(id, distributor, distributor, _broad());
        }
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseTooDeep.selector, id, MAX_DEPTH));
        _sub(id, distributor, distributor, _broad());
    }

    function test_GrantSublicense_Revert_WhenParentNotFound() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseNotFound.selector, 7));
        _sub(7, distributor, subDistributor, _broad());
    }

    function test_GrantSublicense_Revert_WhenParentIdIsZero() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseNotFound.selector, 0));
        _sub(0, distributor, subDistributor, _broad());
    }

    function test_GrantSublicense_Revert_WhenCallerNotParentLicensee() public {
        uint256 parent = _grant(distributor, _broad());
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseUnauthorized.selector, parent, stranger));
        _sub(parent, stranger, subDistributor, _broad());
    }

    function test_GrantSublicense_Revert_WhenCallerIsWorkOwner() public {
        uint256 parent = _grant(distributor, _broad());
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseUnauthorized.selector, parent, owner));
        _sub(parent, owner, subDistributor, _broad());
    }

    function test_GrantSublicense_Revert_WhenLicenseeIsZero() public {
        uint256 parent = _grant(distributor, _broad());
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseInvalidLicensee.selector, address(0)));
        _sub(parent, distributor, address(0), _broad());
    }

    function test_GrantSublicense_Revert_WhenEmptyScope() public {
        uint256 parent = _grant(distributor, _broad());
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseEmptyScope.selector, SOME_TERRITORIES, 0));
        _sub(parent, distributor, subDistributor, _scope(SOME_TERRITORIES, 0, START, END, false, false));
    }

    function test_GrantSublicense_Revert_WhenInvalidWindow() public {
        uint256 parent = _grant(distributor, _broad());
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseInvalidWindow.selector, END, START, T0));
        _sub(parent, distributor, subDistributor, _scope(SOME_TERRITORIES, STREAMING, END, START, false, false));
    }

    function test_GrantSublicense_Revert_WhenParentRevoked() public {
        uint256 parent = _grant(distributor, _broad());
        vm.prank(owner);
        licenses.revoke(parent);
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseParentNotValid.selector, parent));
        _sub(parent, distributor, subDistributor, _broad());
    }

    function test_GrantSublicense_Revert_WhenAncestorRevoked() public {
        uint256 root = _grant(distributor, _broad());
        uint256 mid = _sub(root, distributor, subDistributor, _broad());
        vm.prank(owner);
        licenses.revoke(root);
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseParentNotValid.selector, mid));
        _sub(mid, subDistributor, stranger, _broad());
    }

    function test_GrantSublicense_Revert_WhenParentExpired() public {
        uint256 parent = _grant(distributor, _scope(SOME_TERRITORIES, ALL_RIGHTS, START, T0 + 10, false, true));
        vm.warp(T0 + 10);
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseParentNotValid.selector, parent));
        _sub(parent, distributor, subDistributor, _scope(SOME_TERRITORIES, ALL_RIGHTS, START, T0 + 20, false, false));
    }

    function test_GrantSublicense_AllowedBeforeParentStarts() public {
        uint256 parent = _grant(distributor, _scope(SOME_TERRITORIES, ALL_RIGHTS, END, END + 10 days, false, true));
        uint256 id =
            _sub(parent, distributor, subDistributor, _scope(TERRITORY_0, STREAMING, END, END + 1, false, false));
        assertTrue(licenses.isValid(id, END), "valid once started");
        assertFalse(licenses.isValid(id, T0), "not valid yet");
    }

    function test_GrantSublicense_Revert_WhenParentNotSublicensable() public {
        uint256 parent = _grant(distributor, _scope(SOME_TERRITORIES, ALL_RIGHTS, START, END, true, false));
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseNotSublicensable.selector, parent));
        _sub(parent, distributor, subDistributor, _scope(TERRITORY_0, STREAMING, START, END, false, false));
    }

    function test_GrantSublicense_Revert_WhenExtraTerritories() public {
        uint256 parent = _grant(distributor, _broad());
        uint256 requested = TERRITORY_0 | TERRITORY_255 | (1 << 9);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILicenseRegistry.LicenseScopeExceedsParent.selector,
                parent,
                TERRITORY_255 | (1 << 9),
                uint32(0),
                START,
                END
            )
        );
        _sub(parent, distributor, subDistributor, _scope(requested, STREAMING, START, END, false, false));
    }

    function test_GrantSublicense_Revert_WhenExtraRights() public {
        uint256 parent = _grant(distributor, _scope(SOME_TERRITORIES, STREAMING | DOWNLOAD, START, END, false, true));
        vm.expectRevert(
            abi.encodeWithSelector(
                ILicenseRegistry.LicenseScopeExceedsParent.selector,
                parent,
                uint256(0),
                BROADCAST | uint32(1 << 20),
                START,
                END
            )
        );
        _sub(
            parent,
            distributor,
            subDistributor,
            _scope(TERRITORY_0, STREAMING | BROADCAST | uint32(1 << 20), START, END, false, false)
        );
    }

    function test_GrantSublicense_Revert_WhenStartsBeforeParent() public {
        uint256 parent = _grant(distributor, _scope(SOME_TERRITORIES, ALL_RIGHTS, START + 10, END, false, true));
        vm.expectRevert(
            abi.encodeWithSelector(
                ILicenseRegistry.LicenseScopeExceedsParent.selector, parent, uint256(0), uint32(0), START + 9, END
            )
        );
        _sub(parent, distributor, subDistributor, _scope(TERRITORY_0, STREAMING, START + 9, END, false, false));
    }

    function test_GrantSublicense_Revert_WhenEndsAfterParent() public {
        uint256 parent = _grant(distributor, _broad());
        vm.expectRevert(
            abi.encodeWithSelector(
                ILicenseRegistry.LicenseScopeExceedsParent.selector, parent, uint256(0), uint32(0), START, END + 1
            )
        );
        _sub(parent, distributor, subDistributor, _scope(TERRITORY_0, STREAMING, START, END + 1, false, false));
    }

    function test_GrantSublicense_Revert_WhenExclusiveUnderNonExclusiveParent() public {
        uint256 parent = _grant(distributor, _scope(SOME_TERRITORIES, ALL_RIGHTS, START, END, false, true));
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseExclusiveExceedsParent.selector, parent));
        _sub(parent, distributor, subDistributor, _scope(TERRITORY_0, STREAMING, START, END, true, false));
    }

    function test_GrantSublicense_Revert_WhenConflictsWithExclusiveSibling() public {
        uint256 parent = _grant(distributor, _broad());
        uint256 first =
            _sub(parent, distributor, subDistributor, _scope(TERRITORY_0, STREAMING, START, END, true, false));
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseExclusiveConflict.selector, first));
        _sub(parent, distributor, stranger, _scope(TERRITORY_0, STREAMING, START, END, false, false));
    }

    function test_GrantSublicense_SiblingsAreScopedToTheirParent() public {
        // The root licence is exclusive over these territories; its own sub-licences are not its siblings.
        uint256 root = _grant(distributor, _broad());
        uint256 child = _sub(root, distributor, subDistributor, _broad());
        uint256 grandchild = _sub(child, subDistributor, stranger, _broad());
        (uint256[] memory rootExclusive,) = licenses.siblingsOf(WORK, 0);
        (uint256[] memory childLevel,) = licenses.siblingsOf(WORK, root);
        (uint256[] memory grandchildLevel, uint256[] memory grandchildShared) = licenses.siblingsOf(WORK, child);
        assertEq(rootExclusive, ids(root), "root level");
        assertEq(childLevel, ids(child), "child level");
        assertEq(grandchildLevel, ids(grandchild), "grandchild level");
        assertEq(grandchildShared.length, 0, "no non-exclusive grandchildren");
    }

    function testFuzz_GrantSublicense_WithinParentSucceedsElseReverts(
        uint256 territories,
        uint32 rights,
        uint64 start,
        uint64 end,
        bool exclusive,
        uint8 shape
    ) public {
        uint256 parentTerritories = 0x0F0F;
        uint32 parentRights = STREAMING | BROADCAST;
        uint64 parentStart = T0 + 10 days;
        uint64 parentEnd = T0 + 100 days;
        uint256 parent =
            _grant(distributor, _scope(parentTerritories, parentRights, parentStart, parentEnd, false, true));

        // `shape` steers most runs towards the boundary between accepted and rejected requests.
        territories = territories & (shape & 1 == 0 ? parentTerritories : 0xFFFF);
        rights = rights & (shape & 2 == 0 ? parentRights : 0x1F);
        if (shape & 4 == 0) {
            start = uint64(bound(start, parentStart - 1, parentEnd));
            end = uint64(bound(end, parentStart, parentEnd + 1));
        } else {
            start = uint64(bound(start, T0 - 1 days, T0 + 110 days));
            end = uint64(bound(end, T0 - 1 days, T0 + 110 days));
        }
        if (shape & 8 == 0) exclusive = false;
        ILicenseRegistry.Scope memory s = _scope(territories, rights, start, end, exclusive, false);

        bytes memory expected =
            _expectedSublicenseError(parent, s, parentTerritories, parentRights, parentStart, parentEnd);
        if (expected.length != 0) {
            vm.expectRevert(expected);
            _sub(parent, distributor, subDistributor, s);
            assertEq(licenses.licenseCount(), 1, "nothing granted");
            return;
        }
        uint256 id = _sub(parent, distributor, subDistributor, s);
        ILicenseRegistry.License memory l = licenses.getLicense(id);
        assertEq(l.scope.territories & ~parentTerritories, 0, "territories within parent");
        assertEq(l.scope.rights & ~parentRights, 0, "rights within parent");
        assertTrue(l.scope.start >= parentStart && l.scope.end <= parentEnd, "window within parent");
        assertFalse(l.scope.exclusive, "not exclusive under a non-exclusive parent");
        assertEq(l.depth, 1, "depth");
    }

    /// @dev The error a sub-licence request under a non-exclusive parent must fail with, or empty if it must succeed.
    function _expectedSublicenseError(
        uint256 parent,
        ILicenseRegistry.Scope memory s,
        uint256 parentTerritories,
        uint32 parentRights,
        uint64 parentStart,
        uint64 parentEnd
    ) internal pure returns (bytes memory) {
        uint256 extraTerritories = s.territories & ~parentTerritories;
        uint32 extraRights = s.rights & ~parentRights;
        if (s.territories == 0 || s.rights == 0) {
            return abi.encodeWithSelector(ILicenseRegistry.LicenseEmptyScope.selector, s.territories, s.rights);
        }
        if (s.start >= s.end || s.end <= T0) {
            return abi.encodeWithSelector(ILicenseRegistry.LicenseInvalidWindow.selector, s.start, s.end, T0);
        }
        if (extraTerritories != 0 || extraRights != 0 || s.start < parentStart || s.end > parentEnd) {
            return abi.encodeWithSelector(
                ILicenseRegistry.LicenseScopeExceedsParent.selector,
                parent,
                extraTerritories,
                extraRights,
                s.start,
                s.end
            );
        }
        if (s.exclusive) {
            return abi.encodeWithSelector(ILicenseRegistry.LicenseExclusiveExceedsParent.selector, parent);
        }
        return "";
    }

    // ---------------------------------------------------------------- revoke

    function test_Revoke_ByWorkOwner_EmitsAndInvalidates() public {
        uint256 id = _grant(distributor, _broad());
        vm.expectEmit(true, true, true, true, address(licenses));
        emit ILicenseRegistry.LicenseRevoked(id, WORK, owner);
        vm.prank(owner);
        licenses.revoke(id);
        assertTrue(licenses.getLicense(id).revoked, "revoked flag");
        assertFalse(licenses.isValid(id, T0), "no longer valid");
    }

    function test_Revoke_ByWorkOperator() public {
        uint256 id = _grant(distributor, _broad());
        vm.expectEmit(true, true, true, true, address(licenses));
        emit ILicenseRegistry.LicenseRevoked(id, WORK, ownerOperator);
        vm.prank(ownerOperator);
        licenses.revoke(id);
        assertTrue(licenses.getLicense(id).revoked, "revoked by operator");
    }

    function test_Revoke_SublicenceByWorkOwner() public {
        uint256 parent = _grant(distributor, _broad());
        uint256 child = _sub(parent, distributor, subDistributor, _broad());
        vm.prank(owner);
        licenses.revoke(child);
        assertFalse(licenses.isValid(child, T0), "child revoked");
        assertTrue(licenses.isValid(parent, T0), "parent untouched");
    }

    function test_Revoke_SublicenceByParentLicensee() public {
        uint256 parent = _grant(distributor, _broad());
        uint256 child = _sub(parent, distributor, subDistributor, _broad());
        vm.expectEmit(true, true, true, true, address(licenses));
        emit ILicenseRegistry.LicenseRevoked(child, WORK, distributor);
        vm.prank(distributor);
        licenses.revoke(child);
        assertTrue(licenses.getLicense(child).revoked, "revoked by parent licensee");
    }

    function test_Revoke_SublicenceByParentLicenseeOperator() public {
        uint256 parent = _grant(distributor, _broad());
        uint256 child = _sub(parent, distributor, subDistributor, _broad());
        vm.prank(distributorOperator);
        licenses.revoke(child);
        assertTrue(licenses.getLicense(child).revoked, "revoked by parent licensee's operator");
    }

    function test_Revoke_ByNewOwnerAfterTransfer() public {
        uint256 id = _grant(distributor, _broad());
        vm.prank(owner);
        works.transferWorkOwnership(WORK, newOwner);
        vm.prank(newOwner);
        works.acceptWorkOwnership(WORK);

        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseUnauthorized.selector, id, owner));
        vm.prank(owner);
        licenses.revoke(id);

        vm.prank(newOwner);
        licenses.revoke(id);
        assertTrue(licenses.getLicense(id).revoked, "revoked by the new owner");
    }

    function test_Revoke_Revert_WhenNotFound() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseNotFound.selector, 1));
        vm.prank(owner);
        licenses.revoke(1);
    }

    function test_Revoke_Revert_WhenStranger() public {
        uint256 id = _grant(distributor, _broad());
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseUnauthorized.selector, id, stranger));
        vm.prank(stranger);
        licenses.revoke(id);
    }

    function test_Revoke_Revert_WhenLicenseeRevokesOwnRootLicence() public {
        uint256 id = _grant(distributor, _broad());
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseUnauthorized.selector, id, distributor));
        vm.prank(distributor);
        licenses.revoke(id);
    }

    function test_Revoke_Revert_WhenGrandparentLicenseeRevokesGrandchild() public {
        uint256 root = _grant(distributor, _broad());
        uint256 child = _sub(root, distributor, subDistributor, _broad());
        uint256 grandchild = _sub(child, subDistributor, stranger, _broad());
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseUnauthorized.selector, grandchild, distributor));
        vm.prank(distributor);
        licenses.revoke(grandchild);
    }

    function test_Revoke_Revert_WhenAlreadyRevoked() public {
        uint256 id = _grant(distributor, _broad());
        vm.startPrank(owner);
        licenses.revoke(id);
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseAlreadyRevoked.selector, id));
        licenses.revoke(id);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- isValid

    function test_IsValid_FalseWhenNotFound() public view {
        assertFalse(licenses.isValid(0, T0), "id 0");
        assertFalse(licenses.isValid(1, T0), "id beyond count");
    }

    function test_IsValid_WindowStartInclusiveEndExclusive() public {
        uint256 id = _grant(distributor, _scope(TERRITORY_0, STREAMING, START + 5, START + 10, false, false));
        assertFalse(licenses.isValid(id, START + 4), "before start");
        assertTrue(licenses.isValid(id, START + 5), "at start");
        assertTrue(licenses.isValid(id, START + 9), "last second");
        assertFalse(licenses.isValid(id, START + 10), "at end");
    }

    function test_IsValid_FalseForAllDescendantsOfRevokedLicence() public {
        uint256 root = _grant(distributor, _broad());
        uint256 child = _sub(root, distributor, subDistributor, _broad());
        uint256 grandchild = _sub(child, subDistributor, stranger, _broad());
        assertTrue(licenses.isValid(grandchild, T0), "valid before revocation");

        vm.prank(distributor);
        licenses.revoke(child);
        assertTrue(licenses.isValid(root, T0), "root still valid");
        assertFalse(licenses.isValid(child, T0), "revoked child");
        assertFalse(licenses.isValid(grandchild, T0), "grandchild of revoked");
        assertFalse(licenses.getLicense(grandchild).revoked, "grandchild's own flag untouched");
    }

    function testFuzz_IsValid_MatchesWindow(uint64 at) public {
        uint256 id = _grant(distributor, _scope(TERRITORY_0, STREAMING, START + 100, END, false, false));
        assertEq(licenses.isValid(id, at), at >= START + 100 && at < END, "window");
    }

    // ---------------------------------------------------------------- isLicensed

    function test_IsLicensed_MatchesTerritoryAndAllRights() public {
        uint256 id =
            _grant(distributor, _scope(TERRITORY_1 | TERRITORY_255, STREAMING | DOWNLOAD, START, END, false, false));
        (bool ok, uint256 found) = licenses.isLicensed(WORK, distributor, 1, STREAMING, T0);
        assertTrue(ok, "territory 1 streaming");
        assertEq(found, id, "licence id");
        (ok, found) = licenses.isLicensed(WORK, distributor, 255, STREAMING | DOWNLOAD, T0);
        assertTrue(ok, "territory 255 both rights");
        assertEq(found, id, "licence id");
    }

    function test_IsLicensed_FalseWhenTerritoryOutsideScope() public {
        _grant(distributor, _scope(TERRITORY_1, STREAMING, START, END, false, false));
        (bool ok, uint256 found) = licenses.isLicensed(WORK, distributor, 0, STREAMING, T0);
        assertFalse(ok, "territory 0 not licensed");
        assertEq(found, 0, "no id");
    }

    function test_IsLicensed_FalseWhenOnlySomeRightsInScope() public {
        _grant(distributor, _scope(TERRITORY_1, STREAMING, START, END, false, false));
        (bool ok,) = licenses.isLicensed(WORK, distributor, 1, STREAMING | DOWNLOAD, T0);
        assertFalse(ok, "download not licensed");
    }

    function test_IsLicensed_FalseWhenRightIsZero() public {
        _grant(distributor, _scope(TERRITORY_1, STREAMING, START, END, false, false));
        (bool ok,) = licenses.isLicensed(WORK, distributor, 1, 0, T0);
        assertFalse(ok, "empty right set");
    }

    function test_IsLicensed_FalseOutsideWindowAndForOthers() public {
        _grant(distributor, _scope(TERRITORY_1, STREAMING, START + 10, END, false, false));
        (bool ok,) = licenses.isLicensed(WORK, distributor, 1, STREAMING, START + 9);
        assertFalse(ok, "before start");
        (ok,) = licenses.isLicensed(WORK, distributor, 1, STREAMING, END);
        assertFalse(ok, "at end");
        (ok,) = licenses.isLicensed(WORK, stranger, 1, STREAMING, START + 10);
        assertFalse(ok, "other licensee");
        (ok,) = licenses.isLicensed(OTHER_WORK, distributor, 1, STREAMING, START + 10);
        assertFalse(ok, "other work");
    }

    function test_IsLicensed_SkipsRevokedAndFindsLaterLicence() public {
        uint256 first = _grant(distributor, _scope(TERRITORY_1, STREAMING, START, END, false, false));
        uint256 second = _grant(distributor, _scope(TERRITORY_1 | TERRITORY_2, STREAMING, START, END, false, false));
        vm.prank(owner);
        licenses.revoke(first);
        (bool ok, uint256 found) = licenses.isLicensed(WORK, distributor, 1, STREAMING, T0);
        assertTrue(ok, "second licence covers");
        assertEq(found, second, "found the unrevoked licence");
    }

    function test_IsLicensed_SublicenceFollowsAncestors() public {
        uint256 root = _grant(distributor, _broad());
        uint256 child =
            _sub(root, distributor, subDistributor, _scope(TERRITORY_2, BROADCAST, START, END, false, false));
        (bool ok, uint256 found) = licenses.isLicensed(WORK, subDistributor, 2, BROADCAST, T0);
        assertTrue(ok, "sub-licensee licensed");
        assertEq(found, child, "via sub-licence");

        vm.prank(owner);
        licenses.revoke(root);
        (ok, found) = licenses.isLicensed(WORK, subDistributor, 2, BROADCAST, T0);
        assertFalse(ok, "root revoked");
        assertEq(found, 0, "no id");
    }
}
