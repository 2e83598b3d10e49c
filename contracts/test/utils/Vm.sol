// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title Vm
 * @notice The subset of the test runner's cheatcode interface used by this test suite. Signatures match the
 * runner's own declarations so that selectors line up.
 */
interface Vm {
    /// @notice A log entry captured by {recordLogs}.
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    /// @notice Sets `msg.sender` for the next call.
    function prank(address msgSender) external;

    /// @notice Sets `msg.sender` for all subsequent calls until {stopPrank}.
    function startPrank(address msgSender) external;

    /// @notice Stops an active {startPrank}.
    function stopPrank() external;

    /// @notice Sets `block.timestamp`.
    function warp(uint256 newTimestamp) external;

    /// @notice Expects the next call to revert with exactly `revertData`.
    function expectRevert(bytes calldata revertData) external;

    /// @notice Expects the next call to revert with any data.
    function expectRevert() external;

    /// @notice Expects the next emitted event to match the one emitted after this call, on the chosen parts.
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData) external;

    /// @notice As above, also checking the emitting contract.
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter) external;

    /// @notice Expects the next emitted event to match the one emitted after this call, on all topics and data.
    function expectEmit() external;

    /// @notice As above, also checking the emitting contract.
    function expectEmit(address emitter) external;

    /// @notice Signs `digest` with `privateKey` (secp256k1); returns the signature's `v`, `r` and `s`.
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);

    /// @notice Returns the address of the secp256k1 key `privateKey`.
    function addr(uint256 privateKey) external pure returns (address keyAddr);

    /// @notice Discards the current fuzz input when `condition` is false.
    function assume(bool condition) external pure;

    /// @notice Starts recording emitted logs.
    function recordLogs() external;

    /// @notice Returns and clears the logs recorded since {recordLogs}.
    function getRecordedLogs() external returns (Log[] memory logs);

    /// @notice Sets `block.chainid`.
    function chainId(uint256 newChainId) external;

    /// @notice Sets the runtime code of `target`.
    function etch(address target, bytes calldata newRuntimeBytecode) external;

    /// @notice Deploys the compiled contract named by `artifactPath` ("File.sol:Contract") and returns its address.
    function deployCode(string calldata artifactPath) external returns (address deployedAddress);
}
