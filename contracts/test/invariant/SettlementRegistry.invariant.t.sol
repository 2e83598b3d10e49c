// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {StatementTree} from "../utils/StatementTree.sol";
import {ISettlementRegistry, StatementLine} from "../../src/interfaces/ISettlementRegistry.sol";
import {SettlementRegistry} from "../../src/SettlementRegistry.sol";
import {SettlementHandler} from "./SettlementHandler.sol";

/// @dev A settlement goes through several steps (fund, wait, finalize, claim), so runs are longer than the default.
/// forge-config: default.invariant.depth = 128
contract SettlementRegistryInvariantTest is BaseTest {
    SettlementHandler internal handler;
    SettlementRegistry internal registry;

    function setUp() public {
        vm.warp(1_700_000_000);
        handler = new SettlementHandler();
        registry = handler.registry();
    }

    /// @dev Restricts the fuzzer to the handler.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_RegistryHoldsNothing() public view {
        assertEq(handler.token().balanceOf(address(registry)), 0, "the registry never holds tokens");
    }

    /// @dev Each period's funds sit at its payout address (deployed or not), less what its claims paid out and what was
    /// carried out of it; voided funds are carried out at most once.
    function invariant_EachPayoutHoldsExactlyFundedLessClaimedLessCarriedOut() public view {
        for (uint256 p; p < handler.PERIOD_COUNT(); ++p) {
            ISettlementRegistry.Period memory period = registry.period(handler.periodId(p));
            assertEq(
                handler.token().balanceOf(period.payout),
                period.funded - handler.claimed(p) - period.carriedOut,
                "payout balance == funded - claimed - carried out"
            );
            assertTrue(period.carriedOut <= period.voided, "carried out <= voided");
        }
    }

    function invariant_HeldLinesNeverPaid() public view {
        assertEq(handler.heldLinesPaid(), 0, "no held or voided line claimed or recorded as paid off-chain");
    }

    function invariant_UndisputedLinesClaimableAfterWindow() public view {
        assertEq(handler.undisputedClaimsRefused(), 0, "a funded, undisputed line of a final period is claimable");
    }

    /// @dev Only the arbiter in the seat decides and hands over, only the pending successor accepts, and the seat is
    /// where the completed handovers put it.
    function invariant_ArbiterSeatTwoStep() public view {
        assertEq(handler.decisionsByNonArbiters(), 0, "no decision or handover by anyone but the seat holder");
        assertEq(registry.arbiter(), handler.expectedArbiter(), "seat moved only by accepted handovers");
    }

    function invariant_ClaimedWithinFundedWithinTotal() public view {
        for (uint256 p; p < handler.PERIOD_COUNT(); ++p) {
            ISettlementRegistry.Period memory period = registry.period(handler.periodId(p));
            assertTrue(handler.claimed(p) <= period.funded, "claimed <= funded");
            assertTrue(period.funded <= period.total, "funded <= total");
            assertTrue(period.funded + period.paidOffChain <= period.total, "funded + paid off-chain <= total");
        }
    }

    function invariant_SettledLinesAddUpToClaimedAndPaidOffChain() public view {
        for (uint256 p; p < handler.PERIOD_COUNT(); ++p) {
            bytes32 id = handler.periodId(p);
            uint256 settled;
            for (uint256 i; i < handler.LINES_PER_PERIOD(); ++i) {
                StatementLine memory l = handler.line(p, i);
                if (registry.isLineSettled(id, l.index)) settled += l.amount;
            }
            ISettlementRegistry.Period memory period = registry.period(id);
            assertEq(settled, handler.claimed(p) + period.paidOffChain, "settled lines == claimed + paid off-chain");
        }
    }

    /// @dev A period's payout is where {payoutOf} says, and it has code exactly once the period is final; before that,
    /// nothing is settled, claimed or recorded as paid off-chain.
    function invariant_PayoutDeployedExactlyWhenFinal() public view {
        for (uint256 p; p < handler.PERIOD_COUNT(); ++p) {
            bytes32 id = handler.periodId(p);
            ISettlementRegistry.Period memory period = registry.period(id);
            assertEq(period.payout, registry.payoutOf(id), "period.payout == payoutOf");
            bool isFinal = period.state == ISettlementRegistry.PeriodState.Finalized;
            assertEq(period.payout.code.length > 0, isFinal, "payout deployed <=> final");
            if (!isFinal) {
                assertEq(handler.claimed(p), 0, "nothing claimed before final");
                assertEq(period.paidOffChain, 0, "nothing paid off-chain before final");
            }
        }
    }

    function invariant_PayeesReceivedExactlyWhatWasClaimed() public view {
        uint256 received;
        for (uint256 i; i < handler.PAYEE_COUNT(); ++i) {
            received += handler.token().balanceOf(handler.payee(i));
        }
        uint256 claimed;
        for (uint256 p; p < handler.PERIOD_COUNT(); ++p) {
            claimed += handler.claimed(p);
        }
        assertEq(received, claimed, "payee balances == sum of claimed");
        assertEq(handler.misPaidClaims(), 0, "every claim paid its payee exactly the line's amount");
    }

    function invariant_OnlyTheRegistrySettlesOffChain() public view {
        assertEq(handler.badSettlements(), 0, "no line settled at a payout by anyone but the registry");
    }

    function invariant_AlteredLinesNeverPaid() public view {
        assertEq(handler.badClaimsPaid(), 0, "no claim of an altered line or of another period's line succeeded");
    }

    function invariant_DisputesOnlyByPayeesOfRealLines() public view {
        assertEq(handler.badDisputesOpened(), 0, "no dispute by a non-payee or of an altered line");
    }

    /// @dev No line holds two open disputes, and a line is flagged disputed exactly while it has an open dispute.
    function invariant_AtMostOneOpenDisputePerLine() public view {
        for (uint256 p; p < handler.PERIOD_COUNT(); ++p) {
            bytes32 id = handler.periodId(p);
            uint256 count = registry.disputeCount(id);
            uint256[] memory openPerLine = new uint256[](handler.LINES_PER_PERIOD());
            for (uint256 d; d < count; ++d) {
                if (registry.disputeOf(id, d).state == ISettlementRegistry.DisputeState.Open) {
                    ++openPerLine[handler.disputedLine(p, d)];
                }
            }
            for (uint256 i; i < openPerLine.length; ++i) {
                assertTrue(openPerLine[i] <= 1, "at most one open dispute per line");
                assertEq(registry.isLineHeld(id, handler.line(p, i).index), openPerLine[i] == 1, "flag == open dispute");
            }
        }
    }

    function invariant_OpenDisputesCounted() public view {
        for (uint256 p; p < handler.PERIOD_COUNT(); ++p) {
            bytes32 id = handler.periodId(p);
            uint256 open;
            uint256 count = registry.disputeCount(id);
            for (uint256 d; d < count; ++d) {
                if (registry.disputeOf(id, d).state == ISettlementRegistry.DisputeState.Open) ++open;
            }
            assertFalse(
                registry.disputeOf(id, count).state == ISettlementRegistry.DisputeState.Open,
                "no dispute beyond the count"
            );
            ISettlementRegistry.Period memory period = registry.period(id);
            assertEq(period.openDisputes, open, "open dispute count");
        }
    }
}
