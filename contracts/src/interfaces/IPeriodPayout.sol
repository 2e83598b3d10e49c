// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title IPeriodPayout
 * @notice The events and errors of {PeriodPayout}, which pays out the lines of one final settlement period.
 */
interface IPeriodPayout {
    /// @notice Why a line is held back from its claim.
    enum LineHold {
        None,
        Held,
        Voided
    }

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
     * @notice Emitted when the registry holds a line whose dispute is open: it cannot be claimed until released.
     * @param index The line.
     */
    event LineHeld(uint256 indexed index);

    /**
     * @notice Emitted when the registry releases a held line (its dispute was rejected): it can be claimed again.
     * @param index The line.
     */
    event LineReleased(uint256 indexed index);

    /**
     * @notice Emitted when the registry voids a line (its dispute was upheld): it is never claimed here.
     * @param index The line.
     */
    event LineVoided(uint256 indexed index);

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
     * @notice The line is not held, so it cannot be released or voided.
     * @param periodId The period.
     * @param index The line.
     */
    error PeriodPayoutLineNotHeld(bytes32 periodId, uint256 index);

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
