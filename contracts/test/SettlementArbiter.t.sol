// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SettlementTestBase} from "./utils/SettlementTestBase.sol";
import {ISettlementRegistry} from "../src/interfaces/ISettlementRegistry.sol";
import {SettlementRegistry} from "../src/SettlementRegistry.sol";

/// @dev The arbiter: {decide}, {expire} and the two-step handover of the seat, without a bond.
contract SettlementArbiterTest is SettlementTestBase {
    function _state(uint256 disputeId) internal view returns (ISettlementRegistry.DisputeState) {
        return registry.disputeOf(PERIOD, disputeId).state;
    }

    // ---------------------------------------------------------------- decide

    function test_Decide_UpheldVoidsLineAndRecordsCorrection() public {
        _commit(PERIOD);
        _dispute(PERIOD, 1, "short");
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.DisputeDecided(PERIOD, 0, true, false, 60_000, "decision");
        _decide(PERIOD, 0, true, 60_000);
        ISettlementRegistry.DisputeInfo memory d = registry.disputeOf(PERIOD, 0);
        assertTrue(d.state == ISettlementRegistry.DisputeState.Upheld, "upheld");
        assertEq(d.correctedAmount, 60_000, "correction");
        assertEq(d.lineAmount, 50_000, "line amount");
        assertEq(d.claimedAmount, 50_001, "claimed");
        assertEq(d.decisionReason, "decision", "reasons");
        assertFalse(d.byDefault, "by the arbiter");
        assertTrue(registry.isLineVoided(PERIOD, 1), "voided");
        assertFalse(registry.isLineHeld(PERIOD, 1), "no longer held");
        assertEq(registry.period(PERIOD).voided, 50_000, "period voided");
        assertEq(registry.period(PERIOD).openDisputes, 0, "none open");
    }

    function test_Decide_RejectedReleasesLine() public {
        _commit(PERIOD);
        _dispute(PERIOD, 3, "short");
        _decide(PERIOD, 0, false, 0);
        assertTrue(_state(0) == ISettlementRegistry.DisputeState.Rejected, "rejected");
        assertFalse(registry.isLineHeld(PERIOD, 3), "released");
        assertFalse(registry.isLineVoided(PERIOD, 3), "not voided");
        assertEq(registry.period(PERIOD).voided, 0, "nothing voided");
    }

    function test_Decide_UntilLastSecondBeforeDeadline() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "r");
        vm.warp(T0 + DECISION_WINDOW - 1);
        _decide(PERIOD, 0, false, 0);
        assertTrue(_state(0) == ISettlementRegistry.DisputeState.Rejected, "decided in time");
    }

    function test_Decide_Revert_AtDeadline() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "r");
        vm.warp(T0 + DECISION_WINDOW);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementRegistry.SettlementDecisionWindowClosed.selector, PERIOD, 0, T0 + DECISION_WINDOW
            )
        );
        _decide(PERIOD, 0, true, 1);
    }

    function test_Decide_Revert_WhenNotArbiter() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "r");
        address[3] memory others = [settler, admin, ALICE];
        for (uint256 i; i < others.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNotArbiter.selector, others[i]));
            vm.prank(others[i]);
            registry.decide(PERIOD, 0, false, 0, "x");
        }
    }

    function test_Decide_Revert_CorrectionOnRejection() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "r");
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementRegistry.SettlementCorrectionOnRejection.selector, PERIOD, 0, 5)
        );
        _decide(PERIOD, 0, false, 5);
    }

    function test_Decide_Revert_CorrectionTooLarge() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "r");
        uint256 tooLarge = uint256(type(uint88).max) + 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementRegistry.SettlementAmountTooLarge.selector, tooLarge, uint256(type(uint88).max)
            )
        );
        _decide(PERIOD, 0, true, tooLarge);
    }

    function test_Decide_Revert_WhenNeverOpenedOrDecided() public {
        _commit(PERIOD);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNoSuchOpenDispute.selector, PERIOD, 0));
        _decide(PERIOD, 0, false, 0);
        _dispute(PERIOD, 0, "r");
        _decide(PERIOD, 0, false, 0);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNoSuchOpenDispute.selector, PERIOD, 0));
        _decide(PERIOD, 0, true, 1);
    }

    function test_Dispute_Revert_WhenLineVoided() public {
        _commit(PERIOD);
        _dispute(PERIOD, 2, "r");
        _decide(PERIOD, 0, true, 9);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementLineVoided.selector, PERIOD, 2));
        _dispute(PERIOD, 2, "again");
    }

    // ---------------------------------------------------------------- expire

    function test_Expire_AppliesRejectedDefaultAtDeadline() public {
        _commit(PERIOD);
        _dispute(PERIOD, 4, "r");
        vm.warp(T0 + DECISION_WINDOW);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.DisputeDecided(PERIOD, 0, false, true, 0, 0);
        vm.prank(stranger);
        registry.expire(PERIOD, 0);
        ISettlementRegistry.DisputeInfo memory d = registry.disputeOf(PERIOD, 0);
        assertTrue(d.state == ISettlementRegistry.DisputeState.Rejected, "rejected by default");
        assertTrue(d.byDefault, "by default");
        assertFalse(registry.isLineHeld(PERIOD, 4), "released");
    }

    function test_Expire_Revert_BeforeDeadline() public {
        _commit(PERIOD);
        _dispute(PERIOD, 4, "r");
        vm.warp(T0 + DECISION_WINDOW - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementRegistry.SettlementDecisionWindowOpen.selector, PERIOD, 0, T0 + DECISION_WINDOW
            )
        );
        registry.expire(PERIOD, 0);
    }

    function test_Expire_Revert_WhenDecided() public {
        _commit(PERIOD);
        _dispute(PERIOD, 4, "r");
        _decide(PERIOD, 0, true, 2);
        vm.warp(T0 + DECISION_WINDOW);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNoSuchOpenDispute.selector, PERIOD, 0));
        registry.expire(PERIOD, 0);
    }

    function testFuzz_DecideOrExpire_ExactlyOneOutcome(uint256 i, uint32 wait, bool upheld) public {
        i = bound(i, 0, LINE_COUNT - 1);
        _commit(PERIOD);
        _dispute(PERIOD, i, "r");
        vm.warp(T0 + bound(wait, 0, 2 * DECISION_WINDOW));
        if (block.timestamp < T0 + DECISION_WINDOW) {
            _decide(PERIOD, 0, upheld, upheld ? 1 : 0);
            assertTrue(!registry.disputeOf(PERIOD, 0).byDefault, "decided");
        } else {
            registry.expire(PERIOD, 0);
            upheld = false;
        }
        assertEq(registry.isLineVoided(PERIOD, lines[i].index), upheld, "voided iff upheld");
        assertFalse(registry.isLineHeld(PERIOD, lines[i].index), "no longer held");
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNoSuchOpenDispute.selector, PERIOD, 0));
        registry.expire(PERIOD, 0);
    }

    // ---------------------------------------------------------------- arbiter seat

    function _beginHandover(address next) internal {
        vm.prank(arbiter);
        registry.beginArbiterHandover(next);
    }

    /// @dev `caller` tries to accept the seat and is refused with `err`.
    function _acceptRefused(address caller, bytes memory err) internal {
        vm.expectRevert(err);
        vm.prank(caller);
        registry.acceptArbiterHandover();
    }

    /// @dev `caller` tries to hand the seat to `next` and is refused with `err`.
    function _beginRefused(address caller, address next, bytes memory err) internal {
        vm.expectRevert(err);
        vm.prank(caller);
        registry.beginArbiterHandover(next);
    }

    function test_Constructor_SetsArbiterAndTerms() public view {
        assertEq(registry.arbiter(), arbiter, "arbiter");
        assertEq(registry.pendingArbiter(), address(0), "no handover");
        ISettlementRegistry.DisputeTerms memory t = registry.disputeTerms();
        assertEq(t.decisionWindow, DECISION_WINDOW, "decision window");
        assertFalse(t.defaultUpheld, "rejected by default");
        assertEq(t.bondAmount, 0, "no bond");
    }

    function test_Constructor_AllowsSettlerAsFirstArbiter() public {
        SettlementRegistry r = new SettlementRegistry(admin, settler, settler, WINDOW, _terms());
        assertEq(r.arbiter(), settler, "the operator may start in the seat");
    }

    function test_Constructor_Revert_ZeroArbiter() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementZeroArbiter.selector));
        new SettlementRegistry(admin, settler, address(0), WINDOW, _terms());
    }

    function test_Constructor_Revert_BondWithoutTokenOrSink() public {
        ISettlementRegistry.DisputeTerms memory t = _terms();
        t.bondAmount = 1;
        t.bondSink = bondSink;
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidBondTerms.selector));
        new SettlementRegistry(admin, settler, arbiter, WINDOW, t);
        t.bondToken = address(token);
        t.bondSink = address(0);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidBondTerms.selector));
        new SettlementRegistry(admin, settler, arbiter, WINDOW, t);
    }

    function test_Handover_TwoSteps() public {
        address next = makeAddr("society");
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.ArbiterHandoverStarted(arbiter, next);
        _beginHandover(next);
        assertEq(registry.arbiter(), arbiter, "seat kept until accepted");
        assertEq(registry.pendingArbiter(), next, "pending");

        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.ArbiterChanged(arbiter, next);
        vm.prank(next);
        registry.acceptArbiterHandover();
        assertEq(registry.arbiter(), next, "new arbiter");
        assertEq(registry.pendingArbiter(), address(0), "handover done");

        _commit(PERIOD);
        _dispute(PERIOD, 0, "r");
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNotArbiter.selector, arbiter));
        _decide(PERIOD, 0, false, 0);
        vm.prank(next);
        registry.decide(PERIOD, 0, false, 0, "by the society");
    }

    function test_Handover_Revert_WhenNotArbiterBegins() public {
        _beginRefused(admin, admin, abi.encodeWithSelector(ISettlementRegistry.SettlementNotArbiter.selector, admin));
    }

    function test_Handover_Revert_WhenNotPendingAccepts() public {
        address next = makeAddr("society");
        _beginHandover(next);
        _acceptRefused(
            stranger, abi.encodeWithSelector(ISettlementRegistry.SettlementNotPendingArbiter.selector, stranger)
        );
    }

    function test_Handover_CancelledByZero() public {
        address next = makeAddr("society");
        vm.startPrank(arbiter);
        registry.beginArbiterHandover(next);
        registry.beginArbiterHandover(address(0));
        vm.stopPrank();
        _acceptRefused(next, abi.encodeWithSelector(ISettlementRegistry.SettlementNotPendingArbiter.selector, next));
    }

    function test_Handover_Revert_ToSettler() public {
        _beginRefused(
            arbiter, settler, abi.encodeWithSelector(ISettlementRegistry.SettlementArbiterIsSettler.selector, settler)
        );
    }

    function test_Handover_Revert_AcceptAfterBecomingSettler() public {
        address next = makeAddr("society");
        _beginHandover(next);
        bytes32 role = registry.SETTLER_ROLE();
        vm.prank(admin);
        registry.grantRole(role, next);
        _acceptRefused(next, abi.encodeWithSelector(ISettlementRegistry.SettlementArbiterIsSettler.selector, next));
    }
}

/// @dev A deployment whose disputes are upheld by default and cost a bond.
contract SettlementArbiterBondTest is SettlementTestBase {
    uint256 internal constant BOND = 1000;

    function _terms() internal view override returns (ISettlementRegistry.DisputeTerms memory) {
        return ISettlementRegistry.DisputeTerms(DECISION_WINDOW, true, address(token), BOND, bondSink);
    }

    function setUp() public override {
        super.setUp();
        address[4] memory payees = [ALICE, BOB, CAROL, DAVE];
        for (uint256 i; i < payees.length; ++i) {
            token.mint(payees[i], BOND);
            vm.prank(payees[i]);
            token.approve(address(registry), type(uint256).max);
        }
    }

    function test_Dispute_PullsBond() public {
        _commit(PERIOD);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.Disputed(PERIOD, 0, BOB, 1, "r", 50_001, T0 + DECISION_WINDOW, BOND);
        _dispute(PERIOD, 1, "r");
        assertEq(token.balanceOf(address(registry)), BOND, "bond held");
        assertEq(token.balanceOf(BOB), 0, "paid by the payee");
        assertEq(registry.disputeOf(PERIOD, 0).bond, BOND, "recorded");
    }

    function test_Dispute_Revert_WithoutBondAllowance() public {
        _commit(PERIOD);
        vm.prank(BOB);
        token.approve(address(registry), 0);
        vm.expectRevert();
        _dispute(PERIOD, 1, "r");
        assertEq(registry.disputeCount(PERIOD), 0, "nothing opened");
    }

    function test_Upheld_ReturnsBond() public {
        _commit(PERIOD);
        _dispute(PERIOD, 1, "r");
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.DisputeBondPaid(PERIOD, 0, BOB, BOND);
        _decide(PERIOD, 0, true, 60_000);
        assertEq(token.balanceOf(BOB), BOND, "returned");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
    }

    function test_Rejected_BondToSink() public {
        _commit(PERIOD);
        _dispute(PERIOD, 1, "r");
        _decide(PERIOD, 0, false, 0);
        assertEq(token.balanceOf(bondSink), BOND, "forfeited");
        assertEq(token.balanceOf(BOB), 0, "not returned");
    }

    function test_Expire_UpheldByDefaultWithClaimedAmount() public {
        _commit(PERIOD);
        _dispute(PERIOD, 3, "r");
        vm.warp(T0 + DECISION_WINDOW);
        registry.expire(PERIOD, 0);
        ISettlementRegistry.DisputeInfo memory d = registry.disputeOf(PERIOD, 0);
        assertTrue(d.state == ISettlementRegistry.DisputeState.Upheld, "upheld by default");
        assertEq(d.correctedAmount, lines[3].amount + 1, "the payee's claim");
        assertTrue(registry.isLineVoided(PERIOD, 3), "voided");
        assertEq(token.balanceOf(CAROL), BOND, "bond returned");
    }
}
