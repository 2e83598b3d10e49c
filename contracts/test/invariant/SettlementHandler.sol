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
 * periods, off-chain payments, direct off-chain settlements by others than the registry, disputes, the arbiter's
 * decisions (by the arbiter in the seat and by former ones), expiries, handovers of the arbiter seat, carrying voided
 * funds between periods, finalization and the passage of time. The last period commits a total below what its lines add up to, so claims
 * also run out of funding. The handler is the registry's admin and settler; the arbiter is one of
 * {ARBITER_COUNT} addresses, handed over among them. It keeps its own sum of what each period's
 * claims paid out ({claimed}), which the registry no longer records.
 */
contract SettlementHandler is BaseTest {
    SettlementRegistry public immutable registry;
    TestStablecoin public immutable token;
    address public immutable platform = makeAddr("platform");

    uint256 public constant PERIOD_COUNT = 3;
    uint256 public constant LINES_PER_PERIOD = 6;
    uint256 public constant PAYEE_COUNT = 4;
    uint256 public constant ARBITER_COUNT = 3;

    /// @notice The arbiter as this handler saw the handovers complete.
    address public expectedArbiter = arbiterCandidate(0);

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

    /// @notice Claims or off-chain payments of a line that was held or voided; must stay zero.
    uint256 public heldLinesPaid;

    /// @notice Claims of a final period's line that was neither held, voided nor settled and whose payout held its
    /// amount, that failed; must stay zero.
    uint256 public undisputedClaimsRefused;

    /// @notice Decisions or handovers that succeeded from someone not in the arbiter seat; must stay zero.
    uint256 public decisionsByNonArbiters;

    uint256 public decisions;
    uint256 public carries;
    uint256 public handovers;

    constructor() {
        token = new TestStablecoin(address(this));
        registry = new SettlementRegistry(
            address(this),
            address(this),
            arbiterCandidate(0),
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

    function arbiterCandidate(uint256 i) public pure returns (address) {
        return toAddress(0xA4B17E0 + i);
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
        bool held = _heldOrVoided(p, l.index);
        bool claimable =
            !held && !registry.isLineSettled(periodId(p), l.index) && token.balanceOf(address(target)) >= l.amount;
        try target.claim(l, proof) {
            ++claims;
            claimed[p] += l.amount;
            if (token.balanceOf(l.payee) - before != l.amount) ++misPaidClaims;
            if (held) ++heldLinesPaid;
        } catch {
            if (claimable) ++undisputedClaimsRefused;
        }
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
        bool held = _heldOrVoided(p, l.index);
        vm.prank(l.payee);
        try registry.markPaidOffChain(periodId(p), l, proof, paymentRef) {
            ++offChainPayments;
            if (held) ++heldLinesPaid;
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

    /// @notice One of the arbiter candidates (the one in the seat or not) decides the first open dispute from a random
    /// id on, or else tries an id never opened.
    function decide(uint256 pSeed, uint256 idSeed, uint256 who, bool upheld, uint256 corrected) external {
        bytes32 id = periodId(bound(pSeed, 0, PERIOD_COUNT - 1));
        uint256 disputeId = _openFrom(id, idSeed);
        address caller = arbiterCandidate(bound(who, 0, ARBITER_COUNT - 1));
        vm.prank(caller);
        try registry.decide(id, disputeId, upheld, upheld ? bound(corrected, 0, 1e9) : 0, "decided") {
            ++decisions;
            if (caller != expectedArbiter) ++decisionsByNonArbiters;
        } catch {}
    }

    /// @notice Anyone applies the default to the first open dispute from a random id on.
    function expire(uint256 pSeed, uint256 idSeed) external {
        bytes32 id = periodId(bound(pSeed, 0, PERIOD_COUNT - 1));
        try registry.expire(id, _openFrom(id, idSeed)) {
            ++decisions;
        } catch {}
    }

    /// @notice An arbiter candidate names another as its successor (only the one in the seat may).
    function beginHandover(uint256 who, uint256 next) external {
        address caller = arbiterCandidate(bound(who, 0, ARBITER_COUNT - 1));
        vm.prank(caller);
        try registry.beginArbiterHandover(arbiterCandidate(bound(next, 0, ARBITER_COUNT - 1))) {
            if (caller != expectedArbiter) ++decisionsByNonArbiters;
        } catch {}
    }

    /// @notice An arbiter candidate accepts the seat (only the pending one may).
    function acceptHandover(uint256 who) external {
        address caller = arbiterCandidate(bound(who, 0, ARBITER_COUNT - 1));
        address pending = registry.pendingArbiter();
        vm.prank(caller);
        try registry.acceptArbiterHandover() {
            ++handovers;
            if (caller != pending) ++decisionsByNonArbiters;
            expectedArbiter = caller;
        } catch {}
    }

    /// @notice The settler carries some of a period's voided funds into another period (sometimes one more than it may).
    function carryVoided(uint256 pSeed, uint256 qSeed, uint256 amount) external {
        uint256 p = bound(pSeed, 0, PERIOD_COUNT - 1);
        uint256 q = bound(qSeed, 0, PERIOD_COUNT - 1);
        ISettlementRegistry.Period memory from = registry.period(periodId(p));
        amount = bound(amount, 0, from.voided - from.carriedOut + 1);
        try registry.carryVoided(periodId(p), periodId(q), amount) {
            ++carries;
        } catch {}
    }

    /// @dev The first open dispute of a period from `idSeed` on (bounded by the count), or the count if none.
    function _openFrom(bytes32 id, uint256 idSeed) internal view returns (uint256 disputeId) {
        uint256 count = registry.disputeCount(id);
        disputeId = bound(idSeed, 0, count);
        while (disputeId < count && registry.disputeOf(id, disputeId).state != ISettlementRegistry.DisputeState.Open) {
            ++disputeId;
        }
    }

    function _heldOrVoided(uint256 p, uint256 index) internal view returns (bool) {
        return registry.isLineHeld(periodId(p), index) || registry.isLineVoided(periodId(p), index);
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
