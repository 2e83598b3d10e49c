// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "./utils/BaseTest.sol";
import {WorkRegistry} from "../src/WorkRegistry.sol";
import {LicenseRegistry} from "../src/LicenseRegistry.sol";
import {DerivativeRegistry} from "../src/DerivativeRegistry.sol";
import {ILicenseRegistry} from "../src/interfaces/ILicenseRegistry.sol";
import {IDerivativeRegistry} from "../src/interfaces/IDerivativeRegistry.sol";

/// @dev Works, derive licences and derivatives shared by the derivative tests.
abstract contract DerivativeFixture is BaseTest {
    WorkRegistry internal works;
    LicenseRegistry internal licenses;
    DerivativeRegistry internal derivatives;

    address internal producer = makeAddr("producer");
    address internal studio = makeAddr("studio");
    address internal studioOperator = makeAddr("studioOperator");
    address internal stranger = makeAddr("stranger");

    uint64 internal constant T0 = 1_700_000_000;
    uint64 internal constant END = T0 + 365 days;
    uint32 internal constant STREAMING = 1 << 0;
    uint32 internal constant DERIVE = 1 << 4;
    uint8 internal constant RE_EDIT = 0;
    uint8 internal constant DUB = 1;
    uint8 internal constant REMAKE = 3;
    uint32 internal constant ALL_KINDS = (1 << 6) - 1;

    function _deploy() internal {
        vm.warp(T0);
        works = new WorkRegistry();
        licenses = new LicenseRegistry(works);
        derivatives = new DerivativeRegistry(works, licenses);
        vm.prank(studio);
        works.setOperator(studioOperator, true);
    }

    function _work(string memory name, address owner) internal returns (bytes32 id) {
        id = keccak256(bytes(name));
        vm.prank(owner);
        works.register(id, owner, bytes32(0), bytes32(0), "");
    }

    function _deriveScope() internal pure returns (ILicenseRegistry.Scope memory) {
        return ILicenseRegistry.Scope({
            territories: 1, rights: STREAMING | DERIVE, start: T0, end: END, exclusive: false, sublicensable: false
        });
    }

    function _terms(uint32 kinds, uint16 shareBps, uint128 minMicro)
        internal
        pure
        returns (ILicenseRegistry.DerivativeTerms memory)
    {
        return ILicenseRegistry.DerivativeTerms({kinds: kinds, shareBps: shareBps, minPerValidPlayMicro: minMicro});
    }

    /// @dev A derive licence on `parent` from its owner to `holder`.
    function _deriveLicence(bytes32 parent, address holder, uint32 kinds, uint16 shareBps)
        internal
        returns (uint256 id)
    {
        vm.prank(works.ownerOf(parent));
        id = licenses.grantWithDerivativeTerms(parent, holder, _deriveScope(), _terms(kinds, shareBps, 0));
    }

    function _one(bytes32 parent, uint256 licenseId, uint8 kind)
        internal
        pure
        returns (IDerivativeRegistry.Parent[] memory p)
    {
        p = new IDerivativeRegistry.Parent[](1);
        p[0] = IDerivativeRegistry.Parent({parentId: parent, licenseId: licenseId, kind: kind});
    }

    /// @dev Registers `child` (owned by `owner`) as a re-edit of `parent` under a fresh licence at `shareBps`.
    function _derive(bytes32 child, bytes32 parent, address owner, uint16 shareBps) internal {
        uint256 id = _deriveLicence(parent, owner, ALL_KINDS, shareBps);
        vm.prank(owner);
        derivatives.registerDerivative(child, _one(parent, id, RE_EDIT));
    }
}

contract LicenseDerivativeTermsTest is DerivativeFixture {
    bytes32 internal drama;

    function setUp() public {
        _deploy();
        drama = _work("drama", producer);
    }

    function test_GrantWithDerivativeTerms_StoresAndEmitsTerms() public {
        ILicenseRegistry.DerivativeTerms memory terms = _terms(uint32(1) << RE_EDIT | uint32(1) << DUB, 3000, 250);
        vm.expectEmit(true, true, true, true, address(licenses));
        emit ILicenseRegistry.LicenseDerivativeTermsSet(1, drama, terms);
        vm.prank(producer);
        uint256 id = licenses.grantWithDerivativeTerms(drama, studio, _deriveScope(), terms);
        ILicenseRegistry.DerivativeTerms memory stored = licenses.derivativeTerms(id);
        assertEq(stored.kinds, 3, "kinds");
        assertEq(stored.shareBps, 3000, "share");
        assertEq(stored.minPerValidPlayMicro, 250, "min");
        assertEq(licenses.getLicense(id).scope.rights, STREAMING | DERIVE, "rights");
    }

    function test_DerivativeTerms_ZeroForAnOrdinaryLicence() public {
        ILicenseRegistry.Scope memory scope = _deriveScope();
        scope.rights = STREAMING;
        vm.prank(producer);
        uint256 id = licenses.grant(drama, studio, scope);
        assertEq(licenses.derivativeTerms(id).kinds, 0, "no kinds");
    }

    function test_DerivativeTerms_Revert_WhenNotFound() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseNotFound.selector, 1));
        licenses.derivativeTerms(1);
    }

    function test_Grant_Revert_WhenDeriveWithoutTerms() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseDeriveWithoutTerms.selector, STREAMING | DERIVE));
        vm.prank(producer);
        licenses.grant(drama, studio, _deriveScope());
    }

    function test_GrantSublicense_Revert_WhenDerive() public {
        ILicenseRegistry.Scope memory scope = _deriveScope();
        scope.sublicensable = true;
        vm.prank(producer);
        uint256 root = licenses.grantWithDerivativeTerms(drama, studio, scope, _terms(1, 100, 0));
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseDeriveWithoutTerms.selector, STREAMING | DERIVE));
        vm.prank(studio);
        licenses.grantSublicense(root, stranger, _deriveScope());
    }

    function test_GrantWithDerivativeTerms_Revert_WhenNoDeriveRight() public {
        ILicenseRegistry.Scope memory scope = _deriveScope();
        scope.rights = STREAMING;
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseTermsWithoutDerive.selector, STREAMING));
        vm.prank(producer);
        licenses.grantWithDerivativeTerms(drama, studio, scope, _terms(1, 100, 0));
    }

    function test_GrantWithDerivativeTerms_Revert_WhenNoKind() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseInvalidDerivativeTerms.selector, 0, 100));
        vm.prank(producer);
        licenses.grantWithDerivativeTerms(drama, studio, _deriveScope(), _terms(0, 100, 0));
    }

    function test_GrantWithDerivativeTerms_Revert_WhenUnknownKind() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseInvalidDerivativeTerms.selector, 1 << 6, 100));
        vm.prank(producer);
        licenses.grantWithDerivativeTerms(drama, studio, _deriveScope(), _terms(1 << 6, 100, 0));
    }

    function test_GrantWithDerivativeTerms_Revert_WhenShareAboveWhole() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseInvalidDerivativeTerms.selector, 1, 10_001));
        vm.prank(producer);
        licenses.grantWithDerivativeTerms(drama, studio, _deriveScope(), _terms(1, 10_001, 0));
    }

    function test_GrantWithDerivativeTerms_Revert_WhenNotOwner() public {
        vm.expectRevert(abi.encodeWithSelector(ILicenseRegistry.LicenseUnauthorized.selector, 0, stranger));
        vm.prank(stranger);
        licenses.grantWithDerivativeTerms(drama, studio, _deriveScope(), _terms(1, 100, 0));
    }

    function testFuzz_GrantWithDerivativeTerms_AcceptsExactlyValidTerms(uint32 kinds, uint16 shareBps) public {
        bool valid = kinds != 0 && kinds & ~ALL_KINDS == 0 && shareBps <= 10_000;
        if (!valid) {
            vm.expectRevert(
                abi.encodeWithSelector(ILicenseRegistry.LicenseInvalidDerivativeTerms.selector, kinds, shareBps)
            );
        }
        vm.prank(producer);
        uint256 id = licenses.grantWithDerivativeTerms(drama, studio, _deriveScope(), _terms(kinds, shareBps, 7));
        if (valid) assertEq(licenses.derivativeTerms(id).shareBps, shareBps, "share stored");
    }
}

contract DerivativeRegistryTest is DerivativeFixture {
    bytes32 internal drama;
    bytes32 internal novel;
    bytes32 internal reEdit;

    function setUp() public {
        _deploy();
        drama = _work("drama", producer);
        novel = _work("novel", producer);
        reEdit = _work("re-edit", studio);
    }

    function _expectRevertRegister(bytes memory reason, bytes32 work, IDerivativeRegistry.Parent[] memory parents)
        internal
    {
        vm.expectRevert(reason);
        vm.prank(studio);
        derivatives.registerDerivative(work, parents);
    }

    function test_RegisterDerivative_RecordsEdgeTermsChildrenAndDepth() public {
        vm.prank(producer);
        uint256 id = licenses.grantWithDerivativeTerms(drama, studio, _deriveScope(), _terms(1, 3000, 40));
        vm.expectEmit(true, true, true, true, address(derivatives));
        emit IDerivativeRegistry.DerivativeParentAdded(reEdit, drama, id, RE_EDIT, 3000, 40, 0);
        vm.expectEmit(true, true, true, true, address(derivatives));
        emit IDerivativeRegistry.DerivativeRegistered(reEdit, 1, 1, studioOperator);
        vm.prank(studioOperator);
        derivatives.registerDerivative(reEdit, _one(drama, id, RE_EDIT));

        IDerivativeRegistry.ParentEdge[] memory edges = derivatives.parentsOf(reEdit);
        assertEq(edges.length, 1, "one parent");
        assertEq(edges[0].parentId, drama, "parent");
        assertEq(edges[0].licenseId, id, "licence");
        assertEq(edges[0].kind, RE_EDIT, "kind");
        assertEq(edges[0].terms.shareBps, 3000, "share");
        assertEq(edges[0].terms.minPerValidPlayMicro, 40, "min");
        assertEq(derivatives.childrenOf(drama).length, 1, "one child");
        assertEq(derivatives.childrenOf(drama)[0], reEdit, "child");
        assertEq(derivatives.depthOf(reEdit), 1, "depth");
        assertEq(derivatives.depthOf(drama), 0, "root depth");
    }

    function test_RegisterDerivative_SeveralParentsTakeTheDeepestDepth() public {
        bytes32 dub = _work("dub", producer);
        _derive(dub, drama, producer, 1000); // dub of the drama, depth 1
        uint256 a = _deriveLicence(dub, studio, uint32(1) << DUB, 2000);
        uint256 b = _deriveLicence(novel, studio, uint32(1) << REMAKE, 5000);
        IDerivativeRegistry.Parent[] memory p = new IDerivativeRegistry.Parent[](2);
        p[0] = IDerivativeRegistry.Parent({parentId: dub, licenseId: a, kind: DUB});
        p[1] = IDerivativeRegistry.Parent({parentId: novel, licenseId: b, kind: REMAKE});
        vm.prank(studio);
        derivatives.registerDerivative(reEdit, p);
        assertEq(derivatives.depthOf(reEdit), 2, "depth");
        assertEq(derivatives.parentsOf(reEdit)[1].terms.shareBps, 5000, "second share");
    }

    function test_RegisterDerivative_Revert_WhenWorkNotRegistered() public {
        bytes32 missing = keccak256("missing");
        uint256 id = _deriveLicence(drama, studio, 1, 100);
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeWorkNotRegistered.selector, missing),
            missing,
            _one(drama, id, RE_EDIT)
        );
    }

    function test_RegisterDerivative_Revert_WhenParentNotRegistered() public {
        bytes32 missing = keccak256("missing");
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeWorkNotRegistered.selector, missing),
            reEdit,
            _one(missing, 1, RE_EDIT)
        );
    }

    function test_RegisterDerivative_Revert_WhenCallerNotOwner() public {
        uint256 id = _deriveLicence(drama, studio, 1, 100);
        vm.expectRevert(abi.encodeWithSelector(IDerivativeRegistry.DerivativeUnauthorized.selector, reEdit, producer));
        vm.prank(producer);
        derivatives.registerDerivative(reEdit, _one(drama, id, RE_EDIT));
    }

    function test_RegisterDerivative_Revert_WhenNoParent() public {
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeInvalidParentCount.selector, 0, 4),
            reEdit,
            new IDerivativeRegistry.Parent[](0)
        );
    }

    function test_RegisterDerivative_Revert_WhenMoreThanFourParents() public {
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeInvalidParentCount.selector, 5, 4),
            reEdit,
            new IDerivativeRegistry.Parent[](5)
        );
    }

    function test_RegisterDerivative_Revert_WhenDuplicateParent() public {
        uint256 a = _deriveLicence(drama, studio, 1, 100);
        uint256 b = _deriveLicence(drama, studio, 1, 100);
        IDerivativeRegistry.Parent[] memory p = new IDerivativeRegistry.Parent[](2);
        p[0] = IDerivativeRegistry.Parent({parentId: drama, licenseId: a, kind: RE_EDIT});
        p[1] = IDerivativeRegistry.Parent({parentId: drama, licenseId: b, kind: RE_EDIT});
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeDuplicateParent.selector, drama), reEdit, p
        );
    }

    function test_RegisterDerivative_Revert_WhenSelfParent() public {
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeCycle.selector, reEdit, reEdit),
            reEdit,
            _one(reEdit, 1, RE_EDIT)
        );
    }

    function test_RegisterDerivative_Revert_WhenLicenceNotFound() public {
        _expectRevertRegister(
            abi.encodeWithSelector(ILicenseRegistry.LicenseNotFound.selector, 9), reEdit, _one(drama, 9, RE_EDIT)
        );
    }

    function test_RegisterDerivative_Revert_WhenLicenceOnAnotherWork() public {
        uint256 id = _deriveLicence(novel, studio, 1, 100);
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeLicenseNotOnParent.selector, id, drama, novel),
            reEdit,
            _one(drama, id, RE_EDIT)
        );
    }

    function test_RegisterDerivative_Revert_WhenLicenceHeldBySomeoneElse() public {
        uint256 id = _deriveLicence(drama, stranger, 1, 100);
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeLicenseNotHeld.selector, id, stranger, studio),
            reEdit,
            _one(drama, id, RE_EDIT)
        );
    }

    function test_RegisterDerivative_Revert_WhenLicenceRevoked() public {
        uint256 id = _deriveLicence(drama, studio, 1, 100);
        vm.prank(producer);
        licenses.revoke(id);
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeLicenseNotValid.selector, id),
            reEdit,
            _one(drama, id, RE_EDIT)
        );
    }

    function test_RegisterDerivative_Revert_WhenLicenceExpired() public {
        uint256 id = _deriveLicence(drama, studio, 1, 100);
        vm.warp(END);
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeLicenseNotValid.selector, id),
            reEdit,
            _one(drama, id, RE_EDIT)
        );
    }

    function test_RegisterDerivative_Revert_WhenLicenceWithoutDerive() public {
        ILicenseRegistry.Scope memory scope = _deriveScope();
        scope.rights = STREAMING;
        vm.prank(producer);
        uint256 id = licenses.grant(drama, studio, scope);
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeKindNotLicensed.selector, id, RE_EDIT, 0),
            reEdit,
            _one(drama, id, RE_EDIT)
        );
    }

    function test_RegisterDerivative_Revert_WhenKindNotAllowed() public {
        uint256 id = _deriveLicence(drama, studio, uint32(1) << DUB, 100);
        _expectRevertRegister(
            abi.encodeWithSelector(
                IDerivativeRegistry.DerivativeKindNotLicensed.selector, id, RE_EDIT, uint32(1) << DUB
            ),
            reEdit,
            _one(drama, id, RE_EDIT)
        );
    }

    function test_RegisterDerivative_Revert_WhenKindUnpublished() public {
        uint256 id = _deriveLicence(drama, studio, ALL_KINDS, 100);
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeKindNotLicensed.selector, id, 200, ALL_KINDS),
            reEdit,
            _one(drama, id, 200)
        );
    }

    function test_RegisterDerivative_Revert_WhenSharesExceedWhole() public {
        uint256 a = _deriveLicence(drama, studio, 1, 6000);
        uint256 b = _deriveLicence(novel, studio, 1, 4001);
        IDerivativeRegistry.Parent[] memory p = new IDerivativeRegistry.Parent[](2);
        p[0] = IDerivativeRegistry.Parent({parentId: drama, licenseId: a, kind: RE_EDIT});
        p[1] = IDerivativeRegistry.Parent({parentId: novel, licenseId: b, kind: RE_EDIT});
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeSharesExceedWhole.selector, 10_001), reEdit, p
        );
    }

    function test_RegisterDerivative_Revert_WhenTooDeep() public {
        bytes32 one = _work("one", producer);
        bytes32 two = _work("two", producer);
        bytes32 three = _work("three", producer);
        _derive(one, drama, producer, 100);
        _derive(two, one, producer, 100);
        _derive(three, two, producer, 100);
        assertEq(derivatives.depthOf(three), 3, "depth 3 allowed");
        uint256 id = _deriveLicence(three, studio, 1, 100);
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeTooDeep.selector, reEdit, 4, 3),
            reEdit,
            _one(three, id, RE_EDIT)
        );
    }

    function test_RegisterDerivative_Revert_WhenAlreadyHasParents() public {
        _derive(reEdit, drama, studio, 100);
        uint256 id = _deriveLicence(novel, studio, 1, 100);
        _expectRevertRegister(
            abi.encodeWithSelector(IDerivativeRegistry.DerivativeAlreadyHasParents.selector, reEdit),
            reEdit,
            _one(novel, id, RE_EDIT)
        );
    }

    function test_RegisterDerivative_Revert_WhenHasChildren() public {
        // the drama's producer holds a licence on the re-edit, then the re-edit derives from the drama's child:
        // declaring the drama's parents now would be refused before any cycle could form.
        bytes32 trailer = _work("trailer", producer);
        _derive(trailer, drama, producer, 100);
        uint256 id = _deriveLicence(trailer, producer, 1, 100);
        vm.expectRevert(abi.encodeWithSelector(IDerivativeRegistry.DerivativeHasChildren.selector, drama, 1));
        vm.prank(producer);
        derivatives.registerDerivative(drama, _one(trailer, id, RE_EDIT));
    }

    function test_RegisterDerivative_RevokedLicenceKeepsTheEdge() public {
        uint256 id = _deriveLicence(drama, studio, 1, 2500);
        vm.prank(studio);
        derivatives.registerDerivative(reEdit, _one(drama, id, RE_EDIT));
        vm.prank(producer);
        licenses.revoke(id);
        assertEq(derivatives.parentsOf(reEdit)[0].terms.shareBps, 2500, "edge and terms stay");
    }

    function testFuzz_RegisterDerivative_SharesUpToWholeAccepted(uint16 a, uint16 b) public {
        a = toUint16(bound(a, 0, 10_000));
        b = toUint16(bound(b, 0, 10_000));
        uint256 la = _deriveLicence(drama, studio, 1, a);
        uint256 lb = _deriveLicence(novel, studio, 1, b);
        IDerivativeRegistry.Parent[] memory p = new IDerivativeRegistry.Parent[](2);
        p[0] = IDerivativeRegistry.Parent({parentId: drama, licenseId: la, kind: RE_EDIT});
        p[1] = IDerivativeRegistry.Parent({parentId: novel, licenseId: lb, kind: RE_EDIT});
        uint256 total = uint256(a) + b;
        if (total > 10_000) {
            vm.expectRevert(abi.encodeWithSelector(IDerivativeRegistry.DerivativeSharesExceedWhole.selector, total));
        }
        vm.prank(studio);
        derivatives.registerDerivative(reEdit, p);
        assertEq(derivatives.parentsOf(reEdit).length, total > 10_000 ? 0 : 2, "edges only when within the whole");
    }
}
