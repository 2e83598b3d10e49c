// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/**
 * @title TestERC721
 * @notice A plain ERC-721 whose only addition is an open `mint`, used as the gas reference for registration.
 * @dev OpenZeppelin's `ERC721` reaches `Strings` and `Bytes`, whose inline `mcopy` needs a Cancun compiler target, so
 * foundry.toml compiles this file alone for Cancun; no test imports it (that would drag the test into the Cancun
 * build): `GasBenchmark` deploys it by artifact name and calls it through `IReferenceERC721`. Its constructor and
 * `_mint` run no Cancun opcode, so it runs on the Shanghai EVM the tests use.
 */
contract TestERC721 is ERC721 {
    constructor() ERC721("Reference Token", "REF") {}

    /**
     * @notice Mints `tokenId` to `to` through the unmodified internal `_mint`.
     * @param to The recipient.
     * @param tokenId The new token id.
     */
    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }
}
