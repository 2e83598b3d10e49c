// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {WorkRegistry} from "../../src/WorkRegistry.sol";
import {LicenseRegistry} from "../../src/LicenseRegistry.sol";
import {ILicenseRegistry} from "../../src/interfaces/ILicenseRegistry.sol";

/**
 * @title LicenseHandler
 * @notice Drives a {LicenseRegistry} with root grants, sub-licences (mostly within the parent's scope, sometimes
 * not), revocations and time moving forward. Territories and rights are drawn from four bits each so that scopes
 * overlap often.
 */
contract LicenseHandler is BaseTest {
    WorkRegistry public immutable works;
    LicenseRegistry public immutable licenses;

    address public immutable owner = makeAddr("owner");
    uint256 public constant WORK_COUNT = 2;
    uint256 public constant LICENSEE_COUNT = 4;

    /// @notice Number of accepted calls per action, to tell vacuous runs apart.
    uint256 public grants;
    uint256 public sublicences;
    uint256 public revocations;

    constructor(WorkRegistry works_, LicenseRegistry licenses_) {
        works = works_;
        licenses = licenses_;
        vm.startPrank(owner);
        for (uint256 i; i < WORK_COUNT; ++i) {
            works_.register(workId(i), owner, bytes32(0), bytes32(0), "");
        }
        vm.stopPrank();
    }

    /// @notice The id of the `i`-th work driven by this handler.
    function workId(uint256 i) public pure returns (bytes32) {
        return keccak256(abi.encode("licensed work", i));
    }

    /// @notice The `i`-th licensee.
    function licensee(uint256 i) public pure returns (address) {
        return toAddress(0xC000 + i);
    }

    /// @notice Grants a root licence with a small random scope; about a quarter are exclusive.
    function grant(uint256 workSeed, uint256 licenseeSeed, uint256 scopeSeed, bool exclusive) external {
        scopeSeed = _spread(scopeSeed);
        ILicenseRegistry.Scope memory s = ILicenseRegistry.Scope({
            territories: bound(scopeSeed & 0xFF, 1, 15),
            rights: uint32(bound((scopeSeed >> 8) & 0xFF, 1, 15)),
            start: uint64(block.timestamp + bound((scopeSeed >> 16) & 0xFFFFFF, 0, 10 days) - 2 days),
            end: 0,
            exclusive: exclusive && scopeSeed % 2 == 0,
            sublicensable: scopeSeed % 5 != 0
        });
        s.end = s.start + uint64(bound(scopeSeed >> 40, 2 days + 1, 60 days));
        bytes32 work = workId(bound(workSeed, 0, WORK_COUNT - 1));
        vm.prank(owner);
        try licenses.grant(work, licensee(bound(licenseeSeed, 0, LICENSEE_COUNT - 1)), s) {
            ++grants;
        } catch {}
    }

    /// @notice Grants a sub-licence under a random licence (see {_grantSublicense}).
    function grantSublicense(uint256 parentSeed, uint256 licenseeSeed, uint256 scopeSeed) external {
        uint256 count = licenses.licenseCount();
        if (count == 0) return;
        _grantSublicense(bound(parentSeed, 1, count), licenseeSeed, scopeSeed);
    }

    /// @notice Grants a sub-licence under one of the latest licences, so that chains grow deep.
    function grantSublicenseUnderLatest(uint256 parentSeed, uint256 licenseeSeed, uint256 scopeSeed) external {
        uint256 count = licenses.licenseCount();
        if (count == 0) return;
        _grantSublicense(count - bound(parentSeed, 0, count < 3 ? count - 1 : 2), licenseeSeed, scopeSeed);
    }

    /**
     * @dev Grants a sub-licence as the parent's holder. One request in eight is "wild": a random scope under a random
     * parent, mostly rejected. Otherwise a usable parent near `parentId` is chosen and the scope is cut down from the
     * parent's, so that most requests are accepted.
     */
    function _grantSublicense(uint256 parentId, uint256 licenseeSeed, uint256 scopeSeed) private {
        scopeSeed = _spread(scopeSeed);
        bool wild = scopeSeed % 8 == 0;
        uint256 count = licenses.licenseCount();
        for (uint256 i; !wild && i < 8 && !_usableParent(parentId); ++i) {
            parentId = parentId == 1 ? count : parentId - 1;
        }
        ILicenseRegistry.License memory parent = licenses.getLicense(parentId);
        ILicenseRegistry.Scope memory s;
        if (wild) {
            s.territories = bound(scopeSeed >> 8 & 0xFF, 1, 15);
            s.rights = uint32(bound(scopeSeed >> 16 & 0xFF, 1, 15));
            s.start = uint64(block.timestamp + bound(scopeSeed >> 24 & 0xFFFFFF, 0, 10 days) - 2 days);
            s.end = s.start + uint64(bound(scopeSeed >> 48 & 0xFFFFFF, 1, 20 days));
            s.exclusive = scopeSeed >> 72 & 1 == 0;
        } else {
            s.territories = parent.scope.territories & (scopeSeed >> 8 & 0xFF | bit(scopeSeed >> 8 & 3));
            s.rights = parent.scope.rights & toUint32(scopeSeed >> 16 & 0xFF | bit(scopeSeed >> 16 & 3));
            s.start = parent.scope.start
                + uint64(bound(scopeSeed >> 24 & 0xFFFFFF, 0, parent.scope.end - parent.scope.start - 1));
            uint64 minEnd = s.start + 1 > block.timestamp ? s.start + 1 : uint64(block.timestamp + 1);
            s.end = uint64(
                bound(scopeSeed >> 48 & 0xFFFFFF, minEnd, parent.scope.end > minEnd ? parent.scope.end : minEnd)
            );
            s.exclusive = parent.scope.exclusive && scopeSeed >> 72 & 3 == 0;
        }
        s.sublicensable = scopeSeed >> 80 & 7 != 0;
        vm.prank(parent.licensee);
        try licenses.grantSublicense(parentId, licensee(bound(licenseeSeed, 0, LICENSEE_COUNT - 1)), s) {
            ++sublicences;
        } catch {}
    }

    /// @notice Revokes a licence (in a third of the calls), as the work owner or, for a sub-licence, as the
    /// parent's licensee.
    function revoke(uint256 idSeed, bool asParentLicensee) external {
        uint256 count = licenses.licenseCount();
        if (count == 0 || idSeed % 3 != 0) return;
        idSeed /= 3;
        uint256 id = bound(idSeed, 1, count);
        ILicenseRegistry.License memory l = licenses.getLicense(id);
        address caller = owner;
        if (asParentLicensee && l.parentId != 0) caller = licenses.getLicense(l.parentId).licensee;
        vm.prank(caller);
        try licenses.revoke(id) {
            ++revocations;
        } catch {}
    }

    /// @dev Spreads a fuzzed seed over all bits (fuzzed integers cluster around small and edge values).
    function _spread(uint256 seed) private view returns (uint256) {
        return uint256(keccak256(abi.encode(seed, licenses.licenseCount())));
    }

    function _usableParent(uint256 id) private view returns (bool) {
        ILicenseRegistry.License memory l = licenses.getLicense(id);
        return l.scope.sublicensable && l.depth < licenses.MAX_DEPTH() && licenses.isValid(id, l.scope.start)
            && l.scope.end > block.timestamp;
    }

    /// @notice Moves time forward by up to 2 days.
    function warp(uint32 delta) external {
        vm.warp(block.timestamp + bound(delta, 1, 2 days));
    }
}
