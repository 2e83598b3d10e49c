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
 * with `index` running from 0 to `lineCount - 1`. For {disputeWindow} seconds after the commitment a payee may dispute
 * one of its lines, proving the line against the committed root, with at most one open dispute per line; the settler
 * resolves disputes. Once the window has closed and no dispute is open, anyone may finalize the period. The paying
 * platform funds the period in the token at any time after the commitment (in parts if it wishes), up to the total
 * less what was recorded as paid off-chain. When the period becomes final, the registry deploys its {PeriodPayout},
 * where anyone may trigger the claim of a line and its amount goes to its payee. A payee paid by bank transfer instead
 * records that here once the period is final, which settles its line and lowers what the period needs funding.
 *
 * The cost of a period does not depend on its number of lines: only the root, the totals and a bitmap of settled
 * lines (one bit per line, written by its own claim) are stored.
 *
 * @dev A period's funds go straight to the address its {PeriodPayout} will have ({payoutOf}: CREATE2 from this
 * registry, salted with the period id, over the period's id, root and token), before or after the payout is deployed.
 * So the registry never holds tokens, a period's lines are paid only from that period's funds (a root whose lines add
 * up to more than was funded cannot reach another period's money), and a claim, the one call made once per line,
 * reads immutable root and token and a single storage word, as the well-known Merkle airdrop distributors do.
 *
 * The token must move exactly the amounts asked (no fee on transfer, no rebasing).
 *
 * Built for a Shanghai EVM (no transient storage, no MCOPY), like every ReelLedger contract, so that one release runs
 * on every chain from Shanghai on: hence a storage-based reentrancy guard on {fund}.
 */
contract SettlementRegistry is ISettlementRegistry, AccessControl, EIP712Domain("ReelLedger", "1"), ReentrancyGuard {
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
    }

    /// @notice The role allowed to anchor reports, commit periods and resolve disputes.
    bytes32 public constant SETTLER_ROLE = keccak256("SETTLER_ROLE");

    /// @notice The EIP-712 type hash of {PlayReport}.
    bytes32 public constant PLAY_REPORT_TYPEHASH = keccak256(
        "PlayReport(address platform,bytes32 reportId,uint64 periodStart,uint64 periodEnd,string currency,"
        "uint256 rowCount,uint256 plays,uint256 validPlays,uint256 watchMinutes,uint256 adRevenue,bytes32 rowsRoot,"
        "bytes32 supersedes)"
    );

    /// @notice How long after its commitment a period may be disputed, in seconds.
    uint64 public immutable disputeWindow;

    /// @notice The EIP-712 struct hash of each anchored report, by platform and report id; zero if not anchored.
    mapping(address platform => mapping(bytes32 reportId => bytes32 structHash)) public reportDigest;

    /// @dev Periods by id.
    mapping(bytes32 periodId => PeriodRecord) private _periods;

    /// @dev Open disputes: bit `disputeId` is set while the dispute is open.
    mapping(bytes32 periodId => BitMaps.BitMap) private _openDisputes;

    /// @dev Lines with an open dispute: bit `index` is set while a dispute of line `index` is open.
    mapping(bytes32 periodId => BitMaps.BitMap) private _disputedLines;

    /// @dev The line each dispute was opened against, by dispute id.
    mapping(bytes32 periodId => mapping(uint256 disputeId => uint256 index)) private _disputeLines;

    /**
     * @param admin Receives `DEFAULT_ADMIN_ROLE`, which grants and revokes roles.
     * @param settler Receives {SETTLER_ROLE}.
     * @param disputeWindow_ How long after its commitment a period may be disputed, in seconds.
     */
    constructor(address admin, address settler, uint64 disputeWindow_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(SETTLER_ROLE, settler);
        disputeWindow = disputeWindow_;
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
     * time. An open dispute keeps the period from becoming final until the settler resolves it; once it is resolved,
     * the payee may dispute the line again while the window is open.
     * @dev Disputes are gated because each one stalls the period's payout and costs the settler a transaction to
     * resolve: open to anyone, a single account could hold back every period indefinitely. Requiring a proven line
     * limits disputes to the payees of the period, and one open dispute per line bounds the open disputes to the
     * number of lines. A payee missing from the tree has no line to prove and so cannot dispute on chain: it raises its
     * claim with the operator off chain, and a missing or short amount is corrected in a later period.
     *
     * Checks, in order: the caller is `payee` ({SettlementNotPayee}), the period is committed
     * ({SettlementPeriodNotCommitted}), its window is open ({SettlementDisputeWindowClosed}), the proof holds
     * ({SettlementInvalidProof}) and the line has no open dispute ({SettlementLineAlreadyDisputed}).
     * @param periodId The period.
     * @param line The line; its payee must be the caller.
     * @param proof The Merkle proof of the line.
     * @param reason A hash or short code identifying the grounds.
     * @return disputeId The id of the dispute, counted from zero per period.
     */
    function dispute(bytes32 periodId, StatementLine calldata line, bytes32[] calldata proof, bytes32 reason)
        external
        returns (uint256 disputeId)
    {
        address payee = line.payee;
        if (msg.sender != payee) revert SettlementNotPayee(payee);
        PeriodRecord storage p = _periods[periodId];
        bytes32 root = p.root;
        if (root == 0) revert SettlementPeriodNotCommitted(periodId);
        // A period cannot be final before its window closes, so within the window it is committed.
        if (block.timestamp >= p.disputeEnds) revert SettlementDisputeWindowClosed(periodId);
        if (!MerkleProof.verifyCalldata(proof, root, StatementLines.leaf(line))) revert SettlementInvalidProof();
        return _openDispute(p, periodId, line.index, payee, reason);
    }

    /**
     * @notice Resolves an open dispute. Only a settler may call this, also after the dispute window has closed. The
     * disputed line no longer has an open dispute, so its payee may dispute it again while the window is open.
     * @param periodId The period.
     * @param disputeId The dispute.
     * @param resolution A hash or short code identifying the outcome.
     */
    function resolveDispute(bytes32 periodId, uint256 disputeId, bytes32 resolution) external onlyRole(SETTLER_ROLE) {
        BitMaps.BitMap storage open = _openDisputes[periodId];
        if (!open.get(disputeId)) revert SettlementNoSuchOpenDispute(periodId, disputeId);

        open.unset(disputeId);
        _disputedLines[periodId].unset(_disputeLines[periodId][disputeId]);
        _periods[periodId].openDisputes -= 1;
        emit DisputeResolved(periodId, disputeId, resolution);
    }

    /**
     * @notice Makes a period final and deploys its {PeriodPayout} at {payoutOf}, so that its lines may be claimed
     * there. Anyone may, once the dispute window has closed and no dispute is open.
     * @param periodId The period.
     * @return payout The period's payout.
     */
    function finalize(bytes32 periodId) external returns (address payout) {
        PeriodRecord storage p = _committed(periodId);
        if (p.state == PeriodState.Finalized) revert SettlementPeriodAlreadyFinalized(periodId);
        uint48 disputeEnds = p.disputeEnds;
        if (block.timestamp < disputeEnds) revert SettlementDisputeWindowOpen(periodId, disputeEnds);
        uint256 open = p.openDisputes;
        if (open != 0) revert SettlementDisputesOpen(periodId, open);

        p.state = PeriodState.Finalized;
        payout = address(new PeriodPayout{salt: periodId}(periodId, p.root, IERC20(p.token)));
        emit PeriodFinalized(periodId, payout);
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
     * the period needs that much less funding. @dev Fails with {SettlementPeriodNotFinalized} before the period is
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
        _addPaidOffChain(p, periodId, amount);
        emit LinePaidOffChain(periodId, index, payee, amount, paymentRef);
        PeriodPayout(_payoutOf(periodId, p)).settleOffChain(index);
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
            inputsHash: p.inputsHash
        });
    }

    /**
     * @notice Returns how many disputes have been opened against a period; their ids are `0..disputeCount - 1`.
     * @param periodId The period.
     * @return The number of disputes, open or resolved.
     */
    function disputeCount(bytes32 periodId) external view returns (uint256) {
        return _periods[periodId].disputeCount;
    }

    /**
     * @notice Returns whether a dispute is open.
     * @param periodId The period.
     * @param disputeId The dispute.
     * @return True if opened and not yet resolved.
     */
    function isDisputeOpen(bytes32 periodId, uint256 disputeId) external view returns (bool) {
        return _openDisputes[periodId].get(disputeId);
    }

    /**
     * @notice Returns whether a line has an open dispute.
     * @param periodId The period.
     * @param index The line.
     * @return True while a dispute of the line is open.
     */
    function isLineDisputed(bytes32 periodId, uint256 index) external view returns (bool) {
        return _disputedLines[periodId].get(index);
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
     * @dev Opens a dispute of line `index` by `payee`, reverting with {SettlementLineAlreadyDisputed} if the line
     * already has an open one. The caller has checked everything else.
     */
    function _openDispute(PeriodRecord storage p, bytes32 periodId, uint256 index, address payee, bytes32 reason)
        private
        returns (uint256 disputeId)
    {
        BitMaps.BitMap storage disputedLines = _disputedLines[periodId];
        if (disputedLines.get(index)) revert SettlementLineAlreadyDisputed(periodId, index);

        disputeId = p.disputeCount;
        // casting to 'uint64' is safe because 2**64 disputes cannot be opened (each costs gas)
        // forge-lint: disable-next-line(unsafe-typecast)
        p.disputeCount = uint64(disputeId + 1);
        p.openDisputes += 1;
        _openDisputes[periodId].set(disputeId);
        disputedLines.set(index);
        _disputeLines[periodId][disputeId] = index;
        emit Disputed(periodId, disputeId, payee, index, reason);
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
