// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/**
 * @title TestERC721
 * @notice A plain ERC-721 whose only addition is an open `mint`, used as the gas reference for registration.
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
