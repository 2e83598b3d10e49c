// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {WorkRegistry} from "../../src/WorkRegistry.sol";
import {LicenseRegistry} from "../../src/LicenseRegistry.sol";
import {DerivativeRegistry} from "../../src/DerivativeRegistry.sol";
import {IDerivativeRegistry} from "../../src/interfaces/IDerivativeRegistry.sol";
import {DerivativeHandler} from "./DerivativeHandler.sol";

contract DerivativeRegistryInvariantTest is BaseTest {
    WorkRegistry internal works;
    LicenseRegistry internal licenses;
    DerivativeRegistry internal derivatives;
    DerivativeHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        works = new WorkRegistry();
        licenses = new LicenseRegistry(works);
        derivatives = new DerivativeRegistry(works, licenses);
        handler = new DerivativeHandler(works, licenses, derivatives);
    }

    /// @dev Restricts the fuzzer to the handler.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @dev Every work's depth is one more than its deepest parent's, at most MAX_DEPTH, and its shares fit a whole.
    function invariant_DepthFollowsParentsAndIsBounded() public view {
        for (uint256 i; i < handler.WORK_COUNT(); ++i) {
            bytes32 work = handler.workId(i);
            IDerivativeRegistry.ParentEdge[] memory edges = derivatives.parentsOf(work);
            uint256 expected = 0;
            uint256 totalBps = 0;
            for (uint256 j; j < edges.length; ++j) {
                uint256 d = uint256(derivatives.depthOf(edges[j].parentId)) + 1;
                if (d > expected) expected = d;
                totalBps += edges[j].terms.shareBps;
            }
            assertEq(derivatives.depthOf(work), expected, "depth is one more than the deepest parent's");
            assertTrue(expected <= derivatives.MAX_DEPTH(), "depth bounded");
            assertTrue(totalBps <= 10_000, "shares within the whole");
        }
    }

    /// @dev No work is its own ancestor: every parent is strictly shallower than its child.
    function invariant_NoCycle() public view {
        for (uint256 i; i < handler.WORK_COUNT(); ++i) {
            bytes32 work = handler.workId(i);
            IDerivativeRegistry.ParentEdge[] memory edges = derivatives.parentsOf(work);
            for (uint256 j; j < edges.length; ++j) {
                assertTrue(edges[j].parentId != work, "not its own parent");
                assertTrue(derivatives.depthOf(edges[j].parentId) < derivatives.depthOf(work), "parent shallower");
            }
        }
    }

    /// @dev A work is listed as a child of each of its parents, and only of them.
    function invariant_ChildrenMirrorParents() public view {
        uint256 edgeCount = 0;
        uint256 childCount = 0;
        for (uint256 i; i < handler.WORK_COUNT(); ++i) {
            bytes32 work = handler.workId(i);
            IDerivativeRegistry.ParentEdge[] memory edges = derivatives.parentsOf(work);
            edgeCount += edges.length;
            childCount += derivatives.childrenOf(work).length;
            for (uint256 j; j < edges.length; ++j) {
                bytes32[] memory children = derivatives.childrenOf(edges[j].parentId);
                bool found = false;
                for (uint256 k; k < children.length; ++k) {
                    if (children[k] == work) found = true;
                }
                assertTrue(found, "child listed under its parent");
            }
        }
        assertEq(edgeCount, childCount, "one child entry per edge");
    }
}
