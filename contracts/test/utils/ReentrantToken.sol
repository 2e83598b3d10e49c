// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title ReentrantToken
 * @notice A hostile ERC-20: once armed, its next transfer calls back into a target with prepared calldata before
 * moving any balance. Armed with {arm}, it bubbles up the callback's revert; armed with {armQuiet}, it records the
 * callback's outcome ({callbackOk}, {callbackReturn}) and goes on with the transfer either way.
 */
contract ReentrantToken is ERC20 {
    address private _target;
    bytes private _callback;
    bool private _quiet;

    /// @notice Whether the last quiet callback succeeded.
    bool public callbackOk;

    /// @notice What the last quiet callback returned, or its revert data.
    bytes public callbackReturn;

    /// @notice How many callbacks were made.
    uint256 public callbacks;

    constructor() ERC20("Reentrant Token", "RNT") {}

    /// @notice Mints freely.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Makes the next transfer (or transferFrom) call `target` with `callback` first, reverting if it reverts.
    function arm(address target, bytes calldata callback) external {
        _target = target;
        _callback = callback;
        _quiet = false;
    }

    /// @notice Makes the next transfer (or transferFrom) call `target` with `callback` first and record the outcome.
    function armQuiet(address target, bytes calldata callback) external {
        _target = target;
        _callback = callback;
        _quiet = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        address target = _target;
        if (target != address(0) && from != address(0)) {
            _target = address(0);
            ++callbacks;
            (bool ok, bytes memory returned) = target.call(_callback);
            if (_quiet) {
                callbackOk = ok;
                callbackReturn = returned;
            } else if (!ok) {
                assembly ("memory-safe") {
                    revert(add(returned, 0x20), mload(returned))
                }
            }
        }
        super._update(from, to, value);
    }
}
