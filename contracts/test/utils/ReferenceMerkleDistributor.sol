// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/**
 * @title ReferenceMerkleDistributor
 * @notice The gas reference for a settlement claim, in the shape of Uniswap's merkle-distributor: immutable token and
 * root, a claimed bitmap, `keccak256(abi.encodePacked(index, account, amount))` leaves, a plain `IERC20.transfer`.
 * @dev Proofs are verified from calldata (`MerkleProof.verifyCalldata`), the cheapest OpenZeppelin variant, so the
 * reference is not handicapped by a memory copy.
 */
contract ReferenceMerkleDistributor {
    address public immutable token;
    bytes32 public immutable merkleRoot;

    mapping(uint256 wordIndex => uint256 bits) private _claimedBitMap;

    event Claimed(uint256 index, address account, uint256 amount);

    error AlreadyClaimed();
    error InvalidProof();
    error TransferFailed();

    constructor(address token_, bytes32 merkleRoot_) {
        token = token_;
        merkleRoot = merkleRoot_;
    }

    function isClaimed(uint256 index) public view returns (bool) {
        return _claimedBitMap[index / 256] & (uint256(1) << (index % 256)) != 0;
    }

    function claim(uint256 index, address account, uint256 amount, bytes32[] calldata merkleProof) external {
        if (isClaimed(index)) revert AlreadyClaimed();
        bytes32 node = keccak256(abi.encodePacked(index, account, amount));
        if (!MerkleProof.verifyCalldata(merkleProof, merkleRoot, node)) revert InvalidProof();
        _claimedBitMap[index / 256] |= uint256(1) << (index % 256);
        if (!IERC20(token).transfer(account, amount)) revert TransferFailed();
        emit Claimed(index, account, amount);
    }
}
