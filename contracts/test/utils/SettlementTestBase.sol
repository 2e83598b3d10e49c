// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "./BaseTest.sol";
import {StatementTree} from "./StatementTree.sol";
import {ISettlementRegistry, StatementLine} from "../../src/interfaces/ISettlementRegistry.sol";
import {PeriodPayout} from "../../src/PeriodPayout.sol";
import {SettlementRegistry} from "../../src/SettlementRegistry.sol";
import {TestStablecoin} from "../../src/TestStablecoin.sol";

/// @dev The shared base of the settlement tests: a registry, a test stablecoin, a paying platform and a five-line
/// statement tree, with the helpers every concern uses.
abstract contract SettlementTestBase is BaseTest {
    SettlementRegistry internal registry;
    TestStablecoin internal token;

    uint256 internal constant PLATFORM_KEY = 0xA11CE5EC12E7;
    uint256 internal constant OTHER_KEY = 0xB0B5EC12E7;
    address internal platform;

    address internal admin = makeAddr("admin");
    address internal settler = makeAddr("settler");
    address internal stranger = makeAddr("stranger");
    address internal arbiter = makeAddr("arbiter");
    address internal bondSink = makeAddr("bondSink");

    // The payees of the statement lines; the same lines as the @openzeppelin/merkle-tree vector below.
    address internal constant ALICE = address(0xA11C);
    address internal constant BOB = address(0xB0B0);
    address internal constant CAROL = address(0xC4A1);
    address internal constant DAVE = address(0xD00D);
    bytes32 internal constant WORK_A = 0x1111111111111111111111111111111111111111111111111111111111111111;
    bytes32 internal constant WORK_B = 0x2222222222222222222222222222222222222222222222222222222222222222;
    bytes32 internal constant WORK_C = 0x3333333333333333333333333333333333333333333333333333333333333333;
    uint256 internal constant TOTAL = 300_001;
    uint32 internal constant LINE_COUNT = 5;

    /// @dev Root of the five lines as computed by `StandardMerkleTree.of(lines, types)` of OpenZeppelin merkle-tree
    /// (JS).
    bytes32 internal constant OZ_JS_ROOT = 0x9bdf36a82a36366b6d46682d550f4587e8661e71279179f0d00df0e1224c23ff;

    uint64 internal constant T0 = 1_700_000_000;
    uint64 internal constant WINDOW = 3 days;
    uint64 internal constant DECISION_WINDOW = 30 days;
    bytes32 internal constant PERIOD = keccak256("2026-10 platform A");
    bytes32 internal constant OTHER_PERIOD = keccak256("2026-11 platform A");
    bytes32 internal constant INPUTS = keccak256("inputs");

    StatementLine[] internal lines;
    bytes32[] internal tree;

    function setUp() public virtual {
        vm.warp(T0);
        platform = vm.addr(PLATFORM_KEY);
        token = new TestStablecoin(address(this));
        registry = new SettlementRegistry(admin, settler, arbiter, WINDOW, _terms());
        token.mint(platform, 10 * TOTAL);
        vm.prank(platform);
        token.approve(address(registry), type(uint256).max);

        lines.push(StatementLine(0, ALICE, WORK_A, 150_000, 1, 1));
        lines.push(StatementLine(1, BOB, WORK_A, 50_000, 1, 1));
        lines.push(StatementLine(2, ALICE, WORK_B, 7, 2, 3));
        lines.push(StatementLine(3, CAROL, WORK_B, 99_993, 2, 3));
        lines.push(StatementLine(4, DAVE, WORK_C, 1, 4, 5));
        tree = StatementTree.build(lines);
    }

    // ---------------------------------------------------------------- helpers

    /// @dev The dispute terms of the registry under test: rejected by default, no bond. Overridden to test others.
    function _terms() internal view virtual returns (ISettlementRegistry.DisputeTerms memory) {
        return ISettlementRegistry.DisputeTerms(DECISION_WINDOW, false, address(0), 0, address(0));
    }

    function _root() internal view returns (bytes32) {
        return tree[0];
    }

    function _proof(uint256 i) internal view returns (bytes32[] memory) {
        return StatementTree.proof(tree, lines[i]);
    }

    function _commit(bytes32 periodId) internal {
        vm.prank(settler);
        registry.commitPeriod(periodId, _root(), address(token), TOTAL, LINE_COUNT, INPUTS);
    }

    function _fund(bytes32 periodId, uint256 amount) internal {
        vm.prank(platform);
        registry.fund(periodId, amount);
    }

    function _finalize(bytes32 periodId) internal {
        vm.warp(registry.period(periodId).disputeEnds);
        registry.finalize(periodId);
    }

    /// @dev Commits, fully funds and finalizes `periodId`.
    function _ready(bytes32 periodId) internal {
        _commit(periodId);
        _fund(periodId, TOTAL);
        _finalize(periodId);
    }

    /// @dev The period's payout, as the registry names it. A call: look it up before `vm.expectRevert` or `vm.prank`.
    function _payout(bytes32 periodId) internal view returns (PeriodPayout) {
        return PeriodPayout(registry.payoutOf(periodId));
    }

    /// @dev What has been claimed from a period: its funding less what its payout still holds.
    function _claimed(bytes32 periodId) internal view returns (uint256) {
        ISettlementRegistry.Period memory p = registry.period(periodId);
        return p.funded - token.balanceOf(p.payout);
    }

    /// @dev A stranger claims line `i` at `payout`; the only call made is the claim itself.
    function _claim(PeriodPayout payout, uint256 i) internal {
        StatementLine storage l = lines[i];
        bytes32[] memory proof = _proof(i);
        vm.prank(stranger);
        payout.claim(l, proof);
    }

    /// @dev A stranger claims line `i` of `periodId`. Looks the payout up first: with `vm.expectRevert`, use the
    /// overload taking the payout.
    function _claim(bytes32 periodId, uint256 i) internal {
        _claim(_payout(periodId), i);
    }

    function _markPaid(bytes32 periodId, uint256 i, bytes32 paymentRef) internal {
        StatementLine storage l = lines[i];
        bytes32[] memory proof = _proof(i);
        vm.prank(l.payee);
        registry.markPaidOffChain(periodId, l, proof, paymentRef);
    }

    /// @dev The payee of line `i` disputes it with its real proof, claiming one more than the line's amount.
    function _dispute(bytes32 periodId, uint256 i, bytes32 reason) internal returns (uint256) {
        StatementLine storage l = lines[i];
        bytes32[] memory proof = _proof(i);
        vm.prank(l.payee);
        return registry.dispute(periodId, l, proof, reason, l.amount + 1);
    }

    /// @dev The arbiter decides a dispute.
    function _decide(bytes32 periodId, uint256 disputeId, bool upheld, uint256 correctedAmount) internal {
        vm.prank(arbiter);
        registry.decide(periodId, disputeId, upheld, correctedAmount, "decision");
    }

    function _err(bytes4 selector, bytes32 periodId) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, periodId);
    }
}
