// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "./utils/BaseTest.sol";
import {WorkRegistry} from "../src/WorkRegistry.sol";
import {SplitRegistry} from "../src/SplitRegistry.sol";
import {ISplitRegistry} from "../src/interfaces/ISplitRegistry.sol";

contract SplitRegistryTest is BaseTest {
    WorkRegistry internal works;
    SplitRegistry internal splits;

    address internal owner = makeAddr("owner");
    address internal operator = makeAddr("operator");
    address internal newOwner = makeAddr("newOwner");
    address internal stranger = makeAddr("stranger");
    address internal director = makeAddr("director");
    address internal writer = makeAddr("writer");
    address internal composer = makeAddr("composer");

    bytes32 internal constant WORK = keccak256("work");
    bytes32 internal constant UNREGISTERED = keccak256("unregistered");
    uint64 internal constant T0 = 1_700_000_000;

    function setUp() public {
        vm.warp(T0);
        works = new WorkRegistry();
        splits = new SplitRegistry(works);
        vm.startPrank(owner);
        works.register(WORK, owner, bytes32(0), bytes32(0), "");
        works.setOperator(operator, true);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- helpers

    function _payees(address a, address b) internal pure returns (address[] memory p) {
        p = new address[](2);
        p[0] = a;
        p[1] = b;
    }

    function _payees(address a, address b, address c) internal pure returns (address[] memory p) {
        p = new address[](3);
        p[0] = a;
        p[1] = b;
        p[2] = c;
    }

    function _bps(uint16 a, uint16 b) internal pure returns (uint16[] memory s) {
        s = new uint16[](2);
        s[0] = a;
        s[1] = b;
    }

    function _bps(uint16 a, uint16 b, uint16 c) internal pure returns (uint16[] memory s) {
        s = new uint16[](3);
        s[0] = a;
        s[1] = b;
        s[2] = c;
    }

    function _set(address[] memory payees, uint16[] memory bps, uint64 effectiveFrom) internal returns (uint32) {
        vm.prank(owner);
        return splits.setSplit(WORK, payees, bps, effectiveFrom);
    }

    function _setDefault(uint64 effectiveFrom) internal returns (uint32) {
        return _set(_payees(director, writer), _bps(6000, 4000), effectiveFrom);
    }

    function _expectSetRevert(address[] memory payees, uint16[] memory bps, bytes memory err) internal {
        vm.expectRevert(err);
        _set(payees, bps, 0);
    }

    // ---------------------------------------------------------------- views / constructor

    function test_Works_ReturnsWorkRegistry() public view {
        assertEq(splits.works(), address(works), "works()");
        assertEq(splits.MAX_PAYEES(), 64, "MAX_PAYEES");
        assertEq(splits.TOTAL_BPS(), 10_000, "TOTAL_BPS");
    }

    function test_SplitVersionCount_ZeroInitially() public view {
        assertEq(splits.splitVersionCount(WORK), 0, "no versions");
        assertEq(splits.splitVersionAt(WORK, type(uint64).max), 0, "no version in force");
    }

    // ---------------------------------------------------------------- setSplit

    function test_SetSplit_StoresFirstVersionFromTheStart() public {
        address[] memory payees = _payees(director, writer, composer);
        uint16[] memory bps = _bps(5000, 3000, 2000);
        uint32 version = _set(payees, bps, 0);
        assertEq(version, 1, "first version");
        assertEq(splits.splitVersionCount(WORK), 1, "count");

        (address[] memory p, uint16[] memory s, uint64 effectiveFrom, bytes32 splitHash) = splits.splitVersion(WORK, 1);
        assertEq(p.length, 3, "payee count");
        assertEq(p[0], director, "payee 0");
        assertEq(p[1], writer, "payee 1");
        assertEq(p[2], composer, "payee 2");
        assertEq(s[0], 5000, "bps 0");
        assertEq(s[1], 3000, "bps 1");
        assertEq(s[2], 2000, "bps 2");
        assertEq(effectiveFrom, 0, "zero means from the start for a first version");
        assertEq(splitHash, keccak256(abi.encode(payees, bps)), "split hash");
        assertEq(splits.splitVersionAt(WORK, T0), 1, "in force now");
        assertEq(splits.splitVersionAt(WORK, T0 - 365 days), 1, "in force before it was set");
        assertEq(splits.splitVersionAt(WORK, 0), 1, "in force from the start");
    }

    function test_SetSplit_FirstVersionFromTheStartEmitsZero() public {
        address[] memory payees = _payees(director, writer);
        uint16[] memory bps = _bps(6000, 4000);
        vm.expectEmit(true, true, true, true, address(splits));
        emit ISplitRegistry.SplitVersionSet(WORK, 1, keccak256(abi.encode(payees, bps)), 0, payees, bps);
        _set(payees, bps, 0);
    }

    function test_SetSplit_LaterVersionWithZeroTakesEffectWhenMined() public {
        _setDefault(0);
        vm.warp(T0 + 20 days);
        address[] memory payees = _payees(composer, writer);
        uint16[] memory bps = _bps(2500, 7500);
        vm.expectEmit(true, true, true, true, address(splits));
        emit ISplitRegistry.SplitVersionSet(WORK, 2, keccak256(abi.encode(payees, bps)), T0 + 20 days, payees, bps);
        uint32 v2 = _set(payees, bps, 0);
        assertEq(v2, 2, "second version");

        (,, uint64 e1,) = splits.splitVersion(WORK, 1);
        (,, uint64 e2,) = splits.splitVersion(WORK, 2);
        assertEq(e1, 0, "v1 still from the start");
        assertEq(e2, T0 + 20 days, "zero means when mined for a later version");
        assertEq(splits.splitVersionAt(WORK, T0 + 20 days - 1), 1, "the past keeps v1");
        assertEq(splits.splitVersionAt(WORK, T0 + 5 days), 1, "a past period keeps v1");
        assertEq(splits.splitVersionAt(WORK, T0 + 20 days), 2, "v2 from when it was mined");
    }

    function test_SetSplit_FirstVersionExplicitStartIsNotInForceBefore() public {
        _setDefault(T0 + 1 days);
        (,, uint64 e1,) = splits.splitVersion(WORK, 1);
        assertEq(e1, T0 + 1 days, "explicit start kept");
        assertEq(splits.splitVersionAt(WORK, T0 + 1 days - 1), 0, "nothing in force before its start");
    }

    function test_SetSplit_Revert_WhenFirstVersionExplicitStartInPast() public {
        vm.expectRevert(abi.encodeWithSelector(ISplitRegistry.SplitEffectiveInPast.selector, 1, T0));
        _setDefault(1);
    }

    function test_SetSplit_EmitsSplitVersionSet() public {
        address[] memory payees = _payees(director, writer);
        uint16[] memory bps = _bps(6000, 4000);
        vm.expectEmit(true, true, true, true, address(splits));
        emit ISplitRegistry.SplitVersionSet(WORK, 1, keccak256(abi.encode(payees, bps)), T0 + 7 days, payees, bps);
        _set(payees, bps, T0 + 7 days);
    }

    function test_SetSplit_ByOperator() public {
        vm.prank(operator);
        uint32 version = splits.setSplit(WORK, _payees(director, writer), _bps(1, 9999), 0);
        assertEq(version, 1, "operator set the split");
    }

    function test_SetSplit_NewVersionKeepsOldVersionsReadable() public {
        _setDefault(0);
        uint32 v2 = _set(_payees(composer, writer), _bps(2500, 7500), T0 + 30 days);
        assertEq(v2, 2, "second version");
        assertEq(splits.splitVersionCount(WORK), 2, "count");

        (address[] memory p1, uint16[] memory s1, uint64 e1,) = splits.splitVersion(WORK, 1);
        assertEq(p1[0], director, "v1 payee kept");
        assertEq(s1[0], 6000, "v1 share kept");
        assertEq(e1, 0, "v1 start kept");
        (address[] memory p2, uint16[] memory s2, uint64 e2,) = splits.splitVersion(WORK, 2);
        assertEq(p2[0], composer, "v2 payee");
        assertEq(s2[1], 7500, "v2 share");
        assertEq(e2, T0 + 30 days, "v2 start");

        assertEq(splits.splitVersionAt(WORK, T0 + 30 days - 1), 1, "v1 until v2 starts");
        assertEq(splits.splitVersionAt(WORK, T0 + 30 days), 2, "v2 from its start");
    }

    function test_SetSplit_AcceptsMaxPayees() public {
        address[] memory payees = new address[](64);
        uint16[] memory bps = new uint16[](64);
        uint256 sum;
        for (uint256 i; i < 64; ++i) {
            payees[i] = toAddress(0x1000 + i);
            bps[i] = i < 63 ? 156 : toUint16(10_000 - sum);
            sum += bps[i];
        }
        uint32 version = _set(payees, bps, 0);
        (address[] memory p, uint16[] memory s,, bytes32 splitHash) = splits.splitVersion(WORK, version);
        assertEq(p.length, 64, "64 payees stored");
        assertEq(p[63], payees[63], "last payee");
        assertEq(s[63], bps[63], "last share");
        assertEq(splitHash, keccak256(abi.encode(payees, bps)), "hash");
    }

    function test_SetSplit_AfterOwnershipTransfer_OnlyNewOwner() public {
        vm.prank(owner);
        works.transferWorkOwnership(WORK, newOwner);
        vm.prank(newOwner);
        works.acceptWorkOwnership(WORK);

        vm.expectRevert(abi.encodeWithSelector(ISplitRegistry.SplitUnauthorized.selector, WORK, operator));
        vm.prank(operator);
        splits.setSplit(WORK, _payees(director, writer), _bps(5000, 5000), 0);

        vm.prank(newOwner);
        assertEq(splits.setSplit(WORK, _payees(director, writer), _bps(5000, 5000), 0), 1, "new owner sets split");
    }

    function test_SetSplit_Revert_WhenWorkNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(ISplitRegistry.SplitWorkNotRegistered.selector, UNREGISTERED));
        vm.prank(owner);
        splits.setSplit(UNREGISTERED, _payees(director, writer), _bps(5000, 5000), 0);
    }

    function test_SetSplit_Revert_WhenUnauthorized() public {
        vm.expectRevert(abi.encodeWithSelector(ISplitRegistry.SplitUnauthorized.selector, WORK, stranger));
        vm.prank(stranger);
        splits.setSplit(WORK, _payees(director, writer), _bps(5000, 5000), 0);
    }

    function test_SetSplit_Revert_WhenLengthMismatch() public {
        _expectSetRevert(
            _payees(director, writer, composer),
            _bps(5000, 5000),
            abi.encodeWithSelector(ISplitRegistry.SplitLengthMismatch.selector, 3, 2)
        );
    }

    function test_SetSplit_Revert_WhenNoPayees() public {
        _expectSetRevert(
            new address[](0), new uint16[](0), abi.encodeWithSelector(ISplitRegistry.SplitPayeeCount.selector, 0, 64)
        );
    }

    function test_SetSplit_Revert_WhenTooManyPayees() public {
        address[] memory payees = new address[](65);
        uint16[] memory bps = new uint16[](65);
        for (uint256 i; i < 65; ++i) {
            payees[i] = toAddress(0x1000 + i);
            bps[i] = 100;
        }
        _expectSetRevert(payees, bps, abi.encodeWithSelector(ISplitRegistry.SplitPayeeCount.selector, 65, 64));
    }

    function test_SetSplit_Revert_WhenZeroAddressPayee() public {
        _expectSetRevert(
            _payees(director, address(0), writer),
            _bps(5000, 3000, 2000),
            abi.encodeWithSelector(ISplitRegistry.SplitZeroAddress.selector, 1)
        );
    }

    function test_SetSplit_Revert_WhenDuplicatePayee() public {
        _expectSetRevert(
            _payees(director, writer, director),
            _bps(5000, 3000, 2000),
            abi.encodeWithSelector(ISplitRegistry.SplitDuplicatePayee.selector, director)
        );
    }

    function test_SetSplit_Revert_WhenZeroShare() public {
        _expectSetRevert(
            _payees(director, writer, composer),
            _bps(5000, 5000, 0),
            abi.encodeWithSelector(ISplitRegistry.SplitZeroShare.selector, 2)
        );
    }

    function test_SetSplit_Revert_WhenSharesBelowTotal() public {
        _expectSetRevert(
            _payees(director, writer),
            _bps(5000, 4999),
            abi.encodeWithSelector(ISplitRegistry.SplitSharesSum.selector, 9999, 10_000)
        );
    }

    function test_SetSplit_Revert_WhenSharesAboveTotal() public {
        _expectSetRevert(
            _payees(director, writer),
            _bps(65_535, 65_535),
            abi.encodeWithSelector(ISplitRegistry.SplitSharesSum.selector, 131_070, 10_000)
        );
    }

    function test_SetSplit_Revert_WhenEffectiveInPast() public {
        vm.expectRevert(abi.encodeWithSelector(ISplitRegistry.SplitEffectiveInPast.selector, T0 - 1, T0));
        _setDefault(T0 - 1);
    }

    function test_SetSplit_Revert_WhenEffectiveBeforePrevious() public {
        _setDefault(T0 + 10 days);
        vm.expectRevert(
            abi.encodeWithSelector(ISplitRegistry.SplitEffectiveBeforePrevious.selector, T0 + 5 days, T0 + 10 days)
        );
        _setDefault(T0 + 5 days);
    }

    function test_SetSplit_Revert_WhenZeroEffectiveIsBeforeScheduledPrevious() public {
        _setDefault(T0 + 10 days);
        vm.expectRevert(abi.encodeWithSelector(ISplitRegistry.SplitEffectiveBeforePrevious.selector, T0, T0 + 10 days));
        _setDefault(0);
    }

    function test_SetSplit_EqualEffectiveFromLaterVersionWins() public {
        _setDefault(T0 + 10 days);
        uint32 v2 = _set(_payees(composer, writer), _bps(1, 9999), T0 + 10 days);
        assertEq(splits.splitVersionAt(WORK, T0 + 10 days), v2, "later version with equal start wins");
        assertEq(splits.splitVersionAt(WORK, T0 + 10 days - 1), 0, "nothing before");
    }

    function test_SplitVersion_Revert_WhenVersionZero() public {
        _setDefault(0);
        vm.expectRevert(abi.encodeWithSelector(ISplitRegistry.SplitVersionNotFound.selector, WORK, 0));
        splits.splitVersion(WORK, 0);
    }

    function test_SplitVersion_Revert_WhenVersionBeyondCount() public {
        _setDefault(0);
        vm.expectRevert(abi.encodeWithSelector(ISplitRegistry.SplitVersionNotFound.selector, WORK, 2));
        splits.splitVersion(WORK, 2);
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_SetSplit_SucceedsIffSharesSumToTotal(uint16[8] memory raw, uint8 n) public {
        uint256 count = bound(n, 1, 8);
        address[] memory payees = new address[](count);
        uint16[] memory bps = new uint16[](count);
        uint256 sum;
        for (uint256 i; i < count; ++i) {
            payees[i] = toAddress(0xA000 + i);
            // Mostly small shares so that exact sums of 10,000 are reached in a useful share of runs.
            bps[i] = uint16(bound(raw[i], 1, i == 0 ? 10_000 : 4000));
            sum += bps[i];
        }
        // Half the runs: make the last share close the gap when possible.
        if (raw[7] % 2 == 0 && sum < 10_000 && count > 1) {
            sum -= bps[count - 1];
            if (sum < 10_000) {
                bps[count - 1] = toUint16(10_000 - sum);
                sum = 10_000;
            } else {
                sum += bps[count - 1];
            }
        }

        if (sum != 10_000) {
            vm.expectRevert(abi.encodeWithSelector(ISplitRegistry.SplitSharesSum.selector, sum, 10_000));
            _set(payees, bps, 0);
            assertEq(splits.splitVersionCount(WORK), 0, "nothing stored");
        } else {
            uint32 version = _set(payees, bps, 0);
            (, uint16[] memory stored,,) = splits.splitVersion(WORK, version);
            uint256 storedSum;
            for (uint256 i; i < stored.length; ++i) {
                storedSum += stored[i];
            }
            assertEq(storedSum, 10_000, "stored shares sum to total");
        }
    }

    function testFuzz_SplitVersionAt_MatchesLinearScan(uint32[6] memory gaps, uint64 at) public {
        uint64[6] memory starts;
        uint64 t = T0;
        for (uint256 i; i < 6; ++i) {
            t += uint64(bound(gaps[i], 0, 3)) * 1 days; // zero gaps produce equal starts
            starts[i] = t;
            _setDefault(t);
        }
        at = uint64(bound(at, T0 - 1 days, t + 1 days));
        uint32 expected;
        for (uint256 i; i < 6; ++i) {
            if (starts[i] <= at) expected = toUint32(i + 1);
        }
        assertEq(splits.splitVersionAt(WORK, at), expected, "binary search matches linear scan");
    }

    function testFuzz_SetSplit_LaterZeroVersionNeverChangesThePast(uint32 wait, uint64 past) public {
        _setDefault(0);
        uint64 mined = T0 + uint64(bound(wait, 0, 400 days));
        vm.warp(mined);
        _set(_payees(composer, writer), _bps(2500, 7500), 0);
        (,, uint64 e2,) = splits.splitVersion(WORK, 2);
        assertEq(e2, mined, "when mined");
        past = uint64(bound(past, 0, mined - 1));
        assertEq(splits.splitVersionAt(WORK, past), 1, "every earlier time keeps the first version");
    }

    function testFuzz_SetSplit_Revert_WhenEffectiveInPast(uint64 effectiveFrom) public {
        effectiveFrom = uint64(bound(effectiveFrom, 1, T0 - 1));
        vm.expectRevert(abi.encodeWithSelector(ISplitRegistry.SplitEffectiveInPast.selector, effectiveFrom, T0));
        _setDefault(effectiveFrom);
    }
}
