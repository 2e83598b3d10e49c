// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {BaseTest} from "./utils/BaseTest.sol";
import {ReferenceMerkleDistributor} from "./utils/ReferenceMerkleDistributor.sol";
import {PeriodPayout} from "../src/PeriodPayout.sol";
import {SettlementRegistry} from "../src/SettlementRegistry.sol";
import {ISettlementRegistry, StatementLine} from "../src/interfaces/ISettlementRegistry.sol";
import {TestStablecoin} from "../src/TestStablecoin.sol";

/// @dev What the settlement benchmarks share: a registry, a token, a platform, and proofs of a given depth.
abstract contract SettlementGasSetup is BaseTest {
    /// @notice A named measurement, printed by the test runner at verbosity 2 and above.
    event log_named_uint(string key, uint256 val);

    TestStablecoin internal token;
    SettlementRegistry internal registry;

    uint256 internal constant PLATFORM_KEY = 0xBE7C4;
    address internal platform;
    address internal settler = makeAddr("settler");

    uint64 internal constant T0 = 1_700_000_000;
    uint64 internal constant WINDOW = 3 days;
    address internal arbiter = address(0xA4B1);
    uint256 internal constant AMOUNT = 1_234_567; // 12,345.67 yuan, in fen
    uint256 internal constant PERIOD_TOTAL = 100_000_000;
    bytes32 internal constant WORK = keccak256("work");
    bytes32 internal constant INPUTS = keccak256("inputs");
    bytes32 internal constant FINALIZE_PERIOD = keccak256("period to finalize");
    bytes32 internal constant FUND_PERIOD = keccak256("period to fund");

    /// @dev Deploys the token and the registry at `T0` and lets the platform fund any period.
    function _deploy() internal {
        vm.warp(T0);
        platform = vm.addr(PLATFORM_KEY);
        token = new TestStablecoin(address(this));
        registry = new SettlementRegistry(
            address(this),
            settler,
            arbiter,
            WINDOW,
            ISettlementRegistry.DisputeTerms(30 days, false, address(0), 0, address(0))
        );
        token.mint(platform, 100 * PERIOD_TOTAL);
        vm.prank(platform);
        token.approve(address(registry), type(uint256).max);
    }

    /// @dev The gas of finalizing `periodId`.
    function _measureFinalize(bytes32 periodId) internal returns (uint256 gasUsed) {
        SettlementRegistry target = registry;
        uint256 before = gasleft();
        target.finalize(periodId);
        gasUsed = before - gasleft();
        require(registry.period(periodId).state == ISettlementRegistry.PeriodState.Finalized, "final");
    }

    /// @dev ceil(log2 n).
    function _depth(uint256 n) internal pure returns (uint256 depth) {
        while ((uint256(1) << depth) < n) ++depth;
    }

    /// @dev Folds `leaf` with `depth` arbitrary siblings; returns the root and the proof.
    function _folded(bytes32 leaf, uint256 depth, uint256 salt)
        internal
        pure
        returns (bytes32 root, bytes32[] memory proof)
    {
        proof = new bytes32[](depth);
        root = leaf;
        for (uint256 i; i < depth; ++i) {
            proof[i] = keccak256(abi.encode("sibling", salt, i));
            root = Hashes.commutativeKeccak256(root, proof[i]);
        }
    }
}

/**
 * @title SettlementGasBenchmark
 * @notice Measures the gas of single {SettlementRegistry} calls, of a claim on a period's {PeriodPayout} and of one on a
 * Uniswap-style {ReferenceMerkleDistributor}, and reports each figure as a `log_named_uint` event, read by
 * `scripts/bench-settlement-gas`. As in `GasBenchmark`, every figure is the `gasleft()` difference around one call
 * from this contract: it includes the call overhead (cold account access, argument copying) and excludes the 21,000
 * transaction base cost and calldata cost. Each test runs in its own transaction after `setUp`, so every storage slot
 * it touches starts cold.
 *
 * Claims are measured under the same conditions for the registry and the reference: the same token, the same amount,
 * the first claim in a fresh bitmap word, a payer whose balance stays non-zero, and a payee holding no tokens (or, in
 * the `_payee_holds_tokens` variants, already holding some).
 *
 * Proofs of depth `ceil(log2 n)` for a tree of `n` lines are built by folding the leaf with arbitrary sibling hashes
 * (sorted-pair hashing) and committing the resulting root. A proof's gas depends only on its length, not on the
 * sibling values, so this costs exactly what a proof in a real tree of `n` leaves costs.
 */
contract SettlementGasBenchmark is SettlementGasSetup {
    /// @dev The three tree sizes measured.
    uint256[3] internal sizes = [uint256(10), 1000, 100_000];

    /// @dev Reference distributors by tree size and payee variant (0: payee without tokens, 1: with tokens).
    mapping(uint256 n => mapping(uint256 variant => ReferenceMerkleDistributor)) internal distributors;

    function setUp() public {
        _deploy();

        vm.startPrank(settler);
        registry.commitPeriod(FINALIZE_PERIOD, keccak256("root"), address(token), PERIOD_TOTAL, 1000, INPUTS);
        registry.commitPeriod(FUND_PERIOD, keccak256("root"), address(token), PERIOD_TOTAL, 1000, INPUTS);
        vm.stopPrank();

        for (uint256 s; s < sizes.length; ++s) {
            uint256 n = sizes[s];
            for (uint256 variant; variant < 2; ++variant) {
                // Ours: a committed, fully funded, soon final period whose line n - 1 pays `payee(n, variant, 0)`.
                (bytes32 root,) = _folded(_leaf(n, variant), _depth(n), variant);
                vm.prank(settler);
                registry.commitPeriod(_periodId(n, variant), root, address(token), PERIOD_TOTAL, toUint32(n), INPUTS);
                vm.prank(platform);
                registry.fund(_periodId(n, variant), PERIOD_TOTAL);

                // The reference: a distributor holding the same funds, whose line n - 1 pays `payee(n, variant, 1)`.
                (bytes32 refRoot,) = _folded(_referenceLeaf(n, variant), _depth(n), variant);
                ReferenceMerkleDistributor distributor = new ReferenceMerkleDistributor(address(token), refRoot);
                distributors[n][variant] = distributor;
                token.mint(address(distributor), PERIOD_TOTAL);

                if (variant == 1) {
                    token.mint(payee(n, variant, 0), 1);
                    token.mint(payee(n, variant, 1), 1);
                }
            }
        }

        vm.warp(T0 + WINDOW);
        for (uint256 s; s < sizes.length; ++s) {
            registry.finalize(_periodId(sizes[s], 0));
            registry.finalize(_periodId(sizes[s], 1));
        }
    }

    // ---------------------------------------------------------------- lines and proofs

    function _periodId(uint256 n, uint256 variant) internal pure returns (bytes32) {
        return keccak256(abi.encode("benchmark period", n, variant));
    }

    /// @dev A fresh payee per size, variant and contract (0: registry, 1: reference).
    function payee(uint256 n, uint256 variant, uint256 which) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("payee", n, variant, which)))));
    }

    /// @dev The registry's leaf for line `n - 1`, as `StandardMerkleTree` hashes it.
    function _leaf(uint256 n, uint256 variant) internal pure returns (bytes32) {
        return
            keccak256(
                bytes.concat(keccak256(abi.encode(n - 1, payee(n, variant, 0), WORK, AMOUNT, uint32(1), uint32(1))))
            );
    }

    /// @dev The reference's leaf for line `n - 1`, as Uniswap's merkle-distributor hashes it.
    function _referenceLeaf(uint256 n, uint256 variant) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(n - 1, payee(n, variant, 1), AMOUNT));
    }

    // ---------------------------------------------------------------- measurements
    // Targets and arguments are loaded into locals first, so that only the call itself is measured.

    function _commit(uint256 n) internal returns (uint256 gasUsed) {
        SettlementRegistry target = registry;
        bytes32 periodId = keccak256(abi.encode("fresh period", n));
        bytes32 root = keccak256(abi.encode("fresh root", n));
        address payout = address(token);
        uint32 lineCount = toUint32(n);
        vm.prank(settler);
        uint256 before = gasleft();
        target.commitPeriod(periodId, root, payout, PERIOD_TOTAL, lineCount, INPUTS);
        gasUsed = before - gasleft();
        require(registry.period(periodId).lineCount == n, "committed");
    }

    function _claim(uint256 n, uint256 variant) internal returns (uint256 gasUsed) {
        bytes32 periodId = _periodId(n, variant);
        PeriodPayout target = PeriodPayout(registry.payoutOf(periodId));
        address to = payee(n, variant, 0);
        (, bytes32[] memory proof) = _folded(_leaf(n, variant), _depth(n), variant);
        uint256 index = n - 1;
        uint256 before = gasleft();
        target.claim(StatementLine(index, to, WORK, AMOUNT, 1, 1), proof);
        gasUsed = before - gasleft();
        require(registry.isLineSettled(periodId, index), "claimed");
        require(token.balanceOf(to) == AMOUNT + variant, "paid");
    }

    function _referenceClaim(uint256 n, uint256 variant) internal returns (uint256 gasUsed) {
        ReferenceMerkleDistributor target = distributors[n][variant];
        address to = payee(n, variant, 1);
        (, bytes32[] memory proof) = _folded(_referenceLeaf(n, variant), _depth(n), variant);
        uint256 index = n - 1;
        uint256 before = gasleft();
        target.claim(index, to, AMOUNT, proof);
        gasUsed = before - gasleft();
        require(target.isClaimed(index), "claimed");
        require(token.balanceOf(to) == AMOUNT + variant, "paid");
    }

    // ---------------------------------------------------------------- benchmarks

    function test_gas_commit_10_lines() public {
        emit log_named_uint("commit_10_lines", _commit(10));
    }

    function test_gas_commit_1000_lines() public {
        emit log_named_uint("commit_1000_lines", _commit(1000));
    }

    function test_gas_commit_100000_lines() public {
        emit log_named_uint("commit_100000_lines", _commit(100_000));
    }

    function test_gas_claim_10_lines() public {
        emit log_named_uint("claim_10_lines", _claim(10, 0));
    }

    function test_gas_claim_1000_lines() public {
        emit log_named_uint("claim_1000_lines", _claim(1000, 0));
    }

    function test_gas_claim_100000_lines() public {
        emit log_named_uint("claim_100000_lines", _claim(100_000, 0));
    }

    function test_gas_reference_claim_10_lines() public {
        emit log_named_uint("reference_claim_10_lines", _referenceClaim(10, 0));
    }

    function test_gas_reference_claim_1000_lines() public {
        emit log_named_uint("reference_claim_1000_lines", _referenceClaim(1000, 0));
    }

    function test_gas_reference_claim_100000_lines() public {
        emit log_named_uint("reference_claim_100000_lines", _referenceClaim(100_000, 0));
    }

    function test_gas_claim_10_lines_payee_holds_tokens() public {
        emit log_named_uint("claim_10_lines_payee_holds_tokens", _claim(10, 1));
    }

    function test_gas_claim_1000_lines_payee_holds_tokens() public {
        emit log_named_uint("claim_1000_lines_payee_holds_tokens", _claim(1000, 1));
    }

    function test_gas_claim_100000_lines_payee_holds_tokens() public {
        emit log_named_uint("claim_100000_lines_payee_holds_tokens", _claim(100_000, 1));
    }

    function test_gas_reference_claim_10_lines_payee_holds_tokens() public {
        emit log_named_uint("reference_claim_10_lines_payee_holds_tokens", _referenceClaim(10, 1));
    }

    function test_gas_reference_claim_1000_lines_payee_holds_tokens() public {
        emit log_named_uint("reference_claim_1000_lines_payee_holds_tokens", _referenceClaim(1000, 1));
    }

    function test_gas_reference_claim_100000_lines_payee_holds_tokens() public {
        emit log_named_uint("reference_claim_100000_lines_payee_holds_tokens", _referenceClaim(100_000, 1));
    }

    function test_gas_anchor_report() public {
        SettlementRegistry target = registry;
        ISettlementRegistry.PlayReport memory report = ISettlementRegistry.PlayReport({
            platform: platform,
            reportId: keccak256("report"),
            periodStart: T0 - 30 days,
            periodEnd: T0,
            currency: "CNY",
            rowCount: 120_000,
            plays: 9_000_000,
            validPlays: 8_500_000,
            watchMinutes: 310_000_000,
            adRevenue: 4_500_000_000,
            rowsRoot: keccak256("rows"),
            supersedes: 0
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(PLATFORM_KEY, registry.hashReport(report));
        bytes memory signature = abi.encodePacked(r, s, v);
        vm.prank(settler);
        uint256 before = gasleft();
        target.anchorReport(report, signature);
        uint256 gasUsed = before - gasleft();
        emit log_named_uint("anchor_report", gasUsed);
        require(registry.reportDigest(platform, keccak256("report")) != 0, "anchored");
    }

    /// @dev The first payment into a period, by the platform.
    function test_gas_fund() public {
        SettlementRegistry target = registry;
        bytes32 periodId = FUND_PERIOD;
        vm.prank(platform);
        uint256 before = gasleft();
        target.fund(periodId, PERIOD_TOTAL);
        uint256 gasUsed = before - gasleft();
        emit log_named_uint("fund", gasUsed);
        require(registry.period(periodId).funded == PERIOD_TOTAL, "funded");
    }

    function test_gas_finalize() public {
        emit log_named_uint("finalize", _measureFinalize(FINALIZE_PERIOD));
    }
}

/**
 * @title SettlementGasBenchmarkDisputes
 * @notice Measures disputes, decisions, finality with a held line and carrying voided funds, as {SettlementGasBenchmark}
 * measures claims (and in the same run, `--match-contract SettlementGasBenchmark`). A contract of its own so that the
 * claims' measuring code compiles exactly as before these were added.
 */
contract SettlementGasBenchmarkDisputes is SettlementGasSetup {
    bytes32 internal constant DISPUTE_PERIOD = keccak256("period to dispute");
    bytes32 internal constant HELD_PERIOD = keccak256("period to finalize with a line held");
    bytes32 internal constant DECIDE_PERIOD = keccak256("final period with an open dispute");
    bytes32 internal constant CARRY_PERIOD = keccak256("final period with a voided line");
    bytes32 internal constant CARRY_TO_PERIOD = keccak256("period receiving voided funds");
    address internal constant DISPUTER = address(0xD15B);

    function setUp() public {
        _deploy();
        vm.warp(T0 + WINDOW);
        _setUpDisputes();
    }

    /**
     * @dev Periods of 1,000 lines whose line 999 pays {DISPUTER}, committed at `T0 + WINDOW`: one to dispute, one with
     * an open dispute to finalize, one final with an open dispute to decide or expire, one final with an upheld dispute
     * whose voided funds are carried into a fifth. Leaves the time at the close of their dispute window.
     */
    function _setUpDisputes() internal {
        (bytes32 root,) = _folded(_disputedLeaf(), _depth(1000), 7);
        bytes32[5] memory ids = [DISPUTE_PERIOD, HELD_PERIOD, DECIDE_PERIOD, CARRY_PERIOD, CARRY_TO_PERIOD];
        for (uint256 i; i < ids.length; ++i) {
            vm.prank(settler);
            registry.commitPeriod(ids[i], root, address(token), PERIOD_TOTAL, 1000, INPUTS);
        }
        vm.startPrank(platform);
        registry.fund(DECIDE_PERIOD, PERIOD_TOTAL);
        registry.fund(CARRY_PERIOD, PERIOD_TOTAL);
        vm.stopPrank();
        (, bytes32[] memory proof) = _folded(_disputedLeaf(), _depth(1000), 7);
        vm.startPrank(DISPUTER);
        registry.dispute(HELD_PERIOD, _disputedLine(), proof, "short", AMOUNT + 1);
        registry.dispute(DECIDE_PERIOD, _disputedLine(), proof, "short", AMOUNT + 1);
        registry.dispute(CARRY_PERIOD, _disputedLine(), proof, "short", AMOUNT + 1);
        vm.stopPrank();
        vm.warp(T0 + 2 * WINDOW);
        registry.finalize(DECIDE_PERIOD);
        registry.finalize(CARRY_PERIOD);
        vm.prank(arbiter);
        registry.decide(CARRY_PERIOD, 0, true, AMOUNT + 1, "upheld");
    }

    /// @dev Line 999 of the disputed periods.
    function _disputedLine() internal pure returns (StatementLine memory) {
        return StatementLine(999, DISPUTER, WORK, AMOUNT, 1, 1);
    }

    function _disputedLeaf() internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(_disputedLine()))));
    }

    /// @dev A payee disputes a line of a 1,000-line period (no bond).
    function test_gas_dispute() public {
        vm.warp(T0 + WINDOW);
        SettlementRegistry target = registry;
        bytes32 periodId = DISPUTE_PERIOD;
        StatementLine memory line = _disputedLine();
        (, bytes32[] memory proof) = _folded(_disputedLeaf(), _depth(1000), 7);
        uint256 claimed = AMOUNT + 1;
        vm.prank(DISPUTER);
        uint256 before = gasleft();
        target.dispute(periodId, line, proof, "short", claimed);
        uint256 gasUsed = before - gasleft();
        emit log_named_uint("dispute", gasUsed);
        require(registry.isLineHeld(periodId, 999), "held");
    }

    /// @dev Finalizing a period one of whose lines has an open dispute: the payout is deployed and the line held.
    function test_gas_finalize_one_line_held() public {
        emit log_named_uint("finalize_one_line_held", _measureFinalize(HELD_PERIOD));
        require(!registry.isLineSettled(HELD_PERIOD, 999) && registry.isLineHeld(HELD_PERIOD, 999), "held");
    }

    function _decide(bool upheld) internal returns (uint256 gasUsed) {
        SettlementRegistry target = registry;
        bytes32 periodId = DECIDE_PERIOD;
        uint256 corrected = upheld ? AMOUNT + 1 : 0;
        vm.prank(arbiter);
        uint256 before = gasleft();
        target.decide(periodId, 0, upheld, corrected, "reasons");
        gasUsed = before - gasleft();
        require(registry.isLineVoided(periodId, 999) == upheld, "decided");
    }

    /// @dev The arbiter upholds a dispute of a final period: the line is voided in the payout.
    function test_gas_decide_upheld() public {
        emit log_named_uint("decide_upheld", _decide(true));
    }

    /// @dev The arbiter rejects a dispute of a final period: the line is released in the payout.
    function test_gas_decide_rejected() public {
        emit log_named_uint("decide_rejected", _decide(false));
    }

    /// @dev Anyone applies the default (rejected) to a dispute of a final period at its deadline.
    function test_gas_expire() public {
        SettlementRegistry target = registry;
        bytes32 periodId = DECIDE_PERIOD;
        vm.warp(registry.disputeOf(periodId, 0).deadline);
        uint256 before = gasleft();
        target.expire(periodId, 0);
        uint256 gasUsed = before - gasleft();
        emit log_named_uint("expire", gasUsed);
        require(!registry.isLineHeld(periodId, 999), "released");
    }

    /// @dev The settler carries a voided line's funds into another period.
    function test_gas_carry_voided() public {
        SettlementRegistry target = registry;
        bytes32 from = CARRY_PERIOD;
        bytes32 to = CARRY_TO_PERIOD;
        vm.prank(settler);
        uint256 before = gasleft();
        target.carryVoided(from, to, AMOUNT);
        uint256 gasUsed = before - gasleft();
        emit log_named_uint("carry_voided", gasUsed);
        require(registry.period(to).funded == AMOUNT, "carried");
    }
}
