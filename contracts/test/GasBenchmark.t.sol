// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "./utils/BaseTest.sol";
import {IReferenceERC721} from "./utils/IReferenceERC721.sol";
import {WorkRegistry} from "../src/WorkRegistry.sol";
import {LicenseRegistry} from "../src/LicenseRegistry.sol";
import {SplitRegistry} from "../src/SplitRegistry.sol";
import {ILicenseRegistry} from "../src/interfaces/ILicenseRegistry.sol";

/**
 * @title GasBenchmark
 * @notice Measures the gas of single external calls, each writing storage that no earlier call touched, and
 * reports each figure as a `log_named_uint` event. Every figure is the `gasleft()` difference around one call from
 * this contract, so it includes the same call overhead (cold account access, argument copying) for every entry and
 * excludes the 21,000 transaction base cost and calldata cost. The gas goal checked here: registering a work costs no
 * more than minting a new ERC-721 token to a new holder.
 */
contract GasBenchmark is BaseTest {
    /// @notice A named measurement, printed by the test runner at verbosity 2 and above.
    event log_named_uint(string key, uint256 val);

    IReferenceERC721 internal token;
    WorkRegistry internal works;
    LicenseRegistry internal licenses;
    LicenseRegistry internal emptyLicenses;
    SplitRegistry internal splits;

    address internal owner = makeAddr("owner");
    address internal operator = makeAddr("operator");
    address internal holder = makeAddr("holder");
    address internal newHolder = makeAddr("new holder");
    address internal licensee = makeAddr("licensee");
    address internal sublicensee = makeAddr("sublicensee");

    bytes32 internal constant WORK = keccak256("work with licences");
    bytes32 internal constant NEW_WORK = keccak256("new work");
    bytes32 internal constant FINGERPRINT = keccak256("fingerprint");
    bytes32 internal constant META_HASH = keccak256("metadata");
    string internal constant META_URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
    uint64 internal constant T0 = 1_700_000_000;

    uint256 internal parentLicense;
    uint256 internal licenseToRevoke;

    function setUp() public {
        vm.warp(T0);
        token = IReferenceERC721(vm.deployCode("TestERC721.sol:TestERC721"));
        works = new WorkRegistry();
        licenses = new LicenseRegistry(works);
        emptyLicenses = new LicenseRegistry(works);
        splits = new SplitRegistry(works);

        token.mint(holder, 1);

        vm.startPrank(owner);
        works.setOperator(operator, true);
        works.register(WORK, owner, FINGERPRINT, META_HASH, META_URI);
        parentLicense = licenses.grant(WORK, licensee, _scope(0xFF, 0xF, true));
        licenseToRevoke = licenses.grant(WORK, licensee, _scope(1 << 100, 0x1, false));
        vm.stopPrank();
    }

    function _scope(uint256 territories, uint32 rights, bool sublicensable)
        internal
        pure
        returns (ILicenseRegistry.Scope memory)
    {
        return ILicenseRegistry.Scope({
            territories: territories,
            rights: rights,
            start: T0,
            end: T0 + 365 days,
            exclusive: false,
            sublicensable: sublicensable
        });
    }

    function _split(uint256 n) internal pure returns (address[] memory payees, uint16[] memory bps) {
        payees = new address[](n);
        bps = new uint16[](n);
        for (uint256 i; i < n; ++i) {
            payees[i] = toAddress(0xFEE000 + i);
            bps[i] = toUint16(10_000 / n);
        }
        bps[0] += toUint16(10_000 % n);
    }

    // ---------------------------------------------------------------- measurements
    // Targets and arguments are loaded into locals first, so that only the call itself is measured.

    function _mintNewHolder() internal returns (uint256 gasUsed) {
        IReferenceERC721 target = token;
        address to = newHolder;
        uint256 before = gasleft();
        target.mint(to, 2);
        gasUsed = before - gasleft();
    }

    function _register(address caller) internal returns (uint256 gasUsed) {
        WorkRegistry target = works;
        address workOwner = owner;
        vm.prank(caller);
        uint256 before = gasleft();
        target.register(NEW_WORK, workOwner, FINGERPRINT, META_HASH, META_URI);
        gasUsed = before - gasleft();
    }

    function _setSplit(uint256 n) internal returns (uint256 gasUsed) {
        SplitRegistry target = splits;
        (address[] memory payees, uint16[] memory bps) = _split(n);
        vm.prank(owner);
        uint256 before = gasleft();
        target.setSplit(WORK, payees, bps, 0);
        gasUsed = before - gasleft();
    }

    // ---------------------------------------------------------------- benchmarks

    function test_gas_mint_newHolder() public {
        emit log_named_uint("erc721_mint_new_holder", _mintNewHolder());
        assertEq(token.ownerOf(2), newHolder, "minted");
    }

    function test_gas_mint_existingHolder() public {
        IReferenceERC721 target = token;
        address to = holder;
        uint256 before = gasleft();
        target.mint(to, 3);
        uint256 gasUsed = before - gasleft();
        emit log_named_uint("erc721_mint_existing_holder", gasUsed);
        assertEq(token.balanceOf(holder), 2, "minted");
    }

    function test_gas_register_byOwner() public {
        uint256 mintGas = _mintNewHolder();
        uint256 registerGas = _register(owner);
        emit log_named_uint("register_by_owner", registerGas);
        assertEq(works.ownerOf(NEW_WORK), owner, "registered");
        require(registerGas <= mintGas, "register costs more than an ERC-721 mint to a new holder");
    }

    function test_gas_register_byOperator() public {
        emit log_named_uint("register_by_operator", _register(operator));
        assertEq(works.ownerOf(NEW_WORK), owner, "registered");
    }

    function test_gas_grant_root() public {
        LicenseRegistry target = emptyLicenses;
        address to = licensee;
        ILicenseRegistry.Scope memory s = _scope(0xFF, 0xF, true);
        vm.prank(owner);
        uint256 before = gasleft();
        target.grant(WORK, to, s);
        uint256 gasUsed = before - gasleft();
        emit log_named_uint("grant_root_first_licence", gasUsed);
        assertEq(emptyLicenses.licenseCount(), 1, "granted");
    }

    function test_gas_grantSublicense() public {
        ILicenseRegistry.Scope memory s = _scope(0x0F, 0x1, false);
        LicenseRegistry target = licenses;
        uint256 parentId = parentLicense;
        address to = sublicensee;
        vm.prank(licensee);
        uint256 before = gasleft();
        target.grantSublicense(parentId, to, s);
        uint256 gasUsed = before - gasleft();
        emit log_named_uint("grant_sublicense", gasUsed);
        assertEq(licenses.licensesOf(WORK, sublicensee).length, 1, "granted");
    }

    function test_gas_revoke() public {
        LicenseRegistry target = licenses;
        uint256 id = licenseToRevoke;
        vm.prank(owner);
        uint256 before = gasleft();
        target.revoke(id);
        uint256 gasUsed = before - gasleft();
        emit log_named_uint("revoke", gasUsed);
        assertTrue(licenses.getLicense(id).revoked, "revoked");
    }

    function test_gas_setSplit_2payees() public {
        emit log_named_uint("set_split_2_payees", _setSplit(2));
        assertEq(splits.splitVersionCount(WORK), 1, "set");
    }

    function test_gas_setSplit_10payees() public {
        emit log_named_uint("set_split_10_payees", _setSplit(10));
        assertEq(splits.splitVersionCount(WORK), 1, "set");
    }
}
