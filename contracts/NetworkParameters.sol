// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

/// @title NetworkParameters
/// @notice The governed parameters of the network, with their bounds enforced here. Its owner (the governance
/// timelock) schedules changes with `setParameters`; each call makes a new *version*. A version takes effect when
/// Settlement opens the next epoch (`activate`), so every epoch has exactly one version, fixed when it opens, and
/// every node reads the same values for it (`Settlement.parametersVersionOf(epoch)`, then `valuesAt(version)`).
///
/// Each parameter's history is a checkpoint trace keyed by version, so a change writes only the values it changes
/// and any version can be read back. See docs/governance.md for what each parameter does.
/// @dev What NetworkParameters reads of the stake, through the settlement contract it is wired to.
interface IStakeSource {
    function stakeManager() external view returns (IEligibleStake);
}

/// @dev StakeManager's eligible stake, as NetworkParameters bounds the minimum stake by it.
interface IEligibleStake {
    function totalEligibleStake() external view returns (uint256);
    function eligibleStakeAtLeast(uint256 amount) external view returns (uint256);
}

contract NetworkParameters is Ownable {
    using Checkpoints for Checkpoints.Trace224;

    /// @notice The governed parameters. The numeric value of each is its stable id (append only).
    enum Parameter {
        MinStake, //              smallest snapshot stake that makes a node eligible (token base units)
        UnbondingBlocks, //       blocks between requestUnbond and withdraw
        EpochLength, //           blocks per epoch
        CommitteeSize, //         expected epoch committee size C
        ReplicationK, //          default replicate policy: executors per task
        ReplicationQuorum, //     default replicate policy: matching reveals needed
        SampleRatePpm, //         default sample policy: audit probability, parts per million
        DissentSlashBps, //       share of its stake a node loses per dissenting reveal
        EquivocationSlashBps, //  share of an equivocator's bonded stake slashed
        ExecutorsBps, //          share of each fee paid to the agreeing executors (the treasury gets the rest)
        JailBlocks, //            how long a jail lasts
        MaxFuel, //               largest fuel limit a task may ask for
        MaxMemoryPages, //        largest memory limit a task may ask for (64 KiB pages)
        MaxProgramBytes, //       largest program
        MaxInputBytes, //         largest input
        MaxOutputBytes, //        largest output a task may ask for
        CommitWindowMs, //        time an executor has to commit
        RevealWindowMs, //        time executors have to reveal
        AuditRatePpm, //          default replicate policy: audit probability of unanimous seats, parts per million
        MinAuditPpm, //           lowest audit rate a replicated spec may ask for, parts per million
        MinFee //                 smallest fee a spec may offer (token base units): nodes refuse free work

    }

    /// @notice How many parameters there are (ids 0 to PARAMETER_COUNT - 1).
    uint256 public constant PARAMETER_COUNT = 21;

    uint256 private constant _BPS = 10_000;
    uint256 private constant _PPM = 1_000_000;

    address private immutable _deployer;
    address private _settlement;
    mapping(uint256 parameter => Checkpoints.Trace224) private _values;
    uint32 private _latestVersion;
    uint32 private _activeVersion;

    /// @notice `parameter` changes from `oldValue` to `newValue` in `version` (effective from the next epoch opened).
    event ParameterChanged(uint32 indexed version, uint8 indexed parameter, uint256 oldValue, uint256 newValue);
    /// @notice `version` is in effect from now on (the epoch that Settlement opened in this transaction).
    event ParametersActivated(uint32 indexed version);
    /// @notice The settlement contract, the only one that may activate versions, was set.
    event SettlementSet(address settlement);

    /// @notice `value` for `parameter` is outside `[min, max]`.
    error NetworkParametersOutOfBounds(uint8 parameter, uint256 value, uint256 min, uint256 max);
    /// @notice `parameter` is not a parameter id.
    error NetworkParametersUnknown(uint256 parameter);
    /// @notice `ids` and `values` differ in length, or are empty.
    error NetworkParametersBadLength(uint256 ids, uint256 values);
    /// @notice `parameter` appears twice in one change.
    error NetworkParametersDuplicate(uint8 parameter);
    /// @notice The quorum must be a strict majority of k and at most k.
    error NetworkParametersInvalidQuorum(uint256 quorum, uint256 k);
    /// @notice Unbonding must last at least two epochs, so penalties settle before stake leaves.
    error NetworkParametersUnbondingTooShort(uint256 unbondingBlocks, uint256 epochLength);
    /// @notice The default policy's audit rate is below the floor nodes enforce: no node would accept it.
    error NetworkParametersAuditBelowFloor(uint256 auditRatePpm, uint256 minAuditPpm);
    /// @notice `caller` may not call this function.
    error NetworkParametersUnauthorized(address caller);
    /// @notice The settlement contract was already set to `settlement`.
    error NetworkParametersSettlementAlreadySet(address settlement);
    /// @notice An address of zero was given.
    error NetworkParametersZeroAddress();
    /// @notice Version `version` does not exist yet (the latest is `latest`).
    error NetworkParametersUnknownVersion(uint32 version, uint32 latest);
    /// @notice A minimum stake of `minStake` would keep only `kept` of the `eligible` stake (at most a tenth may go).
    error NetworkParametersMinStakeExcludesStake(uint256 minStake, uint256 kept, uint256 eligible);

    /// @param owner_ Who may change parameters: the governance timelock.
    /// @param initial The value of every parameter, in id order; version 0, active until the first change.
    constructor(address owner_, uint256[] memory initial) Ownable(owner_) {
        if (initial.length != PARAMETER_COUNT) revert NetworkParametersBadLength(initial.length, PARAMETER_COUNT);
        _check(initial);
        for (uint256 i = 0; i < PARAMETER_COUNT; ++i) {
            _values[i].push(0, uint224(initial[i])); // bounded by _check, far below 2^224
        }
        _deployer = msg.sender;
    }

    /// @notice Sets the settlement contract, the only caller of `activate`. Callable once, by the deployer.
    function setSettlement(address settlement_) external {
        if (msg.sender != _deployer) revert NetworkParametersUnauthorized(msg.sender);
        if (_settlement != address(0)) revert NetworkParametersSettlementAlreadySet(_settlement);
        if (settlement_ == address(0)) revert NetworkParametersZeroAddress();
        _settlement = settlement_;
        emit SettlementSet(settlement_);
    }

    /// @notice Schedules new values for some parameters as a new version, effective from the next epoch opened.
    /// The whole resulting set must be within bounds and consistent (quorum vs k, unbonding vs epoch length).
    /// Only the owner (the governance timelock) may call it.
    /// @param ids The parameters to change, each at most once.
    /// @param values Their new values.
    /// @return version The new version.
    function setParameters(uint8[] calldata ids, uint256[] calldata values) external onlyOwner returns (uint32 version) {
        if (ids.length != values.length || ids.length == 0) revert NetworkParametersBadLength(ids.length, values.length);
        uint32 previous = _latestVersion;
        uint256[] memory next = valuesAt(previous);
        for (uint256 i = 0; i < ids.length; ++i) {
            uint8 id = ids[i];
            if (id >= PARAMETER_COUNT) revert NetworkParametersUnknown(id);
            for (uint256 j = 0; j < i; ++j) {
                if (ids[j] == id) revert NetworkParametersDuplicate(id);
            }
            next[id] = values[i];
        }
        _check(next);
        uint256 minStake = next[uint256(Parameter.MinStake)];
        if (minStake > _values[uint256(Parameter.MinStake)].latest()) _checkMinStakeRaise(minStake);
        version = previous + 1;
        _latestVersion = version;
        for (uint256 i = 0; i < ids.length; ++i) {
            uint8 id = ids[i];
            uint256 old = _values[id].latest();
            _values[id].push(version, uint224(values[i])); // bounded by _check
            emit ParameterChanged(version, id, old, values[i]);
        }
    }

    /// @notice Puts the latest version into effect. Called by Settlement when it opens an epoch.
    /// @return version The version in effect for that epoch.
    function activate() external returns (uint32 version) {
        if (msg.sender != _settlement || msg.sender == address(0)) revert NetworkParametersUnauthorized(msg.sender);
        version = _latestVersion;
        if (version != _activeVersion) {
            _activeVersion = version;
            emit ParametersActivated(version);
        }
    }

    /// @notice The value of `parameter` in `version`.
    function valueAt(Parameter parameter, uint32 version) public view returns (uint256) {
        if (version > _latestVersion) revert NetworkParametersUnknownVersion(version, _latestVersion);
        return _values[uint256(parameter)].upperLookupRecent(version);
    }

    /// @notice The value of `parameter` in effect now (the version of the latest opened epoch).
    function activeValue(Parameter parameter) external view returns (uint256) {
        return _values[uint256(parameter)].upperLookupRecent(_activeVersion);
    }

    /// @notice Every parameter's value in `version`, in id order.
    function valuesAt(uint32 version) public view returns (uint256[] memory values) {
        if (version > _latestVersion) revert NetworkParametersUnknownVersion(version, _latestVersion);
        values = new uint256[](PARAMETER_COUNT);
        for (uint256 i = 0; i < PARAMETER_COUNT; ++i) {
            values[i] = _values[i].upperLookupRecent(version);
        }
    }

    /// @notice The newest version (possibly not in effect yet).
    function latestVersion() external view returns (uint32) {
        return _latestVersion;
    }

    /// @notice The version in effect now: the one the latest opened epoch uses.
    function activeVersion() external view returns (uint32) {
        return _activeVersion;
    }

    /// @notice The settlement contract (zero until set).
    function settlement() external view returns (address) {
        return _settlement;
    }

    /// @notice The smallest and largest value `parameter` may take. Some are further bound by others: the quorum
    /// must be a strict majority of k, unbonding must last at least two epochs.
    function boundsOf(Parameter parameter) public pure returns (uint256 min, uint256 max) {
        if (parameter == Parameter.MinStake) return (1, 1e27); // 1e9 tokens of 18 decimals; a raise is also bounded by the stake it leaves out (_checkMinStakeRaise)
        if (parameter == Parameter.UnbondingBlocks) return (2, 10_000_000);
        if (parameter == Parameter.EpochLength) return (1, 1_000_000);
        // A third of the stake reaches the 2/3 threshold alone with probability < 4e-9 per epoch at
        // C = 128 (Poisson tail; docs/governance.md), against 2 % at C = 16.
        if (parameter == Parameter.CommitteeSize) return (128, 10_000);
        if (parameter == Parameter.ReplicationK) return (1, 16);
        if (parameter == Parameter.ReplicationQuorum) return (1, 16);
        if (parameter == Parameter.SampleRatePpm) return (1, _PPM);
        // Slashes stay below 100 %: at most half the stake per offence.
        if (parameter == Parameter.DissentSlashBps) return (0, _BPS / 2);
        if (parameter == Parameter.EquivocationSlashBps) return (0, _BPS / 2);
        if (parameter == Parameter.ExecutorsBps) return (0, _BPS);
        if (parameter == Parameter.JailBlocks) return (0, 10_000_000);
        if (parameter == Parameter.MaxFuel) return (1_000, 1e15);
        if (parameter == Parameter.MaxMemoryPages) return (1, 65_536);
        if (parameter == Parameter.MaxProgramBytes) return (1_024, 1 << 30);
        if (parameter == Parameter.MaxInputBytes) return (1, 1 << 30);
        if (parameter == Parameter.MaxOutputBytes) return (1, 1 << 30);
        if (parameter == Parameter.CommitWindowMs) return (100, 86_400_000);
        if (parameter == Parameter.RevealWindowMs) return (100, 86_400_000);
        // At least 1: a fee of 0 would let any key, with no deposit, have the network compute for free.
        if (parameter == Parameter.MinFee) return (1, 1e27);
        return (0, _PPM); // AuditRatePpm, MinAuditPpm
    }

    /// @dev Reverts unless every value is within its bounds and the set is consistent.
    /// @dev A raise of the minimum stake may leave out at most a tenth of the eligible stake as it is now (counted
    /// conservatively: `eligibleStakeAtLeast`), so no vote can take every node, or most of the honest stake, out of
    /// the committees. Unchecked before the settlement contract is wired, and on a network without eligible stake.
    function _checkMinStakeRaise(uint256 minStake) private view {
        if (_settlement == address(0)) return;
        IEligibleStake stakes = IStakeSource(_settlement).stakeManager();
        uint256 eligible = stakes.totalEligibleStake();
        if (eligible == 0) return;
        uint256 kept = stakes.eligibleStakeAtLeast(minStake);
        if (kept * 10 < eligible * 9) revert NetworkParametersMinStakeExcludesStake(minStake, kept, eligible);
    }

    function _check(uint256[] memory values) private pure {
        for (uint256 i = 0; i < PARAMETER_COUNT; ++i) {
            (uint256 min, uint256 max) = boundsOf(Parameter(i));
            if (values[i] < min || values[i] > max) {
                revert NetworkParametersOutOfBounds(SafeCast.toUint8(i), values[i], min, max);
            }
        }
        uint256 k = values[uint256(Parameter.ReplicationK)];
        uint256 quorum = values[uint256(Parameter.ReplicationQuorum)];
        if (quorum > k || quorum * 2 <= k) revert NetworkParametersInvalidQuorum(quorum, k);
        uint256 auditRate = values[uint256(Parameter.AuditRatePpm)];
        uint256 minAudit = values[uint256(Parameter.MinAuditPpm)];
        if (auditRate < minAudit) revert NetworkParametersAuditBelowFloor(auditRate, minAudit);
        uint256 unbonding = values[uint256(Parameter.UnbondingBlocks)];
        uint256 epochLength = values[uint256(Parameter.EpochLength)];
        if (unbonding < 2 * epochLength) revert NetworkParametersUnbondingTooShort(unbonding, epochLength);
    }
}
