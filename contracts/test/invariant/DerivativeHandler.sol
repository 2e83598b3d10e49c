// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {WorkRegistry} from "../../src/WorkRegistry.sol";
import {LicenseRegistry} from "../../src/LicenseRegistry.sol";
import {DerivativeRegistry} from "../../src/DerivativeRegistry.sol";
import {ILicenseRegistry} from "../../src/interfaces/ILicenseRegistry.sol";
import {IDerivativeRegistry} from "../../src/interfaces/IDerivativeRegistry.sol";

/// @dev Drives the derivative registry with random declarations over a small fixed set of works and owners.
contract DerivativeHandler is BaseTest {
    WorkRegistry internal immutable works;
    LicenseRegistry internal immutable licenses;
    DerivativeRegistry internal immutable derivatives;

    uint256 public constant WORK_COUNT = 12;
    uint256 internal constant OWNER_COUNT = 3;

    constructor(WorkRegistry works_, LicenseRegistry licenses_, DerivativeRegistry derivatives_) {
        works = works_;
        licenses = licenses_;
        derivatives = derivatives_;
        for (uint256 i; i < WORK_COUNT; ++i) {
            vm.prank(owner(i % OWNER_COUNT));
            works.register(workId(i), owner(i % OWNER_COUNT), bytes32(0), bytes32(0), "");
        }
    }

    function workId(uint256 i) public pure returns (bytes32) {
        return keccak256(abi.encode("derivative handler work", i));
    }

    function owner(uint256 i) public pure returns (address) {
        return toAddress(0xD00 + i);
    }

    /// @dev Licenses `parentSeed`'s work to `childSeed`'s owner and declares the child a derivative of it, possibly
    /// with a second parent.
    function declare(uint256 childSeed, uint256 parentSeed, uint256 secondSeed, uint16 shareBps, bool two) external {
        uint256 child = childSeed % WORK_COUNT;
        address childOwner = owner(child % OWNER_COUNT);
        uint256 parentCount = two ? 2 : 1;
        IDerivativeRegistry.Parent[] memory parents = new IDerivativeRegistry.Parent[](parentCount);
        uint256[2] memory picks = [parentSeed % WORK_COUNT, secondSeed % WORK_COUNT];
        for (uint256 i; i < parentCount; ++i) {
            parents[i] = _licensedParent(picks[i], childOwner, shareBps);
        }
        vm.prank(childOwner);
        derivatives.registerDerivative(workId(child), parents);
    }

    /// @dev Grants `holder` a re-edit licence on work `parent` and returns the declaration naming it.
    function _licensedParent(uint256 parent, address holder, uint16 shareBps)
        private
        returns (IDerivativeRegistry.Parent memory)
    {
        bytes32 parentId = workId(parent);
        ILicenseRegistry.Scope memory scope = ILicenseRegistry.Scope({
            territories: 1,
            rights: 1 << 4,
            start: uint64(block.timestamp),
            end: uint64(block.timestamp) + 1 days,
            exclusive: false,
            sublicensable: false
        });
        ILicenseRegistry.DerivativeTerms memory terms = ILicenseRegistry.DerivativeTerms({
            kinds: 1, shareBps: toUint16(bound(shareBps, 0, 6000)), minPerValidPlayMicro: 0
        });
        vm.prank(owner(parent % OWNER_COUNT));
        uint256 licenseId = licenses.grantWithDerivativeTerms(parentId, holder, scope, terms);
        return IDerivativeRegistry.Parent({parentId: parentId, licenseId: licenseId, kind: 0});
    }
}
