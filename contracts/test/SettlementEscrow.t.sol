// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SettlementTestBase} from "./utils/SettlementTestBase.sol";
import {ISettlementRegistry} from "../src/interfaces/ISettlementRegistry.sol";
import {IPeriodPayout} from "../src/interfaces/IPeriodPayout.sol";
import {PeriodPayout} from "../src/PeriodPayout.sol";

/// @dev Per-line escrow: held and voided lines in the payout, and voided funds carried into a later period.
contract SettlementEscrowTest is SettlementTestBase {
    function _heldPeriod(uint256 i) internal returns (PeriodPayout payout) {
        _commit(PERIOD);
        _dispute(PERIOD, i, "r");
        _fund(PERIOD, TOTAL);
        _finalize(PERIOD);
        payout = _payout(PERIOD);
    }

    function test_HeldLine_CannotBeClaimed() public {
        PeriodPayout payout = _heldPeriod(1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineHeld.selector, PERIOD, 1));
        _claim(payout, 1);
        assertFalse(registry.isLineSettled(PERIOD, 1), "not settled");
    }

    function test_HeldLine_CannotBeMarkedPaid() public {
        _heldPeriod(1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementLineHeld.selector, PERIOD, 1));
        _markPaid(PERIOD, 1, "bank");
    }

    function test_OtherLinesClaimableWhileHeld() public {
        _heldPeriod(1);
        _claim(PERIOD, 0);
        _claim(PERIOD, 2);
        _claim(PERIOD, 3);
        _claim(PERIOD, 4);
        assertEq(token.balanceOf(registry.payoutOf(PERIOD)), lines[1].amount, "only the held line's money left");
    }

    function test_RejectedAfterFinality_ReleasesLine() public {
        PeriodPayout payout = _heldPeriod(1);
        vm.expectEmit(true, true, true, true, address(payout));
        emit IPeriodPayout.LineHoldChanged(1, false);
        _decide(PERIOD, 0, false, 0);
        _claim(PERIOD, 1);
        assertEq(token.balanceOf(BOB), lines[1].amount, "paid once released");
    }

    function test_ExpiredAfterFinality_ReleasesLine() public {
        _heldPeriod(1);
        vm.warp(T0 + DECISION_WINDOW);
        registry.expire(PERIOD, 0);
        _claim(PERIOD, 1);
        assertTrue(registry.isLineSettled(PERIOD, 1), "claimed once released");
    }

    function test_UpheldAfterFinality_VoidsLine() public {
        PeriodPayout payout = _heldPeriod(1);
        _decide(PERIOD, 0, true, 40_000);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineVoided.selector, PERIOD, 1));
        _claim(payout, 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementLineVoided.selector, PERIOD, 1));
        _markPaid(PERIOD, 1, "bank");
        assertFalse(payout.isLineSettled(1), "voided is not settled");
    }

    function test_VoidedBeforeFinality_VoidedInPayout() public {
        _commit(PERIOD);
        _dispute(PERIOD, 3, "r");
        _dispute(PERIOD, 0, "r");
        _decide(PERIOD, 0, true, 1);
        _fund(PERIOD, TOTAL);
        _finalize(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineVoided.selector, PERIOD, 3));
        _claim(payout, 3);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineHeld.selector, PERIOD, 0));
        _claim(payout, 0);
    }

    function test_ClaimedLine_StillSaysAlreadySettled() public {
        _ready(PERIOD);
        _claim(PERIOD, 2);
        PeriodPayout payout = _payout(PERIOD);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 2));
        _claim(payout, 2);
    }

    function test_MarkLines_Revert_WhenNotRegistry() public {
        PeriodPayout payout = _heldPeriod(1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutOnlyRegistry.selector));
        vm.prank(arbiter);
        payout.setHeld(1, false);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutOnlyRegistry.selector));
        vm.prank(settler);
        payout.carryOut(settler, 1);
    }

    function testFuzz_UndisputedLinesClaimable(uint8 disputedMask) public {
        _commit(PERIOD);
        for (uint256 i; i < LINE_COUNT; ++i) {
            if (disputedMask & (uint256(1) << i) != 0) _dispute(PERIOD, i, "r");
        }
        _fund(PERIOD, TOTAL);
        _finalize(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        uint256 held;
        for (uint256 i; i < LINE_COUNT; ++i) {
            if (disputedMask & (uint256(1) << i) != 0) {
                held += lines[i].amount;
                vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineHeld.selector, PERIOD, i));
            }
            _claim(payout, i);
        }
        assertEq(token.balanceOf(address(payout)), held, "held money waits");
    }

    // ---------------------------------------------------------------- carryVoided

    /// @dev PERIOD final and funded with line 0 (150,000) voided; OTHER_PERIOD committed.
    function _voided() internal {
        _heldPeriod(0);
        _decide(PERIOD, 0, true, 140_000);
        _commit(OTHER_PERIOD);
    }

    function test_Carry_MovesVoidedFundsAsFunding() public {
        _voided();
        address from = registry.payoutOf(PERIOD);
        address to = registry.payoutOf(OTHER_PERIOD);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.VoidedCarried(PERIOD, OTHER_PERIOD, 100_000, 100_000);
        vm.prank(settler);
        registry.carryVoided(PERIOD, OTHER_PERIOD, 100_000);
        ISettlementRegistry.Period memory p = registry.period(PERIOD);
        assertEq(p.voided, 150_000, "voided");
        assertEq(p.carriedOut, 100_000, "carried out");
        assertEq(token.balanceOf(from), p.funded - p.carriedOut, "payout holds funded less carried out");
        assertEq(registry.period(OTHER_PERIOD).funded, 100_000, "counts as funding");
        assertEq(token.balanceOf(to), 100_000, "moved");
    }

    function test_Carry_Revert_MoreThanVoided() public {
        _voided();
        vm.prank(settler);
        registry.carryVoided(PERIOD, OTHER_PERIOD, 100_000);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementRegistry.SettlementCarryExceedsVoided.selector, PERIOD, 50_001, 50_000)
        );
        vm.prank(settler);
        registry.carryVoided(PERIOD, OTHER_PERIOD, 50_001);
    }

    function test_Carry_Revert_MoreThanStillOwed() public {
        _voided();
        _fund(OTHER_PERIOD, TOTAL - 10);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementOverfunded.selector, OTHER_PERIOD, 11, 10));
        vm.prank(settler);
        registry.carryVoided(PERIOD, OTHER_PERIOD, 11);
    }

    function test_Carry_Revert_WhenFromNotFinal() public {
        _commit(PERIOD);
        _commit(OTHER_PERIOD);
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotFinalized.selector, PERIOD));
        vm.prank(settler);
        registry.carryVoided(PERIOD, OTHER_PERIOD, 0);
    }

    function test_Carry_Revert_ToItselfOrUncommitted() public {
        _voided();
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidCarry.selector, PERIOD, PERIOD));
        vm.prank(settler);
        registry.carryVoided(PERIOD, PERIOD, 1);
        bytes32 unknown = keccak256("unknown");
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotCommitted.selector, unknown));
        vm.prank(settler);
        registry.carryVoided(PERIOD, unknown, 1);
    }

    function test_Carry_Revert_WhenUnderfunded() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "r");
        _fund(PERIOD, 10);
        _finalize(PERIOD);
        _decide(PERIOD, 0, true, 1);
        _commit(OTHER_PERIOD);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInsufficientFunding.selector, PERIOD, 100, 10));
        vm.prank(settler);
        registry.carryVoided(PERIOD, OTHER_PERIOD, 100);
    }

    function test_Carry_Revert_WhenNotSettler() public {
        _voided();
        vm.expectRevert();
        vm.prank(arbiter);
        registry.carryVoided(PERIOD, OTHER_PERIOD, 1);
    }
}
