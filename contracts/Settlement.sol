// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {BLS12381} from "./BLS12381.sol";
import {Escrow} from "./Escrow.sol";
import {NetworkParameters} from "./NetworkParameters.sol";
import {StakeManager} from "./StakeManager.sol";

/// @title Settlement
/// @notice Settles one batch per epoch, in order, with O(non-signers + penalties) work: the batch commits to a Merkle
/// root of the epoch's task outcomes (for receipts) and a Merkle root of cumulative balances (for Escrow's pull
/// payments), and carries the few penalties (slash, jail) to apply. A batch is accepted when committee members
/// holding at least 2/3 of the signing stake at the epoch's snapshot signed its EIP-712 digest.
///
/// The committee is the signing set of the snapshot (StakeManager): every node with eligible stake and a registered
/// BLS key. Members sign the digest with BLS12-381 and the aggregator sums their signatures into one; the batch names
/// the members who did not sign. The contract takes the snapshot's aggregate key, subtracts the non-signers' keys and
/// stake, and checks the one aggregate signature with one pairing: constant gas for any committee size, plus O(1)
/// (one key read, one G1 addition) per non-signer. Eligible stake is the stake that can sign: jailed nodes and nodes
/// below the minimum stake count neither towards the signers nor towards the total, so jails and slashes never put
/// the threshold out of the honest members' reach. The governed committee size no longer selects members (an
/// aggregate key is of a fixed set, so the committee is the whole signing set); it is still recorded per epoch.
///
/// Epoch seeds come from the chain: `openEpoch` mixes `block.prevrandao` and the previous block hash, and fixes the
/// stake snapshot at the previous block. Both are public once the epoch is opened, so a ticket is known in advance;
/// the snapshot block is fixed before the seed exists. Whoever opens the epoch chooses the block (within the
/// liveness window the nodes tolerate) and a block producer can bias prevrandao by withholding a block: see
/// docs/economics.md for what that buys an attacker.
///
/// The governed parameters (NetworkParameters) change only at epoch boundaries: `openEpoch` puts the latest version
/// into effect and records it for the epoch, together with the committee size this contract uses for that epoch. Epochs are opened in order, so a new epoch length starts at the epoch that first uses it.
contract Settlement is EIP712 {
    /// @notice A penalty applied with a batch: up to `slashAmount` of `node`'s stake goes to the treasury, and the
    /// node is jailed until `jailUntilBlock` (no jail when 0).
    struct Penalty {
        address node;
        uint256 slashAmount;
        uint64 jailUntilBlock;
    }

    /// @notice What the committee signs for an epoch. `totalRewards + treasuryAmount == totalFees`. The treasury's
    /// share is paid like any other earning: through the treasury's leaf in the balances tree. `round` numbers the
    /// attempts to settle the epoch: a member signs at most one batch per round, and may sign a later round's batch
    /// when an earlier round did not gather the committee (any round's batch may settle the epoch, once).
    struct EpochBatch {
        uint64 epoch;
        uint32 round;
        bytes32 outcomesRoot;
        bytes32 balancesRoot;
        uint32 taskCount;
        uint256 totalFees;
        uint256 totalRewards;
        uint256 treasuryAmount;
        Penalty[] penalties;
    }

    /// @dev A per-epoch record, fixed by `openEpoch`: the sortition seed, the stake snapshot block, the version of
    /// the governed parameters, and the one of them the committee check needs (one storage slot besides the seed).
    struct EpochInfo {
        bytes32 seed;
        uint64 snapshotBlock;
        bool opened;
        uint32 parametersVersion;
        uint32 committeeSize;
    }

    /// @dev The signing set of an epoch's snapshot, pinned when the epoch opens: its total signing stake and the
    /// version of its aggregate key in StakeManager (one slot, read by every batch check without a history search).
    struct SigningSet {
        uint48 keyVersion;
        uint208 totalStake;
    }

    /// @dev Epoch `firstEpoch` starts at `startBlock`, and the epochs after it follow every `length` blocks (until
    /// the next clock).
    struct EpochClock {
        uint64 firstEpoch;
        uint64 startBlock;
        uint64 length;
    }

    /// @notice The EIP-712 type hash of `EpochBatch`; penalties enter as `penaltiesHash = keccak256(abi.encode(penalties))`.
    bytes32 public constant EPOCH_BATCH_TYPEHASH = keccak256(
        "EpochBatch(uint64 epoch,uint32 round,bytes32 outcomesRoot,bytes32 balancesRoot,uint32 taskCount,uint256 totalFees,"
        "uint256 totalRewards,uint256 treasuryAmount,bytes32 penaltiesHash)"
    );

    uint256 private constant _BPS = 10_000;

    StakeManager private immutable _stakeManager;
    Escrow private immutable _escrow;
    NetworkParameters private immutable _parameters;
    address private immutable _treasury;

    EpochClock[] private _clocks;
    /// @dev The next epoch `openEpoch` accepts.
    uint64 private _nextEpochToOpen;

    mapping(uint64 epoch => EpochInfo) private _epochs;
    mapping(uint64 epoch => SigningSet) private _signingSets;
    mapping(uint64 epoch => bytes32) private _outcomesRoots;
    mapping(uint64 epoch => bytes32) private _settledBatchDigests;
    mapping(uint64 epoch => mapping(address node => bool)) private _equivocationPunished;
    bytes32 private _balancesRoot;
    uint64 private _settledEpochCount;

    /// @notice Epoch `epoch` was opened: its sortition `seed` and stake `snapshotBlock` are fixed, and its committee is
    /// the snapshot's signing set, of `signingStake` in total with aggregate key `aggregateKeyVersion` (StakeManager).
    event EpochOpened(
        uint64 indexed epoch, bytes32 seed, uint64 snapshotBlock, uint256 signingStake, uint256 aggregateKeyVersion
    );
    /// @notice The batch of `epoch` was settled with one aggregate signature worth `signedStake` of the signing stake;
    /// `nonSignerCount` committee members did not sign.
    event BatchSettled(
        uint64 indexed epoch,
        bytes32 outcomesRoot,
        bytes32 balancesRoot,
        uint32 taskCount,
        uint256 totalFees,
        uint256 signedStake,
        uint256 nonSignerCount
    );
    /// @notice A penalty of `epoch`'s batch was applied: `slashed` (of `slashAmount` asked) taken, jailed until
    /// `jailUntilBlock` (0: not jailed).
    event PenaltyApplied(
        uint64 indexed epoch, address indexed node, uint256 slashAmount, uint256 slashed, uint64 jailUntilBlock
    );
    /// @notice `signer` signed two different batches for `epoch`; `slashed` of its stake went to the treasury.
    event EquivocationProven(uint64 indexed epoch, address indexed signer, uint256 slashed);

    /// @notice A constructor argument was zero or out of range.
    error SettlementInvalidParameters();
    /// @notice The next epoch to settle is `expected`, the batch is for `got`.
    error SettlementWrongEpoch(uint64 expected, uint64 got);
    /// @notice Epoch `epoch` has not been opened.
    error SettlementEpochNotOpened(uint64 epoch);
    /// @notice Epoch `epoch` was opened already.
    error SettlementEpochAlreadyOpened(uint64 epoch);
    /// @notice Epoch `epoch` starts at block `startBlock`.
    error SettlementEpochNotStarted(uint64 epoch, uint256 startBlock);
    /// @notice Epoch `epoch` runs until block `endBlock`: its batch can only settle from then on.
    error SettlementEpochNotEnded(uint64 epoch, uint256 endBlock);
    /// @notice Epochs open in order: the next to open is `expected`, not `got`.
    error SettlementEpochOutOfOrder(uint64 expected, uint64 got);
    /// @notice No epoch has been settled yet.
    error SettlementNoEpochSettled();
    /// @notice `totalRewards + treasuryAmount != totalFees`.
    error SettlementUnbalanced(uint256 totalFees, uint256 totalRewards, uint256 treasuryAmount);
    /// @notice Non-signers must be strictly increasing by address (which also rules out duplicates).
    error SettlementNonSignersNotSorted();
    /// @notice `node` is not a member of the epoch's committee (no signing stake at the snapshot).
    error SettlementNotCommitteeMember(address node);
    /// @notice The signers' stake `signed` is below the `required` 2/3 of the signing stake at the snapshot.
    error SettlementInsufficientSignatures(uint256 signed, uint256 required);
    /// @notice The aggregate signature does not verify against the signers' aggregate key (or is not a G2 point).
    error SettlementInvalidSignature();
    /// @notice The two batches are not two different batches of one epoch signed by one signer.
    error SettlementNotEquivocation();
    /// @notice `signer` was already punished for equivocating in `epoch`.
    error SettlementAlreadyPunished(uint64 epoch, address signer);

    /// @param stakeManager_ The stake manager (must accept this contract as its settlement).
    /// @param escrow_ The escrow (reads `balancesRoot` from this contract).
    /// @param treasury_ The receiver of slashed stake.
    /// @param parameters_ The governed parameters; the epoch length in effect now is epoch 0's.
    constructor(StakeManager stakeManager_, Escrow escrow_, address treasury_, NetworkParameters parameters_)
        EIP712("veritask", "1")
    {
        if (
            address(stakeManager_) == address(0) || address(escrow_) == address(0) || treasury_ == address(0)
                || address(parameters_) == address(0)
        ) revert SettlementInvalidParameters();
        _stakeManager = stakeManager_;
        _escrow = escrow_;
        _treasury = treasury_;
        _parameters = parameters_;
        uint256 length = parameters_.activeValue(NetworkParameters.Parameter.EpochLength);
        _clocks.push(EpochClock(0, SafeCast.toUint64(block.number), SafeCast.toUint64(length)));
    }

    /// @notice Opens `epoch` once its first block has come: fixes the sortition seed from the chain's randomness, the
    /// stake snapshot at the previous block, and the governed parameters (the latest version, put into effect now).
    /// Anyone may call it, once per epoch, in order.
    /// @param epoch The epoch to open.
    function openEpoch(uint64 epoch) external {
        EpochInfo storage info = _epochs[epoch];
        if (info.opened) revert SettlementEpochAlreadyOpened(epoch);
        uint256 start = epochStart(epoch);
        if (block.number < start) revert SettlementEpochNotStarted(epoch, start);
        if (epoch != _nextEpochToOpen) revert SettlementEpochOutOfOrder(_nextEpochToOpen, epoch);
        unchecked {
            // epoch < type(uint64).max: an epoch that large could never have started.
            _nextEpochToOpen = epoch + 1;
        }
        uint256 snapshotBlock = block.number - 1;
        bytes32 seed = keccak256(abi.encode(block.prevrandao, blockhash(snapshotBlock), epoch));
        uint32 version = _parameters.activate();
        (uint256 signingStake, uint256 keyVersion) = _stakeManager.signingSetAt(snapshotBlock);
        // Both are checkpointed as uint208 in StakeManager; versions count blocks, far below 2^48.
        _signingSets[epoch] = SigningSet(SafeCast.toUint48(keyVersion), uint208(signingStake));
        info.seed = seed;
        info.snapshotBlock = SafeCast.toUint64(snapshotBlock);
        info.opened = true;
        info.parametersVersion = version;
        // Bounded by NetworkParameters (committee size <= 10,000).
        info.committeeSize = uint32(_parameters.valueAt(NetworkParameters.Parameter.CommitteeSize, version));
        // A new epoch length applies from this epoch on: its start is fixed, its end moves.
        uint256 length = _parameters.valueAt(NetworkParameters.Parameter.EpochLength, version);
        EpochClock storage last = _clocks[_clocks.length - 1];
        if (length != last.length) {
            _clocks.push(EpochClock(epoch, SafeCast.toUint64(start), SafeCast.toUint64(length)));
        }
        emit EpochOpened(epoch, seed, uint64(snapshotBlock), signingStake, keyVersion);
    }

    /// @notice Settles the batch of the next epoch once it has ended, signed by committee members holding at least 2/3
    /// of the signing stake at the snapshot, and applies its penalties. Anyone may submit it.
    /// @param batch The epoch batch.
    /// @param signature The aggregate BLS signature (EIP-2537 G2) of `batchDigest(batch)` by every committee member
    /// not in `nonSigners`.
    /// @param nonSigners The committee members who did not sign, by strictly increasing address.
    function submitBatch(
        EpochBatch calldata batch,
        BLS12381.G2Point calldata signature,
        address[] calldata nonSigners
    ) external {
        uint64 epoch = batch.epoch;
        uint64 expected = _settledEpochCount;
        if (epoch != expected) revert SettlementWrongEpoch(expected, epoch);
        if (!_epochs[epoch].opened) revert SettlementEpochNotOpened(epoch);
        // The epoch's own clock (recorded when it opened) gives its end: the next epoch's start.
        uint256 end = epochStart(epoch + 1);
        if (block.number < end) revert SettlementEpochNotEnded(epoch, end);
        if (batch.totalRewards > batch.totalFees || batch.totalFees - batch.totalRewards != batch.treasuryAmount) {
            revert SettlementUnbalanced(batch.totalFees, batch.totalRewards, batch.treasuryAmount);
        }
        bytes32 digest = _batchDigest(batch);
        uint256 signedStake = _checkAggregate(epoch, digest, signature, nonSigners);

        _outcomesRoots[epoch] = batch.outcomesRoot;
        _settledBatchDigests[epoch] = digest;
        _balancesRoot = batch.balancesRoot;
        unchecked {
            // epoch == _settledEpochCount < type(uint64).max: an epoch that large could never have started.
            _settledEpochCount = epoch + 1;
        }
        emit BatchSettled(
            epoch, batch.outcomesRoot, batch.balancesRoot, batch.taskCount, batch.totalFees, signedStake, nonSigners.length
        );
        _applyPenalties(epoch, batch.penalties);
    }

    /// @notice Punishes a committee member that signed two different batches for one round of one epoch: the epoch's
    /// governed `EquivocationSlashBps` of its bonded stake (active + unbonding) goes to the treasury and it is jailed for
    /// the epoch's `JailBlocks`. Anyone may prove it; the prover gets nothing, so a node cannot soften its own slash by
    /// reporting itself. Membership is judged at the epoch's snapshot, as for batches: a jail since then is no excuse.
    /// @param a One batch.
    /// @param sigA `signer`'s BLS signature (EIP-2537 G2) of `a`.
    /// @param b Another batch of the same epoch and round.
    /// @param sigB `signer`'s BLS signature of `b`.
    /// @param signer The committee member.
    /// @return slashed The amount slashed.
    function proveEquivocation(
        EpochBatch calldata a,
        BLS12381.G2Point calldata sigA,
        EpochBatch calldata b,
        BLS12381.G2Point calldata sigB,
        address signer
    ) external returns (uint256 slashed) {
        uint64 epoch = a.epoch;
        bytes32 digestA = _batchDigest(a);
        bytes32 digestB = _batchDigest(b);
        if (b.epoch != epoch || b.round != a.round || digestA == digestB) revert SettlementNotEquivocation();
        if (_equivocationPunished[epoch][signer]) revert SettlementAlreadyPunished(epoch, signer);
        EpochInfo storage info = _epochs[epoch];
        if (!info.opened) revert SettlementNotCommitteeMember(signer);
        (uint256 stake, BLS12381.G1Point memory key) = _stakeManager.signingKeyAt(signer, info.snapshotBlock);
        if (stake == 0) revert SettlementNotCommitteeMember(signer);
        if (
            !BLS12381.verify(key, abi.encodePacked(digestA), sigA)
                || !BLS12381.verify(key, abi.encodePacked(digestB), sigB)
        ) revert SettlementNotEquivocation();

        _equivocationPunished[epoch][signer] = true;
        uint32 version = info.parametersVersion;
        uint256 slashBps = _parameters.valueAt(NetworkParameters.Parameter.EquivocationSlashBps, version);
        uint256 jailBlocks_ = _parameters.valueAt(NetworkParameters.Parameter.JailBlocks, version);
        (uint256 unbonding,) = _stakeManager.unbondingOf(signer);
        uint256 bonded = _stakeManager.stakeOf(signer) + unbonding;
        slashed = _stakeManager.slash(signer, Math.mulDiv(bonded, slashBps, _BPS), _treasury);
        if (jailBlocks_ > 0) _stakeManager.jail(signer, SafeCast.toUint64(block.number + jailBlocks_));
        emit EquivocationProven(epoch, signer, slashed);
    }

    /// @notice The committee weight of `node` in `epoch`: its signing stake at the snapshot (0 when the epoch is not
    /// opened or it is not in the signing set then). Fixed once the epoch opens.
    /// @param epoch The epoch (must be opened for a non-zero weight).
    /// @param node The node.
    function committeeWeight(uint64 epoch, address node) external view returns (uint256 weight) {
        EpochInfo storage info = _epochs[epoch];
        if (!info.opened) return 0;
        return _stakeManager.signingStakeAt(node, info.snapshotBlock);
    }

    /// @notice The committee weight a batch of `epoch` needs: ceil(2/3 × signing stake at the snapshot) (0 if not
    /// opened).
    function requiredWeight(uint64 epoch) external view returns (uint256) {
        EpochInfo storage info = _epochs[epoch];
        if (!info.opened) return 0;
        return _requiredWeight(_signingSets[epoch].totalStake);
    }

    /// @notice The aggregate BLS key of `epoch`'s committee (all zeros if not opened or empty).
    function aggregateKeyOf(uint64 epoch) external view returns (BLS12381.G1Point memory) {
        EpochInfo storage info = _epochs[epoch];
        if (!info.opened) return BLS12381.G1Point(0, 0, 0, 0);
        return _stakeManager.aggregateKeyOfVersion(_signingSets[epoch].keyVersion);
    }

    /// @notice Whether an outcome leaf `(taskId, resultHash, status, executors)` is in the settled outcomes root of
    /// `epoch`. The leaf is hashed like OpenZeppelin's StandardMerkleTree over
    /// `['bytes32','bytes32','uint8','address[]']`. Status: 0 verified, 1 failed, 2 unresolved.
    /// @return False when the epoch is not settled or the proof does not hold.
    function verifyReceipt(
        uint64 epoch,
        bytes32 taskId,
        bytes32 resultHash,
        uint8 status,
        address[] calldata executors,
        bytes32[] calldata proof
    ) external view returns (bool) {
        if (epoch >= _settledEpochCount) return false;
        return MerkleProof.verifyCalldata(proof, _outcomesRoots[epoch], outcomeLeaf(taskId, resultHash, status, executors));
    }

    /// @notice The leaf hash of a task outcome, as OpenZeppelin's StandardMerkleTree computes it.
    function outcomeLeaf(bytes32 taskId, bytes32 resultHash, uint8 status, address[] calldata executors)
        public
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(taskId, resultHash, status, executors))));
    }

    /// @notice The EIP-712 digest committee members sign for `batch`.
    function batchDigest(EpochBatch calldata batch) external view returns (bytes32) {
        return _batchDigest(batch);
    }

    /// @notice The `penaltiesHash` field of the signed struct: `keccak256(abi.encode(penalties))`.
    function penaltiesHash(Penalty[] calldata penalties) external pure returns (bytes32) {
        return _penaltiesHash(penalties);
    }

    /// @notice The first block of `epoch`. For epochs not opened yet, as the epoch length in effect now predicts.
    function epochStart(uint64 epoch) public view returns (uint256) {
        // Clocks are few (one per change of the epoch length); the newest is the one that matters almost always.
        uint256 i = _clocks.length - 1;
        while (_clocks[i].firstEpoch > epoch) --i; // _clocks[0].firstEpoch == 0 stops it
        EpochClock storage c = _clocks[i];
        return uint256(c.startBlock) + uint256(epoch - c.firstEpoch) * c.length;
    }

    /// @notice The epoch the current block belongs to (as `epochStart` predicts for epochs not opened yet).
    function currentEpoch() external view returns (uint64) {
        uint256 i = _clocks.length - 1;
        while (_clocks[i].startBlock > block.number) --i; // _clocks[0] starts at deployment
        EpochClock storage c = _clocks[i];
        return SafeCast.toUint64(c.firstEpoch + (block.number - c.startBlock) / c.length);
    }

    /// @notice Whether `epoch` has been opened.
    function isEpochOpened(uint64 epoch) external view returns (bool) {
        return _epochs[epoch].opened;
    }

    /// @notice The sortition seed of `epoch` (zero until opened).
    function seedOf(uint64 epoch) external view returns (bytes32) {
        return _epochs[epoch].seed;
    }

    /// @notice The stake snapshot block of `epoch` (zero until opened).
    function snapshotBlockOf(uint64 epoch) external view returns (uint64) {
        return _epochs[epoch].snapshotBlock;
    }

    /// @notice How many epochs are settled, which is also the next epoch to settle.
    function settledEpochCount() external view returns (uint64) {
        return _settledEpochCount;
    }

    /// @notice The latest settled epoch. Reverts with `SettlementNoEpochSettled` before the first; see
    /// `settledEpochCount`.
    function lastSettledEpoch() external view returns (uint64) {
        uint64 count = _settledEpochCount;
        if (count == 0) revert SettlementNoEpochSettled();
        unchecked {
            // count > 0.
            return count - 1;
        }
    }

    /// @notice Whether `epoch` is settled.
    function isEpochSettled(uint64 epoch) external view returns (bool) {
        return epoch < _settledEpochCount;
    }

    /// @notice The cumulative-balance root of the latest settled epoch (zero before the first).
    function balancesRoot() external view returns (bytes32) {
        return _balancesRoot;
    }

    /// @notice The outcomes root of `epoch` (zero until settled).
    function outcomesRootOf(uint64 epoch) external view returns (bytes32) {
        return _outcomesRoots[epoch];
    }

    /// @notice The digest of the batch settled for `epoch` (zero until settled).
    function settledBatchDigestOf(uint64 epoch) external view returns (bytes32) {
        return _settledBatchDigests[epoch];
    }

    /// @notice Whether `node` was punished for equivocating in `epoch`.
    function isEquivocationPunished(uint64 epoch, address node) external view returns (bool) {
        return _equivocationPunished[epoch][node];
    }

    /// @notice The stake manager.
    function stakeManager() external view returns (StakeManager) {
        return _stakeManager;
    }

    /// @notice The escrow.
    function escrow() external view returns (Escrow) {
        return _escrow;
    }

    /// @notice The governed parameters.
    function parameters() external view returns (NetworkParameters) {
        return _parameters;
    }

    /// @notice The version of the governed parameters `epoch` uses (0 until opened; see `isEpochOpened`).
    function parametersVersionOf(uint64 epoch) external view returns (uint32) {
        return _epochs[epoch].parametersVersion;
    }

    /// @notice The next epoch `openEpoch` accepts.
    function nextEpochToOpen() external view returns (uint64) {
        return _nextEpochToOpen;
    }

    /// @notice The receiver of slashed stake.
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @notice Blocks per epoch, for the latest opened epoch and those after it (until a change takes effect).
    function epochLength() external view returns (uint64) {
        return _clocks[_clocks.length - 1].length;
    }

    /// @notice The governed committee size `C` in effect for `epoch` (0 until opened). Recorded only: the committee is
    /// the whole signing set, which one aggregate key covers.
    function committeeSizeOf(uint64 epoch) external view returns (uint32) {
        return _epochs[epoch].committeeSize;
    }

    /// @notice The block this contract was deployed in; epoch 0 starts there.
    function genesisBlock() external view returns (uint64) {
        return _clocks[0].startBlock;
    }

    /// @dev Reverts unless `signature` is the aggregate signature of `digest` by the signing set of `snapshotBlock`
    /// less `nonSigners` (sorted members), and the signers hold at least 2/3 of the signing stake. Returns their stake.
    function _checkAggregate(
        uint64 epoch,
        bytes32 digest,
        BLS12381.G2Point calldata signature,
        address[] calldata nonSigners
    ) private view returns (uint256 signed) {
        SigningSet memory set = _signingSets[epoch];
        uint256 totalStake = set.totalStake;
        (uint256 unsigned, BLS12381.G1Point memory key) =
            _signersKey(_epochs[epoch].snapshotBlock, _stakeManager.aggregateKeyOfVersion(set.keyVersion), nonSigners);
        // Each non-signer's stake is part of the total at the snapshot, and they are distinct: no underflow.
        signed = totalStake - unsigned;
        uint256 required = _requiredWeight(totalStake);
        if (signed < required || signed == 0) revert SettlementInsufficientSignatures(signed, required);
        if (!BLS12381.verify(key, abi.encodePacked(digest), signature)) revert SettlementInvalidSignature();
    }

    /// @dev `key` (the snapshot's aggregate key) less the keys of `nonSigners` (sorted members), and their total stake.
    function _signersKey(uint64 snapshotBlock, BLS12381.G1Point memory aggregate, address[] calldata nonSigners)
        private
        view
        returns (uint256 unsigned, BLS12381.G1Point memory key)
    {
        key = aggregate;
        address previous;
        for (uint256 i = 0; i < nonSigners.length; ++i) {
            address node = nonSigners[i];
            if (node <= previous) revert SettlementNonSignersNotSorted();
            previous = node;
            (uint256 stake, BLS12381.G1Point memory nodeKey) = _stakeManager.signingKeyAt(node, snapshotBlock);
            if (stake == 0) revert SettlementNotCommitteeMember(node);
            unsigned += stake;
            key = BLS12381.add(key, BLS12381.negate(nodeKey));
        }
    }

    /// @dev Applies a settled batch's penalties; each call goes to the trusted StakeManager.
    function _applyPenalties(uint64 epoch, Penalty[] calldata penalties) private {
        for (uint256 i = 0; i < penalties.length; ++i) {
            Penalty calldata penalty = penalties[i];
            uint256 slashed;
            if (penalty.slashAmount > 0) slashed = _stakeManager.slash(penalty.node, penalty.slashAmount, _treasury);
            if (penalty.jailUntilBlock > 0) _stakeManager.jail(penalty.node, penalty.jailUntilBlock);
            emit PenaltyApplied(epoch, penalty.node, penalty.slashAmount, slashed, penalty.jailUntilBlock);
        }
    }

    function _requiredWeight(uint256 totalStake) private pure returns (uint256) {
        // ceil(2S/3); S < 2^208, so 2S + 2 cannot overflow.
        return Math.ceilDiv(totalStake * 2, 3);
    }

    function _batchDigest(EpochBatch calldata batch) private view returns (bytes32) {
        // Two abi.encode calls of static values concatenate to exactly one abi.encode of all of them.
        bytes32 structHash = keccak256(
            bytes.concat(
                abi.encode(
                    EPOCH_BATCH_TYPEHASH, batch.epoch, batch.round, batch.outcomesRoot, batch.balancesRoot, batch.taskCount
                ),
                abi.encode(batch.totalFees, batch.totalRewards, batch.treasuryAmount, _penaltiesHash(batch.penalties))
            )
        );
        return _hashTypedDataV4(structHash);
    }

    function _penaltiesHash(Penalty[] calldata penalties) private pure returns (bytes32) {
        return keccak256(abi.encode(penalties));
    }
}
