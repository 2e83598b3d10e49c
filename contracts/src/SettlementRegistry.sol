// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";

import {PeriodPayout, StatementLines} from "./PeriodPayout.sol";
import {IPeriodPayout, ISettlementLineHolds} from "./interfaces/IPeriodPayout.sol";
import {EIP712Domain} from "./utils/EIP712Domain.sol";
import {SignatureCheck} from "./utils/SignatureCheck.sol";
import {ISettlementRegistry, StatementLine} from "./interfaces/ISettlementRegistry.sol";

/**
 * @title SettlementRegistry
 * @notice Signed play reports and revenue-share settlement periods, paid out in an ERC-20 by Merkle proof.
 *
 * Play reports. A platform signs a summary of each play report (EIP-712, domain "ReelLedger" version "1"; an EOA
 * signature or an ERC-1271 contract signature); a settler anchors it here, after which neither the platform nor the
 * operator can alter or deny it. A report may name an earlier report of the same platform that it corrects.
 *
 * Settlement periods. A settler commits a period: the Merkle root of its statement lines, the payout token, the total
 * and a hash of the inputs the lines were computed from. Each line is a leaf of an OpenZeppelin `StandardMerkleTree`
 * over `(uint256 index, address payee, bytes32 workId, uint256 amount, uint32 ruleVersion, uint32 splitVersion)`,
 * with `index` running from 0 to `lineCount - 1`. The paying platform funds the period in the token at any time after
 * the commitment (in parts if it wishes), up to the total less what was recorded as paid off-chain. Once the dispute
 * window has closed anyone may finalize the period, and the registry deploys its {PeriodPayout}, where anyone may
 * trigger the claim of a line and its amount goes to its payee. A payee paid by bank transfer instead records that here
 * once the period is final, which settles its line and lowers what the period needs funding.
 *
 * Disputes. For {disputeWindow} seconds after the commitment a payee may dispute one of its lines, proving the line
 * against the committed root, with at most one open dispute per line, and posting a bond if the deployment asks for
 * one ({disputeTerms}). A disputed line is held: it can be neither claimed nor recorded as paid off-chain while its
 * dispute is open, and its money waits in the period's payout; every other line of the period finalizes and pays on
 * time. A neutral {arbiter}, named at deployment and changed only by a two-step handover, decides each dispute before
 * its deadline (`decisionWindow` seconds after its opening): upheld, the line is voided (never paid in this period; the
 * corrected amount is paid in the platform's next period as an adjustment line, and the settler moves the voided funds
 * there with {carryVoided}) and the bond goes back to the payee; rejected, the line is released and the bond goes to
 * the bond sink. Once the deadline has passed, anyone may apply the deployment's default outcome ({expire}).
 *
 * The arbiter should not be a settler: the operator would judge its own statements. A handover to a settler is
 * refused; a deployment may start with the operator in the seat (a development chain does) and hand it over.
 *
 * The cost of a period does not depend on its number of lines: only the root, the totals and a bitmap of settled
 * lines (one bit per line, written by its own claim) are stored.
 *
 * @dev A period's funds go straight to the address its {PeriodPayout} will have ({payoutOf}: CREATE2 from this
 * registry, salted with the period id, over the period's id, root and token), before or after the payout is deployed.
 * So the registry never holds a period's tokens (only open disputes' bonds), a period's lines are paid only from that period's funds (a root whose lines add
 * up to more than was funded cannot reach another period's money), and a claim, the one call made once per line,
 * reads immutable root and token and a single storage word, as the well-known Merkle airdrop distributors do. A held
 * line is marked in that same word (its bit is set in the payout's settled bitmap), so holding costs a claim nothing.
 * Disputes open only within the window and the period becomes final only after it, so when {finalize} deploys the
 * payout the set of disputed lines is fixed: it holds those still open and those already voided, one call each, a
 * cost that grows with the period's disputes (each of which cost its payee a transaction and, where asked, a bond).
 *
 * The token must move exactly the amounts asked (no fee on transfer, no rebasing).
 *
 * Built for a Shanghai EVM (no transient storage, no MCOPY), like every ReelLedger contract, so that one release runs
 * on every chain from Shanghai on: hence a storage-based reentrancy guard on the functions that move tokens.
 */
contract SettlementRegistry is
    ISettlementRegistry,
    ISettlementLineHolds,
    AccessControl,
    EIP712Domain("ReelLedger", "1"),
    ReentrancyGuard
{
    using BitMaps for BitMaps.BitMap;
    using SafeERC20 for IERC20;

    /// @dev A period, addressed by its id.
    struct PeriodRecord {
        bytes32 root; // slot 0
        uint88 total; // slot 1
        uint88 funded;
        uint48 disputeEnds;
        uint32 lineCount;
        uint88 paidOffChain; // slot 2
        uint64 disputeCount;
        uint64 openDisputes;
        address token; // slot 3
        PeriodState state;
        bytes32 inputsHash; // slot 4
        uint88 voided; // slot 5
        uint88 carriedOut;
    }

    /// @dev A dispute, addressed by period and id.
    struct DisputeRecord {
        address payee; // slot 0
        uint48 deadline;
        DisputeState state;
        bool byDefault;
        uint64 index; // slot 1
        uint88 lineAmount;
        uint88 claimedAmount;
        uint88 correctedAmount; // slot 2
        bytes32 reason; // slot 3
        bytes32 decisionReason; // slot 4
    }

    /// @notice The role allowed to anchor reports, commit periods and carry voided funds.
    bytes32 public constant SETTLER_ROLE = keccak256("SETTLER_ROLE");

    /// @notice The EIP-712 type hash of {PlayReport}.
    bytes32 public constant PLAY_REPORT_TYPEHASH = keccak256(
        "PlayReport(address platform,bytes32 reportId,uint64 periodStart,uint64 periodEnd,string currency,"
        "uint256 rowCount,uint256 plays,uint256 validPlays,uint256 watchMinutes,uint256 adRevenue,bytes32 rowsRoot,"
        "bytes32 supersedes)"
    );

    /// @notice How long after its commitment a period may be disputed, in seconds.
    uint64 public immutable disputeWindow;

    /// @dev The {DisputeTerms}, one immutable each.
    uint64 private immutable _decisionWindow;
    bool private immutable _defaultUpheld;
    IERC20 private immutable _bondToken;
    uint256 private immutable _bondAmount;
    address private immutable _bondSink;

    /// @notice Decides disputes; changed only by {beginArbiterHandover} and {acceptArbiterHandover}.
    address public arbiter;

    /// @notice The successor the arbiter named, until it accepts; the zero address when no handover is under way.
    address public pendingArbiter;

    /// @notice The EIP-712 struct hash of each anchored report, by platform and report id; zero if not anchored.
    mapping(address platform => mapping(bytes32 reportId => bytes32 structHash)) public reportDigest;

    /// @dev Periods by id.
    mapping(bytes32 periodId => PeriodRecord) private _periods;

    /// @dev Disputes by period and id.
    mapping(bytes32 periodId => mapping(uint256 disputeId => DisputeRecord)) private _disputes;

    /// @dev Held lines: bit `index` is set while a dispute of line `index` is open.
    mapping(bytes32 periodId => BitMaps.BitMap) private _heldLines;

    /// @dev Voided lines: bit `index` is set once a dispute of line `index` was upheld.
    mapping(bytes32 periodId => BitMaps.BitMap) private _voidedLines;

    /**
     * @param admin Receives `DEFAULT_ADMIN_ROLE`, which grants and revokes roles.
     * @param settler Receives {SETTLER_ROLE}.
     * @param arbiter_ The first arbiter; not the zero address. It may be the settler (a development deployment), which
     * should then hand the seat over.
     * @param disputeWindow_ How long after its commitment a period may be disputed, in seconds.
     * @param terms How disputes are decided; a bond asks for a bond token and a bond sink.
     */
    constructor(address admin, address settler, address arbiter_, uint64 disputeWindow_, DisputeTerms memory terms) {
        if (arbiter_ == address(0)) revert SettlementZeroArbiter();
        if (terms.bondAmount != 0 && (terms.bondToken == address(0) || terms.bondSink == address(0))) {
            revert SettlementInvalidBondTerms();
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(SETTLER_ROLE, settler);
        disputeWindow = disputeWindow_;
        _decisionWindow = terms.decisionWindow;
        _defaultUpheld = terms.defaultUpheld;
        _bondToken = IERC20(terms.bondToken);
        _bondAmount = terms.bondAmount;
        _bondSink = terms.bondSink;
        arbiter = arbiter_;
        emit ArbiterChanged(address(0), arbiter_);
    }

    // ---------------------------------------------------------------- play reports

    /**
     * @notice Anchors a play report signed by its platform. Only a settler may call this.
     * @dev The signature is checked with {SignatureCheck}: an ECDSA signature of the EIP-712 digest when the platform
     * is an EOA, ERC-1271 `isValidSignature` when it is a contract. A report id is anchored once per
     * platform; a correction is a new report naming the one it supersedes.
     * @param report The signed summary.
     * @param signature The platform's signature of {hashReport}`(report)`.
     */
    function anchorReport(PlayReport calldata report, bytes calldata signature) external onlyRole(SETTLER_ROLE) {
        if (report.periodEnd <= report.periodStart) revert SettlementInvalidPeriod();
        address platform = report.platform;
        bytes32 reportId = report.reportId;
        if (reportDigest[platform][reportId] != 0) revert SettlementReportAlreadyAnchored(platform, reportId);
        bytes32 supersedes = report.supersedes;
        if (supersedes != 0 && reportDigest[platform][supersedes] == 0) {
            revert SettlementSupersededReportUnknown(platform, supersedes);
        }
        bytes32 structHash = _reportStructHash(report);
        if (!SignatureCheck.isValidNowCalldata(platform, _hashTypedDataV4(structHash), signature)) {
            revert SettlementInvalidReportSignature(platform);
        }

        reportDigest[platform][reportId] = structHash;
        emit ReportAnchored(
            platform, reportId, structHash, report.rowsRoot, supersedes, report.periodStart, report.periodEnd
        );
    }

    /**
     * @notice Returns the EIP-712 digest a platform signs for `report` on this chain and this registry.
     * @param report The summary.
     * @return The digest.
     */
    function hashReport(PlayReport calldata report) external view returns (bytes32) {
        return _hashTypedDataV4(_reportStructHash(report));
    }

    // ---------------------------------------------------------------- settlement periods

    /**
     * @notice Commits a settlement period. Only a settler may call this, once per period id.
     * @dev Opens the dispute window, which closes {disputeWindow} seconds from now.
     * @param periodId The period.
     * @param root Merkle root of the statement lines; not zero.
     * @param token The payout token; not the zero address.
     * @param total What the lines add up to, in token units; below 2**88.
     * @param lineCount Number of lines.
     * @param inputsHash Hash of the inputs the lines were computed from.
     */
    function commitPeriod(
        bytes32 periodId,
        bytes32 root,
        address token,
        uint256 total,
        uint32 lineCount,
        bytes32 inputsHash
    ) external onlyRole(SETTLER_ROLE) {
        PeriodRecord storage p = _periods[periodId];
        if (p.root != 0) revert SettlementPeriodAlreadyCommitted(periodId);
        if (root == 0) revert SettlementEmptyRoot();
        if (token == address(0)) revert SettlementZeroToken();
        if (total > type(uint88).max) revert SettlementAmountTooLarge(total, type(uint88).max);
        uint48 disputeEnds = SafeCast.toUint48(block.timestamp + disputeWindow);

        p.root = root;
        // casting to 'uint88' is safe because `total` was checked against type(uint88).max above
        // forge-lint: disable-next-line(unsafe-typecast)
        p.total = uint88(total);
        p.disputeEnds = disputeEnds;
        p.lineCount = lineCount;
        p.token = token;
        p.state = PeriodState.Committed;
        p.inputsHash = inputsHash;
        emit PeriodCommitted(periodId, root, token, total, lineCount, inputsHash, disputeEnds);
    }

    /**
     * @notice Opens a dispute against a line of a committed period. Only the line's payee may, proving the line against
     * the committed root, until the period's dispute window closes, and a line holds at most one open dispute at a
     * time. The line is held until the dispute is decided; the arbiter has until `now + decisionWindow` to decide. When
     * the deployment asks for a bond, the payee must have approved this registry for it in the bond token.
     * @dev Disputes are gated because each one holds a line and costs the arbiter a decision: requiring a proven line
     * limits disputes to the payees of the period, one open dispute per line bounds the open disputes to the number of
     * lines, and a bond (where asked) prices frivolous ones. A payee missing from the tree has no line to prove and so
     * cannot dispute on chain: it raises its claim with the operator off chain, and a missing or short amount is
     * corrected in a later period. A rejected dispute frees the line to be disputed again within the window; a voided
     * line cannot be.
     *
     * Checks, in order: the caller is `payee` ({SettlementNotPayee}), the period is committed
     * ({SettlementPeriodNotCommitted}), its window is open ({SettlementDisputeWindowClosed}), the proof holds
     * ({SettlementInvalidProof}), the claimed amount fits ({SettlementAmountTooLarge}), the line has no open dispute
     * ({SettlementLineAlreadyDisputed}) and was not voided ({SettlementLineVoided}).
     * @param periodId The period.
     * @param line The line; its payee must be the caller.
     * @param proof The Merkle proof of the line.
     * @param reason A hash or short code identifying the grounds.
     * @param claimedAmount What the payee says the line should have been; the correction if the dispute is upheld by
     * default.
     * @return disputeId The id of the dispute, counted from zero per period.
     */
    function dispute(
        bytes32 periodId,
        StatementLine calldata line,
        bytes32[] calldata proof,
        bytes32 reason,
        uint256 claimedAmount
    ) external nonReentrant returns (uint256 disputeId) {
        address payee = line.payee;
        if (msg.sender != payee) revert SettlementNotPayee(payee);
        PeriodRecord storage p = _periods[periodId];
        bytes32 root = p.root;
        if (root == 0) revert SettlementPeriodNotCommitted(periodId);
        // A period cannot be final before its window closes, so within the window it is committed.
        if (block.timestamp >= p.disputeEnds) revert SettlementDisputeWindowClosed(periodId);
        if (!MerkleProof.verifyCalldata(proof, root, StatementLines.leaf(line))) revert SettlementInvalidProof();
        _checkAmount(claimedAmount);
        disputeId = _openDispute(p, periodId, line, reason, claimedAmount);
        uint256 bond = _bondAmount;
        if (bond != 0) _bondToken.safeTransferFrom(msg.sender, address(this), bond);
    }

    /**
     * @notice Decides an open dispute. Only the arbiter may, before the dispute's deadline.
     * @dev Upheld, the line is voided: never paid in this period, its amount added to the period's `voided` (moved to
     * the platform's next period by {carryVoided}); `correctedAmount` is what the line should have been, paid in the
     * next period as an adjustment line; the bond goes back to the payee. Rejected, the line is released (claimable,
     * or disputable again while the window is open), the bond goes to the bond sink, and `correctedAmount` must be
     * zero ({SettlementCorrectionOnRejection}).
     * @param periodId The period.
     * @param disputeId The dispute.
     * @param upheld True to void the line, false to release it.
     * @param correctedAmount What the line should have been (upheld); zero when rejected.
     * @param reason A hash or short code identifying the reasons.
     */
    function decide(bytes32 periodId, uint256 disputeId, bool upheld, uint256 correctedAmount, bytes32 reason)
        external
        nonReentrant
    {
        if (msg.sender != arbiter) revert SettlementNotArbiter(msg.sender);
        DisputeRecord storage d = _open(periodId, disputeId);
        uint48 deadline = d.deadline;
        if (block.timestamp >= deadline) revert SettlementDecisionWindowClosed(periodId, disputeId, deadline);
        if (!upheld && correctedAmount != 0) {
            revert SettlementCorrectionOnRejection(periodId, disputeId, correctedAmount);
        }
        _checkAmount(correctedAmount);
        _decide(periodId, disputeId, d, upheld, false, correctedAmount, reason);
    }

    /**
     * @notice Applies the deployment's default outcome to an open dispute whose deadline has passed undecided. Anyone
     * may. Upheld by default, the correction is the amount the payee claimed.
     * @param periodId The period.
     * @param disputeId The dispute.
     */
    function expire(bytes32 periodId, uint256 disputeId) external nonReentrant {
        DisputeRecord storage d = _open(periodId, disputeId);
        uint48 deadline = d.deadline;
        if (block.timestamp < deadline) revert SettlementDecisionWindowOpen(periodId, disputeId, deadline);
        bool upheld = _defaultUpheld;
        _decide(periodId, disputeId, d, upheld, true, upheld ? d.claimedAmount : 0, 0);
    }

    /**
     * @notice Names the arbiter's successor, who takes the seat by {acceptArbiterHandover}. Only the arbiter may; the
     * zero address cancels a handover under way. The arbiter keeps the seat until the successor accepts.
     * @param next The successor; not a settler ({SettlementArbiterIsSettler}).
     */
    function beginArbiterHandover(address next) external {
        address current = arbiter;
        if (msg.sender != current) revert SettlementNotArbiter(msg.sender);
        if (hasRole(SETTLER_ROLE, next)) revert SettlementArbiterIsSettler(next);
        pendingArbiter = next;
        emit ArbiterHandoverStarted(current, next);
    }

    /// @notice Takes the arbiter seat. Only the successor the arbiter named may, if it is not a settler by then.
    function acceptArbiterHandover() external {
        address next = pendingArbiter;
        if (msg.sender != next) revert SettlementNotPendingArbiter(msg.sender);
        if (hasRole(SETTLER_ROLE, next)) revert SettlementArbiterIsSettler(next);
        address previous = arbiter;
        arbiter = next;
        delete pendingArbiter;
        emit ArbiterChanged(previous, next);
    }

    /**
     * @notice Makes a period final and deploys its {PeriodPayout} at {payoutOf}, so that its lines may be claimed
     * there. Anyone may, once the dispute window has closed, whatever disputes are open: their lines are held in the
     * payout (and lines already voided stay unpaid) while every other line can be claimed.
     * @param periodId The period.
     * @return payout The period's payout.
     */
    function finalize(bytes32 periodId) external returns (address payout) {
        PeriodRecord storage p = _committed(periodId);
        if (p.state == PeriodState.Finalized) revert SettlementPeriodAlreadyFinalized(periodId);
        uint48 disputeEnds = p.disputeEnds;
        if (block.timestamp < disputeEnds) revert SettlementDisputeWindowOpen(periodId, disputeEnds);

        p.state = PeriodState.Finalized;
        PeriodPayout deployed = new PeriodPayout{salt: periodId}(periodId, p.root, IERC20(p.token));
        payout = address(deployed);
        emit PeriodFinalized(periodId, payout);
        (uint256[] memory held, uint256[] memory voided) = _disputedLines(periodId, p.disputeCount);
        for (uint256 i = 0; i < held.length; ++i) {
            deployed.setHeld(held[i], true);
        }
        for (uint256 i = 0; i < voided.length; ++i) {
            deployed.setHeld(voided[i], true);
        }
    }

    /**
     * @notice Pays `amount` of the period's token from the caller into the period. Anyone may (normally the paying
     * platform), at any time after the commitment, in one or several payments.
     * @dev The caller must have approved this registry for `amount`, which goes straight to the period's {payoutOf}.
     * The period may receive at most its total: funded plus paid off-chain plus `amount` must not exceed it.
     * @param periodId The period.
     * @param amount The amount, in token units.
     */
    function fund(bytes32 periodId, uint256 amount) external nonReentrant {
        PeriodRecord storage p = _committed(periodId);
        uint256 funded = p.funded;
        uint256 stillOwed = p.total - funded - p.paidOffChain;
        if (amount > stillOwed) revert SettlementOverfunded(periodId, amount, stillOwed);

        funded += amount;
        // casting to 'uint88' is safe because amount <= stillOwed, so funded <= total < 2**88
        // forge-lint: disable-next-line(unsafe-typecast)
        p.funded = uint88(funded);
        emit PeriodFunded(periodId, msg.sender, amount, funded);
        IERC20(p.token).safeTransferFrom(msg.sender, _payoutOf(periodId, p), amount);
    }

    /**
     * @notice Records that a line of a final period was paid to its payee off-chain (for example by bank transfer).
     * Only the payee itself may. The line is settled in the period's {PeriodPayout} and can no longer be claimed, and
     * the period needs that much less funding. A line with an open dispute ({SettlementLineHeld}) or voided by an
     * upheld one ({SettlementLineVoided}) cannot be recorded. @dev Fails with {SettlementPeriodNotFinalized} before the period is
     * final (claims and off-chain payments are settled in the same bitmap, which lives in the payout), with the
     * payout's `PeriodPayoutLineAlreadySettled` for a settled line, and with {SettlementOverfunded} when the period's
     * funding already covers the line: its payee should claim it.
     * @param periodId The period.
     * @param line The line; its payee must be the caller.
     * @param proof The Merkle proof of the line.
     * @param paymentRef A reference to the off-chain payment.
     */
    function markPaidOffChain(
        bytes32 periodId,
        StatementLine calldata line,
        bytes32[] calldata proof,
        bytes32 paymentRef
    ) external {
        address payee = line.payee;
        if (msg.sender != payee) revert SettlementNotPayee(payee);
        PeriodRecord storage p = _committed(periodId);
        if (p.state != PeriodState.Finalized) revert SettlementPeriodNotFinalized(periodId);
        if (!MerkleProof.verifyCalldata(proof, p.root, StatementLines.leaf(line))) revert SettlementInvalidProof();
        uint256 amount = line.amount;
        uint256 index = line.index;
        if (_heldLines[periodId].get(index)) revert SettlementLineHeld(periodId, index);
        if (_voidedLines[periodId].get(index)) revert SettlementLineVoided(periodId, index);
        _addPaidOffChain(p, periodId, amount);
        emit LinePaidOffChain(periodId, index, payee, amount, paymentRef);
        PeriodPayout(_payoutOf(periodId, p)).settleOffChain(index);
    }

    /**
     * @notice Moves voided funds of a final period into a later period of the same platform, where they count as
     * funding. Only a settler may, up to what the from-period's upheld disputes voided and not yet carried out, and up
     * to what the to-period is still owed.
     * @dev The from-period's payout sends the tokens to the to-period's {payoutOf}; the from-period's `carriedOut`
     * grows by `amount`, so its payout still holds exactly funded less claimed less carried out.
     * @param fromPeriodId The final period whose lines were voided.
     * @param toPeriodId A committed period paid in the same token.
     * @param amount The amount, in token units.
     */
    function carryVoided(bytes32 fromPeriodId, bytes32 toPeriodId, uint256 amount)
        external
        onlyRole(SETTLER_ROLE)
        nonReentrant
    {
        PeriodRecord storage from = _committed(fromPeriodId);
        PeriodRecord storage to = _committed(toPeriodId);
        if (fromPeriodId == toPeriodId || from.token != to.token) {
            revert SettlementInvalidCarry(fromPeriodId, toPeriodId);
        }
        if (from.state != PeriodState.Finalized) revert SettlementPeriodNotFinalized(fromPeriodId);
        uint256 carriedOut = from.carriedOut;
        uint256 carriable = from.voided - carriedOut;
        if (amount > carriable) revert SettlementCarryExceedsVoided(fromPeriodId, amount, carriable);
        uint256 funded = to.funded;
        uint256 stillOwed = to.total - funded - to.paidOffChain;
        if (amount > stillOwed) revert SettlementOverfunded(toPeriodId, amount, stillOwed);

        carriedOut += amount;
        funded += amount;
        // casting to 'uint88' is safe because carriedOut <= voided and funded <= total, both below 2**88
        // forge-lint: disable-next-line(unsafe-typecast)
        from.carriedOut = uint88(carriedOut);
        // forge-lint: disable-next-line(unsafe-typecast)
        to.funded = uint88(funded);
        address fromPayout = _payoutOf(fromPeriodId, from);
        // Voided lines of a period never fully funded may be carried only as far as its payout holds.
        uint256 held = IERC20(from.token).balanceOf(fromPayout);
        if (held < amount) revert IPeriodPayout.PeriodPayoutInsufficientFunding(fromPeriodId, amount, held);
        emit VoidedCarried(fromPeriodId, toPeriodId, amount, carriedOut);
        emit PeriodFunded(toPeriodId, fromPayout, amount, funded);
        PeriodPayout(fromPayout).carryOut(_payoutOf(toPeriodId, to), amount);
    }

    // ---------------------------------------------------------------- views

    /**
     * @notice Returns whether a line has been claimed or recorded as paid off-chain.
     * @param periodId The period.
     * @param index The line.
     * @return True if settled.
     */
    function isLineSettled(bytes32 periodId, uint256 index) external view returns (bool) {
        PeriodRecord storage p = _periods[periodId];
        return p.state == PeriodState.Finalized && PeriodPayout(_payoutOf(periodId, p)).isLineSettled(index);
    }

    /**
     * @notice Returns where a committed period's funds go and its lines are claimed: the address of its
     * {PeriodPayout}, which is deployed there when the period becomes final.
     * @param periodId The period.
     * @return The payout's address.
     */
    function payoutOf(bytes32 periodId) external view returns (address) {
        return _payoutOf(periodId, _committed(periodId));
    }

    /**
     * @notice Returns whether a line is in a committed period's Merkle tree. Says nothing about whether it is settled.
     * @param periodId The period.
     * @param line The line.
     * @param proof The Merkle proof of the line.
     * @return True if the proof holds against the committed root; false if it does not or the period is unknown.
     */
    function verifyLine(bytes32 periodId, StatementLine calldata line, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 root = _periods[periodId].root;
        return root != 0 && MerkleProof.verifyCalldata(proof, root, StatementLines.leaf(line));
    }

    /**
     * @notice Returns a settlement period; all fields are zero for a period never committed.
     * @param periodId The period.
     * @return The period.
     */
    function period(bytes32 periodId) external view returns (Period memory) {
        PeriodRecord storage p = _periods[periodId];
        bytes32 root = p.root;
        return Period({
            root: root,
            token: p.token,
            state: p.state,
            total: p.total,
            funded: p.funded,
            paidOffChain: p.paidOffChain,
            payout: root == 0 ? address(0) : _payoutOf(periodId, p),
            lineCount: p.lineCount,
            disputeEnds: p.disputeEnds,
            openDisputes: p.openDisputes,
            inputsHash: p.inputsHash,
            voided: p.voided,
            carriedOut: p.carriedOut
        });
    }

    /**
     * @notice Returns how many disputes have been opened against a period; their ids are `0..disputeCount - 1`.
     * @param periodId The period.
     * @return The number of disputes, open or decided.
     */
    function disputeCount(bytes32 periodId) external view returns (uint256) {
        return _periods[periodId].disputeCount;
    }

    /**
     * @notice Returns a dispute; all fields are zero (state `None`) for a dispute never opened.
     * @param periodId The period.
     * @param disputeId The dispute.
     * @return The dispute.
     */
    function disputeOf(bytes32 periodId, uint256 disputeId) external view returns (DisputeInfo memory) {
        DisputeRecord storage d = _disputes[periodId][disputeId];
        DisputeState state = d.state;
        return DisputeInfo({
            index: d.index,
            payee: d.payee,
            lineAmount: d.lineAmount,
            claimedAmount: d.claimedAmount,
            correctedAmount: d.correctedAmount,
            deadline: d.deadline,
            bond: state == DisputeState.None ? 0 : _bondAmount,
            state: state,
            byDefault: d.byDefault,
            reason: d.reason,
            decisionReason: d.decisionReason
        });
    }

    /**
     * @notice Returns how this deployment's disputes are decided.
     * @return The terms.
     */
    function disputeTerms() external view returns (DisputeTerms memory) {
        return DisputeTerms({
            decisionWindow: _decisionWindow,
            defaultUpheld: _defaultUpheld,
            bondToken: address(_bondToken),
            bondAmount: _bondAmount,
            bondSink: _bondSink
        });
    }

    /**
     * @notice Returns whether a line is held: it has an open dispute, so it can be neither claimed nor recorded as paid
     * off-chain.
     * @param periodId The period.
     * @param index The line.
     * @return True while a dispute of the line is open.
     */
    function isLineHeld(bytes32 periodId, uint256 index) external view returns (bool) {
        return _heldLines[periodId].get(index);
    }

    /**
     * @notice Returns whether an upheld dispute voided a line: it is never paid in this period.
     * @param periodId The period.
     * @param index The line.
     * @return True once voided.
     */
    function isLineVoided(bytes32 periodId, uint256 index) external view returns (bool) {
        return _voidedLines[periodId].get(index);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Returns a committed period, reverting with {SettlementPeriodNotCommitted} if there is none.
    function _committed(bytes32 periodId) private view returns (PeriodRecord storage p) {
        p = _periods[periodId];
        if (p.root == 0) revert SettlementPeriodNotCommitted(periodId);
    }

    /**
     * @dev The CREATE2 address of a committed period's {PeriodPayout}, as {finalize} deploys it. The init code is the
     * creation code followed by the three constructor arguments, each one word; they are written straight after the
     * creation code in memory, past the free memory pointer and only for the hash, instead of concatenating two
     * arrays: without MCOPY (Shanghai) that copy of the creation code alone would cost about 5,000 gas per call.
     */
    function _payoutOf(bytes32 periodId, PeriodRecord storage p) private view returns (address) {
        bytes memory creationCode = type(PeriodPayout).creationCode;
        bytes32 root = p.root;
        address token = p.token;
        bytes32 initCodeHash;
        assembly ("memory-safe") {
            let length := mload(creationCode)
            let args := add(add(creationCode, 0x20), length)
            mstore(args, periodId)
            mstore(add(args, 0x20), root)
            mstore(add(args, 0x40), token)
            initCodeHash := keccak256(add(creationCode, 0x20), add(length, 0x60))
        }
        return Create2.computeAddress(periodId, initCodeHash);
    }

    /**
     * @dev Opens a dispute of `line`, reverting with {SettlementLineAlreadyDisputed} if the line already has an open
     * one and with {SettlementLineVoided} if it was voided. The caller has checked everything else.
     */
    function _openDispute(
        PeriodRecord storage p,
        bytes32 periodId,
        StatementLine calldata line,
        bytes32 reason,
        uint256 claimedAmount
    ) private returns (uint256 disputeId) {
        uint256 index = line.index;
        BitMaps.BitMap storage heldLines = _heldLines[periodId];
        if (heldLines.get(index)) revert SettlementLineAlreadyDisputed(periodId, index);
        if (_voidedLines[periodId].get(index)) revert SettlementLineVoided(periodId, index);

        disputeId = p.disputeCount;
        // casting to 'uint64' is safe because 2**64 disputes cannot be opened (each costs gas)
        // forge-lint: disable-next-line(unsafe-typecast)
        p.disputeCount = uint64(disputeId + 1);
        p.openDisputes += 1;
        heldLines.set(index);
        uint48 deadline = SafeCast.toUint48(block.timestamp + _decisionWindow);
        DisputeRecord storage d = _disputes[periodId][disputeId];
        d.payee = line.payee;
        d.deadline = deadline;
        d.state = DisputeState.Open;
        d.index = SafeCast.toUint64(index);
        d.lineAmount = SafeCast.toUint88(line.amount);
        // casting to 'uint88' is safe because the caller checked claimedAmount against type(uint88).max
        // forge-lint: disable-next-line(unsafe-typecast)
        d.claimedAmount = uint88(claimedAmount);
        d.reason = reason;
        emit Disputed(periodId, disputeId, line.payee, index, reason, claimedAmount, deadline, _bondAmount);
    }

    /// @dev Returns an open dispute, reverting with {SettlementNoSuchOpenDispute} if there is none.
    function _open(bytes32 periodId, uint256 disputeId) private view returns (DisputeRecord storage d) {
        d = _disputes[periodId][disputeId];
        if (d.state != DisputeState.Open) revert SettlementNoSuchOpenDispute(periodId, disputeId);
    }

    /**
     * @dev Records the outcome of an open dispute, frees or voids its line (in the payout too once the period is
     * final) and pays the bond out. `correctedAmount` fits 88 bits (checked by the caller, or a stored claim).
     */
    function _decide(
        bytes32 periodId,
        uint256 disputeId,
        DisputeRecord storage d,
        bool upheld,
        bool byDefault,
        uint256 correctedAmount,
        bytes32 reason
    ) private {
        PeriodRecord storage p = _periods[periodId];
        uint256 index = d.index;
        d.state = upheld ? DisputeState.Upheld : DisputeState.Rejected;
        d.byDefault = byDefault;
        // casting to 'uint88' is safe because correctedAmount fits 88 bits (see above)
        // forge-lint: disable-next-line(unsafe-typecast)
        d.correctedAmount = uint88(correctedAmount);
        d.decisionReason = reason;
        p.openDisputes -= 1;
        _heldLines[periodId].unset(index);
        if (upheld) {
            _voidedLines[periodId].set(index);
            p.voided = SafeCast.toUint88(uint256(p.voided) + d.lineAmount);
        }
        emit DisputeDecided(periodId, disputeId, upheld, byDefault, correctedAmount, reason);

        // A final period's payout holds the line already: voiding keeps it so, rejecting releases it.
        if (!upheld && p.state == PeriodState.Finalized) PeriodPayout(_payoutOf(periodId, p)).setHeld(index, false);
        uint256 bond = _bondAmount;
        if (bond != 0) {
            address to = upheld ? d.payee : _bondSink;
            emit DisputeBondPaid(periodId, disputeId, to, bond);
            _bondToken.safeTransfer(to, bond);
        }
    }

    /**
     * @dev The lines of a period's disputes, when it becomes final: those still open (held) and those voided. A line
     * appears at most once: it has at most one open dispute and, once voided, is never disputed again.
     */
    function _disputedLines(bytes32 periodId, uint256 count)
        private
        view
        returns (uint256[] memory held, uint256[] memory voided)
    {
        held = new uint256[](count);
        voided = new uint256[](count);
        uint256 heldCount;
        uint256 voidedCount;
        mapping(uint256 => DisputeRecord) storage disputes = _disputes[periodId];
        for (uint256 id = 0; id < count; ++id) {
            DisputeRecord storage d = disputes[id];
            DisputeState state = d.state;
            if (state == DisputeState.Open) held[heldCount++] = d.index;
            else if (state == DisputeState.Upheld) voided[voidedCount++] = d.index;
        }
        assembly ("memory-safe") {
            mstore(held, heldCount)
            mstore(voided, voidedCount)
        }
    }

    /// @dev Reverts with {SettlementAmountTooLarge} unless `amount` fits the registry's 88-bit accounting.
    function _checkAmount(uint256 amount) private pure {
        if (amount > type(uint88).max) revert SettlementAmountTooLarge(amount, type(uint88).max);
    }

    /// @dev Adds `amount` to what a period records as paid off-chain, reverting with {SettlementOverfunded} past its
    /// total.
    function _addPaidOffChain(PeriodRecord storage p, bytes32 periodId, uint256 amount) private {
        uint256 paidOffChain = p.paidOffChain;
        uint256 stillOwed = p.total - p.funded - paidOffChain;
        if (amount > stillOwed) revert SettlementOverfunded(periodId, amount, stillOwed);
        // casting to 'uint88' is safe because amount <= stillOwed, so paidOffChain + amount <= total < 2**88
        // forge-lint: disable-next-line(unsafe-typecast)
        p.paidOffChain = uint88(paidOffChain + amount);
    }

    /// @dev The EIP-712 struct hash of a report; the string is hashed as EIP-712 requires.
    function _reportStructHash(PlayReport calldata r) private pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                abi.encode(
                    PLAY_REPORT_TYPEHASH,
                    r.platform,
                    r.reportId,
                    r.periodStart,
                    r.periodEnd,
                    keccak256(bytes(r.currency)),
                    r.rowCount
                ),
                abi.encode(r.plays, r.validPlays, r.watchMinutes, r.adRevenue, r.rowsRoot, r.supersedes)
            )
        );
    }
}
