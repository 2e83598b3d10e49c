// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SettlementTestBase} from "./utils/SettlementTestBase.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {StatementTree} from "./utils/StatementTree.sol";
import {ISettlementRegistry, StatementLine} from "../src/interfaces/ISettlementRegistry.sol";
import {Vm} from "./utils/Vm.sol";
import {ReentrantToken} from "./utils/ReentrantToken.sol";
import {PeriodPayout} from "../src/PeriodPayout.sol";
import {IPeriodPayout} from "../src/interfaces/IPeriodPayout.sol";

/// @dev Funding and claims: {fund}, the claims at a period's {PeriodPayout}, reentrant tokens, {verifyLine} and
/// {isLineSettled}.
contract SettlementClaimsTest is SettlementTestBase {
    // ---------------------------------------------------------------- fund

    function test_Fund_MovesTokensToPayoutBeforeItIsDeployed() public {
        _commit(PERIOD);
        address payout = registry.payoutOf(PERIOD);
        _fund(PERIOD, 100_000);
        assertEq(payout.code.length, 0, "payout not deployed yet");
        assertEq(token.balanceOf(payout), 100_000, "payout balance");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
        assertEq(token.balanceOf(platform), 10 * TOTAL - 100_000, "platform balance");
        assertEq(registry.period(PERIOD).funded, 100_000, "funded");
    }

    function test_Fund_BeforeFinalize_PaysClaimsAfterIt() public {
        _commit(PERIOD);
        address expected = registry.payoutOf(PERIOD);
        _fund(PERIOD, TOTAL);
        _finalize(PERIOD);
        assertEq(registry.payoutOf(PERIOD), expected, "same address");
        assertEq(token.balanceOf(expected), TOTAL, "funds found at the deployed payout");
        _claim(PERIOD, 3);
        assertEq(token.balanceOf(CAROL), 99_993, "paid from the early funding");
        assertEq(token.balanceOf(expected), TOTAL - 99_993, "payout balance");
    }

    function test_Fund_PeriodsFundsKeptApart() public {
        _commit(PERIOD);
        _commit(OTHER_PERIOD);
        _fund(PERIOD, 1000);
        _fund(OTHER_PERIOD, 234);
        assertEq(token.balanceOf(registry.payoutOf(PERIOD)), 1000, "first payout");
        assertEq(token.balanceOf(registry.payoutOf(OTHER_PERIOD)), 234, "second payout");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
    }

    function test_Fund_EmitsPeriodFundedWithRunningTotal() public {
        _commit(PERIOD);
        _fund(PERIOD, 100_000);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.PeriodFunded(PERIOD, platform, 200_001, TOTAL);
        _fund(PERIOD, 200_001);
    }

    function test_Fund_AfterFinalize() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        _fund(PERIOD, TOTAL);
        assertEq(registry.period(PERIOD).funded, TOTAL, "funded after finalize");
        assertEq(token.balanceOf(registry.payoutOf(PERIOD)), TOTAL, "payout balance");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
    }

    function test_Fund_Revert_WhenPeriodNotCommitted() public {
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotCommitted.selector, PERIOD));
        _fund(PERIOD, 1);
    }

    function test_Fund_Revert_WhenOverfunded() public {
        _commit(PERIOD);
        _fund(PERIOD, TOTAL - 10);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementOverfunded.selector, PERIOD, 11, 10));
        _fund(PERIOD, 11);
    }

    function test_Fund_Revert_WhenAllowanceShort() public {
        _commit(PERIOD);
        vm.prank(platform);
        token.approve(address(registry), 5);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(registry), 5, 6)
        );
        _fund(PERIOD, 6);
    }

    // ---------------------------------------------------------------- claim

    function test_StatementTree_MatchesOpenZeppelinMerkleTreeJs() public view {
        assertEq(_root(), OZ_JS_ROOT, "root");
        bytes32[] memory proof = _proof(2);
        assertEq(proof.length, 2, "proof length of line 2");
        assertEq(proof[0], 0x9694199c2dac39fd6a6fdbaf5e8615cbaf34b76001534b9d10c45b2ad732dc81, "proof[0]");
        assertEq(proof[1], 0xb669e96d6b9f0679465ccd526fc9ff8030c13c6a332dc6bf7a3ce8ec0d8bb852, "proof[1]");
        assertEq(_proof(0).length, 3, "proof length of line 0");
    }

    function test_Claim_PaysEveryLineToItsPayee() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        for (uint256 i; i < LINE_COUNT; ++i) {
            _claim(payout, i);
            assertTrue(registry.isLineSettled(PERIOD, i), "settled");
            assertTrue(payout.isLineSettled(lines[i].index), "settled in the payout");
        }
        assertEq(token.balanceOf(ALICE), 150_007, "alice, two lines");
        assertEq(token.balanceOf(BOB), 50_000, "bob");
        assertEq(token.balanceOf(CAROL), 99_993, "carol");
        assertEq(token.balanceOf(DAVE), 1, "dave");
        assertEq(token.balanceOf(stranger), 0, "the caller gets nothing");
        assertEq(token.balanceOf(address(payout)), 0, "payout emptied");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
        assertEq(_claimed(PERIOD), TOTAL, "claimed");
    }

    function test_Claim_EmitsLineClaimed() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        vm.expectEmit(true, true, true, true, address(payout));
        emit IPeriodPayout.LineClaimed(3, CAROL, 99_993);
        _claim(payout, 3);
    }

    function test_Claim_SameRootInTwoPeriodsSettlesEachSeparately() public {
        _ready(PERIOD);
        _commit(OTHER_PERIOD);
        _fund(OTHER_PERIOD, TOTAL);
        _finalize(OTHER_PERIOD);
        _claim(PERIOD, 1);
        assertFalse(registry.isLineSettled(OTHER_PERIOD, 1), "other period untouched");
        _claim(OTHER_PERIOD, 1);
        assertEq(token.balanceOf(BOB), 100_000, "paid once per period");
        assertEq(token.balanceOf(registry.payoutOf(PERIOD)), TOTAL - 50_000, "first period paid its line");
        assertEq(token.balanceOf(registry.payoutOf(OTHER_PERIOD)), TOTAL - 50_000, "second period paid its line");
    }

    function test_Claim_SameRootInTwoPeriods_CannotTakeTheOtherPeriodsFunds() public {
        // Both periods commit the same lines and total; the second is funded for Bob's line only.
        _ready(PERIOD);
        _commit(OTHER_PERIOD);
        _fund(OTHER_PERIOD, 50_000);
        _finalize(OTHER_PERIOD);
        PeriodPayout first = _payout(PERIOD);
        PeriodPayout second = _payout(OTHER_PERIOD);
        assertTrue(address(first) != address(second), "one payout per period");

        vm.expectRevert(
            abi.encodeWithSelector(
                IPeriodPayout.PeriodPayoutInsufficientFunding.selector, OTHER_PERIOD, 150_000, 50_000
            )
        );
        _claim(second, 0);
        _claim(second, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInsufficientFunding.selector, OTHER_PERIOD, 99_993, 0)
        );
        _claim(second, 3);

        assertEq(token.balanceOf(address(first)), TOTAL, "first period's funds untouched");
        assertEq(token.balanceOf(address(second)), 0, "second period paid what it had");
        assertEq(_claimed(OTHER_PERIOD), 50_000, "second period's claims");
        assertEq(_claimed(PERIOD), 0, "first period's claims");
        assertFalse(registry.isLineSettled(OTHER_PERIOD, 0), "unpaid line not settled");
        _claim(first, 0);
        assertEq(token.balanceOf(ALICE), 150_000, "the first period still pays its own line");
    }

    function test_Claim_Revert_BeforeFinalize_NoPayoutDeployed() public {
        _commit(PERIOD);
        _fund(PERIOD, TOTAL);
        PeriodPayout payout = _payout(PERIOD);
        assertEq(address(payout).code.length, 0, "no code yet");

        // A high-level call to an address without code reverts without data (Solidity checks for code first).
        try this.claimExternally(payout, 0) {
            revert("claim before finalization went through");
        } catch (bytes memory reason) {
            assertEq(reason.length, 0, "reverts without data");
        }

        // A low-level call to the address "succeeds", but there is nothing there to pay anything out.
        StatementLine memory l = lines[0];
        (bool ok, bytes memory returned) = address(payout).call(abi.encodeCall(PeriodPayout.claim, (l, _proof(0))));
        assertTrue(ok, "a call to an account without code does not fail");
        assertEq(returned.length, 0, "and returns nothing");
        assertEq(token.balanceOf(ALICE), 0, "nothing paid");
        assertEq(token.balanceOf(address(payout)), TOTAL, "funds stay at the payout address");
        assertFalse(registry.isLineSettled(PERIOD, 0), "not settled");

        _finalize(PERIOD);
        _claim(payout, 0);
        assertEq(token.balanceOf(ALICE), 150_000, "claimable once final");
    }

    /// @dev Claims line `i` at `payout` from an external frame, so that the caller sees how the call fails.
    function claimExternally(PeriodPayout payout, uint256 i) external {
        StatementLine storage l = lines[i];
        payout.claim(l, _proof(i));
    }

    function test_Claim_Revert_WhenClaimedTwice() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        _claim(payout, 0);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 0));
        _claim(payout, 0);
        assertEq(token.balanceOf(ALICE), 150_000, "paid once");
        assertEq(token.balanceOf(address(payout)), TOTAL - 150_000, "payout paid once");
    }

    function test_Claim_Revert_WhenAmountAltered() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInvalidProof.selector));
        payout.claim(StatementLine(l.index, l.payee, l.workId, l.amount + 1, l.ruleVersion, l.splitVersion), proof);
    }

    function test_Claim_Revert_WhenPayeeAltered() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInvalidProof.selector));
        payout.claim(StatementLine(l.index, stranger, l.workId, l.amount, l.ruleVersion, l.splitVersion), proof);
    }

    function test_Claim_Revert_WhenIndexAltered() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInvalidProof.selector));
        payout.claim(StatementLine(4, l.payee, l.workId, l.amount, l.ruleVersion, l.splitVersion), proof);
        assertFalse(payout.isLineSettled(4), "line 4 not settled by the failed claim");
    }

    function test_Claim_Revert_WhenVersionsAltered() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInvalidProof.selector));
        payout.claim(StatementLine(l.index, l.payee, l.workId, l.amount, l.ruleVersion, l.splitVersion + 1), proof);
    }

    function test_Claim_Revert_WhenSettledAndProofInvalid_ReportsSettled() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        _claim(payout, 1);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 1));
        payout.claim(StatementLine(l.index, l.payee, l.workId, l.amount + 1, l.ruleVersion, l.splitVersion), proof);
    }

    function test_Claim_Revert_WhenFundingShort() public {
        _commit(PERIOD);
        _fund(PERIOD, 150_006);
        _finalize(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        _claim(payout, 2); // 7
        vm.expectRevert(
            abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInsufficientFunding.selector, PERIOD, 150_000, 149_999)
        );
        _claim(payout, 0);
        assertFalse(payout.isLineSettled(0), "the failed claim settled nothing");
        _fund(PERIOD, 1);
        _claim(payout, 0);
        assertEq(token.balanceOf(ALICE), 150_007, "claimable once funded");
    }

    function test_Claim_Revert_WhenPeriodFundedLessThanLine() public {
        _commit(PERIOD);
        _fund(PERIOD, 49_999);
        _finalize(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        // `held` is what the payout holds.
        vm.expectRevert(
            abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInsufficientFunding.selector, PERIOD, 50_000, 49_999)
        );
        _claim(payout, 1);
        assertEq(token.balanceOf(address(payout)), 49_999, "funds stay");
        assertEq(token.balanceOf(BOB), 0, "nothing paid");
        assertFalse(registry.isLineSettled(PERIOD, 1), "line not settled");
    }

    function test_Claim_Revert_WhenLinesExceedTotal_OtherPeriodsFundsUntouched() public {
        // OTHER_PERIOD commits the same lines but a total of 100: its lines can never reach PERIOD's funds.
        _ready(PERIOD);
        vm.prank(settler);
        registry.commitPeriod(OTHER_PERIOD, _root(), address(token), 100, LINE_COUNT, INPUTS);
        _fund(OTHER_PERIOD, 100);
        _finalize(OTHER_PERIOD);
        PeriodPayout other = _payout(OTHER_PERIOD);
        vm.expectRevert(
            abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInsufficientFunding.selector, OTHER_PERIOD, 50_000, 100)
        );
        _claim(other, 1);
        assertEq(token.balanceOf(registry.payoutOf(PERIOD)), TOTAL, "first period's funds intact");
        assertEq(token.balanceOf(address(other)), 100, "second period's funds intact");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
    }

    function test_Claim_Revert_WhenProofOfAnotherTree() public {
        _ready(PERIOD);
        StatementLine[] memory others = new StatementLine[](2);
        others[0] = StatementLine(0, stranger, WORK_C, 300_001, 9, 9);
        others[1] = StatementLine(1, BOB, WORK_C, 1, 9, 9);
        bytes32[] memory otherTree = StatementTree.build(others);
        vm.prank(settler);
        registry.commitPeriod(OTHER_PERIOD, otherTree[0], address(token), 300_002, 2, INPUTS);
        _fund(OTHER_PERIOD, 300_002);
        _finalize(OTHER_PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        PeriodPayout other = _payout(OTHER_PERIOD);

        // A valid proof of OTHER_PERIOD's tree (final and funded too) presented at PERIOD's payout.
        bytes32[] memory proof = StatementTree.proof(otherTree, others[0]);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInvalidProof.selector));
        payout.claim(StatementLine(0, stranger, WORK_C, 300_001, 9, 9), proof);
        assertFalse(payout.isLineSettled(0), "PERIOD's line 0 not settled");

        // The same line is claimable where it belongs, from that period's funds only.
        other.claim(StatementLine(0, stranger, WORK_C, 300_001, 9, 9), proof);
        assertEq(token.balanceOf(stranger), 300_001, "paid by its own period");
        assertEq(token.balanceOf(address(payout)), TOTAL, "PERIOD's funds untouched");
        assertEq(token.balanceOf(address(other)), 1, "OTHER_PERIOD paid its line");
    }

    // ---------------------------------------------------------------- reentrancy

    /// @dev Commits, funds with `funding` and finalizes PERIOD over the fixture's lines in a hostile token.
    function _evilPeriod(uint256 funding) internal returns (ReentrantToken evil, PeriodPayout payout) {
        evil = new ReentrantToken();
        evil.mint(platform, TOTAL);
        vm.prank(platform);
        evil.approve(address(registry), TOTAL);
        vm.prank(settler);
        registry.commitPeriod(PERIOD, _root(), address(evil), TOTAL, LINE_COUNT, INPUTS);
        _fund(PERIOD, funding);
        _finalize(PERIOD);
        payout = _payout(PERIOD);
    }

    /// @dev The calldata of a claim of line `i`.
    function _claimCall(uint256 i) internal view returns (bytes memory) {
        StatementLine memory l = lines[i];
        return abi.encodeCall(PeriodPayout.claim, (l, _proof(i)));
    }

    /// @dev How many `LineClaimed` events `emitter` emitted among `logs`.
    function _lineClaimedCount(Vm.Log[] memory logs, address emitter) internal pure returns (uint256 count) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == emitter && logs[i].topics[0] == IPeriodPayout.LineClaimed.selector) ++count;
        }
    }

    function test_Claim_TokenReentersSameLine_ReentrantClaimFailsAndPayeePaidOnce() public {
        (ReentrantToken evil, PeriodPayout payout) = _evilPeriod(TOTAL);
        // During the transfer to Alice, the token claims Alice's line again and carries on whatever the outcome.
        evil.armQuiet(address(payout), _claimCall(0));
        vm.recordLogs();
        _claim(payout, 0);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        assertEq(evil.callbacks(), 1, "the token called back into the payout");
        assertFalse(evil.callbackOk(), "the reentrant claim failed");
        assertEq(
            keccak256(evil.callbackReturn()),
            keccak256(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 0)),
            "because the line was already settled"
        );
        assertEq(_lineClaimedCount(logs, address(payout)), 1, "one LineClaimed");
        assertEq(evil.balanceOf(ALICE), 150_000, "paid exactly once");
        assertEq(evil.balanceOf(address(payout)), TOTAL - 150_000, "payout paid out one line");
        assertTrue(registry.isLineSettled(PERIOD, 0), "settled");
    }

    /// @dev A token that bubbles up the failed reentrant claim fails the outer transfer; the payout, which holds
    /// enough, reports it as `PeriodPayoutTransferFailed`, and the whole claim is undone.
    function test_Claim_Revert_WhenTokenRevertsOnReentrantClaimOfSameLine() public {
        (ReentrantToken evil, PeriodPayout payout) = _evilPeriod(TOTAL);
        evil.arm(address(payout), _claimCall(0));
        vm.expectRevert(
            abi.encodeWithSelector(IPeriodPayout.PeriodPayoutTransferFailed.selector, PERIOD, ALICE, 150_000)
        );
        _claim(payout, 0);
        assertFalse(registry.isLineSettled(PERIOD, 0), "outer claim undone");
        assertEq(evil.balanceOf(ALICE), 0, "nothing paid");
        assertEq(evil.balanceOf(address(payout)), TOTAL, "funds stay");

        evil.arm(address(0), "");
        _claim(payout, 0);
        assertEq(evil.balanceOf(ALICE), 150_000, "claim works once the token behaves");
    }

    /// @dev Reentering for another line is an ordinary claim of that line: each line is paid once, from the period's
    /// funds, and the payout's balance drops by exactly the two amounts.
    function test_Claim_TokenReentersAnotherLine_EachLinePaidOnce() public {
        (ReentrantToken evil, PeriodPayout payout) = _evilPeriod(TOTAL);
        evil.arm(address(payout), _claimCall(1));
        vm.recordLogs();
        _claim(payout, 0);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        assertEq(evil.callbacks(), 1, "the token called back into the payout");
        assertEq(_lineClaimedCount(logs, address(payout)), 2, "two LineClaimed");
        assertEq(evil.balanceOf(ALICE), 150_000, "outer line paid");
        assertEq(evil.balanceOf(BOB), 50_000, "inner line paid");
        assertEq(evil.balanceOf(address(payout)), TOTAL - 200_000, "payout paid exactly the two lines");
        assertTrue(registry.isLineSettled(PERIOD, 0), "outer line settled");
        assertTrue(registry.isLineSettled(PERIOD, 1), "inner line settled");

        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 1));
        _claim(payout, 1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 0));
        _claim(payout, 0);
        assertEq(evil.balanceOf(BOB), 50_000, "inner line not paid again");
    }

    /// @dev Funded for the outer line only: the inner claim pays first, the outer transfer then finds too little and
    /// fails, and the whole token transfer (inner claim included) is undone. The payout reads its balance after that
    /// undo, finds it covers the line and reports `PeriodPayoutTransferFailed`. Nothing is paid, nothing settled; each
    /// line remains claimable once.
    function test_Claim_Revert_WhenTokenReentersAnotherLineBeyondFunding() public {
        (ReentrantToken evil, PeriodPayout payout) = _evilPeriod(150_000);
        evil.arm(address(payout), _claimCall(1));
        vm.expectRevert(
            abi.encodeWithSelector(IPeriodPayout.PeriodPayoutTransferFailed.selector, PERIOD, ALICE, 150_000)
        );
        _claim(payout, 0);
        assertEq(evil.balanceOf(ALICE), 0, "outer line not paid");
        assertEq(evil.balanceOf(BOB), 0, "inner line not paid");
        assertEq(evil.balanceOf(address(payout)), 150_000, "funds intact");
        assertFalse(registry.isLineSettled(PERIOD, 0), "outer line not settled");
        assertFalse(registry.isLineSettled(PERIOD, 1), "inner line not settled");

        evil.arm(address(0), "");
        _claim(payout, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInsufficientFunding.selector, PERIOD, 50_000, 0)
        );
        _claim(payout, 1);
        assertEq(evil.balanceOf(ALICE), 150_000, "outer line paid once the token behaves");
    }

    function test_Fund_Revert_WhenTokenReentersFund() public {
        ReentrantToken evil = new ReentrantToken();
        evil.mint(platform, TOTAL);
        vm.prank(platform);
        evil.approve(address(registry), TOTAL);
        vm.prank(settler);
        registry.commitPeriod(PERIOD, _root(), address(evil), TOTAL, LINE_COUNT, INPUTS);

        evil.arm(address(registry), abi.encodeCall(registry.fund, (PERIOD, 1)));
        vm.expectRevert(abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector));
        _fund(PERIOD, 10);
        assertEq(registry.period(PERIOD).funded, 0, "nothing funded");
        assertEq(evil.balanceOf(registry.payoutOf(PERIOD)), 0, "nothing moved");
    }

    // ---------------------------------------------------------------- verifyLine and isLineSettled

    function test_VerifyLine_TrueForEveryCommittedLine() public {
        _commit(PERIOD);
        for (uint256 i; i < LINE_COUNT; ++i) {
            StatementLine memory l = lines[i];
            assertTrue(registry.verifyLine(PERIOD, l, _proof(i)), "line verifies");
        }
    }

    function test_VerifyLine_FalseForAlteredLineOrUnknownPeriod() public {
        _commit(PERIOD);
        StatementLine memory l = lines[3];
        bytes32[] memory proof = _proof(3);
        assertFalse(
            registry.verifyLine(
                PERIOD, StatementLine(l.index, l.payee, l.workId, l.amount + 1, l.ruleVersion, l.splitVersion), proof
            ),
            "altered amount"
        );
        assertFalse(registry.verifyLine(OTHER_PERIOD, l, proof), "unknown period");
    }

    function test_IsLineSettled_FalseUntilFinalAndSettled() public {
        assertFalse(registry.isLineSettled(PERIOD, 0), "unknown period");
        _commit(PERIOD);
        _fund(PERIOD, TOTAL);
        assertFalse(registry.isLineSettled(PERIOD, 0), "committed period");
        _finalize(PERIOD);
        assertFalse(registry.isLineSettled(PERIOD, 0), "final, not claimed");
        _claim(PERIOD, 0);
        assertTrue(registry.isLineSettled(PERIOD, 0), "claimed");
        assertFalse(registry.isLineSettled(PERIOD, 256), "same bit of another word");
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_Claim_AnyIndexAndAmount(uint256 index, uint256 amount, address payee) public {
        vm.assume(payee != address(0) && payee != address(registry) && payee != platform);
        amount = bound(amount, 0, type(uint88).max - 2);
        // Three lines: the fuzzed one, a neighbour in the same bitmap word and one in another word.
        StatementLine[] memory ls = new StatementLine[](3);
        ls[0] = StatementLine(index, payee, WORK_A, amount, 1, 1);
        ls[1] = StatementLine(index ^ 1, BOB, WORK_A, 1, 1, 1);
        ls[2] = StatementLine(index ^ 256, CAROL, WORK_B, 1, 1, 1);
        bytes32[] memory t = StatementTree.build(ls);
        uint256 total = amount + 2;
        token.mint(platform, total);
        vm.prank(settler);
        registry.commitPeriod(PERIOD, t[0], address(token), total, 3, INPUTS);
        _fund(PERIOD, total);
        _finalize(PERIOD);

        PeriodPayout payout = _payout(PERIOD);
        vm.assume(payee != address(payout));
        uint256 before = token.balanceOf(payee);
        payout.claim(StatementLine(index, payee, WORK_A, amount, 1, 1), StatementTree.proof(t, ls[0]));
        assertEq(token.balanceOf(payee) - before, amount, "payee paid");
        assertTrue(registry.isLineSettled(PERIOD, index), "line settled");
        assertFalse(registry.isLineSettled(PERIOD, index ^ 1), "neighbour not settled");
        assertFalse(registry.isLineSettled(PERIOD, index ^ 256), "other word not settled");

        bytes32[] memory proof = StatementTree.proof(t, ls[0]);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, index));
        payout.claim(StatementLine(index, payee, WORK_A, amount, 1, 1), proof);

        payout.claim(StatementLine(index ^ 1, BOB, WORK_A, 1, 1, 1), StatementTree.proof(t, ls[1]));
        payout.claim(StatementLine(index ^ 256, CAROL, WORK_B, 1, 1, 1), StatementTree.proof(t, ls[2]));
        assertEq(_claimed(PERIOD), total, "everything claimed");
        assertEq(token.balanceOf(address(payout)), 0, "payout emptied");
    }

    function testFuzz_Claim_Revert_WhenAmountAltered(uint256 delta) public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        delta = bound(delta, 1, type(uint256).max - 150_000);
        StatementLine memory l = lines[0];
        bytes32[] memory proof = _proof(0);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInvalidProof.selector));
        payout.claim(StatementLine(l.index, l.payee, l.workId, l.amount + delta, l.ruleVersion, l.splitVersion), proof);
    }

    function testFuzz_Fund_NeverAboveTotal(uint256 first, uint256 second) public {
        _commit(PERIOD);
        first = bound(first, 0, TOTAL);
        second = bound(second, 0, 2 * TOTAL);
        _fund(PERIOD, first);
        if (first + second > TOTAL) {
            vm.expectRevert(
                abi.encodeWithSelector(ISettlementRegistry.SettlementOverfunded.selector, PERIOD, second, TOTAL - first)
            );
        }
        _fund(PERIOD, second);
        uint256 funded = registry.period(PERIOD).funded;
        assertTrue(funded <= TOTAL, "funded within total");
        assertEq(token.balanceOf(registry.payoutOf(PERIOD)), funded, "payout balance is funding");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
    }

    function testFuzz_Claim_OnlyWithinFunding(uint256 funding) public {
        _commit(PERIOD);
        funding = bound(funding, 0, TOTAL);
        _fund(PERIOD, funding);
        _finalize(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        uint256 paid;
        for (uint256 i; i < LINE_COUNT; ++i) {
            uint256 amount = lines[i].amount;
            if (paid + amount > funding) {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        IPeriodPayout.PeriodPayoutInsufficientFunding.selector, PERIOD, amount, funding - paid
                    )
                );
                _claim(payout, i);
                assertFalse(payout.isLineSettled(i), "unpaid line not settled");
            } else {
                _claim(payout, i);
                paid += amount;
            }
        }
        assertEq(_claimed(PERIOD), paid, "claimed what was funded");
        assertEq(token.balanceOf(address(payout)), funding - paid, "the rest stays");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
    }
}
