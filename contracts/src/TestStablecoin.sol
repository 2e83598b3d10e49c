// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/**
 * @title TestStablecoin
 * @notice "Test Yuan" (tCNY): a stand-in for a yuan stablecoin, for local chains and tests only. It has no backing and
 * its owner mints at will; never deploy it where its tokens could be mistaken for money.
 * @dev A plain OpenZeppelin ERC-20 with EIP-2612 permits. Amounts are in fen: `decimals()` is 2, so 1 yuan is 100
 * units, matching the minor units in which ReelLedger settles.
 */
contract TestStablecoin is ERC20, ERC20Permit, Ownable {
    /**
     * @param initialOwner The account allowed to mint.
     */
    constructor(address initialOwner) ERC20("Test Yuan", "tCNY") ERC20Permit("Test Yuan") Ownable(initialOwner) {}

    /**
     * @notice One unit is one fen (0.01 yuan).
     * @return Always 2.
     */
    function decimals() public pure override returns (uint8) {
        return 2;
    }

    /**
     * @notice Creates `amount` fen and gives them to `to`. Only the owner may mint.
     * @dev Emits {Transfer} from the zero address.
     * @param to The recipient.
     * @param amount The amount, in fen.
     */
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
