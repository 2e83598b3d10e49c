// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {WorkRegistry} from "../../src/WorkRegistry.sol";
import {LicenseRegistry} from "../../src/LicenseRegistry.sol";
import {LicenseHandler} from "./LicenseHandler.sol";
import {ILicenseRegistry} from "../../src/interfaces/ILicenseRegistry.sol";

contract LicenseRegistryInvariantTest is BaseTest {
    WorkRegistry internal works;
    LicenseRegistry internal licenses;
    LicenseHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        works = new WorkRegistry();
        licenses = new LicenseRegistry(works);
        handler = new LicenseHandler(works, licenses);
    }

    /// @dev Restricts the fuzzer to the handler.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_SublicenceNeverExceedsItsParent() public view {
        uint256 count = licenses.licenseCount();
        for (uint256 id = 1; id <= count; ++id) {
            ILicenseRegistry.License memory child = licenses.getLicense(id);
            if (child.parentId == 0) {
                assertEq(child.depth, 0, "root depth");
                continue;
            }
            assertTrue(child.parentId < id, "parent granted first");
            ILicenseRegistry.License memory parent = licenses.getLicense(child.parentId);
            assertEq(child.workId, parent.workId, "same work");
            assertEq(child.licensor, parent.licensee, "licensor is the parent's licensee");
            assertEq(child.depth, parent.depth + 1, "depth");
            assertTrue(child.depth <= licenses.MAX_DEPTH(), "depth bounded");
            assertTrue(parent.scope.sublicensable, "parent sublicensable");
            assertEq(child.scope.territories & ~parent.scope.territories, 0, "territories subset");
            assertEq(child.scope.rights & ~parent.scope.rights, 0, "rights subset");
            assertTrue(child.scope.start >= parent.scope.start, "starts within parent");
            assertTrue(child.scope.end <= parent.scope.end, "ends within parent");
            assertTrue(!child.scope.exclusive || parent.scope.exclusive, "exclusive only under exclusive");

            uint64 nowTs = uint64(block.timestamp);
            if (licenses.isValid(id, nowTs)) assertTrue(licenses.isValid(child.parentId, nowTs), "valid parent");
            if (licenses.isValid(id, child.scope.start)) {
                assertTrue(licenses.isValid(child.parentId, child.scope.start), "valid parent at child start");
            }
        }
    }

    function invariant_RevokedLicenceHasNoValidDescendant() public view {
        uint256 count = licenses.licenseCount();
        for (uint256 id = 1; id <= count; ++id) {
            ILicenseRegistry.License memory l = licenses.getLicense(id);
            bool revokedOnPath = l.revoked;
            uint256 ancestor = l.parentId;
            while (!revokedOnPath && ancestor != 0) {
                ILicenseRegistry.License memory a = licenses.getLicense(ancestor);
                revokedOnPath = a.revoked;
                ancestor = a.parentId;
            }
            if (!revokedOnPath) continue;
            assertFalse(licenses.isValid(id, uint64(block.timestamp)), "invalid now");
            assertFalse(licenses.isValid(id, l.scope.start), "invalid at start");
            assertFalse(licenses.isValid(id, l.scope.end - 1), "invalid at last second");
        }
    }

    function invariant_NoOverlappingSiblingsWhereOneIsExclusive() public view {
        uint256 count = licenses.licenseCount();
        for (uint256 i = 1; i <= count; ++i) {
            ILicenseRegistry.License memory a = licenses.getLicense(i);
            if (a.revoked) continue;
            for (uint256 j = i + 1; j <= count; ++j) {
                ILicenseRegistry.License memory b = licenses.getLicense(j);
                if (b.revoked || b.workId != a.workId || b.parentId != a.parentId) continue;
                if (!a.scope.exclusive && !b.scope.exclusive) continue;
                bool overlap = a.scope.territories & b.scope.territories != 0 && a.scope.rights & b.scope.rights != 0
                    && a.scope.start < b.scope.end && b.scope.start < a.scope.end;
                assertFalse(overlap, "overlapping siblings with an exclusive one");
            }
        }
    }
}
