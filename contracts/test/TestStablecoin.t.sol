// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {BaseTest} from "./utils/BaseTest.sol";
import {TestStablecoin} from "../src/TestStablecoin.sol";

contract TestStablecoinTest is BaseTest {
    TestStablecoin internal token;
    address internal holder = makeAddr("holder");

    function setUp() public {
        token = new TestStablecoin(address(this));
    }

    function test_Metadata_TestYuanInFen() public view {
        assertEq(keccak256(bytes(token.name())), keccak256("Test Yuan"), "name");
        assertEq(keccak256(bytes(token.symbol())), keccak256("tCNY"), "symbol");
        assertEq(token.decimals(), 2, "decimals");
        assertEq(token.owner(), address(this), "owner");
    }

    function test_Mint_ByOwner() public {
        token.mint(holder, 12_345);
        assertEq(token.balanceOf(holder), 12_345, "balance");
        assertEq(token.totalSupply(), 12_345, "supply");
    }

    function test_Mint_Revert_WhenNotOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, holder));
        vm.prank(holder);
        token.mint(holder, 1);
    }

    uint256 internal constant PERMIT_KEY = 0x5EC12E7;

    function _permitDigest(address owner, address spender, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                owner,
                spender,
                value,
                nonce,
                deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
    }

    /// @dev The domain OpenZeppelin's ERC20Permit gives a token: its name, version "1", so wallets sign as before.
    function test_DomainSeparator_IsTheTokensNameVersion1() public view {
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Test Yuan"),
                keccak256("1"),
                block.chainid,
                address(token)
            )
        );
        assertEq(token.DOMAIN_SEPARATOR(), expected, "domain separator");
    }

    function test_Permit_Revert_WhenDeadlinePassed() public {
        address signer = vm.addr(PERMIT_KEY);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(PERMIT_KEY, _permitDigest(signer, holder, 500, 0, deadline));
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(TestStablecoin.ERC2612ExpiredSignature.selector, deadline));
        token.permit(signer, holder, 500, deadline, v, r, s);
    }

    function test_Permit_Revert_WhenReplayed() public {
        address signer = vm.addr(PERMIT_KEY);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(PERMIT_KEY, _permitDigest(signer, holder, 500, 0, deadline));
        token.permit(signer, holder, 500, deadline, v, r, s);
        assertEq(token.nonces(signer), 1, "nonce used");
        // The second time the digest is built with nonce 1, so the signature recovers to some other address.
        address recovered = ecrecover(_permitDigest(signer, holder, 500, 1, deadline), v, r, s);
        vm.expectRevert(abi.encodeWithSelector(TestStablecoin.ERC2612InvalidSigner.selector, recovered, signer));
        token.permit(signer, holder, 500, deadline, v, r, s);
    }

    function test_Permit_SignedByHolderSetsAllowance() public {
        uint256 key = PERMIT_KEY;
        address signer = vm.addr(key);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                signer,
                holder,
                500,
                token.nonces(signer),
                deadline
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        token.permit(signer, holder, 500, deadline, v, r, s);
        assertEq(token.allowance(signer, holder), 500, "allowance");
    }
}
