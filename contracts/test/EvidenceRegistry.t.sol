// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {BaseTest} from "./utils/BaseTest.sol";
import {Vm} from "./utils/Vm.sol";
import {WorkRegistry} from "../src/WorkRegistry.sol";
import {EvidenceRegistry} from "../src/EvidenceRegistry.sol";
import {IEvidenceRegistry} from "../src/interfaces/IEvidenceRegistry.sol";

contract EvidenceRegistryTest is BaseTest {
    WorkRegistry internal works;
    EvidenceRegistry internal evidence;

    address internal admin = makeAddr("admin");
    address internal anchorer = makeAddr("anchorer");
    address internal owner = makeAddr("owner");
    address internal stranger = makeAddr("stranger");

    bytes32 internal constant WORK = keccak256("work");
    bytes32 internal constant OTHER_WORK = keccak256("other work");
    bytes32 internal constant UNREGISTERED = keccak256("unregistered");
    /// @dev SHA-256 of "evidence bundle", written out: a `sha256(...)` constant is a precompile call at each use,
    /// which `expectRevert` would take for the call under test.
    bytes32 internal constant EVIDENCE = 0x3b42d09f740ca0ab322b4fd49ed0cd27c1f7203b6382039f2eac232090a374d8;
    uint48 internal constant T0 = 1_700_000_000;

    function setUp() public {
        vm.warp(T0);
        works = new WorkRegistry();
        evidence = new EvidenceRegistry(works, admin, anchorer);
        vm.startPrank(owner);
        works.register(WORK, owner, bytes32(0), bytes32(0), "");
        works.register(OTHER_WORK, owner, bytes32(0), bytes32(0), "");
        vm.stopPrank();
    }

    function _anchor(address by, bytes32 evidenceHash, bytes32 workId) internal {
        vm.prank(by);
        evidence.anchor(evidenceHash, workId);
    }

    function _unauthorized(address account) internal view returns (bytes memory) {
        return abi.encodeWithSelector(
            IAccessControl.AccessControlUnauthorizedAccount.selector, account, evidence.ANCHORER_ROLE()
        );
    }

    // ---------------------------------------------------------------- construction and views

    function test_Constructor_GrantsAdminAndAnchorerRoles() public view {
        assertEq(address(evidence.works()), address(works), "works()");
        assertEq(evidence.ANCHORER_ROLE(), keccak256("ANCHORER_ROLE"), "role id");
        assertTrue(evidence.hasRole(evidence.DEFAULT_ADMIN_ROLE(), admin), "admin administers");
        assertTrue(evidence.hasRole(evidence.ANCHORER_ROLE(), anchorer), "anchorer anchors");
        assertFalse(evidence.hasRole(evidence.ANCHORER_ROLE(), admin), "admin does not anchor by itself");
        assertFalse(evidence.hasRole(evidence.DEFAULT_ADMIN_ROLE(), anchorer), "anchorer does not administer");
    }

    function test_AnchorOf_IsZeroWhenNeverAnchored() public view {
        (bytes32 workId, uint48 anchoredAt, address anchoredBy) = evidence.anchorOf(EVIDENCE);
        assertEq(workId, bytes32(0), "no work");
        assertEq(anchoredAt, 0, "no time");
        assertEq(anchoredBy, address(0), "nobody");
    }

    // ---------------------------------------------------------------- anchor

    function test_Anchor_StoresWorkTimeAndAnchorer() public {
        vm.warp(T0 + 5);
        _anchor(anchorer, EVIDENCE, WORK);
        (bytes32 workId, uint48 anchoredAt, address anchoredBy) = evidence.anchorOf(EVIDENCE);
        assertEq(workId, WORK, "work");
        assertEq(anchoredAt, T0 + 5, "block time");
        assertEq(anchoredBy, anchorer, "anchored by the anchorer");
    }

    function test_Anchor_EmitsEvidenceAnchored() public {
        vm.warp(T0 + 7);
        vm.recordLogs();
        _anchor(anchorer, EVIDENCE, WORK);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        assertEq(logs.length, 1, "one event");
        assertEq(logs[0].emitter, address(evidence), "emitted by the registry");
        assertEq(logs[0].topics.length, 4, "three indexed fields");
        assertEq(logs[0].topics[0], IEvidenceRegistry.EvidenceAnchored.selector, "EvidenceAnchored");
        assertEq(logs[0].topics[1], EVIDENCE, "evidence hash topic");
        assertEq(logs[0].topics[2], WORK, "work topic");
        assertEq(logs[0].topics[3], bytes32(uint256(uint160(anchorer))), "anchorer topic");
        assertEq(abi.decode(logs[0].data, (uint48)), T0 + 7, "anchored at");
    }

    function test_Anchor_EmitsEvidenceAnchored_AsExpected() public {
        vm.expectEmit(address(evidence));
        emit IEvidenceRegistry.EvidenceAnchored(EVIDENCE, WORK, anchorer, T0);
        _anchor(anchorer, EVIDENCE, WORK);
    }

    function test_Anchor_DistinctHashesForOneWork_AreIndependent() public {
        bytes32 second = sha256("second bundle");
        _anchor(anchorer, EVIDENCE, WORK);
        vm.warp(T0 + 60);
        _anchor(anchorer, second, WORK);
        (bytes32 firstWork, uint48 firstAt,) = evidence.anchorOf(EVIDENCE);
        (bytes32 secondWork, uint48 secondAt,) = evidence.anchorOf(second);
        assertEq(firstWork, WORK, "first bundle's work");
        assertEq(secondWork, WORK, "second bundle's work");
        assertEq(firstAt, T0, "first bundle keeps its time");
        assertEq(secondAt, T0 + 60, "second bundle has its own");
    }

    function test_Anchor_Revert_WhenNotAnchorer() public {
        vm.expectRevert(_unauthorized(stranger));
        _anchor(stranger, EVIDENCE, WORK);
    }

    function test_Anchor_Revert_WhenAdminWithoutAnchorerRole() public {
        vm.expectRevert(_unauthorized(admin));
        _anchor(admin, EVIDENCE, WORK);
    }

    function test_Anchor_Revert_WhenWorkOwnerWithoutAnchorerRole() public {
        vm.expectRevert(_unauthorized(owner));
        _anchor(owner, EVIDENCE, WORK);
    }

    function test_Anchor_Revert_WhenHashZero() public {
        vm.expectRevert(abi.encodeWithSelector(IEvidenceRegistry.EvidenceInvalidHash.selector));
        _anchor(anchorer, bytes32(0), WORK);
    }

    function test_Anchor_Revert_WhenWorkNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IEvidenceRegistry.EvidenceUnknownWork.selector, UNREGISTERED));
        _anchor(anchorer, EVIDENCE, UNREGISTERED);
    }

    function test_Anchor_Revert_WhenWorkIdZero() public {
        vm.expectRevert(abi.encodeWithSelector(IEvidenceRegistry.EvidenceUnknownWork.selector, bytes32(0)));
        _anchor(anchorer, EVIDENCE, bytes32(0));
    }

    function test_Anchor_Revert_WhenAlreadyAnchored_EvenForAnotherWork() public {
        _anchor(anchorer, EVIDENCE, WORK);
        vm.warp(T0 + 100);
        bytes memory already =
            abi.encodeWithSelector(IEvidenceRegistry.EvidenceAlreadyAnchored.selector, EVIDENCE, WORK, T0);
        vm.expectRevert(already);
        _anchor(anchorer, EVIDENCE, WORK);
        vm.expectRevert(already);
        _anchor(anchorer, EVIDENCE, OTHER_WORK);

        (bytes32 workId, uint48 anchoredAt, address anchoredBy) = evidence.anchorOf(EVIDENCE);
        assertEq(workId, WORK, "first work kept");
        assertEq(anchoredAt, T0, "first time kept");
        assertEq(anchoredBy, anchorer, "first anchorer kept");
    }

    // ---------------------------------------------------------------- roles

    function test_GrantRole_ByAdmin_LetsNewAnchorerAnchor() public {
        bytes32 role = evidence.ANCHORER_ROLE();
        vm.prank(admin);
        evidence.grantRole(role, stranger);
        assertTrue(evidence.hasRole(role, stranger), "role granted");
        _anchor(stranger, EVIDENCE, WORK);
        (,, address anchoredBy) = evidence.anchorOf(EVIDENCE);
        assertEq(anchoredBy, stranger, "anchored by the new anchorer");
    }

    function test_RevokeRole_ByAdmin_StopsAnchorer() public {
        bytes32 role = evidence.ANCHORER_ROLE();
        vm.prank(admin);
        evidence.revokeRole(role, anchorer);
        vm.expectRevert(_unauthorized(anchorer));
        _anchor(anchorer, EVIDENCE, WORK);
    }

    function test_GrantRole_Revert_WhenNotAdmin() public {
        bytes32 role = evidence.ANCHORER_ROLE();
        bytes32 adminRole = evidence.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, anchorer, adminRole)
        );
        vm.prank(anchorer);
        evidence.grantRole(role, stranger);
        assertFalse(evidence.hasRole(role, stranger), "nothing granted");
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_Anchor_AnchorOfReturnsWhatWasAnchored(bytes32 evidenceHash, bool otherWork, uint48 at) public {
        vm.assume(evidenceHash != bytes32(0));
        bytes32 workId = otherWork ? OTHER_WORK : WORK;
        vm.warp(at);
        _anchor(anchorer, evidenceHash, workId);

        (bytes32 storedWork, uint48 anchoredAt, address anchoredBy) = evidence.anchorOf(evidenceHash);
        assertEq(storedWork, workId, "work");
        assertEq(anchoredAt, at, "time");
        assertEq(anchoredBy, anchorer, "anchorer");

        vm.expectRevert(
            abi.encodeWithSelector(IEvidenceRegistry.EvidenceAlreadyAnchored.selector, evidenceHash, workId, at)
        );
        _anchor(anchorer, evidenceHash, workId);
    }

    function testFuzz_Anchor_ManyHashesEachReadBack(bytes32 seed, uint8 count) public {
        uint256 n = bound(count, 1, 16);
        for (uint256 i = 0; i < n; i++) {
            bytes32 h = keccak256(abi.encode(seed, i));
            vm.warp(T0 + i);
            _anchor(anchorer, h, i % 2 == 0 ? WORK : OTHER_WORK);
        }
        for (uint256 i = 0; i < n; i++) {
            (bytes32 workId, uint48 anchoredAt, address anchoredBy) = evidence.anchorOf(keccak256(abi.encode(seed, i)));
            assertEq(workId, i % 2 == 0 ? WORK : OTHER_WORK, "work read back");
            assertEq(anchoredAt, T0 + i, "time read back");
            assertEq(anchoredBy, anchorer, "anchorer read back");
        }
    }
}
