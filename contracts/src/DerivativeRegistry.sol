// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {WorkRegistry} from "./WorkRegistry.sol";
import {LicenseRegistry} from "./LicenseRegistry.sol";
import {ILicenseRegistry} from "./interfaces/ILicenseRegistry.sol";
import {IDerivativeRegistry} from "./interfaces/IDerivativeRegistry.sol";

/**
 * @title DerivativeRegistry
 * @notice The graph of derivative works (re-edits, dubs, subtitles, remakes, trailers, compilations) and the licences
 * they were made under.
 *
 * The owner of a registered work (or one of its operators) declares its parents once, each with a root licence
 * from that parent's owner that the derivative's owner holds, that is valid now and whose upstream terms (see
 * {LicenseRegistry-grantWithDerivativeTerms}) allow the kind of derivative. The edge's terms are the licence's,
 * fixed when it was granted; revoking the licence later stops new derivatives under it but does not remove an edge.
 *
 * A work declares its parents only while nothing derives from it. A declaring work is therefore always a leaf, and
 * an edge from a leaf to other works cannot close a cycle: the graph stays acyclic without a search, and the depth of
 * a work (its longest path to a root) never changes after its declaration. Depth is bounded by {MAX_DEPTH} and each
 * work has at most {MAX_PARENTS} parents, so a settlement walking the ancestors of a work visits a bounded number.
 *
 * @dev This is a registry of its own rather than a part of {LicenseRegistry}: licences are about using a work, the
 * graph is about what a work is made of, and settlement reads the graph without the licence chain below it. Both
 * registries it consults are fixed at deployment and only read.
 */
contract DerivativeRegistry is IDerivativeRegistry {
    /// @dev A stored edge: two slots.
    struct Edge {
        bytes32 parentId; // slot 0
        uint64 licenseId; // slot 1
        uint8 kind;
    }

    /// @dev What the graph keeps of a work in one slot: how deep it is and how many parents it has.
    struct Node {
        uint8 depth;
        uint8 parentCount;
    }

    /// @notice Most parents a derivative may declare.
    uint8 public constant MAX_PARENTS = 4;

    /// @notice Deepest a derivative may be: the longest path from it to a work without parents.
    uint8 public constant MAX_DEPTH = 3;

    /// @dev Basis points in a whole.
    uint256 private constant _BPS = 10_000;

    /// @dev The registry of works and owners.
    WorkRegistry private immutable _works;

    /// @dev The registry of licences and their upstream terms.
    LicenseRegistry private immutable _licenses;

    /// @dev The depth and parent count of each work; zeroes for a work without parents.
    mapping(bytes32 workId => Node) private _nodes;

    /// @dev The declared parents of each derivative by position (`0 .. parentCount - 1`).
    mapping(bytes32 workId => mapping(uint256 position => Edge)) private _parents;

    /// @dev The derivatives of each work, in registration order.
    mapping(bytes32 workId => bytes32[]) private _children;

    /**
     * @param works_ The registry of works and owners.
     * @param licenses_ The registry of licences on the same works.
     */
    constructor(WorkRegistry works_, LicenseRegistry licenses_) {
        _works = works_;
        _licenses = licenses_;
    }

    /**
     * @notice Returns the registry of works and owners this registry defers to.
     * @return The address of the {WorkRegistry}.
     */
    function works() external view returns (address) {
        return address(_works);
    }

    /**
     * @notice Returns the registry of licences this registry defers to.
     * @return The address of the {LicenseRegistry}.
     */
    function licenses() external view returns (address) {
        return address(_licenses);
    }

    /**
     * @notice Declares the parents of a derivative. Only the derivative's owner or one of its operators may call
     * this, once, while nothing derives from the work yet.
     * @param workId The derivative, a registered work.
     * @param parents Its 1 to {MAX_PARENTS} distinct parents, each with the licence and the kind of derivative; the
     * parents' shares add up to at most 10,000 basis points and the derivative's depth to at most {MAX_DEPTH}.
     */
    function registerDerivative(bytes32 workId, Parent[] calldata parents) external {
        (address owner,) = _works.work(workId);
        if (owner == address(0)) revert DerivativeWorkNotRegistered(workId);
        if (owner != msg.sender && !_works.isOperator(owner, msg.sender)) {
            revert DerivativeUnauthorized(workId, msg.sender);
        }
        uint256 count = parents.length;
        if (count == 0 || count > MAX_PARENTS) revert DerivativeInvalidParentCount(count, MAX_PARENTS);
        if (_nodes[workId].parentCount != 0) revert DerivativeAlreadyHasParents(workId);
        uint256 childCount = _children[workId].length;
        if (childCount != 0) revert DerivativeHasChildren(workId, childCount);

        ILicenseRegistry.DerivativeTerms[] memory terms = new ILicenseRegistry.DerivativeTerms[](count);
        uint256 totalBps = 0;
        uint256 depth = 0;
        for (uint256 i; i < count; ++i) {
            (ILicenseRegistry.DerivativeTerms memory parentTerms, uint256 parentDepth) =
                _checkParent(workId, owner, parents, i);
            terms[i] = parentTerms;
            totalBps += parentTerms.shareBps;
            if (parentDepth + 1 > depth) depth = parentDepth + 1;
        }
        if (totalBps > _BPS) revert DerivativeSharesExceedWhole(totalBps);
        if (depth > MAX_DEPTH) revert DerivativeTooDeep(workId, depth, MAX_DEPTH);

        // casting to 'uint8' is safe because depth <= MAX_DEPTH and count <= MAX_PARENTS were checked above
        // forge-lint: disable-next-line(unsafe-typecast)
        Node memory node = Node({depth: uint8(depth), parentCount: uint8(count)});
        _nodes[workId] = node;
        _record(workId, parents, terms);
        emit DerivativeRegistered(workId, node.parentCount, node.depth, msg.sender);
    }

    /**
     * @notice Returns the parents of a work with the terms of the licence of each edge, in declaration order; empty
     * for a work without parents.
     * @param workId The work.
     * @return edges The parents.
     */
    function parentsOf(bytes32 workId) external view returns (ParentEdge[] memory edges) {
        mapping(uint256 position => Edge) storage stored = _parents[workId];
        uint256 count = _nodes[workId].parentCount;
        edges = new ParentEdge[](count);
        for (uint256 i; i < count; ++i) {
            Edge storage edge = stored[i];
            uint256 licenseId = edge.licenseId;
            edges[i] = ParentEdge({
                parentId: edge.parentId,
                licenseId: licenseId,
                kind: edge.kind,
                terms: _licenses.derivativeTerms(licenseId)
            });
        }
    }

    /**
     * @notice Returns the derivatives of a work, in registration order.
     * @param workId The work.
     * @return The derivatives.
     */
    function childrenOf(bytes32 workId) external view returns (bytes32[] memory) {
        return _children[workId];
    }

    /**
     * @notice Returns the depth of a work: zero without parents, else one more than its deepest parent's.
     * @param workId The work.
     * @return The depth.
     */
    function depthOf(bytes32 workId) external view returns (uint8) {
        return _nodes[workId].depth;
    }

    /**
     * @dev Checks `parents[i]` of `workId` (owned by `owner`): not the work itself, not named before, registered,
     * under a licence that allows it. Returns the licence's terms and the parent's depth.
     */
    function _checkParent(bytes32 workId, address owner, Parent[] calldata parents, uint256 i)
        private
        view
        returns (ILicenseRegistry.DerivativeTerms memory terms, uint256 parentDepth)
    {
        Parent calldata parent = parents[i];
        bytes32 parentId = parent.parentId;
        if (parentId == workId) revert DerivativeCycle(workId, parentId);
        for (uint256 j; j < i; ++j) {
            if (parents[j].parentId == parentId) revert DerivativeDuplicateParent(parentId);
        }
        (address parentOwner,) = _works.work(parentId);
        if (parentOwner == address(0)) revert DerivativeWorkNotRegistered(parentId);
        terms = _checkLicense(parent, owner);
        parentDepth = _nodes[parentId].depth;
    }

    /**
     * @dev Checks that `parent.licenseId` is a licence on `parent.parentId` held by `owner`, valid now, allowing
     * `parent.kind`, and returns its terms. A licence that does not exist reverts with
     * {ILicenseRegistry-LicenseNotFound} from the licence registry.
     */
    function _checkLicense(Parent calldata parent, address owner)
        private
        view
        returns (ILicenseRegistry.DerivativeTerms memory terms)
    {
        uint256 licenseId = parent.licenseId;
        ILicenseRegistry.License memory license = _licenses.getLicense(licenseId);
        if (license.workId != parent.parentId) {
            revert DerivativeLicenseNotOnParent(licenseId, parent.parentId, license.workId);
        }
        if (license.licensee != owner) revert DerivativeLicenseNotHeld(licenseId, license.licensee, owner);
        // casting to 'uint64' is safe because a block timestamp fits 64 bits for the next 500 billion years
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 now_ = uint64(block.timestamp);
        if (!_licenses.isValid(licenseId, now_)) revert DerivativeLicenseNotValid(licenseId);
        terms = _licenses.derivativeTerms(licenseId);
        // Shifting by 32 or more gives zero, so an unpublished kind is never allowed.
        uint8 kind = parent.kind;
        if (terms.kinds & (uint32(1) << kind) == 0) revert DerivativeKindNotLicensed(licenseId, kind, terms.kinds);
    }

    /// @dev Stores the checked edges and emits {DerivativeParentAdded} for each.
    function _record(bytes32 workId, Parent[] calldata parents, ILicenseRegistry.DerivativeTerms[] memory terms)
        private
    {
        uint256 count = parents.length;
        for (uint256 i; i < count; ++i) {
            Parent calldata parent = parents[i];
            bytes32 parentId = parent.parentId;
            // casting to 'uint64' is safe because the licence was found: ids count grants one by one from 1
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64 licenseId = uint64(parent.licenseId);
            _parents[workId][i] = Edge({parentId: parentId, licenseId: licenseId, kind: parent.kind});
            _children[parentId].push(workId);
            // casting to 'uint8' is safe because i < count <= MAX_PARENTS
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8 position = uint8(i);
            emit DerivativeParentAdded(
                workId,
                parentId,
                parent.licenseId,
                parent.kind,
                terms[i].shareBps,
                terms[i].minPerValidPlayMicro,
                position
            );
        }
    }
}
