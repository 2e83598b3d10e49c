// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IPeriodPayout, ISettlementLineHolds} from "./interfaces/IPeriodPayout.sol";
import {StatementLine} from "./interfaces/ISettlementRegistry.sol";

/**
 * @title StatementLines
 * @notice The leaf of a statement line, as OpenZeppelin's `StandardMerkleTree` computes it for `(uint256 index, address
 * payee, bytes32 workId, uint256 amount, uint32 ruleVersion, uint32 splitVersion)`: the keccak256 of the keccak256 of
 * the ABI-encoded values. Hashing twice keeps a 64-byte inner node from passing as a leaf.
 */
library StatementLines {
    /**
     * @dev A {StatementLine} holds only static fields, so its calldata encoding is the six ABI-encoded words of the
     * leaf, in the leaf's order: they are copied to free memory and hashed there, with no abi.encode allocation. A
     * field with dirty high bits gives a leaf no tree holds, so its proof fails.
     * @param line The line.
     * @return result The leaf.
     */
    function leaf(StatementLine calldata line) internal pure returns (bytes32 result) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, line, 0xc0)
            mstore(0x00, keccak256(m, 0xc0))
            result := keccak256(0x00, 0x20)
        }
    }
}

/**
 * @title PeriodPayout
 * @notice Pays out the lines of one final settlement period. The {SettlementRegistry} deploys it when the period
 * becomes final, at an address fixed from the period's commitment (CREATE2), to which the period is funded. It holds
 * only that period's funds, so a period's lines can never be paid from another period's money, and its root and
 * token are immutable, so a claim reads no storage but one word of the settled bitmap.
 *
 * A line with an open dispute is held: the registry sets its bit in the settled bitmap, so a claim of it fails
 * without the claim reading anything more (why, {PeriodPayoutLineHeld} or {PeriodPayoutLineVoided}, is asked of the
 * registry, which keeps the disputes, only on that failing path). A rejected dispute releases the line (its bit is
 * cleared and it can be claimed); an upheld one voids it (its bit stays set for good), and the registry later moves
 * the voided funds to a later period's payout ({carryOut}). This payout so holds exactly what the period was funded,
 * less what was claimed, less what was carried out.
 * @dev The token must move exactly the amounts asked (no fee on transfer, no rebasing).
 */
contract PeriodPayout is IPeriodPayout {
    using SafeERC20 for IERC20;

    /// @notice The registry that deployed this payout; the only account that records lines as paid off-chain.
    address public immutable registry;

    /// @notice The period whose lines this contract pays.
    bytes32 public immutable periodId;

    /// @notice The period's committed Merkle root of statement lines.
    bytes32 public immutable root;

    /// @notice The payout token.
    IERC20 public immutable token;

    /// @dev Settled (claimed or paid off-chain) lines: bit `index % 256` of word `index / 256`.
    mapping(uint256 wordIndex => uint256 bits) private _settled;

    /**
     * @param periodId_ The period.
     * @param root_ Its committed Merkle root.
     * @param token_ The payout token.
     */
    constructor(bytes32 periodId_, bytes32 root_, IERC20 token_) {
        registry = msg.sender;
        periodId = periodId_;
        root = root_;
        token = token_;
    }

    /**
     * @notice Pays a line to its payee. Anyone may trigger it; the tokens always go to `line.payee`.
     * @dev Checks, in order: the line is not settled ({PeriodPayoutLineAlreadySettled}), the proof holds
     * ({PeriodPayoutInvalidProof}) and this payout holds the amount ({PeriodPayoutInsufficientFunding}); a transfer the
     * token refuses otherwise is {PeriodPayoutTransferFailed}.
     *
     * The line is marked settled before the only external call, the token transfer, so a token that calls back into
     * this contract finds the line settled (a test does this): a claim pays each line exactly once without a
     * reentrancy guard, whose 490 gas per claim would take it above what the well-known distributors cost.
     * @param line The line.
     * @param proof The Merkle proof of the line.
     */
    function claim(StatementLine calldata line, bytes32[] calldata proof) external {
        uint256 index = line.index;
        // _settle, written out: with its other callers the optimizer would no longer inline it here.
        uint256 wordIndex = index >> 8;
        uint256 word = _settled[wordIndex];
        uint256 mask = uint256(1) << (index & 0xff);
        if (word & mask != 0) _revertSettled(index);
        _settled[wordIndex] = word | mask;
        if (!MerkleProof.verifyCalldata(proof, root, StatementLines.leaf(line))) revert PeriodPayoutInvalidProof();
        address payee = line.payee;
        uint256 amount = line.amount;
        emit LineClaimed(index, payee, amount);
        if (!token.trySafeTransfer(payee, amount)) {
            uint256 held = token.balanceOf(address(this));
            if (held < amount) revert PeriodPayoutInsufficientFunding(periodId, amount, held);
            revert PeriodPayoutTransferFailed(periodId, payee, amount);
        }
    }

    /**
     * @notice Marks a line settled because its payee was paid off-chain. Only the registry may, after checking the
     * payee and the proof.
     * @param index The line.
     */
    function settleOffChain(uint256 index) external onlyRegistry {
        _settle(index);
        emit LineSettledOffChain(index);
    }

    /**
     * @notice Holds a line (its dispute is open, or an upheld one voided it) or releases a held line (its dispute was
     * rejected). Only the registry may, which keeps the disputes: when the period becomes final, and when a dispute
     * of a final period is rejected.
     * @dev Holding sets the line's bit in the settled bitmap (and fails like a claim if it is already set); releasing
     * clears it, so the line can be claimed.
     * @param index The line.
     * @param held True to hold, false to release.
     */
    function setHeld(uint256 index, bool held) external onlyRegistry {
        if (held) {
            _settle(index);
        } else {
            _settled[index >> 8] &= ~(uint256(1) << (index & 0xff));
        }
        emit LineHoldChanged(index, held);
    }

    /**
     * @notice Moves voided funds to a later period's payout. Only the registry may, which bounds `amount` by what
     * this period's upheld disputes voided and by what this payout holds.
     * @param to The receiving payout.
     * @param amount The amount.
     */
    function carryOut(address to, uint256 amount) external onlyRegistry {
        emit FundsCarriedOut(to, amount);
        // trySafeTransfer, as the claim calls it: code the two share stays as cheap for the claim as when it had it
        // alone, which SafeERC20's safeTransfer or Address.functionCall here would not (up to 50 gas per claim).
        if (!token.trySafeTransfer(to, amount)) revert PeriodPayoutTransferFailed(periodId, to, amount);
    }

    /**
     * @notice Returns whether a line has been claimed or recorded as paid off-chain. A held or voided line is not.
     * @param index The line.
     * @return True if settled.
     */
    function isLineSettled(uint256 index) external view returns (bool) {
        return _settled[index >> 8] & (uint256(1) << (index & 0xff)) != 0 && _holdOf(index) == 0;
    }

    /// @dev Only the registry that deployed this payout.
    modifier onlyRegistry() {
        if (msg.sender != registry) revert PeriodPayoutOnlyRegistry();
        _;
    }

    /**
     * @dev Marks a line settled. A line already marked is settled, held or voided: the revert names which, asking the
     * registry only on this failing path so that a claim reads one storage word.
     */
    function _settle(uint256 index) private {
        uint256 wordIndex = index >> 8;
        uint256 word = _settled[wordIndex];
        uint256 mask = uint256(1) << (index & 0xff);
        if (word & mask != 0) _revertSettled(index);
        _settled[wordIndex] = word | mask;
    }

    /// @dev Reverts with why a marked line cannot be settled again.
    function _revertSettled(uint256 index) private view {
        uint256 hold = _holdOf(index);
        if (hold == 1) revert PeriodPayoutLineHeld(periodId, index);
        if (hold == 2) revert PeriodPayoutLineVoided(periodId, index);
        revert PeriodPayoutLineAlreadySettled(periodId, index);
    }

    /// @dev What the registry's disputes make of a line: 0 nothing, 1 held (open dispute), 2 voided (upheld).
    function _holdOf(uint256 index) private view returns (uint256) {
        ISettlementLineHolds holds = ISettlementLineHolds(registry);
        if (holds.isLineHeld(periodId, index)) return 1;
        return holds.isLineVoided(periodId, index) ? 2 : 0;
    }
}
