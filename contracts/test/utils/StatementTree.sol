// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {StatementLine} from "../../src/interfaces/ISettlementRegistry.sol";

/**
 * @title StatementTree
 * @notice Builds OpenZeppelin `StandardMerkleTree`s of settlement statement lines in Solidity, for tests: the same
 * leaves, layout and proofs as the JavaScript library `merkle-tree` of OpenZeppelin and `ledger/merkle.py`.
 * @dev Leaves are sorted by hash and laid out as a complete binary tree in an array (root at 0, children of `i` at
 * `2i + 1` and `2i + 2`, leaves at the end in sorted order); every pair is hashed in sorted order.
 */
library StatementTree {
    /// @notice The leaf of a line: keccak256 of keccak256 of the ABI-encoded values.
    function leaf(StatementLine memory line) internal pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                keccak256(
                    abi.encode(line.index, line.payee, line.workId, line.amount, line.ruleVersion, line.splitVersion)
                )
            )
        );
    }

    /// @notice The array layout of the tree over `lines`.
    function build(StatementLine[] memory lines) internal pure returns (bytes32[] memory tree) {
        uint256 n = lines.length;
        require(n > 0, "StatementTree: no lines");
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            leaves[i] = leaf(lines[i]);
        }
        _sort(leaves);
        tree = new bytes32[](2 * n - 1);
        for (uint256 i; i < n; ++i) {
            tree[tree.length - 1 - i] = leaves[i];
        }
        for (uint256 i = tree.length - n; i > 0; --i) {
            tree[i - 1] = Hashes.commutativeKeccak256(tree[2 * i - 1], tree[2 * i]);
        }
    }

    /// @notice The root of a tree built by {build}.
    function root(bytes32[] memory tree) internal pure returns (bytes32) {
        return tree[0];
    }

    /// @notice The proof of `line` in `tree`, from the leaf's sibling up.
    function proof(bytes32[] memory tree, StatementLine memory line) internal pure returns (bytes32[] memory siblings) {
        bytes32 target = leaf(line);
        uint256 i = type(uint256).max;
        for (uint256 j = tree.length; j > tree.length / 2; --j) {
            if (tree[j - 1] == target) {
                i = j - 1;
                break;
            }
        }
        require(i != type(uint256).max, "StatementTree: line not in tree");
        uint256 depth;
        for (uint256 k = i; k > 0; k = (k - 1) / 2) {
            ++depth;
        }
        siblings = new bytes32[](depth);
        for (uint256 d; d < depth; ++d) {
            siblings[d] = tree[i % 2 == 1 ? i + 1 : i - 1];
            i = (i - 1) / 2;
        }
    }

    /// @dev Insertion sort, ascending; test trees are small.
    function _sort(bytes32[] memory a) private pure {
        for (uint256 i = 1; i < a.length; ++i) {
            bytes32 x = a[i];
            uint256 j = i;
            while (j > 0 && a[j - 1] > x) {
                a[j] = a[j - 1];
                --j;
            }
            a[j] = x;
        }
    }
}
