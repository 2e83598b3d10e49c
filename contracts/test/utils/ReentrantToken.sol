// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title ReentrantToken
 * @notice A hostile ERC-20: once armed, its next transfer calls back into a target with prepared calldata before
 * moving any balance, and bubbles up the callback's revert.
 */
contract ReentrantToken is ERC20 {
    address private _target;
    bytes private _callback;

    constructor() ERC20("Reentrant Token", "RNT") {}

    /// @notice Mints freely.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Makes the next transfer (or transferFrom) call `target` with `callback` first.
    function arm(address target, bytes calldata callback) external {
        _target = target;
        _callback = callback;
    }

    function _update(address from, address to, uint256 value) internal override {
        address target = _target;
        if (target != address(0) && from != address(0)) {
            _target = address(0);
            (bool ok, bytes memory returned) = target.call(_callback);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(returned, 0x20), mload(returned))
                }
            }
        }
        super._update(from, to, value);
    }
}
