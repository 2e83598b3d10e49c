// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SettlementTestBase} from "./utils/SettlementTestBase.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ISettlementRegistry, StatementLine} from "../src/interfaces/ISettlementRegistry.sol";

/// @dev Opening disputes: {dispute}. Decisions are in SettlementArbiter.t.sol, held lines in SettlementEscrow.t.sol.
contract SettlementDisputesTest is SettlementTestBase {
    // ---------------------------------------------------------------- dispute

    function test_Dispute_NumbersDisputesFromZeroPerPeriod() public {
        _commit(PERIOD);
        _commit(OTHER_PERIOD);
        assertEq(_dispute(PERIOD, 0, "a"), 0, "first dispute");
        assertEq(_dispute(PERIOD, 1, "b"), 1, "second dispute");
        assertEq(_dispute(OTHER_PERIOD, 3, "c"), 0, "first dispute of another period");
        assertEq(registry.disputeCount(PERIOD), 2, "count");
        assertEq(registry.period(PERIOD).openDisputes, 2, "open");
        assertTrue(registry.disputeOf(PERIOD, 1).state == ISettlementRegistry.DisputeState.Open, "dispute 1 open");
        assertFalse(
            registry.disputeOf(PERIOD, 2).state == ISettlementRegistry.DisputeState.Open, "dispute 2 never opened"
        );
    }

    function test_Dispute_EmitsDisputedWithLine() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "first");
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.Disputed(PERIOD, 1, ALICE, 2, "wrong rate", 8, T0 + DECISION_WINDOW, 0);
        _dispute(PERIOD, 2, "wrong rate");
    }

    function test_Dispute_RecordsDisputedLine() public {
        _commit(PERIOD);
        _dispute(PERIOD, 3, "r");
        assertTrue(registry.isLineHeld(PERIOD, 3), "line 3 disputed");
        assertFalse(registry.isLineHeld(PERIOD, 2), "line 2 not disputed");
        assertFalse(registry.isLineHeld(OTHER_PERIOD, 3), "line 3 of another period not disputed");
    }

    function test_Dispute_PayeeMayDisputeEachOfItsLines() public {
        _commit(PERIOD);
        // Alice is the payee of lines 0 and 2; each line holds its own dispute.
        assertEq(_dispute(PERIOD, 0, "a"), 0, "line 0");
        assertEq(_dispute(PERIOD, 2, "b"), 1, "line 2");
        assertEq(registry.period(PERIOD).openDisputes, 2, "both open");
    }

    function test_Dispute_SameLineInAnotherPeriod() public {
        _commit(PERIOD);
        _commit(OTHER_PERIOD);
        _dispute(PERIOD, 1, "a");
        assertEq(_dispute(OTHER_PERIOD, 1, "a"), 0, "the same line of another period is disputed apart");
    }

    function test_Dispute_OpenUntilLastSecondOfWindow() public {
        _commit(PERIOD);
        vm.warp(T0 + WINDOW - 1);
        assertEq(_dispute(PERIOD, 4, "late"), 0, "disputed in the last second");
    }

    function test_Dispute_AgainAfterResolved() public {
        _commit(PERIOD);
        assertEq(_dispute(PERIOD, 1, "first"), 0, "first dispute");
        vm.prank(arbiter);
        registry.decide(PERIOD, 0, false, 0, "rejected");
        assertFalse(registry.isLineHeld(PERIOD, 1), "line free again");
        assertEq(_dispute(PERIOD, 1, "second"), 1, "disputed again");
        assertTrue(registry.isLineHeld(PERIOD, 1), "line disputed again");
        assertTrue(registry.disputeOf(PERIOD, 1).state == ISettlementRegistry.DisputeState.Open, "new dispute open");
        assertFalse(
            registry.disputeOf(PERIOD, 0).state == ISettlementRegistry.DisputeState.Open, "old dispute stays resolved"
        );
        assertEq(registry.period(PERIOD).openDisputes, 1, "one open");
    }

    function test_Dispute_LineCannotBeSettledWhileWindowOpen() public {
        // A line is settled (claimed or paid off-chain) only once the period is final, so every line can still be
        // disputed while the window is open: a payee paid off-chain in the meantime records it afterwards.
        _commit(PERIOD);
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotFinalized.selector, PERIOD));
        _markPaid(PERIOD, 1, "bank-ref-1");
        assertEq(_dispute(PERIOD, 1, "short"), 0, "disputed");
        assertFalse(registry.isLineSettled(PERIOD, 1), "not settled");
    }

    function test_Dispute_Revert_WhenNotPayee() public {
        _commit(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNotPayee.selector, BOB));
        vm.prank(stranger);
        registry.dispute(PERIOD, l, proof, "r", 0);
    }

    function test_Dispute_Revert_WhenAnotherPayeeOfThePeriod() public {
        // Alice is a payee of the period, but not of Bob's line.
        _commit(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNotPayee.selector, BOB));
        vm.prank(ALICE);
        registry.dispute(PERIOD, l, proof, "r", 0);
    }

    function test_Dispute_Revert_WhenCallerNamesItselfOnAnotherLine() public {
        // Someone not in the tree cannot dispute by putting its own address on a real line's proof.
        _commit(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidProof.selector));
        vm.prank(stranger);
        registry.dispute(
            PERIOD, StatementLine(l.index, stranger, l.workId, l.amount, l.ruleVersion, l.splitVersion), proof, "r", 0
        );
    }

    function test_Dispute_Revert_WhenProofInvalid() public {
        _commit(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.startPrank(BOB);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidProof.selector));
        registry.dispute(
            PERIOD, StatementLine(l.index, BOB, l.workId, l.amount + 1, l.ruleVersion, l.splitVersion), proof, "r", 0
        );
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidProof.selector));
        registry.dispute(
            PERIOD, StatementLine(l.index + 1, BOB, l.workId, l.amount, l.ruleVersion, l.splitVersion), proof, "r", 0
        );
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidProof.selector));
        registry.dispute(
            PERIOD, StatementLine(l.index, BOB, l.workId, l.amount, l.ruleVersion, l.splitVersion), _proof(0), "r", 0
        );
        vm.stopPrank();
        assertEq(registry.disputeCount(PERIOD), 0, "none opened");
    }

    function test_Dispute_Revert_WhenLineAlreadyDisputed() public {
        _commit(PERIOD);
        _dispute(PERIOD, 1, "first");
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementLineAlreadyDisputed.selector, PERIOD, 1));
        _dispute(PERIOD, 1, "second");
        assertEq(registry.disputeCount(PERIOD), 1, "one opened");
        assertEq(registry.period(PERIOD).openDisputes, 1, "one open");
    }

    function test_Dispute_Revert_WhenPeriodNotCommitted() public {
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotCommitted.selector, PERIOD));
        _dispute(PERIOD, 0, "r");
    }

    function test_Dispute_Revert_WhenWindowClosed() public {
        _commit(PERIOD);
        vm.warp(T0 + WINDOW);
        vm.expectRevert(_err(ISettlementRegistry.SettlementDisputeWindowClosed.selector, PERIOD));
        _dispute(PERIOD, 0, "r");
    }

    function test_Dispute_Revert_AgainAfterResolvedWhenWindowClosed() public {
        _commit(PERIOD);
        _dispute(PERIOD, 1, "r");
        vm.warp(T0 + WINDOW);
        vm.prank(arbiter);
        registry.decide(PERIOD, 0, false, 0, "rejected");
        vm.expectRevert(_err(ISettlementRegistry.SettlementDisputeWindowClosed.selector, PERIOD));
        _dispute(PERIOD, 1, "again");
    }

    function test_Dispute_Revert_WhenFinalized() public {
        _ready(PERIOD);
        vm.expectRevert(_err(ISettlementRegistry.SettlementDisputeWindowClosed.selector, PERIOD));
        _dispute(PERIOD, 0, "r");
    }

    function testFuzz_Dispute_Revert_WhenCallerNotPayee(address caller, uint256 i) public {
        i = bound(i, 0, LINE_COUNT - 1);
        StatementLine memory l = lines[i];
        vm.assume(caller != l.payee);
        _commit(PERIOD);
        bytes32[] memory proof = _proof(i);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNotPayee.selector, l.payee));
        vm.prank(caller);
        registry.dispute(PERIOD, l, proof, "r", 0);
    }
}
