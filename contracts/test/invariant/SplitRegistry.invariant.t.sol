// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {WorkRegistry} from "../../src/WorkRegistry.sol";
import {SplitRegistry} from "../../src/SplitRegistry.sol";
import {SplitHandler} from "./SplitHandler.sol";

contract SplitRegistryInvariantTest is BaseTest {
    WorkRegistry internal works;
    SplitRegistry internal splits;
    SplitHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        works = new WorkRegistry();
        splits = new SplitRegistry(works);
        handler = new SplitHandler(works, splits);
    }

    /// @dev Restricts the fuzzer to the handler.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_EveryVersionIsAWellFormedSplitSummingToTotal() public view {
        for (uint256 w; w < handler.WORK_COUNT(); ++w) {
            bytes32 workId = handler.workId(w);
            uint32 count = splits.splitVersionCount(workId);
            for (uint32 v = 1; v <= count; ++v) {
                (address[] memory payees, uint16[] memory bps,, bytes32 splitHash) = splits.splitVersion(workId, v);
                assertEq(payees.length, bps.length, "lengths match");
                assertTrue(payees.length > 0 && payees.length <= 64, "payee count in range");
                uint256 sum;
                for (uint256 i; i < bps.length; ++i) {
                    assertTrue(payees[i] != address(0), "no zero payee");
                    assertTrue(bps[i] != 0, "no zero share");
                    for (uint256 j; j < i; ++j) {
                        assertTrue(payees[j] != payees[i], "no duplicate payee");
                    }
                    sum += bps[i];
                }
                assertEq(sum, 10_000, "shares sum to 10,000");
                assertEq(splitHash, keccak256(abi.encode(payees, bps)), "hash matches contents");
            }
        }
    }

    function invariant_VersionsAreNonDecreasingInEffectiveFrom() public view {
        for (uint256 w; w < handler.WORK_COUNT(); ++w) {
            bytes32 workId = handler.workId(w);
            uint32 count = splits.splitVersionCount(workId);
            uint64 previous;
            for (uint32 v = 1; v <= count; ++v) {
                (,, uint64 effectiveFrom,) = splits.splitVersion(workId, v);
                assertTrue(effectiveFrom >= previous, "effectiveFrom non-decreasing");
                assertEq(splits.splitVersionAt(workId, effectiveFrom) >= v, true, "version in force from its start");
                previous = effectiveFrom;
            }
            assertEq(splits.splitVersionAt(workId, type(uint64).max), count, "latest version in force eventually");
        }
    }
}
