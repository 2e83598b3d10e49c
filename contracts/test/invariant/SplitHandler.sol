// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {WorkRegistry} from "../../src/WorkRegistry.sol";
import {SplitRegistry} from "../../src/SplitRegistry.sol";

/**
 * @title SplitHandler
 * @notice Drives a {SplitRegistry} with valid and invalid split versions over a few works, moving time forward.
 */
contract SplitHandler is BaseTest {
    WorkRegistry public immutable works;
    SplitRegistry public immutable splits;

    address public immutable owner = makeAddr("owner");
    address public immutable operator = makeAddr("operator");
    uint256 public constant WORK_COUNT = 3;

    /// @notice Number of accepted and rejected `setSplit` calls, to tell vacuous runs apart.
    uint256 public accepted;
    uint256 public rejected;

    constructor(WorkRegistry works_, SplitRegistry splits_) {
        works = works_;
        splits = splits_;
        vm.startPrank(owner);
        for (uint256 i; i < WORK_COUNT; ++i) {
            works_.register(workId(i), owner, bytes32(0), bytes32(0), "");
        }
        works_.setOperator(operator, true);
        vm.stopPrank();
    }

    /// @notice The id of the `i`-th work driven by this handler.
    function workId(uint256 i) public pure returns (bytes32) {
        return keccak256(abi.encode("split work", i));
    }

    /**
     * @notice Sets a split: payees are drawn from a small pool (so duplicates occur), shares are random and, when
     * `close` is set, the last share is adjusted so the total is exactly 10,000 if possible.
     */
    function setSplit(
        uint256 workSeed,
        uint16[6] memory raw,
        uint8 payeeSeed,
        uint8 n,
        uint32 delay,
        bool close,
        bool asOperator
    ) external {
        uint256 count = bound(n, 1, 6);
        address[] memory payees = new address[](count);
        uint16[] memory bps = new uint16[](count);
        uint256 sum;
        for (uint256 i; i < count; ++i) {
            payees[i] = toAddress(0xB000 + ((uint256(payeeSeed) + i * (payeeSeed % 3 == 0 ? 0 : 1)) % 16));
            bps[i] = uint16(bound(raw[i], 0, 5000));
            sum += bps[i];
        }
        if (close) {
            uint256 rest = sum - bps[count - 1];
            if (rest < 10_000) bps[count - 1] = toUint16(10_000 - rest);
        }
        // Mostly non-decreasing starts; occasionally zero (now) or earlier than a scheduled version.
        uint64 effectiveFrom = delay % 5 == 0 ? 0 : uint64(block.timestamp + bound(delay, 0, 20 days) - 1 days);

        vm.prank(asOperator ? operator : owner);
        try splits.setSplit(workId(bound(workSeed, 0, WORK_COUNT - 1)), payees, bps, effectiveFrom) {
            ++accepted;
        } catch {
            ++rejected;
        }
    }

    /// @notice Moves time forward by up to 10 days.
    function warp(uint32 delta) external {
        vm.warp(block.timestamp + bound(delta, 1, 10 days));
    }
}
