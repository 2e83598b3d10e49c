// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {EIP712Domain} from "./utils/EIP712Domain.sol";

/**
 * @title TestStablecoin
 * @notice "Test Yuan" (tCNY): a stand-in for a yuan stablecoin, for local chains and tests only. It has no backing and
 * its owner mints at will; never deploy it where its tokens could be mistaken for money.
 * @dev A plain OpenZeppelin ERC-20 with EIP-2612 permits. Amounts are in fen: `decimals()` is 2, so 1 yuan is 100
 * units, matching the minor units in which ReelLedger settles. The permit is OpenZeppelin's `ERC20Permit` in behaviour
 * (same domain: the token's name, version "1"; same errors), written over {EIP712Domain} because OpenZeppelin's
 * `EIP712` does not compile for the Shanghai EVM these contracts target.
 */
contract TestStablecoin is ERC20, IERC20Permit, EIP712Domain, Nonces, Ownable {
    /// @dev The EIP-2612 permit type hash.
    bytes32 private constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    /**
     * @notice The permit's deadline has passed.
     * @param deadline The deadline.
     */
    error ERC2612ExpiredSignature(uint256 deadline);

    /**
     * @notice The permit is not signed by the owner it names.
     * @param signer Who signed it.
     * @param owner The owner named.
     */
    error ERC2612InvalidSigner(address signer, address owner);

    /**
     * @param initialOwner The account allowed to mint.
     */
    constructor(address initialOwner) ERC20("Test Yuan", "tCNY") EIP712Domain("Test Yuan", "1") Ownable(initialOwner) {}

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

    /// @inheritdoc IERC20Permit
    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        if (block.timestamp > deadline) revert ERC2612ExpiredSignature(deadline);
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, _useNonce(owner), deadline));
        address signer = ECDSA.recover(_hashTypedDataV4(structHash), v, r, s);
        if (signer != owner) revert ERC2612InvalidSigner(signer, owner);
        _approve(owner, spender, value);
    }

    /// @inheritdoc IERC20Permit
    function nonces(address owner) public view override(IERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /// @inheritdoc IERC20Permit
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }
}
