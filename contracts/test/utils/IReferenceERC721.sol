// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title IReferenceERC721
 * @notice What the gas benchmark calls on `TestERC721`, declared in a file of its own so that the benchmark does not
 * import `TestERC721.sol`, which is compiled for Cancun (see its NatSpec).
 */
interface IReferenceERC721 {
    function mint(address to, uint256 tokenId) external;
    function ownerOf(uint256 tokenId) external view returns (address);
    function balanceOf(address owner) external view returns (uint256);
}
