// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {StatementTree} from "../utils/StatementTree.sol";
import {ISettlementRegistry, StatementLine} from "../../src/interfaces/ISettlementRegistry.sol";
import {PeriodPayout} from "../../src/PeriodPayout.sol";
import {SettlementRegistry} from "../../src/SettlementRegistry.sol";
import {TestStablecoin} from "../../src/TestStablecoin.sol";

/**
 * @title SettlementHandler
 * @notice Drives a {SettlementRegistry} over a few committed periods of real statement trees: funding (in parts and
 * beyond the total), claims at the periods' {PeriodPayout}s with good and altered proofs and with lines of other
 * periods, off-chain payments, direct off-chain settlements by others than the registry, disputes, resolutions,
 * finalization and the passage of time. The last period commits a total below what its lines add up to, so claims
 * also run out of funding. The handler is the registry's admin and settler. It keeps its own sum of what each period's
 * claims paid out ({claimed}), which the registry no longer records.
 */
contract SettlementHandler is BaseTest {
    SettlementRegistry public immutable registry;
    TestStablecoin public immutable token;
    address public immutable platform = makeAddr("platform");

    uint256 public constant PERIOD_COUNT = 3;
    uint256 public constant LINES_PER_PERIOD = 6;
    uint256 public constant PAYEE_COUNT = 4;

    mapping(uint256 p => StatementLine[]) private _lines;
    mapping(uint256 p => bytes32[]) private _trees;

    /// @notice The position in `_lines[p]` of the line each dispute was opened against, as returned by `dispute`.
    mapping(uint256 p => mapping(uint256 disputeId => uint256 i)) public disputedLine;

    /// @notice Calls that went through, to tell vacuous runs apart.
    uint256 public funds;
    uint256 public claims;
    uint256 public offChainPayments;
    uint256 public finalizations;

    uint256 public disputes;

    /// @notice What successful claims paid out, by period (index `p`), as measured by the payee's balance.
    mapping(uint256 p => uint256 amount) public claimed;

    /// @notice Claims with an altered line, or of another period's line, that succeeded; must stay zero.
    uint256 public badClaimsPaid;

    /// @notice Lines settled off-chain at a payout by a caller other than the registry; must stay zero.
    uint256 public badSettlements;

    /// @notice Claims whose payee did not receive exactly the line's amount; must stay zero.
    uint256 public misPaidClaims;

    /// @notice Disputes opened by someone other than the line's payee or with an altered line; must stay zero.
    uint256 public badDisputesOpened;

    constructor() {
        token = new TestStablecoin(address(this));
        registry = new SettlementRegistry(
            address(this),
            address(this),
            address(this),
            1 hours,
            ISettlementRegistry.DisputeTerms(2 hours, false, address(0), 0, address(0))
        );
        token.mint(platform, type(uint96).max);
        vm.prank(platform);
        token.approve(address(registry), type(uint256).max);

        for (uint256 p; p < PERIOD_COUNT; ++p) {
            uint256 sum;
            for (uint256 i; i < LINES_PER_PERIOD; ++i) {
                uint256 amount = uint256(keccak256(abi.encode(p, i))) % 100_000 + 1;
                // Indices 97 apart spread the lines over several bitmap words.
                _lines[p].push(StatementLine(i * 97, payee((p + i) % PAYEE_COUNT), workId(i % 2), amount, 1, 1));
                sum += amount;
            }
            _trees[p] = StatementTree.build(_lines[p]);
            uint256 total = p == PERIOD_COUNT - 1 ? sum - 50_000 : sum;
            registry.commitPeriod(periodId(p), _trees[p][0], address(token), total, toUint32(LINES_PER_PERIOD), 0);
        }
    }

    // ---------------------------------------------------------------- names

    function periodId(uint256 p) public pure returns (bytes32) {
        return keccak256(abi.encode("settlement period", p));
    }

    function payee(uint256 i) public pure returns (address) {
        return toAddress(0xFA1E0 + i);
    }

    function workId(uint256 i) public pure returns (bytes32) {
        return keccak256(abi.encode("settled work", i));
    }

    function line(uint256 p, uint256 i) external view returns (StatementLine memory) {
        return _lines[p][i];
    }

    /// @notice The payout of period `p` (index), deployed once the period is final.
    function payout(uint256 p) public view returns (PeriodPayout) {
        return PeriodPayout(registry.payoutOf(periodId(p)));
    }

    // ---------------------------------------------------------------- actions

    /// @notice The platform pays into a period, sometimes more than it still owes.
    function fund(uint256 pSeed, uint256 amount) external {
        bytes32 id = periodId(bound(pSeed, 0, PERIOD_COUNT - 1));
        amount = bound(amount, 0, registry.period(id).total);
        vm.prank(platform);
        try registry.fund(id, amount) {
            ++funds;
        } catch {}
    }

    /// @notice Anyone claims a line with its real proof at its period's payout (once it is deployed: a call to an
    /// account without code would revert here, outside the `try`).
    function claim(uint256 pSeed, uint256 lSeed) external {
        uint256 p = bound(pSeed, 0, PERIOD_COUNT - 1);
        PeriodPayout target = payout(p);
        if (address(target).code.length == 0) return;
        StatementLine memory l = _lines[p][bound(lSeed, 0, LINES_PER_PERIOD - 1)];
        bytes32[] memory proof = StatementTree.proof(_trees[p], l);
        uint256 before = token.balanceOf(l.payee);
        try target.claim(l, proof) {
            ++claims;
            claimed[p] += l.amount;
            if (token.balanceOf(l.payee) - before != l.amount) ++misPaidClaims;
        } catch {}
    }

    /// @notice Anyone claims a line of period `p` with its real proof at the payout of another period `q`.
    function claimAtOtherPayout(uint256 pSeed, uint256 qSeed, uint256 lSeed) external {
        uint256 p = bound(pSeed, 0, PERIOD_COUNT - 1);
        uint256 q = (p + 1 + bound(qSeed, 0, PERIOD_COUNT - 2)) % PERIOD_COUNT;
        PeriodPayout target = payout(q);
        if (address(target).code.length == 0) return;
        StatementLine memory l = _lines[p][bound(lSeed, 0, LINES_PER_PERIOD - 1)];
        bytes32[] memory proof = StatementTree.proof(_trees[p], l);
        try target.claim(l, proof) {
            ++badClaimsPaid;
            claimed[q] += l.amount;
        } catch {}
    }

    /// @notice Someone claims a line with its real proof but an altered amount, payee or index.
    function claimAltered(uint256 pSeed, uint256 lSeed, uint8 what, uint256 delta) external {
        uint256 p = bound(pSeed, 0, PERIOD_COUNT - 1);
        PeriodPayout target = payout(p);
        if (address(target).code.length == 0) return;
        StatementLine memory l = _lines[p][bound(lSeed, 0, LINES_PER_PERIOD - 1)];
        bytes32[] memory proof = StatementTree.proof(_trees[p], l);
        delta = bound(delta, 1, 1_000_000);
        if (what % 3 == 0) l.amount += delta;
        else if (what % 3 == 1) l.payee = toAddress(uint160(l.payee) + delta);
        else l.index += delta;
        try target.claim(l, proof) {
            ++badClaimsPaid;
            claimed[p] += l.amount;
        } catch {}
    }

    /// @notice A payee records that its line was paid off-chain.
    function markPaidOffChain(uint256 pSeed, uint256 lSeed, bytes32 paymentRef) external {
        uint256 p = bound(pSeed, 0, PERIOD_COUNT - 1);
        StatementLine memory l = _lines[p][bound(lSeed, 0, LINES_PER_PERIOD - 1)];
        bytes32[] memory proof = StatementTree.proof(_trees[p], l);
        vm.prank(l.payee);
        try registry.markPaidOffChain(periodId(p), l, proof, paymentRef) {
            ++offChainPayments;
        } catch {}
    }

    /// @notice Someone other than the registry (a payee, the settler or a stranger) settles a line at a payout.
    function settleOffChainDirectly(uint256 pSeed, uint256 lSeed, address caller) external {
        uint256 p = bound(pSeed, 0, PERIOD_COUNT - 1);
        PeriodPayout target = payout(p);
        if (address(target).code.length == 0) return;
        if (caller == address(registry)) caller = address(this);
        vm.prank(caller);
        try target.settleOffChain(_lines[p][bound(lSeed, 0, LINES_PER_PERIOD - 1)].index) {
            ++badSettlements;
        } catch {}
    }

    /// @notice A payee disputes its line with its real proof (one call in three, so that periods also get to be final).
    function dispute(uint256 pSeed, uint256 lSeed, bytes32 reason) external {
        if (uint256(reason) % 3 != 0) return;
        uint256 p = bound(pSeed, 0, PERIOD_COUNT - 1);
        uint256 i = bound(lSeed, 0, LINES_PER_PERIOD - 1);
        StatementLine memory l = _lines[p][i];
        bytes32[] memory proof = StatementTree.proof(_trees[p], l);
        vm.prank(l.payee);
        try registry.dispute(periodId(p), l, proof, reason, l.amount) returns (uint256 disputeId) {
            disputedLine[p][disputeId] = i;
            ++disputes;
        } catch {}
    }

    /// @notice Someone other than the payee disputes a line, or the payee disputes an altered line.
    function disputeUnentitled(uint256 pSeed, uint256 lSeed, uint8 what, uint256 delta, address caller) external {
        uint256 p = bound(pSeed, 0, PERIOD_COUNT - 1);
        StatementLine memory l = _lines[p][bound(lSeed, 0, LINES_PER_PERIOD - 1)];
        bytes32[] memory proof = StatementTree.proof(_trees[p], l);
        delta = bound(delta, 1, 1_000_000);
        if (what % 4 == 0) {
            // a stranger, naming the real payee
            if (caller == l.payee) caller = toAddress(uint160(caller) + delta);
        } else {
            // the caller names itself, or the payee alters its line
            if (what % 4 == 1) l.payee = toAddress(uint160(l.payee) + delta);
            else if (what % 4 == 2) l.amount += delta;
            else l.index += delta;
            caller = l.payee;
        }
        vm.prank(caller);
        try registry.dispute(periodId(p), l, proof, "unentitled", 0) {
            ++badDisputesOpened;
        } catch {}
    }

    /// @notice The settler resolves the first open dispute from a random id on, or else tries an id never opened.
    function resolveDispute(uint256 pSeed, uint256 idSeed) external {
        bytes32 id = periodId(bound(pSeed, 0, PERIOD_COUNT - 1));
        uint256 count = registry.disputeCount(id);
        uint256 disputeId = bound(idSeed, 0, count);
        while (disputeId < count && registry.disputeOf(id, disputeId).state != ISettlementRegistry.DisputeState.Open) {
            ++disputeId;
        }
        try registry.decide(id, disputeId, false, 0, "rejected") {} catch {}
    }

    /// @notice Anyone finalizes a period, waiting for its dispute window to close when `wait` is set.
    function finalize(uint256 pSeed, bool wait) external {
        bytes32 id = periodId(bound(pSeed, 0, PERIOD_COUNT - 1));
        uint256 disputeEnds = registry.period(id).disputeEnds;
        if (wait && block.timestamp < disputeEnds) vm.warp(disputeEnds);
        try registry.finalize(id) {
            ++finalizations;
        } catch {}
    }

    /// @notice Moves time forward by up to two hours (the dispute window is one hour).
    function warp(uint32 delta) external {
        vm.warp(block.timestamp + bound(delta, 1, 2 hours));
    }
}
