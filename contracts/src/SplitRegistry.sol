// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {WorkRegistry} from "./WorkRegistry.sol";
import {ISplitRegistry} from "./interfaces/ISplitRegistry.sol";

/**
 * @title SplitRegistry
 * @notice Versioned revenue splits for works registered in a {WorkRegistry}.
 *
 * A split assigns each payee a share in basis points; the shares of a split sum to exactly 10,000. Splits are never
 * edited: changing a split adds a new version, numbered from 1 per work, that takes effect at `effectiveFrom`. A
 * work's first version may be in force from the start (`effectiveFrom` 0): it then also splits what the work earned
 * before it was set. Every later version takes effect when mined or later, never in the past nor before the previous
 * version, so the split in force at any past time can never change once a work has one. Every version stays
 * readable.
 */
contract SplitRegistry is ISplitRegistry {
    /// @notice Maximum number of payees in a split.
    uint256 public constant MAX_PAYEES = 64;

    /// @dev One payee and its share, packed into one storage slot.
    struct Share {
        address payee;
        uint16 bps;
    }

    /// @dev A split version: one header slot plus one slot per payee. The fixed-size array needs no length slot.
    struct Version {
        uint64 effectiveFrom;
        uint8 payeeCount;
        Share[MAX_PAYEES] shares;
    }

    /// @notice The sum that the shares of every split must reach, in basis points.
    uint256 public constant TOTAL_BPS = 10_000;

    /// @dev The registry of works and owners this registry defers to.
    WorkRegistry private immutable _works;

    /// @dev Number of split versions per work.
    mapping(bytes32 workId => uint32) private _versionCount;

    /// @dev Split versions per work, numbered from 1.
    mapping(bytes32 workId => mapping(uint32 version => Version)) private _versions;

    /**
     * @param works_ The registry of works and owners that decides who owns a work and who operates for whom.
     */
    constructor(WorkRegistry works_) {
        _works = works_;
    }

    /**
     * @notice Returns the registry of works and owners this registry defers to.
     * @return The address of the {WorkRegistry}.
     */
    function works() external view returns (address) {
        return address(_works);
    }

    /**
     * @notice Records a new split version for a work. Only the work owner or one of its operators may call this.
     * @dev Payees must be distinct non-zero addresses, each with a non-zero share, 1 to {MAX_PAYEES} of them, and the
     * shares must sum to exactly {TOTAL_BPS}. Payee order is kept as given and is part of the split hash.
     * @param workId The work.
     * @param payees The payees.
     * @param bps The share of each payee, in basis points, in the same order as `payees`.
     * @param effectiveFrom When the version takes effect, in Unix seconds. Zero means from the start for a work's
     * first version (recorded as 0: in force at every time) and when mined for every later one (recorded as the
     * block's timestamp). Any other value must not be before the current block nor before the previous version's
     * `effectiveFrom`.
     * @return version The new version number.
     */
    function setSplit(bytes32 workId, address[] calldata payees, uint16[] calldata bps, uint64 effectiveFrom)
        external
        returns (uint32 version)
    {
        (address owner,) = _works.work(workId);
        if (owner == address(0)) revert SplitWorkNotRegistered(workId);
        if (owner != msg.sender && !_works.isOperator(owner, msg.sender)) revert SplitUnauthorized(workId, msg.sender);
        _checkShares(payees, bps);

        uint32 previous = _versionCount[workId];
        if (effectiveFrom == 0) {
            // The first version: from the start. A later one: when mined, so that no past time changes its split.
            if (previous != 0) effectiveFrom = uint64(block.timestamp);
        } else if (effectiveFrom < block.timestamp) {
            revert SplitEffectiveInPast(effectiveFrom, uint64(block.timestamp));
        }
        if (previous != 0) {
            uint64 previousFrom = _versions[workId][previous].effectiveFrom;
            if (effectiveFrom < previousFrom) revert SplitEffectiveBeforePrevious(effectiveFrom, previousFrom);
        }

        version = previous + 1;
        _versionCount[workId] = version;
        Version storage v = _versions[workId][version];
        v.effectiveFrom = effectiveFrom;
        v.payeeCount = uint8(payees.length);
        for (uint256 i; i < payees.length; ++i) {
            v.shares[i] = Share(payees[i], bps[i]);
        }

        emit SplitVersionSet(workId, version, keccak256(abi.encode(payees, bps)), effectiveFrom, payees, bps);
    }

    /**
     * @notice Returns the number of split versions of a work; versions are numbered `1..splitVersionCount`.
     * @param workId The work.
     * @return The number of versions.
     */
    function splitVersionCount(bytes32 workId) external view returns (uint32) {
        return _versionCount[workId];
    }

    /**
     * @notice Returns a split version. Reverts with {SplitVersionNotFound} if it does not exist.
     * @param workId The work.
     * @param version The version number, from 1.
     * @return payees The payees, in the order given when the version was set.
     * @return bps The share of each payee, in basis points.
     * @return effectiveFrom When the version takes effect, in Unix seconds; 0 for a first version in force from the
     * start.
     * @return splitHash `keccak256(abi.encode(payees, bps))`, as emitted in {SplitVersionSet}.
     */
    function splitVersion(bytes32 workId, uint32 version)
        external
        view
        returns (address[] memory payees, uint16[] memory bps, uint64 effectiveFrom, bytes32 splitHash)
    {
        if (version == 0 || version > _versionCount[workId]) revert SplitVersionNotFound(workId, version);
        Version storage v = _versions[workId][version];
        uint256 count = v.payeeCount;
        payees = new address[](count);
        bps = new uint16[](count);
        for (uint256 i; i < count; ++i) {
            Share storage share = v.shares[i];
            payees[i] = share.payee;
            bps[i] = share.bps;
        }
        effectiveFrom = v.effectiveFrom;
        splitHash = keccak256(abi.encode(payees, bps));
    }

    /**
     * @notice Returns the split version in force at time `at`: the latest version whose `effectiveFrom <= at` (of
     * versions with equal `effectiveFrom`, the later one), or zero if none.
     * @dev Binary search; versions are ordered by `effectiveFrom`.
     * @param workId The work.
     * @param at The time, in Unix seconds.
     * @return version The version in force, or zero.
     */
    function splitVersionAt(bytes32 workId, uint64 at) external view returns (uint32 version) {
        mapping(uint32 => Version) storage versions = _versions[workId];
        uint32 high = _versionCount[workId];
        // Invariant: versions 1..version are in force by `at`, versions high+1.. are not.
        while (version < high) {
            uint32 mid = version + (high - version + 1) / 2;
            if (versions[mid].effectiveFrom <= at) version = mid;
            else high = mid - 1;
        }
    }

    /// @dev Validates the payee and share arrays.
    function _checkShares(address[] calldata payees, uint16[] calldata bps) private pure {
        uint256 count = payees.length;
        if (count != bps.length) revert SplitLengthMismatch(count, bps.length);
        if (count == 0 || count > MAX_PAYEES) revert SplitPayeeCount(count, MAX_PAYEES);
        uint256 sum = 0;
        for (uint256 i; i < count; ++i) {
            address payee = payees[i];
            if (payee == address(0)) revert SplitZeroAddress(i);
            if (bps[i] == 0) revert SplitZeroShare(i);
            for (uint256 j; j < i; ++j) {
                if (payees[j] == payee) revert SplitDuplicatePayee(payee);
            }
            sum += bps[i];
        }
        if (sum != TOTAL_BPS) revert SplitSharesSum(sum, TOTAL_BPS);
    }
}
