// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SettlementTestBase} from "./utils/SettlementTestBase.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC1271Wallet} from "./utils/ERC1271Wallet.sol";
import {ISettlementRegistry} from "../src/interfaces/ISettlementRegistry.sol";

/// @dev Play reports: the EIP-712 domain and type, {hashReport} and {anchorReport}.
contract SettlementReportsTest is SettlementTestBase {
    // ---------------------------------------------------------------- play report helpers

    bytes32 internal constant REPORT = keccak256("report-2026-10");
    bytes32 internal constant CORRECTION = keccak256("report-2026-10-correction");
    bytes32 internal constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    function _report(address who, bytes32 reportId, bytes32 supersedes)
        internal
        pure
        returns (ISettlementRegistry.PlayReport memory)
    {
        return ISettlementRegistry.PlayReport({
            platform: who,
            reportId: reportId,
            periodStart: T0 - 30 days,
            periodEnd: T0,
            currency: "CNY",
            rowCount: 3,
            plays: 1000,
            validPlays: 900,
            watchMinutes: 45_000,
            adRevenue: 123_456,
            rowsRoot: keccak256("rows"),
            supersedes: supersedes
        });
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _signed(ISettlementRegistry.PlayReport memory report) internal view returns (bytes memory) {
        return _sign(PLATFORM_KEY, registry.hashReport(report));
    }

    function _anchor(ISettlementRegistry.PlayReport memory report, bytes memory signature) internal {
        vm.prank(settler);
        registry.anchorReport(report, signature);
    }

    /// @dev The EIP-712 struct hash of a report, written out independently of the contract.
    function _structHash(ISettlementRegistry.PlayReport memory r) internal pure returns (bytes32) {
        bytes memory head = abi.encode(
            keccak256(
                "PlayReport(address platform,bytes32 reportId,uint64 periodStart,uint64 periodEnd,string currency,"
                "uint256 rowCount,uint256 plays,uint256 validPlays,uint256 watchMinutes,uint256 adRevenue,"
                "bytes32 rowsRoot,bytes32 supersedes)"
            ),
            r.platform,
            r.reportId,
            r.periodStart,
            r.periodEnd,
            keccak256(bytes(r.currency))
        );
        bytes memory tail =
            abi.encode(r.rowCount, r.plays, r.validPlays, r.watchMinutes, r.adRevenue, r.rowsRoot, r.supersedes);
        return keccak256(bytes.concat(head, tail));
    }

    function _domainSeparator(uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(EIP712_DOMAIN_TYPEHASH, keccak256("ReelLedger"), keccak256("1"), chainId, verifyingContract)
        );
    }

    // ---------------------------------------------------------------- constructor and constants

    function test_Eip712Domain_IsReelLedgerVersion1() public view {
        (, string memory name, string memory version, uint256 chainId, address verifyingContract,,) =
            registry.eip712Domain();
        assertEq(keccak256(bytes(name)), keccak256("ReelLedger"), "name");
        assertEq(keccak256(bytes(version)), keccak256("1"), "version");
        assertEq(chainId, block.chainid, "chain id");
        assertEq(verifyingContract, address(registry), "verifying contract");
    }

    function test_PlayReportTypehash_IsTheAgreedTypeString() public view {
        assertEq(
            registry.PLAY_REPORT_TYPEHASH(),
            keccak256(
                "PlayReport(address platform,bytes32 reportId,uint64 periodStart,uint64 periodEnd,string currency,"
                "uint256 rowCount,uint256 plays,uint256 validPlays,uint256 watchMinutes,uint256 adRevenue,"
                "bytes32 rowsRoot,bytes32 supersedes)"
            ),
            "type hash"
        );
    }

    // ---------------------------------------------------------------- hashReport

    function test_HashReport_IsTheEip712DigestOfTheReport() public view {
        ISettlementRegistry.PlayReport memory report = _report(platform, REPORT, 0);
        bytes32 expected = keccak256(
            abi.encodePacked("\x19\x01", _domainSeparator(block.chainid, address(registry)), _structHash(report))
        );
        assertEq(registry.hashReport(report), expected, "digest");
    }

    function test_HashReport_FollowsTheChainIdAfterAFork() public {
        ISettlementRegistry.PlayReport memory report = _report(platform, REPORT, 0);
        vm.chainId(999);
        bytes32 expected =
            keccak256(abi.encodePacked("\x19\x01", _domainSeparator(999, address(registry)), _structHash(report)));
        assertEq(registry.hashReport(report), expected, "digest on the new chain id");
    }

    /// @dev The digest written out above agrees with eth-account's `encode_typed_data` (the Python signer), computed
    /// for chain 31337, verifying contract 0x…dEaD and platform 0x…1A7F.
    function test_HashReport_MatchesEthAccountVector() public pure {
        ISettlementRegistry.PlayReport memory report = _report(address(0x1A7F), REPORT, 0);
        bytes32 domainSeparator = _domainSeparator(31_337, address(0xdEaD));
        bytes32 structHash = _structHash(report);
        assertEq(
            domainSeparator, 0xefc51d460895343d5bc65cfb233b0ba0ef6ca21e6e9c5fb641627498305d74e4, "domain separator"
        );
        assertEq(structHash, 0xf4ec4560df9720bc370cd10f8cde6e0ef4bb433dee3eaa81b1382b1c6e0b597a, "struct hash");
        assertEq(
            keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash)),
            0x803b0ba9492f1242e764390a247763411dcd860759e1fa0dace372e7bca60235,
            "digest"
        );
    }

    // ---------------------------------------------------------------- anchorReport

    function test_AnchorReport_StoresStructHash() public {
        ISettlementRegistry.PlayReport memory report = _report(platform, REPORT, 0);
        _anchor(report, _signed(report));
        assertEq(registry.reportDigest(platform, REPORT), _structHash(report), "struct hash stored");
    }

    function test_AnchorReport_EmitsReportAnchored() public {
        ISettlementRegistry.PlayReport memory report = _report(platform, REPORT, 0);
        bytes memory signature = _signed(report);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.ReportAnchored(
            platform, REPORT, _structHash(report), keccak256("rows"), bytes32(0), T0 - 30 days, T0
        );
        _anchor(report, signature);
    }

    function test_AnchorReport_AcceptsCorrectionOfAnchoredReport() public {
        ISettlementRegistry.PlayReport memory report = _report(platform, REPORT, 0);
        _anchor(report, _signed(report));
        ISettlementRegistry.PlayReport memory correction = _report(platform, CORRECTION, REPORT);
        correction.plays = 1001;
        _anchor(correction, _signed(correction));
        assertEq(registry.reportDigest(platform, CORRECTION), _structHash(correction), "correction stored");
        assertEq(registry.reportDigest(platform, REPORT), _structHash(report), "original kept");
    }

    function test_AnchorReport_SameReportIdForAnotherPlatform() public {
        ISettlementRegistry.PlayReport memory report = _report(platform, REPORT, 0);
        _anchor(report, _signed(report));
        ISettlementRegistry.PlayReport memory other = _report(vm.addr(OTHER_KEY), REPORT, 0);
        _anchor(other, _sign(OTHER_KEY, registry.hashReport(other)));
        assertEq(registry.reportDigest(vm.addr(OTHER_KEY), REPORT), _structHash(other), "other platform's report");
    }

    function test_AnchorReport_AcceptsErc1271Platform() public {
        ERC1271Wallet wallet = new ERC1271Wallet(platform);
        ISettlementRegistry.PlayReport memory report = _report(address(wallet), REPORT, 0);
        _anchor(report, _signed(report));
        assertEq(registry.reportDigest(address(wallet), REPORT), _structHash(report), "contract platform's report");
    }

    function test_AnchorReport_Revert_WhenErc1271PlatformRejects() public {
        ERC1271Wallet wallet = new ERC1271Wallet(platform);
        ISettlementRegistry.PlayReport memory report = _report(address(wallet), REPORT, 0);
        bytes memory signature = _sign(OTHER_KEY, registry.hashReport(report));
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidReportSignature.selector, address(wallet))
        );
        _anchor(report, signature);
    }

    function test_AnchorReport_Revert_WhenPlatformIsAContractWithoutErc1271() public {
        ISettlementRegistry.PlayReport memory report = _report(address(token), REPORT, 0);
        bytes memory signature = _signed(report);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidReportSignature.selector, address(token))
        );
        _anchor(report, signature);
    }

    /// @dev A contract answering with the bare 4-byte magic value, not a whole word, has not approved the signature.
    function test_AnchorReport_Revert_WhenErc1271AnswerIsShorterThanAWord() public {
        address shortWallet = makeAddr("short-answer wallet");
        // PUSH4 0x1626ba7e PUSH1 0xe0 SHL PUSH0 MSTORE PUSH1 4 PUSH0 RETURN
        vm.etch(shortWallet, hex"631626ba7e60e01b5f5260045ff3");
        ISettlementRegistry.PlayReport memory report = _report(shortWallet, REPORT, 0);
        bytes memory signature = _signed(report);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidReportSignature.selector, shortWallet)
        );
        _anchor(report, signature);
    }

    function test_AnchorReport_Revert_WhenSignedByAnotherKey() public {
        ISettlementRegistry.PlayReport memory report = _report(platform, REPORT, 0);
        bytes memory signature = _sign(OTHER_KEY, registry.hashReport(report));
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidReportSignature.selector, platform));
        _anchor(report, signature);
    }

    function test_AnchorReport_Revert_WhenReportChangedAfterSigning() public {
        ISettlementRegistry.PlayReport memory report = _report(platform, REPORT, 0);
        bytes memory signature = _signed(report);
        report.validPlays += 1;
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidReportSignature.selector, platform));
        _anchor(report, signature);
    }

    function test_AnchorReport_Revert_WhenSignedForAnotherRegistry() public {
        ISettlementRegistry.PlayReport memory report = _report(platform, REPORT, 0);
        bytes32 foreignDigest =
            keccak256(abi.encodePacked("\x19\x01", _domainSeparator(block.chainid, stranger), _structHash(report)));
        bytes memory signature = _sign(PLATFORM_KEY, foreignDigest);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidReportSignature.selector, platform));
        _anchor(report, signature);
    }

    function test_AnchorReport_Revert_WhenSignatureMalformed() public {
        ISettlementRegistry.PlayReport memory report = _report(platform, REPORT, 0);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidReportSignature.selector, platform));
        _anchor(report, hex"deadbeef");
    }

    function test_AnchorReport_Revert_WhenAlreadyAnchored() public {
        ISettlementRegistry.PlayReport memory report = _report(platform, REPORT, 0);
        bytes memory signature = _signed(report);
        _anchor(report, signature);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementRegistry.SettlementReportAlreadyAnchored.selector, platform, REPORT)
        );
        _anchor(report, signature);
    }

    function test_AnchorReport_Revert_WhenSupersededReportUnknown() public {
        ISettlementRegistry.PlayReport memory correction = _report(platform, CORRECTION, REPORT);
        bytes memory signature = _signed(correction);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementRegistry.SettlementSupersededReportUnknown.selector, platform, REPORT)
        );
        _anchor(correction, signature);
    }

    function test_AnchorReport_Revert_WhenSupersededReportIsAnotherPlatforms() public {
        ISettlementRegistry.PlayReport memory other = _report(vm.addr(OTHER_KEY), REPORT, 0);
        _anchor(other, _sign(OTHER_KEY, registry.hashReport(other)));
        ISettlementRegistry.PlayReport memory correction = _report(platform, CORRECTION, REPORT);
        bytes memory signature = _signed(correction);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementRegistry.SettlementSupersededReportUnknown.selector, platform, REPORT)
        );
        _anchor(correction, signature);
    }

    function test_AnchorReport_Revert_WhenPeriodEmpty() public {
        ISettlementRegistry.PlayReport memory report = _report(platform, REPORT, 0);
        report.periodEnd = report.periodStart;
        bytes memory signature = _signed(report);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidPeriod.selector));
        _anchor(report, signature);
    }

    function test_AnchorReport_Revert_WhenPeriodReversed() public {
        ISettlementRegistry.PlayReport memory report = _report(platform, REPORT, 0);
        report.periodEnd = report.periodStart - 1;
        bytes memory signature = _signed(report);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidPeriod.selector));
        _anchor(report, signature);
    }

    function test_AnchorReport_Revert_WhenNotSettler() public {
        ISettlementRegistry.PlayReport memory report = _report(platform, REPORT, 0);
        bytes memory signature = _signed(report);
        bytes32 role = registry.SETTLER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, platform, role)
        );
        vm.prank(platform);
        registry.anchorReport(report, signature);
    }
}
