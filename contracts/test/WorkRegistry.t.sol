// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "./utils/BaseTest.sol";
import {WorkRegistry} from "../src/WorkRegistry.sol";
import {IWorkRegistry} from "../src/interfaces/IWorkRegistry.sol";

contract WorkRegistryTest is BaseTest {
    WorkRegistry internal registry;

    address internal owner = makeAddr("owner");
    address internal operator = makeAddr("operator");
    address internal newOwner = makeAddr("newOwner");
    address internal stranger = makeAddr("stranger");

    bytes32 internal immutable WORK = sha256("master file of The Film");
    bytes32 internal constant FINGERPRINT = keccak256("perceptual fingerprint");
    bytes32 internal constant META_HASH = keccak256("metadata v1");
    bytes32 internal constant META_HASH_2 = keccak256("metadata v2");
    string internal constant META_URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
    string internal constant META_URI_2 = "ipfs://bafybeihkoviema7g3gxyt6la7vd5ho32ictqbilu3wnlo3rs7ewhnp7lly";
    uint256 internal constant T0 = 1_700_000_000;

    function setUp() public {
        vm.warp(T0);
        registry = new WorkRegistry();
    }

    function _register() internal {
        vm.prank(owner);
        registry.register(WORK, owner, FINGERPRINT, META_HASH, META_URI);
    }

    function _approveOperator() internal {
        vm.prank(owner);
        registry.setOperator(operator, true);
    }

    // ---------------------------------------------------------------- register

    function test_Register_StoresOwnerAndTimestamp() public {
        _register();
        (address storedOwner, uint48 registeredAt) = registry.work(WORK);
        assertEq(storedOwner, owner, "stored owner");
        assertEq(registeredAt, T0, "registeredAt is the block timestamp");
        assertEq(registry.ownerOf(WORK), owner, "ownerOf");
        assertEq(registry.pendingOwnerOf(WORK), address(0), "no pending owner");
    }

    function test_Register_EmitsWorkRegistered() public {
        vm.expectEmit(true, true, true, true, address(registry));
        emit IWorkRegistry.WorkRegistered(WORK, owner, owner, FINGERPRINT, META_HASH, META_URI);
        _register();
    }

    function test_Register_ByOperator_RecordsOwnerAndOperatorAsRegistrar() public {
        _approveOperator();
        vm.expectEmit(true, true, true, true, address(registry));
        emit IWorkRegistry.WorkRegistered(WORK, owner, operator, FINGERPRINT, META_HASH, META_URI);
        vm.prank(operator);
        registry.register(WORK, owner, FINGERPRINT, META_HASH, META_URI);
        assertEq(registry.ownerOf(WORK), owner, "owner, not operator, owns the work");
    }

    function test_Register_Revert_WhenIdIsZero() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkInvalidId.selector));
        vm.prank(owner);
        registry.register(bytes32(0), owner, FINGERPRINT, META_HASH, META_URI);
    }

    function test_Register_Revert_WhenOwnerIsZero() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkInvalidOwner.selector, address(0)));
        vm.prank(owner);
        registry.register(WORK, address(0), FINGERPRINT, META_HASH, META_URI);
    }

    function test_Register_Revert_WhenCallerIsNotOwnerOrOperator() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkUnauthorized.selector, WORK, stranger));
        vm.prank(stranger);
        registry.register(WORK, owner, FINGERPRINT, META_HASH, META_URI);
    }

    function test_Register_Revert_WhenOperatorApprovalRemoved() public {
        _approveOperator();
        vm.prank(owner);
        registry.setOperator(operator, false);
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkUnauthorized.selector, WORK, operator));
        vm.prank(operator);
        registry.register(WORK, owner, FINGERPRINT, META_HASH, META_URI);
    }

    function test_Register_Revert_WhenOperatorOfAnotherOwner() public {
        _approveOperator();
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkUnauthorized.selector, WORK, operator));
        vm.prank(operator);
        registry.register(WORK, stranger, FINGERPRINT, META_HASH, META_URI);
    }

    function test_Register_Revert_WhenAlreadyRegistered() public {
        _register();
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkAlreadyRegistered.selector, WORK, owner));
        vm.prank(owner);
        registry.register(WORK, owner, FINGERPRINT, META_HASH_2, META_URI_2);
    }

    function test_Register_Revert_WhenAlreadyRegisteredByAnotherOwner() public {
        _register();
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkAlreadyRegistered.selector, WORK, owner));
        vm.prank(stranger);
        registry.register(WORK, stranger, FINGERPRINT, META_HASH, META_URI);
        assertEq(registry.ownerOf(WORK), owner, "first registration stands");
    }

    function testFuzz_Register_OnlyOnceForAnyId(bytes32 workId, address first, address second, uint48 at) public {
        vm.assume(workId != bytes32(0) && first != address(0) && second != address(0));
        vm.warp(at);
        vm.prank(first);
        registry.register(workId, first, FINGERPRINT, META_HASH, META_URI);
        (address storedOwner, uint48 registeredAt) = registry.work(workId);
        assertEq(storedOwner, first, "first registrant owns the work");
        assertEq(registeredAt, at, "timestamp recorded");

        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkAlreadyRegistered.selector, workId, first));
        vm.prank(second);
        registry.register(workId, second, FINGERPRINT, META_HASH, META_URI);
        assertEq(registry.ownerOf(workId), first, "owner unchanged");
    }

    function testFuzz_Register_Revert_WhenCallerUnauthorized(bytes32 workId, address claimedOwner, address caller)
        public
    {
        vm.assume(workId != bytes32(0) && claimedOwner != address(0) && caller != claimedOwner);
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkUnauthorized.selector, workId, caller));
        vm.prank(caller);
        registry.register(workId, claimedOwner, FINGERPRINT, META_HASH, META_URI);
    }

    // ---------------------------------------------------------------- updateMetadata

    function test_UpdateMetadata_EmitsWorkMetadataUpdated_ByOwner() public {
        _register();
        vm.expectEmit(true, true, true, true, address(registry));
        emit IWorkRegistry.WorkMetadataUpdated(WORK, META_HASH_2, META_URI_2);
        vm.prank(owner);
        registry.updateMetadata(WORK, META_HASH_2, META_URI_2);
    }

    function test_UpdateMetadata_EmitsWorkMetadataUpdated_ByOperator() public {
        _register();
        _approveOperator();
        vm.expectEmit(true, true, true, true, address(registry));
        emit IWorkRegistry.WorkMetadataUpdated(WORK, META_HASH_2, META_URI_2);
        vm.prank(operator);
        registry.updateMetadata(WORK, META_HASH_2, META_URI_2);
    }

    function test_UpdateMetadata_Revert_WhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkNotRegistered.selector, WORK));
        vm.prank(owner);
        registry.updateMetadata(WORK, META_HASH_2, META_URI_2);
    }

    function test_UpdateMetadata_Revert_WhenUnauthorized() public {
        _register();
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkUnauthorized.selector, WORK, stranger));
        vm.prank(stranger);
        registry.updateMetadata(WORK, META_HASH_2, META_URI_2);
    }

    // ---------------------------------------------------------------- operators

    function test_SetOperator_ApprovesAndEmits() public {
        vm.expectEmit(true, true, true, true, address(registry));
        emit IWorkRegistry.OperatorSet(owner, operator, true);
        _approveOperator();
        assertTrue(registry.isOperator(owner, operator), "operator approved");
        assertFalse(registry.isOperator(operator, owner), "approval is directional");
        assertFalse(registry.isOperator(stranger, operator), "approval is per owner");
    }

    function test_SetOperator_RemovesAndEmits() public {
        _approveOperator();
        vm.expectEmit(true, true, true, true, address(registry));
        emit IWorkRegistry.OperatorSet(owner, operator, false);
        vm.prank(owner);
        registry.setOperator(operator, false);
        assertFalse(registry.isOperator(owner, operator), "operator removed");
    }

    function test_SetOperator_Revert_WhenOperatorIsZero() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkInvalidOperator.selector, address(0)));
        vm.prank(owner);
        registry.setOperator(address(0), true);
    }

    function test_SetOperator_Revert_WhenOperatorIsCaller() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkInvalidOperator.selector, owner));
        vm.prank(owner);
        registry.setOperator(owner, true);
    }

    function testFuzz_SetOperator_RoundTrip(address account, address op, bool approved) public {
        vm.assume(op != address(0) && op != account);
        vm.prank(account);
        registry.setOperator(op, approved);
        assertEq(registry.isOperator(account, op), approved, "approval stored");
    }

    // ---------------------------------------------------------------- isAuthorized / views

    function test_IsAuthorized_OwnerAndOperatorOnly() public {
        _register();
        _approveOperator();
        assertTrue(registry.isAuthorized(WORK, owner), "owner");
        assertTrue(registry.isAuthorized(WORK, operator), "operator");
        assertFalse(registry.isAuthorized(WORK, stranger), "stranger");
    }

    function test_IsAuthorized_FalseWhenNotRegistered() public view {
        assertFalse(registry.isAuthorized(WORK, owner), "unregistered work");
        assertFalse(registry.isAuthorized(WORK, address(0)), "zero account on unregistered work");
    }

    function test_Work_ReturnsZeroesWhenNotRegistered() public view {
        (address storedOwner, uint48 registeredAt) = registry.work(WORK);
        assertEq(storedOwner, address(0), "owner zero");
        assertEq(registeredAt, 0, "timestamp zero");
    }

    function test_OwnerOf_Revert_WhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkNotRegistered.selector, WORK));
        registry.ownerOf(WORK);
    }

    // ---------------------------------------------------------------- ownership transfer

    function test_TransferWorkOwnership_StartsTransferAndEmits() public {
        _register();
        vm.expectEmit(true, true, true, true, address(registry));
        emit IWorkRegistry.WorkOwnershipTransferStarted(WORK, owner, newOwner);
        vm.prank(owner);
        registry.transferWorkOwnership(WORK, newOwner);
        assertEq(registry.pendingOwnerOf(WORK), newOwner, "pending owner set");
        assertEq(registry.ownerOf(WORK), owner, "owner unchanged until acceptance");
    }

    function test_TransferWorkOwnership_ByOperator() public {
        _register();
        _approveOperator();
        vm.prank(operator);
        registry.transferWorkOwnership(WORK, newOwner);
        assertEq(registry.pendingOwnerOf(WORK), newOwner, "operator may start a transfer");
    }

    function test_AcceptWorkOwnership_CompletesTransferAndEmits() public {
        _register();
        vm.prank(owner);
        registry.transferWorkOwnership(WORK, newOwner);
        vm.warp(T0 + 1 days);

        vm.expectEmit(true, true, true, true, address(registry));
        emit IWorkRegistry.WorkOwnershipTransferred(WORK, owner, newOwner);
        vm.prank(newOwner);
        registry.acceptWorkOwnership(WORK);

        (address storedOwner, uint48 registeredAt) = registry.work(WORK);
        assertEq(storedOwner, newOwner, "new owner");
        assertEq(registeredAt, T0, "registration time kept");
        assertEq(registry.pendingOwnerOf(WORK), address(0), "pending cleared");
        assertTrue(registry.isAuthorized(WORK, newOwner), "new owner authorized");
        assertFalse(registry.isAuthorized(WORK, owner), "previous owner no longer authorized");
    }

    function test_AcceptWorkOwnership_PreviousOwnersOperatorLosesAuthority() public {
        _register();
        _approveOperator();
        vm.prank(owner);
        registry.transferWorkOwnership(WORK, newOwner);
        vm.prank(newOwner);
        registry.acceptWorkOwnership(WORK);

        assertFalse(registry.isAuthorized(WORK, operator), "operator of previous owner");
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkUnauthorized.selector, WORK, operator));
        vm.prank(operator);
        registry.updateMetadata(WORK, META_HASH_2, META_URI_2);
    }

    function test_TransferWorkOwnership_ToZeroCancelsPending() public {
        _register();
        vm.prank(owner);
        registry.transferWorkOwnership(WORK, newOwner);

        vm.expectEmit(true, true, true, true, address(registry));
        emit IWorkRegistry.WorkOwnershipTransferStarted(WORK, owner, address(0));
        vm.prank(owner);
        registry.transferWorkOwnership(WORK, address(0));
        assertEq(registry.pendingOwnerOf(WORK), address(0), "pending cleared");

        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkNotPendingOwner.selector, WORK, newOwner));
        vm.prank(newOwner);
        registry.acceptWorkOwnership(WORK);
    }

    function test_TransferWorkOwnership_NewOfferReplacesPending() public {
        _register();
        vm.startPrank(owner);
        registry.transferWorkOwnership(WORK, newOwner);
        registry.transferWorkOwnership(WORK, stranger);
        vm.stopPrank();
        assertEq(registry.pendingOwnerOf(WORK), stranger, "latest offer pending");

        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkNotPendingOwner.selector, WORK, newOwner));
        vm.prank(newOwner);
        registry.acceptWorkOwnership(WORK);
    }

    function test_TransferWorkOwnership_Revert_WhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkNotRegistered.selector, WORK));
        vm.prank(owner);
        registry.transferWorkOwnership(WORK, newOwner);
    }

    function test_TransferWorkOwnership_Revert_WhenUnauthorized() public {
        _register();
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkUnauthorized.selector, WORK, stranger));
        vm.prank(stranger);
        registry.transferWorkOwnership(WORK, stranger);
    }

    function test_AcceptWorkOwnership_Revert_WhenCallerNotPendingOwner() public {
        _register();
        vm.prank(owner);
        registry.transferWorkOwnership(WORK, newOwner);
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkNotPendingOwner.selector, WORK, stranger));
        vm.prank(stranger);
        registry.acceptWorkOwnership(WORK);
    }

    function test_AcceptWorkOwnership_Revert_WhenNoTransferPending() public {
        _register();
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkNotPendingOwner.selector, WORK, owner));
        vm.prank(owner);
        registry.acceptWorkOwnership(WORK);
    }

    function test_AcceptWorkOwnership_Revert_WhenZeroAddressOnUnregisteredWork() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkNotPendingOwner.selector, WORK, address(0)));
        vm.prank(address(0));
        registry.acceptWorkOwnership(WORK);
    }

    function testFuzz_TransferWorkOwnership_OnlyPendingOwnerCanAccept(address to, address caller) public {
        vm.assume(to != address(0) && caller != to);
        _register();
        vm.prank(owner);
        registry.transferWorkOwnership(WORK, to);

        vm.expectRevert(abi.encodeWithSelector(IWorkRegistry.WorkNotPendingOwner.selector, WORK, caller));
        vm.prank(caller);
        registry.acceptWorkOwnership(WORK);

        vm.prank(to);
        registry.acceptWorkOwnership(WORK);
        assertEq(registry.ownerOf(WORK), to, "pending owner accepted");
    }
}
