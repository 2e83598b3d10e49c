// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SettlementTestBase} from "./utils/SettlementTestBase.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Vm} from "./utils/Vm.sol";
import {PeriodPayout} from "../src/PeriodPayout.sol";
import {ISettlementRegistry} from "../src/interfaces/ISettlementRegistry.sol";

/// @dev Settlement periods: the constructor, {commitPeriod}, {finalize} and {payoutOf}.
contract SettlementPeriodsTest is SettlementTestBase {
    // ---------------------------------------------------------------- constructor

    function test_Constructor_GrantsRolesAndSetsWindow() public view {
        assertTrue(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), admin), "admin role");
        assertTrue(registry.hasRole(registry.SETTLER_ROLE(), settler), "settler role");
        assertFalse(registry.hasRole(registry.SETTLER_ROLE(), admin), "admin is not a settler");
        assertEq(registry.SETTLER_ROLE(), keccak256("SETTLER_ROLE"), "role id");
        assertEq(registry.disputeWindow(), WINDOW, "dispute window");
    }

    // ---------------------------------------------------------------- commitPeriod

    function test_CommitPeriod_StoresPeriod() public {
        _commit(PERIOD);
        ISettlementRegistry.Period memory p = registry.period(PERIOD);
        assertEq(p.root, OZ_JS_ROOT, "root");
        assertEq(p.token, address(token), "token");
        assertTrue(p.state == ISettlementRegistry.PeriodState.Committed, "committed");
        assertEq(p.total, TOTAL, "total");
        assertEq(p.funded, 0, "funded");
        assertEq(p.paidOffChain, 0, "paid off-chain");
        assertEq(p.payout, registry.payoutOf(PERIOD), "payout address");
        assertTrue(p.payout != address(0), "payout address known at commitment");
        assertEq(p.payout.code.length, 0, "payout not deployed before finalization");
        assertEq(p.lineCount, LINE_COUNT, "line count");
        assertEq(p.disputeEnds, T0 + WINDOW, "dispute window");
        assertEq(p.openDisputes, 0, "open disputes");
        assertEq(p.inputsHash, INPUTS, "inputs hash");
    }

    function test_CommitPeriod_EmitsPeriodCommitted() public {
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.PeriodCommitted(
            PERIOD, OZ_JS_ROOT, address(token), TOTAL, LINE_COUNT, INPUTS, T0 + WINDOW
        );
        _commit(PERIOD);
    }

    function test_CommitPeriod_AcceptsLargestTotal() public {
        vm.prank(settler);
        registry.commitPeriod(PERIOD, _root(), address(token), type(uint88).max, 1, 0);
        assertEq(registry.period(PERIOD).total, type(uint88).max, "largest total");
    }

    function test_Period_UnknownIsAllZero() public view {
        ISettlementRegistry.Period memory p = registry.period(PERIOD);
        assertEq(p.root, 0, "root");
        assertEq(p.token, address(0), "token");
        assertTrue(p.state == ISettlementRegistry.PeriodState.None, "state");
        assertEq(p.total, 0, "total");
        assertEq(p.payout, address(0), "payout");
        assertEq(p.disputeEnds, 0, "dispute ends");
    }

    function test_CommitPeriod_Revert_WhenAlreadyCommitted() public {
        _commit(PERIOD);
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodAlreadyCommitted.selector, PERIOD));
        _commit(PERIOD);
    }

    function test_CommitPeriod_Revert_WhenRootEmpty() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementEmptyRoot.selector));
        vm.prank(settler);
        registry.commitPeriod(PERIOD, 0, address(token), TOTAL, LINE_COUNT, INPUTS);
    }

    function test_CommitPeriod_Revert_WhenTokenZero() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementZeroToken.selector));
        vm.prank(settler);
        registry.commitPeriod(PERIOD, _root(), address(0), TOTAL, LINE_COUNT, INPUTS);
    }

    function test_CommitPeriod_Revert_WhenTotalAbove88Bits() public {
        uint256 tooMuch = uint256(type(uint88).max) + 1;
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementRegistry.SettlementAmountTooLarge.selector, tooMuch, type(uint88).max)
        );
        vm.prank(settler);
        registry.commitPeriod(PERIOD, _root(), address(token), tooMuch, LINE_COUNT, INPUTS);
    }

    function test_CommitPeriod_Revert_WhenNotSettler() public {
        bytes32 role = registry.SETTLER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        registry.commitPeriod(PERIOD, _root(), address(token), TOTAL, LINE_COUNT, INPUTS);
    }

    // ---------------------------------------------------------------- finalize

    function test_Finalize_ByAnyoneOnceWindowClosed() public {
        _commit(PERIOD);
        address payout = registry.payoutOf(PERIOD);
        vm.warp(T0 + WINDOW);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.PeriodFinalized(PERIOD, payout);
        vm.prank(stranger);
        assertEq(registry.finalize(PERIOD), payout, "returns the payout");
        assertTrue(registry.period(PERIOD).state == ISettlementRegistry.PeriodState.Finalized, "final");
    }

    function test_Finalize_DeploysPayoutAtPayoutOf() public {
        _commit(PERIOD);
        address expected = registry.payoutOf(PERIOD);
        assertEq(expected.code.length, 0, "nothing there before");
        vm.warp(T0 + WINDOW);
        vm.recordLogs();
        address payout = registry.finalize(PERIOD);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        assertEq(payout, expected, "deployed where payoutOf said");
        assertTrue(payout.code.length > 0, "code deployed");
        assertEq(registry.payoutOf(PERIOD), payout, "payoutOf unchanged after finalization");
        assertEq(registry.period(PERIOD).payout, payout, "period names the payout");
        assertEq(logs.length, 1, "one event");
        assertEq(logs[0].emitter, address(registry), "emitted by the registry");
        assertEq(logs[0].topics[0], ISettlementRegistry.PeriodFinalized.selector, "PeriodFinalized");
        assertEq(logs[0].topics[1], PERIOD, "period topic");
        assertEq(abi.decode(logs[0].data, (address)), payout, "event names the payout");
    }

    function test_Finalize_PayoutImmutablesAreThePeriods() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        assertEq(payout.registry(), address(registry), "registry");
        assertEq(payout.periodId(), PERIOD, "period id");
        assertEq(payout.root(), OZ_JS_ROOT, "root");
        assertEq(address(payout.token()), address(token), "token");
    }

    /// @dev The address is CREATE2 from the registry, salted with the period id, over the payout's creation code and
    /// constructor arguments (period id, root, token): written out here independently of the registry.
    function test_PayoutOf_IsTheCreate2AddressOfThePeriodsPayout() public {
        _commit(PERIOD);
        bytes32 initCodeHash =
            keccak256(bytes.concat(type(PeriodPayout).creationCode, abi.encode(PERIOD, OZ_JS_ROOT, address(token))));
        bytes32 hash = keccak256(abi.encodePacked(bytes1(0xff), address(registry), PERIOD, initCodeHash));
        assertEq(registry.payoutOf(PERIOD), address(uint160(uint256(hash))), "CREATE2 address");
    }

    function test_PayoutOf_DiffersPerPeriodWithTheSameRoot() public {
        _commit(PERIOD);
        _commit(OTHER_PERIOD);
        assertTrue(registry.payoutOf(PERIOD) != registry.payoutOf(OTHER_PERIOD), "one payout per period");
        _finalize(PERIOD);
        registry.finalize(OTHER_PERIOD);
        assertTrue(registry.payoutOf(PERIOD).code.length > 0, "first deployed");
        assertTrue(registry.payoutOf(OTHER_PERIOD).code.length > 0, "second deployed");
        assertEq(_payout(OTHER_PERIOD).periodId(), OTHER_PERIOD, "second pays its own period");
    }

    function test_PayoutOf_Revert_WhenPeriodNotCommitted() public {
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotCommitted.selector, PERIOD));
        registry.payoutOf(PERIOD);
    }

    function test_Finalize_AfterDisputeDecided() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "r");
        vm.warp(T0 + WINDOW);
        _decide(PERIOD, 0, false, 0);
        registry.finalize(PERIOD);
        assertTrue(registry.period(PERIOD).state == ISettlementRegistry.PeriodState.Finalized, "final");
        assertFalse(_payout(PERIOD).isLineSettled(0), "released line claimable");
    }

    function test_Finalize_Revert_WhenPeriodNotCommitted() public {
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotCommitted.selector, PERIOD));
        registry.finalize(PERIOD);
    }

    function test_Finalize_Revert_WhenWindowOpen() public {
        _commit(PERIOD);
        vm.warp(T0 + WINDOW - 1);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementRegistry.SettlementDisputeWindowOpen.selector, PERIOD, T0 + WINDOW)
        );
        registry.finalize(PERIOD);
    }

    function test_Finalize_WhileDisputesOpen_HoldsOnlyTheirLines() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "a");
        _dispute(PERIOD, 4, "b");
        _decide(PERIOD, 0, false, 0);
        _fund(PERIOD, TOTAL);
        _finalize(PERIOD);
        ISettlementRegistry.Period memory p = registry.period(PERIOD);
        assertTrue(p.state == ISettlementRegistry.PeriodState.Finalized, "final with a dispute open");
        assertEq(p.openDisputes, 1, "one still open");
        assertTrue(registry.isLineHeld(PERIOD, 4), "line 4 held");
        assertFalse(registry.isLineHeld(PERIOD, 0), "line 0 released before finality");
        for (uint256 i = 0; i < 4; ++i) {
            _claim(PERIOD, i);
        }
        assertEq(token.balanceOf(p.payout), lines[4].amount, "held line's money waits in the payout");
    }

    function test_Finalize_Revert_WhenAlreadyFinalized() public {
        _ready(PERIOD);
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodAlreadyFinalized.selector, PERIOD));
        registry.finalize(PERIOD);
    }
}
