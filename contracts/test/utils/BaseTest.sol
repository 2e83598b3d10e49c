// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Vm} from "./Vm.sol";

/**
 * @title BaseTest
 * @notice Minimal shared test base: the cheatcode handle, `require`-based assertions and input helpers.
 */
abstract contract BaseTest {
    /// @dev The cheatcode contract, at its well-known address.
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev Returns a deterministic address for a readable name.
    function makeAddr(string memory name) internal pure returns (address) {
        return address(uint160(uint256(keccak256(bytes(name)))));
    }

    /// @dev Maps `x` into `[min, max]` (inclusive) without discarding fuzz runs.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        uint256 size = max - min;
        if (size == type(uint256).max) return x;
        return min + (x % (size + 1));
    }

    function assertTrue(bool condition, string memory message) internal pure {
        require(condition, message);
    }

    function assertFalse(bool condition, string memory message) internal pure {
        require(!condition, message);
    }

    function assertEq(uint256 a, uint256 b, string memory message) internal pure {
        require(a == b, message);
    }

    function assertEq(address a, address b, string memory message) internal pure {
        require(a == b, message);
    }

    function assertEq(bytes32 a, bytes32 b, string memory message) internal pure {
        require(a == b, message);
    }

    function assertEq(bool a, bool b, string memory message) internal pure {
        require(a == b, message);
    }

    function assertEq(uint256[] memory a, uint256[] memory b, string memory message) internal pure {
        require(keccak256(abi.encode(a)) == keccak256(abi.encode(b)), message);
    }

    /// @dev Checked narrowing conversions for computed test values.
    function toUint16(uint256 x) internal pure returns (uint16) {
        return SafeCast.toUint16(x);
    }

    function toUint32(uint256 x) internal pure returns (uint32) {
        return SafeCast.toUint32(x);
    }

    /// @dev The address whose numeric value is `x`, for small readable addresses.
    function toAddress(uint256 x) internal pure returns (address) {
        return address(SafeCast.toUint160(x));
    }

    /// @dev The mask with only bit `i` set.
    function bit(uint256 i) internal pure returns (uint256) {
        return 2 ** i;
    }

    /// @dev Builds a one-element id array.
    function ids(uint256 a) internal pure returns (uint256[] memory r) {
        r = new uint256[](1);
        r[0] = a;
    }

    /// @dev Builds a two-element id array.
    function ids(uint256 a, uint256 b) internal pure returns (uint256[] memory r) {
        r = new uint256[](2);
        r[0] = a;
        r[1] = b;
    }
}
