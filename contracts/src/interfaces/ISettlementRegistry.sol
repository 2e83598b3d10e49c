// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @notice A statement line of a settlement period, in the order its Merkle leaf encodes the fields (see
 * `StatementLines.leaf`). Passed whole to {SettlementRegistry-dispute}, {SettlementRegistry-markPaidOffChain},
 * {SettlementRegistry-verifyLine} and {PeriodPayout-claim}.
 * @param index The line's index, from 0 to the period's `lineCount - 1`.
 * @param payee The line's payee.
 * @param workId The line's work.
 * @param amount The line's amount, in token units.
 * @param ruleVersion The settlement rule version the line was computed with.
 * @param splitVersion The split version the line was computed with.
 */
struct StatementLine {
    uint256 index;
    address payee;
    bytes32 workId;
    uint256 amount;
    uint32 ruleVersion;
    uint32 splitVersion;
}

/**
 * @title ISettlementRegistry
 * @notice The structs, events and errors of {SettlementRegistry}: signed play reports and revenue-share settlement
 * periods.
 */
interface ISettlementRegistry {
    /**
     * @notice The summary of a play report that a platform signs.
     * @param platform The reporting platform, which signs the report.
     * @param reportId The platform's id of the report (keccak256 of its own report id).
     * @param periodStart First second covered by the report (inclusive).
     * @param periodEnd End of the covered period (exclusive).
     * @param currency ISO 4217 code of the amounts in the report.
     * @param rowCount Number of rows in the report.
     * @param plays Total plays over all rows.
     * @param validPlays Total valid plays over all rows.
     * @param watchMinutes Total watch minutes over all rows.
     * @param adRevenue Total advertising revenue over all rows, in minor units of `currency`.
     * @param rowsRoot Merkle root of the report's rows.
     * @param supersedes The id of an earlier report of the same platform that this report corrects, or zero.
     */
    struct PlayReport {
        address platform;
        bytes32 reportId;
        uint64 periodStart;
        uint64 periodEnd;
        string currency;
        uint256 rowCount;
        uint256 plays;
        uint256 validPlays;
        uint256 watchMinutes;
        uint256 adRevenue;
        bytes32 rowsRoot;
        bytes32 supersedes;
    }

    /// @notice Where a settlement period stands.
    enum PeriodState {
        None,
        Committed,
        Finalized
    }

    /**
     * @notice A settlement period as returned by {period}.
     * @param root Merkle root of the statement lines.
     * @param token The payout token.
     * @param state Where the period stands.
     * @param total What the lines add up to, in token units.
     * @param funded What the platform has paid in so far.
     * @param paidOffChain What payees have recorded as paid to them off-chain.
     * @param payout Where the period's funds go and its lines are claimed: its {PeriodPayout}, deployed when the
     * period becomes final.
     * @param lineCount Number of statement lines.
     * @param disputeEnds When the dispute window closes (exclusive), in Unix seconds.
     * @param openDisputes Number of disputes not yet decided.
     * @param inputsHash Hash of the inputs the lines were computed from.
     * @param voided What the lines voided by upheld disputes add up to: funding that no line of this period pays,
     * carried into the platform's next period by {carryVoided}.
     * @param carriedOut What {carryVoided} has moved out of this period's payout so far (never above `voided`).
     */
    struct Period {
        bytes32 root;
        address token;
        PeriodState state;
        uint256 total;
        uint256 funded;
        uint256 paidOffChain;
        address payout;
        uint32 lineCount;
        uint64 disputeEnds;
        uint256 openDisputes;
        bytes32 inputsHash;
        uint256 voided;
        uint256 carriedOut;
    }

    /**
     * @notice How a deployment's disputes are decided, fixed at deployment.
     * @param decisionWindow How long the arbiter has to decide a dispute, in seconds from its opening.
     * @param defaultUpheld The outcome when the deadline passes undecided ({expire}): upheld (the line is voided and
     * the payee's claimed amount is the correction) if true, rejected (the line is released) if false.
     * @param bondToken The ERC-20 a payee posts its bond in; unused when `bondAmount` is zero.
     * @param bondAmount The bond a payee posts with each dispute, returned when the dispute is upheld and paid to
     * `bondSink` when it is rejected; zero for no bond.
     * @param bondSink Receives the bonds of rejected disputes.
     */
    struct DisputeTerms {
        uint64 decisionWindow;
        bool defaultUpheld;
        address bondToken;
        uint256 bondAmount;
        address bondSink;
    }

    /// @notice Where a dispute stands.
    enum DisputeState {
        None,
        Open,
        Upheld,
        Rejected
    }

    /**
     * @notice A dispute as returned by {disputeOf}.
     * @param index The disputed line.
     * @param payee The line's payee, which opened the dispute.
     * @param lineAmount The line's committed amount.
     * @param claimedAmount What the payee says the line should have been.
     * @param correctedAmount What the line should have been, as decided (upheld only; paid in the platform's next
     * period as an adjustment line).
     * @param deadline Until when the arbiter may decide (exclusive), in Unix seconds; from then on {expire} applies
     * the deployment's default.
     * @param bond The bond the payee posted.
     * @param state Where the dispute stands.
     * @param byDefault True if the outcome is the deployment's default, applied by {expire}.
     * @param reason The payee's grounds (a hash or short code; the text lives off-chain).
     * @param decisionReason The arbiter's reasons (a hash or short code); zero when decided by default.
     */
    struct DisputeInfo {
        uint256 index;
        address payee;
        uint256 lineAmount;
        uint256 claimedAmount;
        uint256 correctedAmount;
        uint64 deadline;
        uint256 bond;
        DisputeState state;
        bool byDefault;
        bytes32 reason;
        bytes32 decisionReason;
    }

    /**
     * @notice Emitted when a signed play report is anchored.
     * @param platform The reporting platform.
     * @param reportId The platform's id of the report.
     * @param structHash The EIP-712 struct hash of the report, as stored in {reportDigest}.
     * @param rowsRoot Merkle root of the report's rows.
     * @param supersedes The report this one corrects, or zero.
     * @param periodStart First second covered by the report.
     * @param periodEnd End of the covered period (exclusive).
     */
    event ReportAnchored(
        address indexed platform,
        bytes32 indexed reportId,
        bytes32 structHash,
        bytes32 rowsRoot,
        bytes32 supersedes,
        uint64 periodStart,
        uint64 periodEnd
    );

    /**
     * @notice Emitted when a settlement period is committed.
     * @param periodId The period.
     * @param root Merkle root of its statement lines.
     * @param token The payout token.
     * @param total What the lines add up to.
     * @param lineCount Number of lines.
     * @param inputsHash Hash of the inputs the lines were computed from.
     * @param disputeEnds When the dispute window closes (exclusive).
     */
    event PeriodCommitted(
        bytes32 indexed periodId,
        bytes32 root,
        address token,
        uint256 total,
        uint32 lineCount,
        bytes32 inputsHash,
        uint64 disputeEnds
    );

    /**
     * @notice Emitted when a payee opens a dispute against one of its lines in a committed period.
     * @param periodId The period.
     * @param disputeId The id of the dispute, counted from zero per period.
     * @param by The account that opened it: the payee of the disputed line.
     * @param index The disputed line's index.
     * @param reason A hash or short code identifying the grounds (the full text lives off-chain).
     * @param claimedAmount What the payee says the line should have been.
     * @param deadline Until when the arbiter may decide (exclusive).
     * @param bond The bond the payee posted, held by the registry until the decision.
     */
    event Disputed(
        bytes32 indexed periodId,
        uint256 indexed disputeId,
        address indexed by,
        uint256 index,
        bytes32 reason,
        uint256 claimedAmount,
        uint64 deadline,
        uint256 bond
    );

    /**
     * @notice Emitted when a dispute is decided, by the arbiter or by default at its deadline.
     * @param periodId The period.
     * @param disputeId The dispute.
     * @param upheld True if the line is voided, false if it is released.
     * @param byDefault True if the deadline passed undecided and the deployment's default applied.
     * @param correctedAmount What the line should have been (upheld only; zero when rejected).
     * @param reason A hash or short code identifying the arbiter's reasons; zero when decided by default.
     */
    event DisputeDecided(
        bytes32 indexed periodId,
        uint256 indexed disputeId,
        bool upheld,
        bool byDefault,
        uint256 correctedAmount,
        bytes32 reason
    );

    /**
     * @notice Emitted when a dispute's bond leaves the registry: back to the payee (upheld) or to the bond sink
     * (rejected).
     * @param periodId The period.
     * @param disputeId The dispute.
     * @param to The recipient.
     * @param amount The bond.
     */
    event DisputeBondPaid(bytes32 indexed periodId, uint256 indexed disputeId, address indexed to, uint256 amount);

    /**
     * @notice Emitted when the arbiter names its successor; the handover completes when the successor accepts.
     * @param current The arbiter.
     * @param pending The successor, or the zero address when a handover is cancelled.
     */
    event ArbiterHandoverStarted(address indexed current, address indexed pending);

    /**
     * @notice Emitted when the arbiter seat changes hands (and at deployment, from the zero address).
     * @param previous The former arbiter.
     * @param next The new arbiter.
     */
    event ArbiterChanged(address indexed previous, address indexed next);

    /**
     * @notice Emitted when voided funds of a final period are moved into a later period of the platform.
     * @param fromPeriodId The period whose lines were voided.
     * @param toPeriodId The period that receives the funds (as funding).
     * @param amount The amount moved.
     * @param carriedOut What has been moved out of `fromPeriodId` so far.
     */
    event VoidedCarried(bytes32 indexed fromPeriodId, bytes32 indexed toPeriodId, uint256 amount, uint256 carriedOut);

    /**
     * @notice Emitted when a period becomes final and its lines become claimable.
     * @param periodId The period.
     * @param payout The period's {PeriodPayout}, where its lines are claimed.
     */
    event PeriodFinalized(bytes32 indexed periodId, address payout);

    /**
     * @notice Emitted when tokens are paid into a period.
     * @param periodId The period.
     * @param from The payer.
     * @param amount The amount paid in.
     * @param funded The period's funding after this payment.
     */
    event PeriodFunded(bytes32 indexed periodId, address indexed from, uint256 amount, uint256 funded);

    /**
     * @notice Emitted when a payee records that its line was paid off-chain.
     * @param periodId The period.
     * @param index The line.
     * @param payee The payee, which recorded it.
     * @param amount The line's amount.
     * @param paymentRef A reference to the off-chain payment (for example a hash of the bank transfer id).
     */
    event LinePaidOffChain(
        bytes32 indexed periodId, uint256 indexed index, address indexed payee, uint256 amount, bytes32 paymentRef
    );

    /**
     * @notice The platform has already anchored a report with this id.
     * @param platform The platform.
     * @param reportId The report id.
     */
    error SettlementReportAlreadyAnchored(address platform, bytes32 reportId);

    /**
     * @notice The signature is not the platform's signature of the report.
     * @param platform The platform named in the report.
     */
    error SettlementInvalidReportSignature(address platform);

    /**
     * @notice The report corrects a report that the platform has not anchored.
     * @param platform The platform.
     * @param supersedes The unknown report id.
     */
    error SettlementSupersededReportUnknown(address platform, bytes32 supersedes);

    /// @notice The report's period is empty: `periodEnd <= periodStart`.
    error SettlementInvalidPeriod();

    /**
     * @notice A period with this id has already been committed.
     * @param periodId The period.
     */
    error SettlementPeriodAlreadyCommitted(bytes32 periodId);

    /// @notice The Merkle root is zero.
    error SettlementEmptyRoot();

    /// @notice The payout token is the zero address.
    error SettlementZeroToken();

    /**
     * @notice The amount does not fit the registry's 88-bit accounting.
     * @param amount The amount.
     * @param max The largest amount accepted.
     */
    error SettlementAmountTooLarge(uint256 amount, uint256 max);

    /**
     * @notice The period has not been committed.
     * @param periodId The period.
     */
    error SettlementPeriodNotCommitted(bytes32 periodId);

    /**
     * @notice The period's dispute window has closed.
     * @param periodId The period.
     */
    error SettlementDisputeWindowClosed(bytes32 periodId);

    /**
     * @notice The line already has an open dispute; it may be disputed again once that one is rejected.
     * @param periodId The period.
     * @param index The line.
     */
    error SettlementLineAlreadyDisputed(bytes32 periodId, uint256 index);

    /**
     * @notice The period has no open dispute with this id.
     * @param periodId The period.
     * @param disputeId The dispute.
     */
    error SettlementNoSuchOpenDispute(bytes32 periodId, uint256 disputeId);

    /**
     * @notice The line has an open dispute, so it can be neither claimed nor recorded as paid off-chain until the
     * dispute is decided.
     * @param periodId The period.
     * @param index The line.
     */
    error SettlementLineHeld(bytes32 periodId, uint256 index);

    /**
     * @notice An upheld dispute voided the line: it is never paid in this period (its corrected amount is paid in a
     * later one) and cannot be disputed again.
     * @param periodId The period.
     * @param index The line.
     */
    error SettlementLineVoided(bytes32 periodId, uint256 index);

    /**
     * @notice Only the arbiter may do this.
     * @param account The caller.
     */
    error SettlementNotArbiter(address account);

    /**
     * @notice Only the successor the arbiter named may accept the seat.
     * @param account The caller.
     */
    error SettlementNotPendingArbiter(address account);

    /// @notice The arbiter is the zero address.
    error SettlementZeroArbiter();

    /**
     * @notice The arbiter seat cannot be handed to a settler: the operator would decide disputes of its own
     * statements.
     * @param account The settler.
     */
    error SettlementArbiterIsSettler(address account);

    /// @notice A bond is asked for (`bondAmount` above zero) without a bond token or a bond sink.
    error SettlementInvalidBondTerms();

    /**
     * @notice The dispute's deadline has passed: only {expire} may settle it now.
     * @param periodId The period.
     * @param disputeId The dispute.
     * @param deadline The deadline.
     */
    error SettlementDecisionWindowClosed(bytes32 periodId, uint256 disputeId, uint64 deadline);

    /**
     * @notice The dispute's deadline has not passed: the arbiter may still decide it.
     * @param periodId The period.
     * @param disputeId The dispute.
     * @param deadline The deadline.
     */
    error SettlementDecisionWindowOpen(bytes32 periodId, uint256 disputeId, uint64 deadline);

    /**
     * @notice A rejected dispute corrects nothing: the corrected amount must be zero.
     * @param periodId The period.
     * @param disputeId The dispute.
     * @param correctedAmount The amount given.
     */
    error SettlementCorrectionOnRejection(bytes32 periodId, uint256 disputeId, uint256 correctedAmount);

    /**
     * @notice The amount is more than the period's voided funds not yet carried out.
     * @param periodId The period.
     * @param amount The amount asked.
     * @param carriable Its voided funds not yet carried out.
     */
    error SettlementCarryExceedsVoided(bytes32 periodId, uint256 amount, uint256 carriable);

    /**
     * @notice Voided funds move only between two different periods paid in the same token.
     * @param fromPeriodId The period carried from.
     * @param toPeriodId The period carried to.
     */
    error SettlementInvalidCarry(bytes32 fromPeriodId, bytes32 toPeriodId);

    /**
     * @notice The period's dispute window is still open.
     * @param periodId The period.
     * @param disputeEnds When it closes.
     */
    error SettlementDisputeWindowOpen(bytes32 periodId, uint64 disputeEnds);

    /**
     * @notice The period is already final.
     * @param periodId The period.
     */
    error SettlementPeriodAlreadyFinalized(bytes32 periodId);

    /**
     * @notice The amount would take what the period has received (funded plus paid off-chain) above its total.
     * @param periodId The period.
     * @param amount The amount paid in or recorded as paid off-chain.
     * @param stillOwed What the period could still receive: total less funded less paid off-chain.
     */
    error SettlementOverfunded(bytes32 periodId, uint256 amount, uint256 stillOwed);

    /**
     * @notice The period is not final yet, so its lines can be neither claimed nor recorded as paid off-chain.
     * @param periodId The period.
     */
    error SettlementPeriodNotFinalized(bytes32 periodId);

    /// @notice The proof does not show that the line is in the period's Merkle tree.
    error SettlementInvalidProof();

    /**
     * @notice Only the payee of a line may dispute it or record that it was paid off-chain.
     * @param payee The line's payee.
     */
    error SettlementNotPayee(address payee);
}
