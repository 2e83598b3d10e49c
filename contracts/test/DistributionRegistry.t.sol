// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "./utils/BaseTest.sol";
import {WorkRegistry} from "../src/WorkRegistry.sol";
import {DistributionRegistry} from "../src/DistributionRegistry.sol";
import {IDistributionRegistry} from "../src/interfaces/IDistributionRegistry.sol";

contract DistributionRegistryTest is BaseTest {
    WorkRegistry internal works;
    DistributionRegistry internal distributions;

    address internal owner = makeAddr("owner");
    address internal operator = makeAddr("operator");
    address internal newOwner = makeAddr("newOwner");
    address internal stranger = makeAddr("stranger");

    bytes32 internal constant WORK = keccak256("work");
    bytes32 internal constant OTHER_WORK = keccak256("other work");
    bytes32 internal constant UNREGISTERED = keccak256("unregistered");
    bytes32 internal constant RECORD = keccak256("distribution record");
    uint64 internal constant PAYLOAD = 0x5eed0badf00d;
    uint64 internal constant T0 = 1_700_000_000;

    function setUp() public {
        vm.warp(T0);
        works = new WorkRegistry();
        distributions = new DistributionRegistry(works);
        vm.startPrank(owner);
        works.register(WORK, owner, bytes32(0), bytes32(0), "");
        works.register(OTHER_WORK, owner, bytes32(0), bytes32(0), "");
        works.setOperator(operator, true);
        vm.stopPrank();
    }

    function _anchor(address by, bytes32 workId, uint64 payload, bytes32 recordHash) internal {
        vm.prank(by);
        distributions.anchor(workId, payload, recordHash);
    }

    function test_Views_Initially() public view {
        assertEq(address(distributions.works()), address(works), "works()");
        assertEq(distributions.MAX_PAYLOAD(), 2 ** 48 - 1, "48-bit payloads");
        (bytes32 recordHash, uint48 anchoredAt, address anchoredBy) = distributions.anchorOf(WORK, PAYLOAD);
        assertEq(recordHash, bytes32(0), "nothing anchored");
        assertEq(anchoredAt, 0, "no time");
        assertEq(anchoredBy, address(0), "nobody");
    }

    function test_Anchor_ByOwner_StoresRecord() public {
        vm.warp(T0 + 5);
        _anchor(owner, WORK, PAYLOAD, RECORD);
        (bytes32 recordHash, uint48 anchoredAt, address anchoredBy) = distributions.anchorOf(WORK, PAYLOAD);
        assertEq(recordHash, RECORD, "record hash");
        assertEq(anchoredAt, T0 + 5, "block time");
        assertEq(anchoredBy, owner, "anchored by the owner");
    }

    function test_Anchor_ByOperator() public {
        _anchor(operator, WORK, PAYLOAD, RECORD);
        (,, address anchoredBy) = distributions.anchorOf(WORK, PAYLOAD);
        assertEq(anchoredBy, operator, "anchored by the operator");
    }

    function test_Anchor_EmitsDistributionAnchored() public {
        vm.expectEmit(true, true, true, true, address(distributions));
        emit IDistributionRegistry.DistributionAnchored(WORK, PAYLOAD, RECORD, operator);
        _anchor(operator, WORK, PAYLOAD, RECORD);
    }

    function test_Anchor_SamePayloadOnAnotherWork_IsIndependent() public {
        _anchor(owner, WORK, PAYLOAD, RECORD);
        _anchor(owner, OTHER_WORK, PAYLOAD, keccak256("other"));
        (bytes32 a,,) = distributions.anchorOf(WORK, PAYLOAD);
        (bytes32 b,,) = distributions.anchorOf(OTHER_WORK, PAYLOAD);
        assertEq(a, RECORD, "first work keeps its record");
        assertEq(b, keccak256("other"), "second work has its own");
    }

    function test_Anchor_RevertsWhen_Stranger() public {
        vm.expectRevert(abi.encodeWithSelector(IDistributionRegistry.DistributionUnauthorized.selector, WORK, stranger));
        _anchor(stranger, WORK, PAYLOAD, RECORD);
    }

    function test_Anchor_RevertsWhen_OperatorApprovalWithdrawn() public {
        vm.prank(owner);
        works.setOperator(operator, false);
        vm.expectRevert(abi.encodeWithSelector(IDistributionRegistry.DistributionUnauthorized.selector, WORK, operator));
        _anchor(operator, WORK, PAYLOAD, RECORD);
    }

    function test_Anchor_RevertsWhen_WorkNotRegistered() public {
        vm.expectRevert(
            abi.encodeWithSelector(IDistributionRegistry.DistributionUnauthorized.selector, UNREGISTERED, owner)
        );
        _anchor(owner, UNREGISTERED, PAYLOAD, RECORD);
    }

    function test_Anchor_FollowsOwnershipTransfer() public {
        vm.prank(owner);
        works.transferWorkOwnership(WORK, newOwner);
        vm.prank(newOwner);
        works.acceptWorkOwnership(WORK);
        vm.expectRevert(abi.encodeWithSelector(IDistributionRegistry.DistributionUnauthorized.selector, WORK, owner));
        _anchor(owner, WORK, PAYLOAD, RECORD);
        _anchor(newOwner, WORK, PAYLOAD, RECORD);
        (,, address anchoredBy) = distributions.anchorOf(WORK, PAYLOAD);
        assertEq(anchoredBy, newOwner, "the new owner anchors");
    }

    function test_Anchor_RevertsWhen_PayloadZero() public {
        vm.expectRevert(abi.encodeWithSelector(IDistributionRegistry.DistributionInvalidPayload.selector, uint64(0)));
        _anchor(owner, WORK, 0, RECORD);
    }

    function test_Anchor_RevertsWhen_PayloadWiderThan48Bits() public {
        uint64 wide = uint64(2 ** 48);
        vm.expectRevert(abi.encodeWithSelector(IDistributionRegistry.DistributionInvalidPayload.selector, wide));
        _anchor(owner, WORK, wide, RECORD);
    }

    function test_Anchor_AcceptsLargestPayload() public {
        _anchor(owner, WORK, uint64(2 ** 48 - 1), RECORD);
        (bytes32 recordHash,,) = distributions.anchorOf(WORK, uint64(2 ** 48 - 1));
        assertEq(recordHash, RECORD, "largest payload anchored");
    }

    function test_Anchor_RevertsWhen_RecordZero() public {
        vm.expectRevert(abi.encodeWithSelector(IDistributionRegistry.DistributionInvalidRecord.selector));
        _anchor(owner, WORK, PAYLOAD, bytes32(0));
    }

    function test_Anchor_RevertsWhen_AlreadyAnchored_EvenWithSameHash() public {
        _anchor(owner, WORK, PAYLOAD, RECORD);
        vm.expectRevert(
            abi.encodeWithSelector(IDistributionRegistry.DistributionAlreadyAnchored.selector, WORK, PAYLOAD, RECORD)
        );
        _anchor(operator, WORK, PAYLOAD, keccak256("rewritten"));
        vm.expectRevert(
            abi.encodeWithSelector(IDistributionRegistry.DistributionAlreadyAnchored.selector, WORK, PAYLOAD, RECORD)
        );
        _anchor(owner, WORK, PAYLOAD, RECORD);
        (bytes32 recordHash,, address anchoredBy) = distributions.anchorOf(WORK, PAYLOAD);
        assertEq(recordHash, RECORD, "first record kept");
        assertEq(anchoredBy, owner, "first anchorer kept");
    }

    function testFuzz_Anchor_OnceThenFixed(uint64 payload, bytes32 first, bytes32 second, address caller) public {
        payload = uint64(bound(payload, 1, 2 ** 48 - 1));
        vm.assume(first != bytes32(0) && second != bytes32(0));
        bool allowed = caller == owner || caller == operator;
        if (!allowed) {
            vm.expectRevert(
                abi.encodeWithSelector(IDistributionRegistry.DistributionUnauthorized.selector, WORK, caller)
            );
        }
        _anchor(caller, WORK, payload, first);
        (bytes32 recordHash,,) = distributions.anchorOf(WORK, payload);
        assertEq(recordHash, allowed ? first : bytes32(0), "anchored only by the owner's side");
        if (allowed) {
            vm.expectRevert(
                abi.encodeWithSelector(IDistributionRegistry.DistributionAlreadyAnchored.selector, WORK, payload, first)
            );
            _anchor(owner, WORK, payload, second);
        }
    }
}
