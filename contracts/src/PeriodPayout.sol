// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/**
 * @title StatementLines
 * @notice The leaf of a statement line, as OpenZeppelin's `StandardMerkleTree` computes it for
 * `(uint256 index, address payee, bytes32 workId, uint256 amount, uint32 ruleVersion, uint32 splitVersion)`: the
 * keccak256 of the keccak256 of the ABI-encoded values. Hashing twice keeps a 64-byte inner node from passing as a leaf.
 */
library StatementLines {
    /**
     * @param index The line's index.
     * @param payee The line's payee.
     * @param workId The line's work.
     * @param amount The line's amount.
     * @param ruleVersion The settlement rule version.
     * @param splitVersion The split version.
     * @return result The leaf.
     */
    function leaf(uint256 index, address payee, bytes32 workId, uint256 amount, uint32 ruleVersion, uint32 splitVersion)
        internal
        pure
        returns (bytes32 result)
    {
        // The six words are hashed from free memory instead of a fresh abi.encode allocation: same bytes, less gas.
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, index)
            mstore(add(m, 0x20), and(payee, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(m, 0x40), workId)
            mstore(add(m, 0x60), amount)
            mstore(add(m, 0x80), and(ruleVersion, 0xffffffff))
            mstore(add(m, 0xa0), and(splitVersion, 0xffffffff))
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
 * @dev The token must move exactly the amounts asked (no fee on transfer, no rebasing).
 */
contract PeriodPayout {
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
     * @notice The line has already been claimed or recorded as paid off-chain.
     * @param periodId The period.
     * @param index The line.
     */
    error LineAlreadySettled(bytes32 periodId, uint256 index);

    /// @notice The proof does not show that the line is in the period's Merkle tree.
    error InvalidProof();

    /**
     * @notice What this payout holds does not cover the line: the period is not (fully) funded yet.
     * @param periodId The period.
     * @param amount The line's amount.
     * @param held What this payout holds.
     */
    error InsufficientFunding(bytes32 periodId, uint256 amount, uint256 held);

    /**
     * @notice The token refused a transfer that this payout's balance covers (a paused token, a blocked payee).
     * @param periodId The period.
     * @param payee The line's payee.
     * @param amount The line's amount.
     */
    error TransferFailed(bytes32 periodId, address payee, uint256 amount);

    /// @notice Only the registry that deployed this payout may call this.
    error OnlyRegistry();

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
     * @notice Pays a line to its payee. Anyone may trigger it; the tokens always go to `payee`.
     * @dev Checks, in order: the line is not settled ({LineAlreadySettled}), the proof holds ({InvalidProof}) and
     * this payout holds the amount ({InsufficientFunding}); a transfer the token refuses otherwise is {TransferFailed}.
     *
     * The line is marked settled before the only external call, the token transfer, so a token that calls back into
     * this contract finds the line settled (a test does this): a claim pays each line exactly once without a
     * reentrancy guard, whose 490 gas per claim would take it above what the well-known distributors cost.
     * @param index The line's index.
     * @param payee The line's payee.
     * @param workId The line's work.
     * @param amount The line's amount, in token units.
     * @param ruleVersion The settlement rule version the line was computed with.
     * @param splitVersion The split version the line was computed with.
     * @param proof The Merkle proof of the line.
     */
    function claim(
        uint256 index,
        address payee,
        bytes32 workId,
        uint256 amount,
        uint32 ruleVersion,
        uint32 splitVersion,
        bytes32[] calldata proof
    ) external {
        _settle(index);
        bytes32 leaf = StatementLines.leaf(index, payee, workId, amount, ruleVersion, splitVersion);
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidProof();
        emit LineClaimed(index, payee, amount);
        if (!token.trySafeTransfer(payee, amount)) {
            uint256 held = token.balanceOf(address(this));
            if (held < amount) revert InsufficientFunding(periodId, amount, held);
            revert TransferFailed(periodId, payee, amount);
        }
    }

    /**
     * @notice Marks a line settled because its payee was paid off-chain. Only the registry may, after checking the
     * payee and the proof.
     * @param index The line.
     */
    function settleOffChain(uint256 index) external {
        if (msg.sender != registry) revert OnlyRegistry();
        _settle(index);
        emit LineSettledOffChain(index);
    }

    /**
     * @notice Returns whether a line has been claimed or recorded as paid off-chain.
     * @param index The line.
     * @return True if settled.
     */
    function isLineSettled(uint256 index) external view returns (bool) {
        return _settled[index >> 8] & (uint256(1) << (index & 0xff)) != 0;
    }

    /// @dev Marks a line settled, reverting with {LineAlreadySettled} if it already was.
    function _settle(uint256 index) private {
        uint256 wordIndex = index >> 8;
        uint256 word = _settled[wordIndex];
        uint256 mask = uint256(1) << (index & 0xff);
        if (word & mask != 0) revert LineAlreadySettled(periodId, index);
        _settled[wordIndex] = word | mask;
    }
}
