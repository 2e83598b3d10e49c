// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ILicenseRegistry} from "./ILicenseRegistry.sol";

/**
 * @title IDerivativeRegistry
 * @notice The structs, events and errors of {DerivativeRegistry}, the graph of derivative works and the licences
 * they were made under.
 */
interface IDerivativeRegistry {
    /**
     * @notice One parent of a derivative, as declared.
     * @param parentId The parent work.
     * @param licenseId The root licence on the parent, held by the derivative's owner, that allows this derivative.
     * @param kind The kind of derivative: 0 re-edit, 1 dub, 2 subtitle, 3 remake, 4 trailer, 5 compilation.
     */
    struct Parent {
        bytes32 parentId;
        uint256 licenseId;
        uint8 kind;
    }

    /**
     * @notice One parent of a derivative as returned by {parentsOf}: the declared edge and the licence's terms.
     * @param parentId The parent work.
     * @param licenseId The licence the derivative was registered under.
     * @param kind The kind of derivative.
     * @param terms The licence's upstream terms (fixed when it was granted).
     */
    struct ParentEdge {
        bytes32 parentId;
        uint256 licenseId;
        uint8 kind;
        ILicenseRegistry.DerivativeTerms terms;
    }

    /**
     * @notice Emitted once per parent when a derivative is registered.
     * @param workId The derivative.
     * @param parentId The parent work.
     * @param licenseId The licence the edge was registered under.
     * @param kind The kind of derivative.
     * @param shareBps The parent's share of the derivative's earnings, in basis points (from the licence).
     * @param minPerValidPlayMicro The parent's minimum per valid play, in millionths of the minor unit.
     * @param position The parent's position in the declaration (0-based).
     */
    event DerivativeParentAdded(
        bytes32 indexed workId,
        bytes32 indexed parentId,
        uint256 indexed licenseId,
        uint8 kind,
        uint16 shareBps,
        uint128 minPerValidPlayMicro,
        uint8 position
    );

    /**
     * @notice Emitted after the edges of a derivative, once its parents are all recorded.
     * @param workId The derivative.
     * @param parentCount How many parents it has.
     * @param depth Its depth: one more than its deepest parent's (a work without parents has depth 0).
     * @param by The account that registered it (the owner or one of its operators).
     */
    event DerivativeRegistered(bytes32 indexed workId, uint8 parentCount, uint8 depth, address indexed by);

    /**
     * @notice The work (the derivative or a parent) is not registered.
     * @param workId The work.
     */
    error DerivativeWorkNotRegistered(bytes32 workId);

    /**
     * @notice The caller is neither the derivative's owner nor one of its operators.
     * @param workId The derivative.
     * @param account The caller.
     */
    error DerivativeUnauthorized(bytes32 workId, address account);

    /**
     * @notice A derivative needs between 1 and {MAX_PARENTS} parents.
     * @param count The number declared.
     * @param maxParents The maximum.
     */
    error DerivativeInvalidParentCount(uint256 count, uint256 maxParents);

    /**
     * @notice The same parent appears twice in one declaration.
     * @param parentId The repeated parent.
     */
    error DerivativeDuplicateParent(bytes32 parentId);

    /**
     * @notice The declaration would make a work its own ancestor. Since parents are declared only while a work has
     * no children, the only cycle a declaration can close is a work naming itself.
     * @param workId The derivative.
     * @param parentId The parent that closes the cycle.
     */
    error DerivativeCycle(bytes32 workId, bytes32 parentId);

    /**
     * @notice The licence is not a licence on the parent it was given for.
     * @param licenseId The licence.
     * @param parentId The parent it was given for.
     * @param licensedWorkId The work the licence is on.
     */
    error DerivativeLicenseNotOnParent(uint256 licenseId, bytes32 parentId, bytes32 licensedWorkId);

    /**
     * @notice The licence is held by someone other than the derivative's owner.
     * @param licenseId The licence.
     * @param licensee Its holder.
     * @param owner The derivative's owner.
     */
    error DerivativeLicenseNotHeld(uint256 licenseId, address licensee, address owner);

    /**
     * @notice The licence (or an ancestor) is revoked, or now is outside its window.
     * @param licenseId The licence.
     */
    error DerivativeLicenseNotValid(uint256 licenseId);

    /**
     * @notice The licence lacks the `derive` right, or its terms do not allow this kind.
     * @param licenseId The licence.
     * @param kind The requested kind.
     * @param allowedKinds The kinds the licence allows (zero without the `derive` right).
     */
    error DerivativeKindNotLicensed(uint256 licenseId, uint8 kind, uint32 allowedKinds);

    /**
     * @notice The parents' shares add up to more than the whole.
     * @param totalBps Their sum in basis points.
     */
    error DerivativeSharesExceedWhole(uint256 totalBps);

    /**
     * @notice The derivative would be deeper (longest path to a root) than {MAX_DEPTH}.
     * @param workId The derivative.
     * @param depth The depth it would have.
     * @param maxDepth The maximum.
     */
    error DerivativeTooDeep(bytes32 workId, uint256 depth, uint8 maxDepth);

    /**
     * @notice The work's parents have already been declared.
     * @param workId The derivative.
     */
    error DerivativeAlreadyHasParents(bytes32 workId);

    /**
     * @notice Something already derives from the work: its parents can no longer be declared.
     * @param workId The work.
     * @param childCount How many derivatives it has.
     */
    error DerivativeHasChildren(bytes32 workId, uint256 childCount);
}
