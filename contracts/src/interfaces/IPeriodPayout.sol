// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title IPeriodPayout
 * @notice The events and errors of {PeriodPayout}, which pays out the lines of one final settlement period.
 */
interface IPeriodPayout {
    /**
     * @notice Emitted when a line is paid out to its payee. Not indexed, as in the Merkle airdrop distributors: a
     * payee finds its claims from its statement's line indexes (or the token's indexed `Transfer` events).
     * @param index The line.
     * @param payee The recipient of the tokens.
     * @param amount The amount paid.
     */
    event LineClaimed(uint256 index, address payee, uint256 amount);

    /**
     * @notice Emitted when the registry records a line as paid off-chain (its own event carries the details).
     * @param index The line.
     */
    event LineSettledOffChain(uint256 indexed index);

    /**
     * @notice Emitted when the registry holds a line (its dispute is open, or an upheld one voided it: it cannot be
     * claimed) or releases it (its dispute was rejected: it can be claimed).
     * @param index The line.
     * @param held True if held, false if released.
     */
    event LineHoldChanged(uint256 indexed index, bool held);

    /**
     * @notice Emitted when the registry moves voided funds of this period to a later period's payout.
     * @param to The receiving payout.
     * @param amount The amount moved.
     */
    event FundsCarriedOut(address indexed to, uint256 amount);

    /**
     * @notice The line has an open dispute: it cannot be claimed until the dispute is rejected.
     * @param periodId The period.
     * @param index The line.
     */
    error PeriodPayoutLineHeld(bytes32 periodId, uint256 index);

    /**
     * @notice An upheld dispute voided the line: it is never claimed in this period.
     * @param periodId The period.
     * @param index The line.
     */
    error PeriodPayoutLineVoided(bytes32 periodId, uint256 index);

    /**
     * @notice The line has already been claimed or recorded as paid off-chain.
     * @param periodId The period.
     * @param index The line.
     */
    error PeriodPayoutLineAlreadySettled(bytes32 periodId, uint256 index);

    /// @notice The proof does not show that the line is in the period's Merkle tree.
    error PeriodPayoutInvalidProof();

    /**
     * @notice What this payout holds does not cover the line: the period is not (fully) funded yet.
     * @param periodId The period.
     * @param amount The line's amount.
     * @param held What this payout holds.
     */
    error PeriodPayoutInsufficientFunding(bytes32 periodId, uint256 amount, uint256 held);

    /**
     * @notice The token refused a transfer that this payout's balance covers (a paused token, a blocked payee).
     * @param periodId The period.
     * @param payee The line's payee.
     * @param amount The line's amount.
     */
    error PeriodPayoutTransferFailed(bytes32 periodId, address payee, uint256 amount);

    /// @notice Only the registry that deployed this payout may call this.
    error PeriodPayoutOnlyRegistry();
}

/**
 * @title ISettlementLineHolds
 * @notice What a {PeriodPayout} asks its registry, which keeps the disputes, when a claim meets a marked line.
 */
interface ISettlementLineHolds {
    /**
     * @notice Whether a line of a period has an open dispute.
     * @param periodId The period.
     * @param index The line.
     * @return True while held.
     */
    function isLineHeld(bytes32 periodId, uint256 index) external view returns (bool);

    /**
     * @notice Whether an upheld dispute voided a line of a period.
     * @param periodId The period.
     * @param index The line.
     * @return True once voided.
     */
    function isLineVoided(bytes32 periodId, uint256 index) external view returns (bool);
}
