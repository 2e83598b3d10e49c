// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "./utils/BaseTest.sol";
import {WorkRegistry} from "../src/WorkRegistry.sol";
import {LicenseRegistry} from "../src/LicenseRegistry.sol";
import {DerivativeRegistry} from "../src/DerivativeRegistry.sol";
import {ILicenseRegistry} from "../src/interfaces/ILicenseRegistry.sol";
import {IDerivativeRegistry} from "../src/interfaces/IDerivativeRegistry.sol";

/**
 * @title DerivativeGasBenchmark
 * @notice Gas of granting a root licence with and without upstream terms and of registering a derivative of one and
 * of three parents, each measured with gasleft() around one external call, reported as `log_named_uint` events and
 * read by scripts/bench-settlement-gas next to the settlement figures of the same run.
 */
contract DerivativeGasBenchmark is BaseTest {
    /// @notice A named measurement, printed by the test runner at verbosity 2 and above.
    event log_named_uint(string key, uint256 val);

    WorkRegistry internal works;
    LicenseRegistry internal licenses;
    DerivativeRegistry internal derivatives;

    address internal producer = makeAddr("producer");
    address internal studio = makeAddr("studio");
    uint64 internal constant T0 = 1_700_000_000;
    bytes32 internal constant DERIVATIVE = keccak256("re-edit");

    bytes32[3] internal parentIds;
    uint256[3] internal licenceIds;

    function setUp() public {
        vm.warp(T0);
        works = new WorkRegistry();
        licenses = new LicenseRegistry(works);
        derivatives = new DerivativeRegistry(works, licenses);
        for (uint256 i; i < 3; ++i) {
            parentIds[i] = keccak256(abi.encode("parent", i));
            vm.startPrank(producer);
            works.register(parentIds[i], producer, bytes32(0), bytes32(0), "");
            licenceIds[i] = licenses.grantWithDerivativeTerms(parentIds[i], studio, _scope(0x1F), _terms());
            vm.stopPrank();
        }
        vm.prank(studio);
        works.register(DERIVATIVE, studio, bytes32(0), bytes32(0), "");
    }

    function _scope(uint32 rights) internal pure returns (ILicenseRegistry.Scope memory) {
        return ILicenseRegistry.Scope({
            territories: 0xFF, rights: rights, start: T0, end: T0 + 365 days, exclusive: false, sublicensable: false
        });
    }

    function _terms() internal pure returns (ILicenseRegistry.DerivativeTerms memory) {
        return ILicenseRegistry.DerivativeTerms({kinds: 0x3F, shareBps: 3000, minPerValidPlayMicro: 1000});
    }

    function _register(uint256 n) internal returns (uint256 gasUsed) {
        IDerivativeRegistry.Parent[] memory parents = new IDerivativeRegistry.Parent[](n);
        for (uint256 i; i < n; ++i) {
            parents[i] = IDerivativeRegistry.Parent({parentId: parentIds[i], licenseId: licenceIds[i], kind: 0});
        }
        DerivativeRegistry target = derivatives;
        vm.prank(studio);
        uint256 before = gasleft();
        target.registerDerivative(DERIVATIVE, parents);
        gasUsed = before - gasleft();
        assertEq(derivatives.parentsOf(DERIVATIVE).length, n, "registered");
    }

    function test_gas_register_derivative_1_parent() public {
        emit log_named_uint("register_derivative_1_parent", _register(1));
    }

    function test_gas_register_derivative_3_parents() public {
        emit log_named_uint("register_derivative_3_parents", _register(3));
    }

    function test_gas_grant_root_with_terms() public {
        LicenseRegistry target = licenses;
        ILicenseRegistry.Scope memory s = _scope(0x1F);
        ILicenseRegistry.DerivativeTerms memory t = _terms();
        bytes32 work = parentIds[0];
        address to = makeAddr("another studio");
        vm.prank(producer);
        uint256 before = gasleft();
        target.grantWithDerivativeTerms(work, to, s, t);
        emit log_named_uint("grant_root_with_terms", before - gasleft());
    }

    function test_gas_grant_root_without_terms() public {
        LicenseRegistry target = licenses;
        ILicenseRegistry.Scope memory s = _scope(0xF);
        bytes32 work = parentIds[0];
        address to = makeAddr("another studio");
        vm.prank(producer);
        uint256 before = gasleft();
        target.grant(work, to, s);
        emit log_named_uint("grant_root_without_terms", before - gasleft());
    }
}
