// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {BaseTest} from "./utils/BaseTest.sol";
import {StatementTree} from "./utils/StatementTree.sol";
import {StatementLine} from "../src/interfaces/ISettlementRegistry.sol";
import {Vm} from "./utils/Vm.sol";
import {ReentrantToken} from "./utils/ReentrantToken.sol";
import {ERC1271Wallet} from "./utils/ERC1271Wallet.sol";
import {PeriodPayout} from "../src/PeriodPayout.sol";
import {SettlementRegistry} from "../src/SettlementRegistry.sol";
import {TestStablecoin} from "../src/TestStablecoin.sol";
import {IPeriodPayout} from "../src/interfaces/IPeriodPayout.sol";
import {ISettlementRegistry} from "../src/interfaces/ISettlementRegistry.sol";

/// @dev Shared fixture: a registry, a test stablecoin, a paying platform and a five-line statement tree.
abstract contract SettlementFixture is BaseTest {
    SettlementRegistry internal registry;
    TestStablecoin internal token;

    uint256 internal constant PLATFORM_KEY = 0xA11CE5EC12E7;
    uint256 internal constant OTHER_KEY = 0xB0B5EC12E7;
    address internal platform;

    address internal admin = makeAddr("admin");
    address internal settler = makeAddr("settler");
    address internal stranger = makeAddr("stranger");

    // The payees of the statement lines; the same lines as the @openzeppelin/merkle-tree vector below.
    address internal constant ALICE = address(0xA11C);
    address internal constant BOB = address(0xB0B0);
    address internal constant CAROL = address(0xC4A1);
    address internal constant DAVE = address(0xD00D);
    bytes32 internal constant WORK_A = 0x1111111111111111111111111111111111111111111111111111111111111111;
    bytes32 internal constant WORK_B = 0x2222222222222222222222222222222222222222222222222222222222222222;
    bytes32 internal constant WORK_C = 0x3333333333333333333333333333333333333333333333333333333333333333;
    uint256 internal constant TOTAL = 300_001;
    uint32 internal constant LINE_COUNT = 5;

    /// @dev Root of the five lines as computed by `StandardMerkleTree.of(lines, types)` of OpenZeppelin merkle-tree
    /// (JS).
    bytes32 internal constant OZ_JS_ROOT = 0x9bdf36a82a36366b6d46682d550f4587e8661e71279179f0d00df0e1224c23ff;

    uint64 internal constant T0 = 1_700_000_000;
    uint64 internal constant WINDOW = 3 days;
    bytes32 internal constant PERIOD = keccak256("2026-10 platform A");
    bytes32 internal constant OTHER_PERIOD = keccak256("2026-11 platform A");
    bytes32 internal constant INPUTS = keccak256("inputs");

    StatementLine[] internal lines;
    bytes32[] internal tree;

    function setUp() public virtual {
        vm.warp(T0);
        platform = vm.addr(PLATFORM_KEY);
        registry = new SettlementRegistry(admin, settler, WINDOW);
        token = new TestStablecoin(address(this));
        token.mint(platform, 10 * TOTAL);
        vm.prank(platform);
        token.approve(address(registry), type(uint256).max);

        lines.push(StatementLine(0, ALICE, WORK_A, 150_000, 1, 1));
        lines.push(StatementLine(1, BOB, WORK_A, 50_000, 1, 1));
        lines.push(StatementLine(2, ALICE, WORK_B, 7, 2, 3));
        lines.push(StatementLine(3, CAROL, WORK_B, 99_993, 2, 3));
        lines.push(StatementLine(4, DAVE, WORK_C, 1, 4, 5));
        tree = StatementTree.build(lines);
    }

    // ---------------------------------------------------------------- helpers

    function _root() internal view returns (bytes32) {
        return tree[0];
    }

    function _proof(uint256 i) internal view returns (bytes32[] memory) {
        return StatementTree.proof(tree, lines[i]);
    }

    function _commit(bytes32 periodId) internal {
        vm.prank(settler);
        registry.commitPeriod(periodId, _root(), address(token), TOTAL, LINE_COUNT, INPUTS);
    }

    function _fund(bytes32 periodId, uint256 amount) internal {
        vm.prank(platform);
        registry.fund(periodId, amount);
    }

    function _finalize(bytes32 periodId) internal {
        vm.warp(registry.period(periodId).disputeEnds);
        registry.finalize(periodId);
    }

    /// @dev Commits, fully funds and finalizes `periodId`.
    function _ready(bytes32 periodId) internal {
        _commit(periodId);
        _fund(periodId, TOTAL);
        _finalize(periodId);
    }

    /// @dev The period's payout, as the registry names it. A call: look it up before `vm.expectRevert` or `vm.prank`.
    function _payout(bytes32 periodId) internal view returns (PeriodPayout) {
        return PeriodPayout(registry.payoutOf(periodId));
    }

    /// @dev What has been claimed from a period: its funding less what its payout still holds.
    function _claimed(bytes32 periodId) internal view returns (uint256) {
        ISettlementRegistry.Period memory p = registry.period(periodId);
        return p.funded - token.balanceOf(p.payout);
    }

    /// @dev A stranger claims line `i` at `payout`; the only call made is the claim itself.
    function _claim(PeriodPayout payout, uint256 i) internal {
        StatementLine storage l = lines[i];
        bytes32[] memory proof = _proof(i);
        vm.prank(stranger);
        payout.claim(l, proof);
    }

    /// @dev A stranger claims line `i` of `periodId`. Looks the payout up first: with `vm.expectRevert`, use the
    /// overload taking the payout.
    function _claim(bytes32 periodId, uint256 i) internal {
        _claim(_payout(periodId), i);
    }

    function _markPaid(bytes32 periodId, uint256 i, bytes32 paymentRef) internal {
        StatementLine storage l = lines[i];
        bytes32[] memory proof = _proof(i);
        vm.prank(l.payee);
        registry.markPaidOffChain(periodId, l, proof, paymentRef);
    }

    /// @dev The payee of line `i` disputes it with its real proof.
    function _dispute(bytes32 periodId, uint256 i, bytes32 reason) internal returns (uint256) {
        StatementLine storage l = lines[i];
        bytes32[] memory proof = _proof(i);
        vm.prank(l.payee);
        return registry.dispute(periodId, l, proof, reason);
    }

    function _err(bytes4 selector, bytes32 periodId) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, periodId);
    }
}

contract SettlementRegistryTest is SettlementFixture {
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

    function test_Constructor_GrantsRolesAndSetsWindow() public view {
        assertTrue(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), admin), "admin role");
        assertTrue(registry.hasRole(registry.SETTLER_ROLE(), settler), "settler role");
        assertFalse(registry.hasRole(registry.SETTLER_ROLE(), admin), "admin is not a settler");
        assertEq(registry.SETTLER_ROLE(), keccak256("SETTLER_ROLE"), "role id");
        assertEq(registry.disputeWindow(), WINDOW, "dispute window");
    }

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

    // ---------------------------------------------------------------- commitPeriod

    function test_CommitPeriod_StoresPeriod() public {
        _commit(PERIOD);
        ISettlementRegistry.Period memory p = registry.period(PERIOD);
        assertEq(p.root, OZ_JS_ROOT, "root");
        assertEq(p.token, address(token), "token");
        assertTrue(p.state == ISettlementRegistry.PeriodState.Committed, "committed");
        assertEq(p.total, TOTAL, "total");
        assertEq(p.funded, 0, "funded");
        assertEq(p.paidOffChain, 0, "paid off-chain");
        assertEq(p.payout, registry.payoutOf(PERIOD), "payout address");
        assertTrue(p.payout != address(0), "payout address known at commitment");
        assertEq(p.payout.code.length, 0, "payout not deployed before finalization");
        assertEq(p.lineCount, LINE_COUNT, "line count");
        assertEq(p.disputeEnds, T0 + WINDOW, "dispute window");
        assertEq(p.openDisputes, 0, "open disputes");
        assertEq(p.inputsHash, INPUTS, "inputs hash");
    }

    function test_CommitPeriod_EmitsPeriodCommitted() public {
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.PeriodCommitted(
            PERIOD, OZ_JS_ROOT, address(token), TOTAL, LINE_COUNT, INPUTS, T0 + WINDOW
        );
        _commit(PERIOD);
    }

    function test_CommitPeriod_AcceptsLargestTotal() public {
        vm.prank(settler);
        registry.commitPeriod(PERIOD, _root(), address(token), type(uint88).max, 1, 0);
        assertEq(registry.period(PERIOD).total, type(uint88).max, "largest total");
    }

    function test_Period_UnknownIsAllZero() public view {
        ISettlementRegistry.Period memory p = registry.period(PERIOD);
        assertEq(p.root, 0, "root");
        assertEq(p.token, address(0), "token");
        assertTrue(p.state == ISettlementRegistry.PeriodState.None, "state");
        assertEq(p.total, 0, "total");
        assertEq(p.payout, address(0), "payout");
        assertEq(p.disputeEnds, 0, "dispute ends");
    }

    function test_CommitPeriod_Revert_WhenAlreadyCommitted() public {
        _commit(PERIOD);
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodAlreadyCommitted.selector, PERIOD));
        _commit(PERIOD);
    }

    function test_CommitPeriod_Revert_WhenRootEmpty() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementEmptyRoot.selector));
        vm.prank(settler);
        registry.commitPeriod(PERIOD, 0, address(token), TOTAL, LINE_COUNT, INPUTS);
    }

    function test_CommitPeriod_Revert_WhenTokenZero() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementZeroToken.selector));
        vm.prank(settler);
        registry.commitPeriod(PERIOD, _root(), address(0), TOTAL, LINE_COUNT, INPUTS);
    }

    function test_CommitPeriod_Revert_WhenTotalAbove88Bits() public {
        uint256 tooMuch = uint256(type(uint88).max) + 1;
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementRegistry.SettlementAmountTooLarge.selector, tooMuch, type(uint88).max)
        );
        vm.prank(settler);
        registry.commitPeriod(PERIOD, _root(), address(token), tooMuch, LINE_COUNT, INPUTS);
    }

    function test_CommitPeriod_Revert_WhenNotSettler() public {
        bytes32 role = registry.SETTLER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        registry.commitPeriod(PERIOD, _root(), address(token), TOTAL, LINE_COUNT, INPUTS);
    }

    // ---------------------------------------------------------------- dispute and resolveDispute

    function test_Dispute_NumbersDisputesFromZeroPerPeriod() public {
        _commit(PERIOD);
        _commit(OTHER_PERIOD);
        assertEq(_dispute(PERIOD, 0, "a"), 0, "first dispute");
        assertEq(_dispute(PERIOD, 1, "b"), 1, "second dispute");
        assertEq(_dispute(OTHER_PERIOD, 3, "c"), 0, "first dispute of another period");
        assertEq(registry.disputeCount(PERIOD), 2, "count");
        assertEq(registry.period(PERIOD).openDisputes, 2, "open");
        assertTrue(registry.isDisputeOpen(PERIOD, 1), "dispute 1 open");
        assertFalse(registry.isDisputeOpen(PERIOD, 2), "dispute 2 never opened");
    }

    function test_Dispute_EmitsDisputedWithLine() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "first");
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.Disputed(PERIOD, 1, ALICE, 2, "wrong rate");
        _dispute(PERIOD, 2, "wrong rate");
    }

    function test_Dispute_RecordsDisputedLine() public {
        _commit(PERIOD);
        _dispute(PERIOD, 3, "r");
        assertTrue(registry.isLineDisputed(PERIOD, 3), "line 3 disputed");
        assertFalse(registry.isLineDisputed(PERIOD, 2), "line 2 not disputed");
        assertFalse(registry.isLineDisputed(OTHER_PERIOD, 3), "line 3 of another period not disputed");
    }

    function test_Dispute_PayeeMayDisputeEachOfItsLines() public {
        _commit(PERIOD);
        // Alice is the payee of lines 0 and 2; each line holds its own dispute.
        assertEq(_dispute(PERIOD, 0, "a"), 0, "line 0");
        assertEq(_dispute(PERIOD, 2, "b"), 1, "line 2");
        assertEq(registry.period(PERIOD).openDisputes, 2, "both open");
    }

    function test_Dispute_SameLineInAnotherPeriod() public {
        _commit(PERIOD);
        _commit(OTHER_PERIOD);
        _dispute(PERIOD, 1, "a");
        assertEq(_dispute(OTHER_PERIOD, 1, "a"), 0, "the same line of another period is disputed apart");
    }

    function test_Dispute_OpenUntilLastSecondOfWindow() public {
        _commit(PERIOD);
        vm.warp(T0 + WINDOW - 1);
        assertEq(_dispute(PERIOD, 4, "late"), 0, "disputed in the last second");
    }

    function test_Dispute_AgainAfterResolved() public {
        _commit(PERIOD);
        assertEq(_dispute(PERIOD, 1, "first"), 0, "first dispute");
        vm.prank(settler);
        registry.resolveDispute(PERIOD, 0, "rejected");
        assertFalse(registry.isLineDisputed(PERIOD, 1), "line free again");
        assertEq(_dispute(PERIOD, 1, "second"), 1, "disputed again");
        assertTrue(registry.isLineDisputed(PERIOD, 1), "line disputed again");
        assertTrue(registry.isDisputeOpen(PERIOD, 1), "new dispute open");
        assertFalse(registry.isDisputeOpen(PERIOD, 0), "old dispute stays resolved");
        assertEq(registry.period(PERIOD).openDisputes, 1, "one open");
    }

    function test_Dispute_LineCannotBeSettledWhileWindowOpen() public {
        // A line is settled (claimed or paid off-chain) only once the period is final, so every line can still be
        // disputed while the window is open: a payee paid off-chain in the meantime records it afterwards.
        _commit(PERIOD);
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotFinalized.selector, PERIOD));
        _markPaid(PERIOD, 1, "bank-ref-1");
        assertEq(_dispute(PERIOD, 1, "short"), 0, "disputed");
        assertFalse(registry.isLineSettled(PERIOD, 1), "not settled");
    }

    function test_Dispute_Revert_WhenNotPayee() public {
        _commit(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNotPayee.selector, BOB));
        vm.prank(stranger);
        registry.dispute(PERIOD, l, proof, "r");
    }

    function test_Dispute_Revert_WhenAnotherPayeeOfThePeriod() public {
        // Alice is a payee of the period, but not of Bob's line.
        _commit(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNotPayee.selector, BOB));
        vm.prank(ALICE);
        registry.dispute(PERIOD, l, proof, "r");
    }

    function test_Dispute_Revert_WhenCallerNamesItselfOnAnotherLine() public {
        // Someone not in the tree cannot dispute by putting its own address on a real line's proof.
        _commit(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidProof.selector));
        vm.prank(stranger);
        registry.dispute(
            PERIOD, StatementLine(l.index, stranger, l.workId, l.amount, l.ruleVersion, l.splitVersion), proof, "r"
        );
    }

    function test_Dispute_Revert_WhenProofInvalid() public {
        _commit(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.startPrank(BOB);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidProof.selector));
        registry.dispute(
            PERIOD, StatementLine(l.index, BOB, l.workId, l.amount + 1, l.ruleVersion, l.splitVersion), proof, "r"
        );
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidProof.selector));
        registry.dispute(
            PERIOD, StatementLine(l.index + 1, BOB, l.workId, l.amount, l.ruleVersion, l.splitVersion), proof, "r"
        );
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidProof.selector));
        registry.dispute(
            PERIOD, StatementLine(l.index, BOB, l.workId, l.amount, l.ruleVersion, l.splitVersion), _proof(0), "r"
        );
        vm.stopPrank();
        assertEq(registry.disputeCount(PERIOD), 0, "none opened");
    }

    function test_Dispute_Revert_WhenLineAlreadyDisputed() public {
        _commit(PERIOD);
        _dispute(PERIOD, 1, "first");
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementLineAlreadyDisputed.selector, PERIOD, 1));
        _dispute(PERIOD, 1, "second");
        assertEq(registry.disputeCount(PERIOD), 1, "one opened");
        assertEq(registry.period(PERIOD).openDisputes, 1, "one open");
    }

    function test_Dispute_Revert_WhenPeriodNotCommitted() public {
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotCommitted.selector, PERIOD));
        _dispute(PERIOD, 0, "r");
    }

    function test_Dispute_Revert_WhenWindowClosed() public {
        _commit(PERIOD);
        vm.warp(T0 + WINDOW);
        vm.expectRevert(_err(ISettlementRegistry.SettlementDisputeWindowClosed.selector, PERIOD));
        _dispute(PERIOD, 0, "r");
    }

    function test_Dispute_Revert_AgainAfterResolvedWhenWindowClosed() public {
        _commit(PERIOD);
        _dispute(PERIOD, 1, "r");
        vm.warp(T0 + WINDOW);
        vm.prank(settler);
        registry.resolveDispute(PERIOD, 0, "rejected");
        vm.expectRevert(_err(ISettlementRegistry.SettlementDisputeWindowClosed.selector, PERIOD));
        _dispute(PERIOD, 1, "again");
    }

    function test_Dispute_Revert_WhenFinalized() public {
        _ready(PERIOD);
        vm.expectRevert(_err(ISettlementRegistry.SettlementDisputeWindowClosed.selector, PERIOD));
        _dispute(PERIOD, 0, "r");
    }

    function test_ResolveDispute_ClosesDisputeAndEmits() public {
        _commit(PERIOD);
        _dispute(PERIOD, 3, "r");
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.DisputeResolved(PERIOD, 0, "rejected");
        vm.prank(settler);
        registry.resolveDispute(PERIOD, 0, "rejected");
        assertFalse(registry.isDisputeOpen(PERIOD, 0), "closed");
        assertFalse(registry.isLineDisputed(PERIOD, 3), "line no longer disputed");
        assertEq(registry.period(PERIOD).openDisputes, 0, "none open");
        assertEq(registry.disputeCount(PERIOD), 1, "still counted");
    }

    function test_ResolveDispute_FreesOnlyItsLine() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "a");
        _dispute(PERIOD, 2, "b");
        vm.prank(settler);
        registry.resolveDispute(PERIOD, 1, "x");
        assertTrue(registry.isLineDisputed(PERIOD, 0), "line 0 still disputed");
        assertFalse(registry.isLineDisputed(PERIOD, 2), "line 2 free");
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementLineAlreadyDisputed.selector, PERIOD, 0));
        _dispute(PERIOD, 0, "again");
    }

    function test_ResolveDispute_AfterWindowClosed() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "r");
        vm.warp(T0 + 10 * WINDOW);
        vm.prank(settler);
        registry.resolveDispute(PERIOD, 0, "upheld");
        assertEq(registry.period(PERIOD).openDisputes, 0, "resolved late");
    }

    function test_ResolveDispute_Revert_WhenNeverOpened() public {
        _commit(PERIOD);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNoSuchOpenDispute.selector, PERIOD, 0));
        vm.prank(settler);
        registry.resolveDispute(PERIOD, 0, "x");
    }

    function test_ResolveDispute_Revert_WhenAlreadyResolved() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "r");
        vm.startPrank(settler);
        registry.resolveDispute(PERIOD, 0, "x");
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNoSuchOpenDispute.selector, PERIOD, 0));
        registry.resolveDispute(PERIOD, 0, "x");
        vm.stopPrank();
    }

    function test_ResolveDispute_Revert_WhenAlreadyResolvedAndLineDisputedAgain() public {
        // Resolving the old dispute a second time must not free the line's new dispute.
        _commit(PERIOD);
        _dispute(PERIOD, 1, "first");
        vm.prank(settler);
        registry.resolveDispute(PERIOD, 0, "x");
        _dispute(PERIOD, 1, "second");
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNoSuchOpenDispute.selector, PERIOD, 0));
        vm.prank(settler);
        registry.resolveDispute(PERIOD, 0, "x");
        assertTrue(registry.isLineDisputed(PERIOD, 1), "line still disputed");
    }

    function test_ResolveDispute_Revert_WhenNotSettler() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "r");
        bytes32 role = registry.SETTLER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, ALICE, role));
        vm.prank(ALICE);
        registry.resolveDispute(PERIOD, 0, "self-resolved");
    }

    // ---------------------------------------------------------------- finalize

    function test_Finalize_ByAnyoneOnceWindowClosed() public {
        _commit(PERIOD);
        address payout = registry.payoutOf(PERIOD);
        vm.warp(T0 + WINDOW);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.PeriodFinalized(PERIOD, payout);
        vm.prank(stranger);
        assertEq(registry.finalize(PERIOD), payout, "returns the payout");
        assertTrue(registry.period(PERIOD).state == ISettlementRegistry.PeriodState.Finalized, "final");
    }

    function test_Finalize_DeploysPayoutAtPayoutOf() public {
        _commit(PERIOD);
        address expected = registry.payoutOf(PERIOD);
        assertEq(expected.code.length, 0, "nothing there before");
        vm.warp(T0 + WINDOW);
        vm.recordLogs();
        address payout = registry.finalize(PERIOD);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        assertEq(payout, expected, "deployed where payoutOf said");
        assertTrue(payout.code.length > 0, "code deployed");
        assertEq(registry.payoutOf(PERIOD), payout, "payoutOf unchanged after finalization");
        assertEq(registry.period(PERIOD).payout, payout, "period names the payout");
        assertEq(logs.length, 1, "one event");
        assertEq(logs[0].emitter, address(registry), "emitted by the registry");
        assertEq(logs[0].topics[0], ISettlementRegistry.PeriodFinalized.selector, "PeriodFinalized");
        assertEq(logs[0].topics[1], PERIOD, "period topic");
        assertEq(abi.decode(logs[0].data, (address)), payout, "event names the payout");
    }

    function test_Finalize_PayoutImmutablesAreThePeriods() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        assertEq(payout.registry(), address(registry), "registry");
        assertEq(payout.periodId(), PERIOD, "period id");
        assertEq(payout.root(), OZ_JS_ROOT, "root");
        assertEq(address(payout.token()), address(token), "token");
    }

    /// @dev The address is CREATE2 from the registry, salted with the period id, over the payout's creation code and
    /// constructor arguments (period id, root, token): written out here independently of the registry.
    function test_PayoutOf_IsTheCreate2AddressOfThePeriodsPayout() public {
        _commit(PERIOD);
        bytes32 initCodeHash =
            keccak256(bytes.concat(type(PeriodPayout).creationCode, abi.encode(PERIOD, OZ_JS_ROOT, address(token))));
        bytes32 hash = keccak256(abi.encodePacked(bytes1(0xff), address(registry), PERIOD, initCodeHash));
        assertEq(registry.payoutOf(PERIOD), address(uint160(uint256(hash))), "CREATE2 address");
    }

    function test_PayoutOf_DiffersPerPeriodWithTheSameRoot() public {
        _commit(PERIOD);
        _commit(OTHER_PERIOD);
        assertTrue(registry.payoutOf(PERIOD) != registry.payoutOf(OTHER_PERIOD), "one payout per period");
        _finalize(PERIOD);
        registry.finalize(OTHER_PERIOD);
        assertTrue(registry.payoutOf(PERIOD).code.length > 0, "first deployed");
        assertTrue(registry.payoutOf(OTHER_PERIOD).code.length > 0, "second deployed");
        assertEq(_payout(OTHER_PERIOD).periodId(), OTHER_PERIOD, "second pays its own period");
    }

    function test_PayoutOf_Revert_WhenPeriodNotCommitted() public {
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotCommitted.selector, PERIOD));
        registry.payoutOf(PERIOD);
    }

    function test_Finalize_AfterDisputesResolved() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "r");
        vm.warp(T0 + WINDOW);
        vm.prank(settler);
        registry.resolveDispute(PERIOD, 0, "rejected");
        registry.finalize(PERIOD);
        assertTrue(registry.period(PERIOD).state == ISettlementRegistry.PeriodState.Finalized, "final");
    }

    function test_Finalize_Revert_WhenPeriodNotCommitted() public {
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotCommitted.selector, PERIOD));
        registry.finalize(PERIOD);
    }

    function test_Finalize_Revert_WhenWindowOpen() public {
        _commit(PERIOD);
        vm.warp(T0 + WINDOW - 1);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementRegistry.SettlementDisputeWindowOpen.selector, PERIOD, T0 + WINDOW)
        );
        registry.finalize(PERIOD);
    }

    function test_Finalize_Revert_WhileLineDisputeOpen() public {
        _commit(PERIOD);
        _dispute(PERIOD, 4, "r");
        vm.warp(T0 + 10 * WINDOW);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementDisputesOpen.selector, PERIOD, 1));
        registry.finalize(PERIOD);
        vm.prank(settler);
        registry.resolveDispute(PERIOD, 0, "upheld");
        registry.finalize(PERIOD);
        assertTrue(registry.period(PERIOD).state == ISettlementRegistry.PeriodState.Finalized, "final once resolved");
    }

    function test_Finalize_Revert_WhenDisputesOpen() public {
        _commit(PERIOD);
        _dispute(PERIOD, 0, "a");
        _dispute(PERIOD, 1, "b");
        vm.prank(settler);
        registry.resolveDispute(PERIOD, 0, "x");
        vm.warp(T0 + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementDisputesOpen.selector, PERIOD, 1));
        registry.finalize(PERIOD);
    }

    function test_Finalize_Revert_WhenAlreadyFinalized() public {
        _ready(PERIOD);
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodAlreadyFinalized.selector, PERIOD));
        registry.finalize(PERIOD);
    }

    // ---------------------------------------------------------------- fund

    function test_Fund_MovesTokensToPayoutBeforeItIsDeployed() public {
        _commit(PERIOD);
        address payout = registry.payoutOf(PERIOD);
        _fund(PERIOD, 100_000);
        assertEq(payout.code.length, 0, "payout not deployed yet");
        assertEq(token.balanceOf(payout), 100_000, "payout balance");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
        assertEq(token.balanceOf(platform), 10 * TOTAL - 100_000, "platform balance");
        assertEq(registry.period(PERIOD).funded, 100_000, "funded");
    }

    function test_Fund_BeforeFinalize_PaysClaimsAfterIt() public {
        _commit(PERIOD);
        address expected = registry.payoutOf(PERIOD);
        _fund(PERIOD, TOTAL);
        _finalize(PERIOD);
        assertEq(registry.payoutOf(PERIOD), expected, "same address");
        assertEq(token.balanceOf(expected), TOTAL, "funds found at the deployed payout");
        _claim(PERIOD, 3);
        assertEq(token.balanceOf(CAROL), 99_993, "paid from the early funding");
        assertEq(token.balanceOf(expected), TOTAL - 99_993, "payout balance");
    }

    function test_Fund_PeriodsFundsKeptApart() public {
        _commit(PERIOD);
        _commit(OTHER_PERIOD);
        _fund(PERIOD, 1000);
        _fund(OTHER_PERIOD, 234);
        assertEq(token.balanceOf(registry.payoutOf(PERIOD)), 1000, "first payout");
        assertEq(token.balanceOf(registry.payoutOf(OTHER_PERIOD)), 234, "second payout");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
    }

    function test_Fund_EmitsPeriodFundedWithRunningTotal() public {
        _commit(PERIOD);
        _fund(PERIOD, 100_000);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.PeriodFunded(PERIOD, platform, 200_001, TOTAL);
        _fund(PERIOD, 200_001);
    }

    function test_Fund_AfterFinalize() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        _fund(PERIOD, TOTAL);
        assertEq(registry.period(PERIOD).funded, TOTAL, "funded after finalize");
        assertEq(token.balanceOf(registry.payoutOf(PERIOD)), TOTAL, "payout balance");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
    }

    function test_Fund_Revert_WhenPeriodNotCommitted() public {
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotCommitted.selector, PERIOD));
        _fund(PERIOD, 1);
    }

    function test_Fund_Revert_WhenOverfunded() public {
        _commit(PERIOD);
        _fund(PERIOD, TOTAL - 10);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementOverfunded.selector, PERIOD, 11, 10));
        _fund(PERIOD, 11);
    }

    function test_Fund_Revert_WhenAllowanceShort() public {
        _commit(PERIOD);
        vm.prank(platform);
        token.approve(address(registry), 5);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(registry), 5, 6)
        );
        _fund(PERIOD, 6);
    }

    // ---------------------------------------------------------------- claim

    function test_StatementTree_MatchesOpenZeppelinMerkleTreeJs() public view {
        assertEq(_root(), OZ_JS_ROOT, "root");
        bytes32[] memory proof = _proof(2);
        assertEq(proof.length, 2, "proof length of line 2");
        assertEq(proof[0], 0x9694199c2dac39fd6a6fdbaf5e8615cbaf34b76001534b9d10c45b2ad732dc81, "proof[0]");
        assertEq(proof[1], 0xb669e96d6b9f0679465ccd526fc9ff8030c13c6a332dc6bf7a3ce8ec0d8bb852, "proof[1]");
        assertEq(_proof(0).length, 3, "proof length of line 0");
    }

    function test_Claim_PaysEveryLineToItsPayee() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        for (uint256 i; i < LINE_COUNT; ++i) {
            _claim(payout, i);
            assertTrue(registry.isLineSettled(PERIOD, i), "settled");
            assertTrue(payout.isLineSettled(lines[i].index), "settled in the payout");
        }
        assertEq(token.balanceOf(ALICE), 150_007, "alice, two lines");
        assertEq(token.balanceOf(BOB), 50_000, "bob");
        assertEq(token.balanceOf(CAROL), 99_993, "carol");
        assertEq(token.balanceOf(DAVE), 1, "dave");
        assertEq(token.balanceOf(stranger), 0, "the caller gets nothing");
        assertEq(token.balanceOf(address(payout)), 0, "payout emptied");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
        assertEq(_claimed(PERIOD), TOTAL, "claimed");
    }

    function test_Claim_EmitsLineClaimed() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        vm.expectEmit(true, true, true, true, address(payout));
        emit IPeriodPayout.LineClaimed(3, CAROL, 99_993);
        _claim(payout, 3);
    }

    function test_Claim_SameRootInTwoPeriodsSettlesEachSeparately() public {
        _ready(PERIOD);
        _commit(OTHER_PERIOD);
        _fund(OTHER_PERIOD, TOTAL);
        _finalize(OTHER_PERIOD);
        _claim(PERIOD, 1);
        assertFalse(registry.isLineSettled(OTHER_PERIOD, 1), "other period untouched");
        _claim(OTHER_PERIOD, 1);
        assertEq(token.balanceOf(BOB), 100_000, "paid once per period");
        assertEq(token.balanceOf(registry.payoutOf(PERIOD)), TOTAL - 50_000, "first period paid its line");
        assertEq(token.balanceOf(registry.payoutOf(OTHER_PERIOD)), TOTAL - 50_000, "second period paid its line");
    }

    function test_Claim_SameRootInTwoPeriods_CannotTakeTheOtherPeriodsFunds() public {
        // Both periods commit the same lines and total; the second is funded for Bob's line only.
        _ready(PERIOD);
        _commit(OTHER_PERIOD);
        _fund(OTHER_PERIOD, 50_000);
        _finalize(OTHER_PERIOD);
        PeriodPayout first = _payout(PERIOD);
        PeriodPayout second = _payout(OTHER_PERIOD);
        assertTrue(address(first) != address(second), "one payout per period");

        vm.expectRevert(
            abi.encodeWithSelector(
                IPeriodPayout.PeriodPayoutInsufficientFunding.selector, OTHER_PERIOD, 150_000, 50_000
            )
        );
        _claim(second, 0);
        _claim(second, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInsufficientFunding.selector, OTHER_PERIOD, 99_993, 0)
        );
        _claim(second, 3);

        assertEq(token.balanceOf(address(first)), TOTAL, "first period's funds untouched");
        assertEq(token.balanceOf(address(second)), 0, "second period paid what it had");
        assertEq(_claimed(OTHER_PERIOD), 50_000, "second period's claims");
        assertEq(_claimed(PERIOD), 0, "first period's claims");
        assertFalse(registry.isLineSettled(OTHER_PERIOD, 0), "unpaid line not settled");
        _claim(first, 0);
        assertEq(token.balanceOf(ALICE), 150_000, "the first period still pays its own line");
    }

    function test_Claim_Revert_BeforeFinalize_NoPayoutDeployed() public {
        _commit(PERIOD);
        _fund(PERIOD, TOTAL);
        PeriodPayout payout = _payout(PERIOD);
        assertEq(address(payout).code.length, 0, "no code yet");

        // A high-level call to an address without code reverts without data (Solidity checks for code first).
        try this.claimExternally(payout, 0) {
            revert("claim before finalization went through");
        } catch (bytes memory reason) {
            assertEq(reason.length, 0, "reverts without data");
        }

        // A low-level call to the address "succeeds", but there is nothing there to pay anything out.
        StatementLine memory l = lines[0];
        (bool ok, bytes memory returned) = address(payout).call(abi.encodeCall(PeriodPayout.claim, (l, _proof(0))));
        assertTrue(ok, "a call to an account without code does not fail");
        assertEq(returned.length, 0, "and returns nothing");
        assertEq(token.balanceOf(ALICE), 0, "nothing paid");
        assertEq(token.balanceOf(address(payout)), TOTAL, "funds stay at the payout address");
        assertFalse(registry.isLineSettled(PERIOD, 0), "not settled");

        _finalize(PERIOD);
        _claim(payout, 0);
        assertEq(token.balanceOf(ALICE), 150_000, "claimable once final");
    }

    /// @dev Claims line `i` at `payout` from an external frame, so that the caller sees how the call fails.
    function claimExternally(PeriodPayout payout, uint256 i) external {
        StatementLine storage l = lines[i];
        payout.claim(l, _proof(i));
    }

    function test_Claim_Revert_WhenClaimedTwice() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        _claim(payout, 0);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 0));
        _claim(payout, 0);
        assertEq(token.balanceOf(ALICE), 150_000, "paid once");
        assertEq(token.balanceOf(address(payout)), TOTAL - 150_000, "payout paid once");
    }

    function test_Claim_Revert_WhenAmountAltered() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInvalidProof.selector));
        payout.claim(StatementLine(l.index, l.payee, l.workId, l.amount + 1, l.ruleVersion, l.splitVersion), proof);
    }

    function test_Claim_Revert_WhenPayeeAltered() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInvalidProof.selector));
        payout.claim(StatementLine(l.index, stranger, l.workId, l.amount, l.ruleVersion, l.splitVersion), proof);
    }

    function test_Claim_Revert_WhenIndexAltered() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInvalidProof.selector));
        payout.claim(StatementLine(4, l.payee, l.workId, l.amount, l.ruleVersion, l.splitVersion), proof);
        assertFalse(payout.isLineSettled(4), "line 4 not settled by the failed claim");
    }

    function test_Claim_Revert_WhenVersionsAltered() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInvalidProof.selector));
        payout.claim(StatementLine(l.index, l.payee, l.workId, l.amount, l.ruleVersion, l.splitVersion + 1), proof);
    }

    function test_Claim_Revert_WhenSettledAndProofInvalid_ReportsSettled() public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        _claim(payout, 1);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 1));
        payout.claim(StatementLine(l.index, l.payee, l.workId, l.amount + 1, l.ruleVersion, l.splitVersion), proof);
    }

    function test_Claim_Revert_WhenFundingShort() public {
        _commit(PERIOD);
        _fund(PERIOD, 150_006);
        _finalize(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        _claim(payout, 2); // 7
        vm.expectRevert(
            abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInsufficientFunding.selector, PERIOD, 150_000, 149_999)
        );
        _claim(payout, 0);
        assertFalse(payout.isLineSettled(0), "the failed claim settled nothing");
        _fund(PERIOD, 1);
        _claim(payout, 0);
        assertEq(token.balanceOf(ALICE), 150_007, "claimable once funded");
    }

    function test_Claim_Revert_WhenPeriodFundedLessThanLine() public {
        _commit(PERIOD);
        _fund(PERIOD, 49_999);
        _finalize(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        // `held` is what the payout holds.
        vm.expectRevert(
            abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInsufficientFunding.selector, PERIOD, 50_000, 49_999)
        );
        _claim(payout, 1);
        assertEq(token.balanceOf(address(payout)), 49_999, "funds stay");
        assertEq(token.balanceOf(BOB), 0, "nothing paid");
        assertFalse(registry.isLineSettled(PERIOD, 1), "line not settled");
    }

    function test_Claim_Revert_WhenLinesExceedTotal_OtherPeriodsFundsUntouched() public {
        // OTHER_PERIOD commits the same lines but a total of 100: its lines can never reach PERIOD's funds.
        _ready(PERIOD);
        vm.prank(settler);
        registry.commitPeriod(OTHER_PERIOD, _root(), address(token), 100, LINE_COUNT, INPUTS);
        _fund(OTHER_PERIOD, 100);
        _finalize(OTHER_PERIOD);
        PeriodPayout other = _payout(OTHER_PERIOD);
        vm.expectRevert(
            abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInsufficientFunding.selector, OTHER_PERIOD, 50_000, 100)
        );
        _claim(other, 1);
        assertEq(token.balanceOf(registry.payoutOf(PERIOD)), TOTAL, "first period's funds intact");
        assertEq(token.balanceOf(address(other)), 100, "second period's funds intact");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
    }

    function test_Claim_Revert_WhenProofOfAnotherTree() public {
        _ready(PERIOD);
        StatementLine[] memory others = new StatementLine[](2);
        others[0] = StatementLine(0, stranger, WORK_C, 300_001, 9, 9);
        others[1] = StatementLine(1, BOB, WORK_C, 1, 9, 9);
        bytes32[] memory otherTree = StatementTree.build(others);
        vm.prank(settler);
        registry.commitPeriod(OTHER_PERIOD, otherTree[0], address(token), 300_002, 2, INPUTS);
        _fund(OTHER_PERIOD, 300_002);
        _finalize(OTHER_PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        PeriodPayout other = _payout(OTHER_PERIOD);

        // A valid proof of OTHER_PERIOD's tree (final and funded too) presented at PERIOD's payout.
        bytes32[] memory proof = StatementTree.proof(otherTree, others[0]);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInvalidProof.selector));
        payout.claim(StatementLine(0, stranger, WORK_C, 300_001, 9, 9), proof);
        assertFalse(payout.isLineSettled(0), "PERIOD's line 0 not settled");

        // The same line is claimable where it belongs, from that period's funds only.
        other.claim(StatementLine(0, stranger, WORK_C, 300_001, 9, 9), proof);
        assertEq(token.balanceOf(stranger), 300_001, "paid by its own period");
        assertEq(token.balanceOf(address(payout)), TOTAL, "PERIOD's funds untouched");
        assertEq(token.balanceOf(address(other)), 1, "OTHER_PERIOD paid its line");
    }

    // ---------------------------------------------------------------- reentrancy

    /// @dev Commits, funds with `funding` and finalizes PERIOD over the fixture's lines in a hostile token.
    function _evilPeriod(uint256 funding) internal returns (ReentrantToken evil, PeriodPayout payout) {
        evil = new ReentrantToken();
        evil.mint(platform, TOTAL);
        vm.prank(platform);
        evil.approve(address(registry), TOTAL);
        vm.prank(settler);
        registry.commitPeriod(PERIOD, _root(), address(evil), TOTAL, LINE_COUNT, INPUTS);
        _fund(PERIOD, funding);
        _finalize(PERIOD);
        payout = _payout(PERIOD);
    }

    /// @dev The calldata of a claim of line `i`.
    function _claimCall(uint256 i) internal view returns (bytes memory) {
        StatementLine memory l = lines[i];
        return abi.encodeCall(PeriodPayout.claim, (l, _proof(i)));
    }

    /// @dev How many `LineClaimed` events `emitter` emitted among `logs`.
    function _lineClaimedCount(Vm.Log[] memory logs, address emitter) internal pure returns (uint256 count) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == emitter && logs[i].topics[0] == IPeriodPayout.LineClaimed.selector) ++count;
        }
    }

    function test_Claim_TokenReentersSameLine_ReentrantClaimFailsAndPayeePaidOnce() public {
        (ReentrantToken evil, PeriodPayout payout) = _evilPeriod(TOTAL);
        // During the transfer to Alice, the token claims Alice's line again and carries on whatever the outcome.
        evil.armQuiet(address(payout), _claimCall(0));
        vm.recordLogs();
        _claim(payout, 0);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        assertEq(evil.callbacks(), 1, "the token called back into the payout");
        assertFalse(evil.callbackOk(), "the reentrant claim failed");
        assertEq(
            keccak256(evil.callbackReturn()),
            keccak256(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 0)),
            "because the line was already settled"
        );
        assertEq(_lineClaimedCount(logs, address(payout)), 1, "one LineClaimed");
        assertEq(evil.balanceOf(ALICE), 150_000, "paid exactly once");
        assertEq(evil.balanceOf(address(payout)), TOTAL - 150_000, "payout paid out one line");
        assertTrue(registry.isLineSettled(PERIOD, 0), "settled");
    }

    /// @dev A token that bubbles up the failed reentrant claim fails the outer transfer; the payout, which holds
    /// enough, reports it as `PeriodPayoutTransferFailed`, and the whole claim is undone.
    function test_Claim_Revert_WhenTokenRevertsOnReentrantClaimOfSameLine() public {
        (ReentrantToken evil, PeriodPayout payout) = _evilPeriod(TOTAL);
        evil.arm(address(payout), _claimCall(0));
        vm.expectRevert(
            abi.encodeWithSelector(IPeriodPayout.PeriodPayoutTransferFailed.selector, PERIOD, ALICE, 150_000)
        );
        _claim(payout, 0);
        assertFalse(registry.isLineSettled(PERIOD, 0), "outer claim undone");
        assertEq(evil.balanceOf(ALICE), 0, "nothing paid");
        assertEq(evil.balanceOf(address(payout)), TOTAL, "funds stay");

        evil.arm(address(0), "");
        _claim(payout, 0);
        assertEq(evil.balanceOf(ALICE), 150_000, "claim works once the token behaves");
    }

    /// @dev Reentering for another line is an ordinary claim of that line: each line is paid once, from the period's
    /// funds, and the payout's balance drops by exactly the two amounts.
    function test_Claim_TokenReentersAnotherLine_EachLinePaidOnce() public {
        (ReentrantToken evil, PeriodPayout payout) = _evilPeriod(TOTAL);
        evil.arm(address(payout), _claimCall(1));
        vm.recordLogs();
        _claim(payout, 0);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        assertEq(evil.callbacks(), 1, "the token called back into the payout");
        assertEq(_lineClaimedCount(logs, address(payout)), 2, "two LineClaimed");
        assertEq(evil.balanceOf(ALICE), 150_000, "outer line paid");
        assertEq(evil.balanceOf(BOB), 50_000, "inner line paid");
        assertEq(evil.balanceOf(address(payout)), TOTAL - 200_000, "payout paid exactly the two lines");
        assertTrue(registry.isLineSettled(PERIOD, 0), "outer line settled");
        assertTrue(registry.isLineSettled(PERIOD, 1), "inner line settled");

        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 1));
        _claim(payout, 1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 0));
        _claim(payout, 0);
        assertEq(evil.balanceOf(BOB), 50_000, "inner line not paid again");
    }

    /// @dev Funded for the outer line only: the inner claim pays first, the outer transfer then finds too little and
    /// fails, and the whole token transfer (inner claim included) is undone. The payout reads its balance after that
    /// undo, finds it covers the line and reports `PeriodPayoutTransferFailed`. Nothing is paid, nothing settled; each
    /// line remains claimable once.
    function test_Claim_Revert_WhenTokenReentersAnotherLineBeyondFunding() public {
        (ReentrantToken evil, PeriodPayout payout) = _evilPeriod(150_000);
        evil.arm(address(payout), _claimCall(1));
        vm.expectRevert(
            abi.encodeWithSelector(IPeriodPayout.PeriodPayoutTransferFailed.selector, PERIOD, ALICE, 150_000)
        );
        _claim(payout, 0);
        assertEq(evil.balanceOf(ALICE), 0, "outer line not paid");
        assertEq(evil.balanceOf(BOB), 0, "inner line not paid");
        assertEq(evil.balanceOf(address(payout)), 150_000, "funds intact");
        assertFalse(registry.isLineSettled(PERIOD, 0), "outer line not settled");
        assertFalse(registry.isLineSettled(PERIOD, 1), "inner line not settled");

        evil.arm(address(0), "");
        _claim(payout, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInsufficientFunding.selector, PERIOD, 50_000, 0)
        );
        _claim(payout, 1);
        assertEq(evil.balanceOf(ALICE), 150_000, "outer line paid once the token behaves");
    }

    function test_Fund_Revert_WhenTokenReentersFund() public {
        ReentrantToken evil = new ReentrantToken();
        evil.mint(platform, TOTAL);
        vm.prank(platform);
        evil.approve(address(registry), TOTAL);
        vm.prank(settler);
        registry.commitPeriod(PERIOD, _root(), address(evil), TOTAL, LINE_COUNT, INPUTS);

        evil.arm(address(registry), abi.encodeCall(registry.fund, (PERIOD, 1)));
        vm.expectRevert(abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector));
        _fund(PERIOD, 10);
        assertEq(registry.period(PERIOD).funded, 0, "nothing funded");
        assertEq(evil.balanceOf(registry.payoutOf(PERIOD)), 0, "nothing moved");
    }

    // ---------------------------------------------------------------- markPaidOffChain

    function test_MarkPaidOffChain_SettlesLine() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        _markPaid(PERIOD, 1, "bank-ref-1");
        assertTrue(registry.isLineSettled(PERIOD, 1), "settled");
        assertTrue(_payout(PERIOD).isLineSettled(1), "settled in the payout");
        assertFalse(registry.isLineSettled(PERIOD, 0), "other line not settled");
        assertEq(registry.period(PERIOD).paidOffChain, 50_000, "paid off-chain");
    }

    function test_MarkPaidOffChain_EmitsLinePaidOffChainAndLineSettledOffChain() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        address payout = registry.payoutOf(PERIOD);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ISettlementRegistry.LinePaidOffChain(PERIOD, 1, BOB, 50_000, "bank-ref-1");
        vm.expectEmit(true, true, true, true, payout);
        emit IPeriodPayout.LineSettledOffChain(1);
        _markPaid(PERIOD, 1, "bank-ref-1");
    }

    function test_MarkPaidOffChain_LineCannotBeClaimed() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        _markPaid(PERIOD, 1, "bank-ref-1");
        _fund(PERIOD, TOTAL - 50_000);
        PeriodPayout payout = _payout(PERIOD);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 1));
        _claim(payout, 1);
        assertEq(token.balanceOf(BOB), 0, "not paid on chain");
    }

    function test_MarkPaidOffChain_LowersWhatFundAccepts() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        _markPaid(PERIOD, 1, "bank-ref-1");
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementRegistry.SettlementOverfunded.selector, PERIOD, TOTAL, TOTAL - 50_000)
        );
        _fund(PERIOD, TOTAL);
        _fund(PERIOD, TOTAL - 50_000);
        PeriodPayout payout = _payout(PERIOD);
        for (uint256 i; i < LINE_COUNT; ++i) {
            if (i != 1) _claim(payout, i);
        }
        assertEq(token.balanceOf(address(payout)), 0, "every on-chain line paid, nothing left over");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
        assertEq(_claimed(PERIOD), TOTAL - 50_000, "claimed");
    }

    function test_MarkPaidOffChain_AfterPartialFunding() public {
        _commit(PERIOD);
        _fund(PERIOD, 150_000);
        _finalize(PERIOD);
        _markPaid(PERIOD, 4, "bank-ref-4");
        assertTrue(registry.isLineSettled(PERIOD, 4), "settled");
        assertEq(registry.period(PERIOD).paidOffChain, 1, "paid off-chain");
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementRegistry.SettlementOverfunded.selector, PERIOD, TOTAL - 150_000, TOTAL - 150_001
            )
        );
        _fund(PERIOD, TOTAL - 150_000);
        _fund(PERIOD, TOTAL - 150_001);
        assertEq(registry.period(PERIOD).funded, TOTAL - 1, "funded up to the total less paid off-chain");
    }

    function test_MarkPaidOffChain_Revert_WhenPeriodNotFinalized() public {
        _commit(PERIOD);
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotFinalized.selector, PERIOD));
        _markPaid(PERIOD, 1, "bank-ref-1");
        // Not even once the window has closed, until someone finalizes the period.
        vm.warp(T0 + WINDOW);
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotFinalized.selector, PERIOD));
        _markPaid(PERIOD, 1, "bank-ref-1");
        assertEq(registry.period(PERIOD).paidOffChain, 0, "nothing recorded");
        assertFalse(registry.isLineSettled(PERIOD, 1), "not settled");

        registry.finalize(PERIOD);
        _markPaid(PERIOD, 1, "bank-ref-1");
        assertTrue(registry.isLineSettled(PERIOD, 1), "settled once final");
    }

    function test_MarkPaidOffChain_Revert_WhenNotFinalizedAndProofInvalid_ReportsNotFinalized() public {
        _commit(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotFinalized.selector, PERIOD));
        vm.prank(BOB);
        registry.markPaidOffChain(
            PERIOD, StatementLine(l.index, BOB, l.workId, l.amount - 1, l.ruleVersion, l.splitVersion), proof, 0
        );
    }

    function test_MarkPaidOffChain_Revert_WhenNotPayee() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNotPayee.selector, BOB));
        vm.prank(stranger);
        registry.markPaidOffChain(PERIOD, l, proof, 0);
    }

    function test_MarkPaidOffChain_Revert_WhenNotPayeeOfUnfinalizedPeriod_ReportsNotPayee() public {
        _commit(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNotPayee.selector, BOB));
        vm.prank(stranger);
        registry.markPaidOffChain(PERIOD, l, proof, 0);
    }

    function test_MarkPaidOffChain_Revert_WhenPeriodNotCommitted() public {
        vm.expectRevert(_err(ISettlementRegistry.SettlementPeriodNotCommitted.selector, PERIOD));
        _markPaid(PERIOD, 1, 0);
    }

    function test_MarkPaidOffChain_Revert_WhenAlreadyClaimed() public {
        // Funded short by Bob's amount, so the funding check lets the call reach the payout's settled bitmap.
        _commit(PERIOD);
        _fund(PERIOD, TOTAL - 50_000);
        _finalize(PERIOD);
        _claim(PERIOD, 1);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 1));
        _markPaid(PERIOD, 1, 0);
        assertEq(registry.period(PERIOD).paidOffChain, 0, "nothing recorded");
    }

    function test_MarkPaidOffChain_Revert_WhenAlreadyClaimedFromFullFunding_ReportsOverfunded() public {
        _ready(PERIOD);
        _claim(PERIOD, 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementOverfunded.selector, PERIOD, 50_000, 0));
        _markPaid(PERIOD, 1, 0);
        assertEq(registry.period(PERIOD).paidOffChain, 0, "nothing recorded");
    }

    function test_MarkPaidOffChain_Revert_WhenAlreadyPaidOffChain() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        _markPaid(PERIOD, 1, "bank-ref-1");
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, 1));
        _markPaid(PERIOD, 1, "bank-ref-1-again");
        assertEq(registry.period(PERIOD).paidOffChain, 50_000, "recorded once");
    }

    function test_MarkPaidOffChain_Revert_WhenProofInvalid() public {
        _commit(PERIOD);
        _finalize(PERIOD);
        StatementLine memory l = lines[1];
        bytes32[] memory proof = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementInvalidProof.selector));
        vm.prank(BOB);
        registry.markPaidOffChain(
            PERIOD, StatementLine(l.index, BOB, l.workId, l.amount - 1, l.ruleVersion, l.splitVersion), proof, 0
        );
    }

    function test_MarkPaidOffChain_Revert_WhenFundingAlreadyCoversLine() public {
        _commit(PERIOD);
        _fund(PERIOD, TOTAL);
        _finalize(PERIOD);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementOverfunded.selector, PERIOD, 50_000, 0));
        _markPaid(PERIOD, 1, 0);
        assertFalse(registry.isLineSettled(PERIOD, 1), "not settled");
    }

    // ---------------------------------------------------------------- settleOffChain

    function test_SettleOffChain_Revert_WhenNotRegistry() public {
        _commit(PERIOD);
        _fund(PERIOD, TOTAL);
        _finalize(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        address[5] memory callers = [stranger, settler, admin, BOB, platform];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutOnlyRegistry.selector));
            vm.prank(callers[i]);
            payout.settleOffChain(1);
        }
        assertFalse(payout.isLineSettled(1), "not settled");
        _claim(payout, 1);
        assertEq(token.balanceOf(BOB), 50_000, "still claimable");
    }

    // ---------------------------------------------------------------- verifyLine and isLineSettled

    function test_VerifyLine_TrueForEveryCommittedLine() public {
        _commit(PERIOD);
        for (uint256 i; i < LINE_COUNT; ++i) {
            StatementLine memory l = lines[i];
            assertTrue(registry.verifyLine(PERIOD, l, _proof(i)), "line verifies");
        }
    }

    function test_VerifyLine_FalseForAlteredLineOrUnknownPeriod() public {
        _commit(PERIOD);
        StatementLine memory l = lines[3];
        bytes32[] memory proof = _proof(3);
        assertFalse(
            registry.verifyLine(
                PERIOD, StatementLine(l.index, l.payee, l.workId, l.amount + 1, l.ruleVersion, l.splitVersion), proof
            ),
            "altered amount"
        );
        assertFalse(registry.verifyLine(OTHER_PERIOD, l, proof), "unknown period");
    }

    function test_IsLineSettled_FalseUntilFinalAndSettled() public {
        assertFalse(registry.isLineSettled(PERIOD, 0), "unknown period");
        _commit(PERIOD);
        _fund(PERIOD, TOTAL);
        assertFalse(registry.isLineSettled(PERIOD, 0), "committed period");
        _finalize(PERIOD);
        assertFalse(registry.isLineSettled(PERIOD, 0), "final, not claimed");
        _claim(PERIOD, 0);
        assertTrue(registry.isLineSettled(PERIOD, 0), "claimed");
        assertFalse(registry.isLineSettled(PERIOD, 256), "same bit of another word");
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_Claim_AnyIndexAndAmount(uint256 index, uint256 amount, address payee) public {
        vm.assume(payee != address(0) && payee != address(registry) && payee != platform);
        amount = bound(amount, 0, type(uint88).max - 2);
        // Three lines: the fuzzed one, a neighbour in the same bitmap word and one in another word.
        StatementLine[] memory ls = new StatementLine[](3);
        ls[0] = StatementLine(index, payee, WORK_A, amount, 1, 1);
        ls[1] = StatementLine(index ^ 1, BOB, WORK_A, 1, 1, 1);
        ls[2] = StatementLine(index ^ 256, CAROL, WORK_B, 1, 1, 1);
        bytes32[] memory t = StatementTree.build(ls);
        uint256 total = amount + 2;
        token.mint(platform, total);
        vm.prank(settler);
        registry.commitPeriod(PERIOD, t[0], address(token), total, 3, INPUTS);
        _fund(PERIOD, total);
        _finalize(PERIOD);

        PeriodPayout payout = _payout(PERIOD);
        vm.assume(payee != address(payout));
        uint256 before = token.balanceOf(payee);
        payout.claim(StatementLine(index, payee, WORK_A, amount, 1, 1), StatementTree.proof(t, ls[0]));
        assertEq(token.balanceOf(payee) - before, amount, "payee paid");
        assertTrue(registry.isLineSettled(PERIOD, index), "line settled");
        assertFalse(registry.isLineSettled(PERIOD, index ^ 1), "neighbour not settled");
        assertFalse(registry.isLineSettled(PERIOD, index ^ 256), "other word not settled");

        bytes32[] memory proof = StatementTree.proof(t, ls[0]);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutLineAlreadySettled.selector, PERIOD, index));
        payout.claim(StatementLine(index, payee, WORK_A, amount, 1, 1), proof);

        payout.claim(StatementLine(index ^ 1, BOB, WORK_A, 1, 1, 1), StatementTree.proof(t, ls[1]));
        payout.claim(StatementLine(index ^ 256, CAROL, WORK_B, 1, 1, 1), StatementTree.proof(t, ls[2]));
        assertEq(_claimed(PERIOD), total, "everything claimed");
        assertEq(token.balanceOf(address(payout)), 0, "payout emptied");
    }

    function testFuzz_Dispute_Revert_WhenCallerNotPayee(address caller, uint256 i) public {
        i = bound(i, 0, LINE_COUNT - 1);
        StatementLine memory l = lines[i];
        vm.assume(caller != l.payee);
        _commit(PERIOD);
        bytes32[] memory proof = _proof(i);
        vm.expectRevert(abi.encodeWithSelector(ISettlementRegistry.SettlementNotPayee.selector, l.payee));
        vm.prank(caller);
        registry.dispute(PERIOD, l, proof, "r");
    }

    function testFuzz_Claim_Revert_WhenAmountAltered(uint256 delta) public {
        _ready(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        delta = bound(delta, 1, type(uint256).max - 150_000);
        StatementLine memory l = lines[0];
        bytes32[] memory proof = _proof(0);
        vm.expectRevert(abi.encodeWithSelector(IPeriodPayout.PeriodPayoutInvalidProof.selector));
        payout.claim(StatementLine(l.index, l.payee, l.workId, l.amount + delta, l.ruleVersion, l.splitVersion), proof);
    }

    function testFuzz_Fund_NeverAboveTotal(uint256 first, uint256 second) public {
        _commit(PERIOD);
        first = bound(first, 0, TOTAL);
        second = bound(second, 0, 2 * TOTAL);
        _fund(PERIOD, first);
        if (first + second > TOTAL) {
            vm.expectRevert(
                abi.encodeWithSelector(ISettlementRegistry.SettlementOverfunded.selector, PERIOD, second, TOTAL - first)
            );
        }
        _fund(PERIOD, second);
        uint256 funded = registry.period(PERIOD).funded;
        assertTrue(funded <= TOTAL, "funded within total");
        assertEq(token.balanceOf(registry.payoutOf(PERIOD)), funded, "payout balance is funding");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
    }

    function testFuzz_Claim_OnlyWithinFunding(uint256 funding) public {
        _commit(PERIOD);
        funding = bound(funding, 0, TOTAL);
        _fund(PERIOD, funding);
        _finalize(PERIOD);
        PeriodPayout payout = _payout(PERIOD);
        uint256 paid;
        for (uint256 i; i < LINE_COUNT; ++i) {
            uint256 amount = lines[i].amount;
            if (paid + amount > funding) {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        IPeriodPayout.PeriodPayoutInsufficientFunding.selector, PERIOD, amount, funding - paid
                    )
                );
                _claim(payout, i);
                assertFalse(payout.isLineSettled(i), "unpaid line not settled");
            } else {
                _claim(payout, i);
                paid += amount;
            }
        }
        assertEq(_claimed(PERIOD), paid, "claimed what was funded");
        assertEq(token.balanceOf(address(payout)), funding - paid, "the rest stays");
        assertEq(token.balanceOf(address(registry)), 0, "registry holds nothing");
    }
}

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
