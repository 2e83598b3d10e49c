// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SettlementTestBase} from "./utils/SettlementTestBase.sol";
import {ISettlementRegistry, StatementLine} from "../src/interfaces/ISettlementRegistry.sol";
import {PeriodPayout} from "../src/PeriodPayout.sol";
import {IPeriodPayout} from "../src/interfaces/IPeriodPayout.sol";

/// @dev Off-chain payment: {markPaidOffChain}, and {PeriodPayout-settleOffChain} refused to all but the registry.
contract SettlementOffChainTest is SettlementTestBase {
    // ---------------------------------------------------------------- markPaidOffChain

    function test_MarkPaidOffChain_SettlesLine() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        _markPaid(PERIOD, 1, "bank-ref-1");
        assertTrue(registry.isLineSettled(PERIOD, 1), "settled");
        assertTrue(_payout(PERIOD).isLineSettled(1), "settled in the payout");
        assertFalse(registry.isLineSettled(PERIOD, 0), "other line not settled");
        assertEq(registry.period(PERIOD).paidOffChain, 50_000, "paid off-chain");
    }

    function test_MarkPaidOffChain_EmitsLinePaidOffChainAndLineSettledOffChain() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        address payout = registry.payoutOf(PERIOD);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.LinePaidOffChain(PERIOD, 1, BOB, 50_000, "bank-ref-1");
        vm.expectEmit(true, true, true, true, payout);
        emit IPeriodPayout.LineSettledOffChain(1);
        _markPaid(PERIOD, 1, "bank-ref-1");
    }

    function test_MarkPaidOffChain_LineCannotBeClaimed() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        _markPaid(PERIOD, 1, "bank-ref-1");
        _fund(PERIOD, TOTAL - 50_000);
        PeriodPayout payout = _payout(PERIOD);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 1));
        _claim(payout, 1);
        assertEq(token.balanceOf(BOB), 0, "not paid on chain");
    }

    function test_MarkPaidOffChain_LowersWhatFundAccepts() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        _markPaid(PERIOD, 1, "bank-ref-1");
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementRegistry.SettlementOverfunded.selector, PERIOD, TOTAL, TOTAL - 50_000)
        );
        _fund(PERIOD, TOTAL);
        _fund(PERIOD, TOTAL - 50_000);
        PeriodPayout payout = _payout(PERIOD);
        for (uint256 i; i < LINE_COUNT; ++i) {
            if (i != 1) _claim(payout, i);
        }
        assertEq(token.balanceOf(address(payout)), 0, "every on-chain line paid, nothing left over");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
        assertEq(_claimed(PERIOD), TOTAL - 50_000, "claimed");
    }

    function test_MarkPaidOffChain_AfterPartialFunding() public {
        _commit(PERIOD);
        _fund(PERIOD, 150_000);
        _finalize(PERIOD);
        _markPaid(PERIOD, 4, "bank-ref-4");
        assertTrue(registry.isLineSettled(PERIOD, 4), "settled");
        assertEq(registry.period(PERIOD).paidOffChain, 1, "paid off-chain");
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementRegistry.SettlementOverfunded.selector, PERIOD, TOTAL - 150_000, TOTAL - 150_001
            )
        );
        _fund(PERIOD, TOTAL - 150_000);
        _fund(PERIOD, TOTAL - 150_001);
        assertEq(registry.period(PERIOD).funded, TOTAL - 1, "funded up to the total less paid off-chain");
    }

    function test_MarkPaidOffChain_Revert_WhenPeriodNotFinalized() public {
        _commit(PERIOD);
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotFinalized.selector, PERIOD));
        _markPaid(PERIOD, 1, "bank-ref-1");
        // Not even once the window has closed, until someone finalizes the period.
        vm.warp(T0 + WINDOW);
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotFinalized.selector, PERIOD));
        _markPaid(PERIOD, 1, "bank-ref-1");
        assertEq(registry.period(PERIOD).paidOffChain, 0, "nothing recorded");
        assertFalse(registry.isLineSettled(PERIOD, 1), "not settled");

        registry.finalize(PERIOD);
        _markPaid(PERIOD, 1, "bank-ref-1");
        assertTrue(registry.isLineSettled(PERIOD, 1), "settled once final");
    }

    function test_MarkPaidOffChain_Revert_WhenNotFinalizedAndProofInvalid_ReportsNotFinalized() public {
        _commit(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotFinalized.selector, PERIOD));
        vm.prank(BOB);
        registry.markPaidOffChain(
            PERIOD, StatementLine(l.index, BOB, l.workId, l.amount - 1, l.ruleVersion, l.splitVersion), proof, 0
        );
    }

    function test_MarkPaidOffChain_Revert_WhenNotPayee() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNotPayee.selector, BOB));
        vm.prank(stranger);
        registry.markPaidOffChain(PERIOD, l, proof, 0);
    }

    function test_MarkPaidOffChain_Revert_WhenNotPayeeOfUnfinalizedPeriod_ReportsNotPayee() public {
        _commit(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNotPayee.selector, BOB));
        vm.prank(stranger);
        registry.markPaidOffChain(PERIOD, l, proof, 0);
    }

    function test_MarkPaidOffChain_Revert_WhenPeriodNotCommitted() public {
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotCommitted.selector, PERIOD));
        _markPaid(PERIOD, 1, 0);
    }

    function test_MarkPaidOffChain_Revert_WhenAlreadyClaimed() public {
        // Funded short by Bob's amount, so the funding check lets the call reach the payout's settled bitmap.
        _commit(PERIOD);
        _fund(PERIOD, TOTAL - 50_000);
        _finalize(PERIOD);
        _claim(PERIOD, 1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 1));
        _markPaid(PERIOD, 1, 0);
        assertEq(registry.period(PERIOD).paidOffChain, 0, "nothing recorded");
    }

    function test_MarkPaidOffChain_Revert_WhenAlreadyClaimedFromFullFunding_ReportsOverfunded() public {
        _ready(PERIOD);
        _claim(PERIOD, 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementOverfunded.selector, PERIOD, 50_000, 0));
        _markPaid(PERIOD, 1, 0);
        assertEq(registry.period(PERIOD).paidOffChain, 0, "nothing recorded");
    }

    function test_MarkPaidOffChain_Revert_WhenAlreadyPaidOffChain() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        _markPaid(PERIOD, 1, "bank-ref-1");
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 1));
        _markPaid(PERIOD, 1, "bank-ref-1-again");
        assertEq(registry.period(PERIOD).paidOffChain, 50_000, "recorded once");
    }

    function test_MarkPaidOffChain_Revert_WhenProofInvalid() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidProof.selector));
        vm.prank(BOB);
        registry.markPaidOffChain(
            PERIOD, StatementLine(l.index, BOB, l.workId, l.amount - 1, l.ruleVersion, l.splitVersion), proof, 0
        );
    }

    function test_MarkPaidOffChain_Revert_WhenFundingAlreadyCoversLine() public {
        _commit(PERIOD);
        _fund(PERIOD, TOTAL);
        _finalize(PERIOD);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementOverfunded.selector, PERIOD, 50_000, 0));
        _markPaid(PERIOD, 1, 0);
        assertFalse(registry.isLineSettled(PERIOD, 1), "not settled");
    }

    // ---------------------------------------------------------------- settleOffChain

    function test_SettleOffChain_Revert_WhenNotRegistry() public {
        _commit(PERIOD);
        _fund(PERIOD, TOTAL);
        _finalize(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        address[5] memory callers = [stranger, settler, admin, BOB, platform];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutOnlyRegistry.selector));
            vm.prank(callers[i]);
            payout.settleOffChain(1);
        }
        assertFalse(payout.isLineSettled(1), "not settled");
        _claim(payout, 1);
        assertEq(token.balanceOf(BOB), 50_000, "still claimable");
    }
}
