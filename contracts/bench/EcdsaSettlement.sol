// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Escrow} from "../Escrow.sol";
import {NetworkParameters} from "../NetworkParameters.sol";
import {StakeManager} from "../StakeManager.sol";

/// @title EcdsaSettlement
/// @notice For the gas bench only (bench/settlement-gas.ts): Settlement as it was before the committee signed with
/// BLS (commit f7f647f), unchanged but for its name and imports: one ECDSA signature per committee member, each
/// recovered and weighed on-chain, so the bench measures both designs in the same run.
///
/// @notice Settles one batch per epoch, in order, with O(signatures + penalties) work: the batch commits to a Merkle
/// root of the epoch's task outcomes (for receipts) and a Merkle root of cumulative balances (for Escrow's pull
/// payments), and carries the few penalties (slash, jail) to apply. A batch is accepted when committee members
/// holding at least 2/3 of the eligible stake at the snapshot (estimated by Horvitz–Thompson weights) signed its
/// EIP-712 digest. Eligible stake (StakeManager) is the stake that can sign: jailed nodes and nodes below the minimum
/// stake count neither towards the signers nor towards the total, so jails and slashes never put the threshold out
/// of the honest members' reach.
///
/// Committee membership is threshold sortition, checkable in O(1) per signer: a node with eligible snapshot stake `s`
/// (of total `S`, committee size `C`) is a member iff `C*s >= S` or `keccak256(seed, epoch, node) <=
/// type(uint256).max * C*s / S`, so it is selected with probability `min(1, C*s/S)`; a member's weight is
/// `max(s, S/C)`, i.e. `s` divided by that probability, which makes the sum of signers' weights an unbiased
/// estimate of the signing stake (exactly the signing stake when everybody is a member).
///
/// Epoch seeds come from the chain: `openEpoch` mixes `block.prevrandao` and the previous block hash, and fixes the
/// stake snapshot at the previous block. Both are public once the epoch is opened, so a ticket is known in advance;
/// the snapshot block is fixed before the seed exists. Whoever opens the epoch chooses the block (within the
/// liveness window the nodes tolerate) and a block producer can bias prevrandao by withholding a block: see
/// docs/economics.md for what that buys an attacker.
///
/// The governed parameters (NetworkParameters) change only at epoch boundaries: `openEpoch` puts the latest version
/// into effect and records it for the epoch, together with the committee size this contract uses for that epoch. Epochs are opened in order, so a new epoch length starts at the epoch that first uses it.
contract EcdsaSettlement is EIP712 {
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
    mapping(uint64 epoch => bytes32) private _outcomesRoots;
    mapping(uint64 epoch => bytes32) private _settledBatchDigests;
    mapping(uint64 epoch => mapping(address node => bool)) private _equivocationPunished;
    bytes32 private _balancesRoot;
    uint64 private _settledEpochCount;

    /// @notice Epoch `epoch` was opened: its sortition `seed` and stake `snapshotBlock` are fixed.
    event EpochOpened(uint64 indexed epoch, bytes32 seed, uint64 snapshotBlock);
    /// @notice The batch of `epoch` was settled with `signerCount` committee signatures.
    event BatchSettled(
        uint64 indexed epoch,
        bytes32 outcomesRoot,
        bytes32 balancesRoot,
        uint32 taskCount,
        uint256 totalFees,
        uint256 signerCount
    );
    /// @notice A penalty of `epoch`'s batch was applied: `slashed` (of `slashAmount` asked) taken, jailed until
    /// `jailUntilBlock` (0: not jailed).
    event PenaltyApplied(
        uint64 indexed epoch, address indexed node, uint256 slashAmount, uint256 slashed, uint64 jailUntilBlock
    );
    /// @notice `signer` signed two different batches for `epoch`; `slashed` of its stake went to the treasury.
    event EquivocationProven(uint64 indexed epoch, address indexed signer, uint256 slashed);

    /// @notice A constructor argument was zero or out of range.
    error EcdsaSettlementInvalidParameters();
    /// @notice The next epoch to settle is `expected`, the batch is for `got`.
    error EcdsaSettlementWrongEpoch(uint64 expected, uint64 got);
    /// @notice Epoch `epoch` has not been opened.
    error EcdsaSettlementEpochNotOpened(uint64 epoch);
    /// @notice Epoch `epoch` was opened already.
    error EcdsaSettlementEpochAlreadyOpened(uint64 epoch);
    /// @notice Epoch `epoch` starts at block `startBlock`.
    error EcdsaSettlementEpochNotStarted(uint64 epoch, uint256 startBlock);
    /// @notice Epoch `epoch` runs until block `endBlock`: its batch can only settle from then on.
    error EcdsaSettlementEpochNotEnded(uint64 epoch, uint256 endBlock);
    /// @notice Epochs open in order: the next to open is `expected`, not `got`.
    error EcdsaSettlementEpochOutOfOrder(uint64 expected, uint64 got);
    /// @notice No epoch has been settled yet.
    error EcdsaSettlementNoEpochSettled();
    /// @notice `totalRewards + treasuryAmount != totalFees`.
    error EcdsaSettlementUnbalanced(uint256 totalFees, uint256 totalRewards, uint256 treasuryAmount);
    /// @notice Signers must be strictly increasing by address (which also rules out duplicates).
    error EcdsaSettlementSignersNotSorted();
    /// @notice `signer` is not a member of the epoch's committee.
    error EcdsaSettlementNotCommitteeMember(address signer);
    /// @notice The signers' weight `signed` is below the `required` 2/3 of the eligible snapshot stake.
    error EcdsaSettlementInsufficientSignatures(uint256 signed, uint256 required);
    /// @notice The two batches are not two different batches of one epoch signed by one signer.
    error EcdsaSettlementNotEquivocation();
    /// @notice `signer` was already punished for equivocating in `epoch`.
    error EcdsaSettlementAlreadyPunished(uint64 epoch, address signer);

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
        ) revert EcdsaSettlementInvalidParameters();
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
        if (info.opened) revert EcdsaSettlementEpochAlreadyOpened(epoch);
        uint256 start = epochStart(epoch);
        if (block.number < start) revert EcdsaSettlementEpochNotStarted(epoch, start);
        if (epoch != _nextEpochToOpen) revert EcdsaSettlementEpochOutOfOrder(_nextEpochToOpen, epoch);
        unchecked {
            // epoch < type(uint64).max: an epoch that large could never have started.
            _nextEpochToOpen = epoch + 1;
        }
        uint256 snapshotBlock = block.number - 1;
        bytes32 seed = keccak256(abi.encode(block.prevrandao, blockhash(snapshotBlock), epoch));
        uint32 version = _parameters.activate();
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
        emit EpochOpened(epoch, seed, uint64(snapshotBlock));
    }

    /// @notice Settles the batch of the next epoch once it has ended, signed by committee members holding at least 2/3
    /// of the eligible snapshot stake, and applies its penalties. Anyone may submit it.
    /// @param batch The epoch batch.
    /// @param signatures 65-byte signatures of `batchDigest(batch)`, ordered by strictly increasing signer address.
    function submitBatch(EpochBatch calldata batch, bytes[] calldata signatures) external {
        uint64 epoch = batch.epoch;
        uint64 expected = _settledEpochCount;
        if (epoch != expected) revert EcdsaSettlementWrongEpoch(expected, epoch);
        if (!_epochs[epoch].opened) revert EcdsaSettlementEpochNotOpened(epoch);
        // The epoch's own clock (recorded when it opened) gives its end: the next epoch's start.
        uint256 end = epochStart(epoch + 1);
        if (block.number < end) revert EcdsaSettlementEpochNotEnded(epoch, end);
        if (batch.totalRewards > batch.totalFees || batch.totalFees - batch.totalRewards != batch.treasuryAmount) {
            revert EcdsaSettlementUnbalanced(batch.totalFees, batch.totalRewards, batch.treasuryAmount);
        }
        bytes32 digest = _batchDigest(batch);
        _checkSignatures(epoch, digest, signatures);

        _outcomesRoots[epoch] = batch.outcomesRoot;
        _settledBatchDigests[epoch] = digest;
        _balancesRoot = batch.balancesRoot;
        unchecked {
            // epoch == _settledEpochCount < type(uint64).max: an epoch that large could never have started.
            _settledEpochCount = epoch + 1;
        }
        emit BatchSettled(
            epoch, batch.outcomesRoot, batch.balancesRoot, batch.taskCount, batch.totalFees, signatures.length
        );
        _applyPenalties(epoch, batch.penalties);
    }

    /// @notice Punishes a committee member that signed two different batches for one round of one epoch: the epoch's governed
    /// `EquivocationSlashBps` of its bonded stake (active + unbonding) goes to the treasury and it is jailed for the
    /// epoch's `JailBlocks`. Anyone may prove it; the prover gets nothing, so a node cannot soften its own slash by
    /// reporting itself. Membership is judged at the epoch's snapshot, as for batches: a jail since then is no excuse.
    /// @param a One batch.
    /// @param sigA The signature of `a`.
    /// @param b Another batch of the same epoch.
    /// @param sigB The signature of `b`, by the same signer.
    /// @return slashed The amount slashed.
    function proveEquivocation(
        EpochBatch calldata a,
        bytes calldata sigA,
        EpochBatch calldata b,
        bytes calldata sigB
    ) external returns (uint256 slashed) {
        uint64 epoch = a.epoch;
        bytes32 digestA = _batchDigest(a);
        bytes32 digestB = _batchDigest(b);
        if (b.epoch != epoch || b.round != a.round || digestA == digestB) revert EcdsaSettlementNotEquivocation();
        address signer = ECDSA.recoverCalldata(digestA, sigA);
        if (ECDSA.recoverCalldata(digestB, sigB) != signer) revert EcdsaSettlementNotEquivocation();
        if (_equivocationPunished[epoch][signer]) revert EcdsaSettlementAlreadyPunished(epoch, signer);
        EpochInfo storage info = _epochs[epoch];
        if (!info.opened) revert EcdsaSettlementNotCommitteeMember(signer);
        uint256 weight = _weight(epoch, info, signer, _stakeManager.totalEligibleStakeAt(info.snapshotBlock));
        if (weight == 0) revert EcdsaSettlementNotCommitteeMember(signer);

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

    /// @notice The committee weight of `node` in `epoch`: 0 when it is not a member (epoch not opened, no eligible
    /// stake at the snapshot block, or not drawn), else `max(s, S / C)`. Fixed once the epoch opens: it depends on
    /// the snapshot only.
    /// @param epoch The epoch (must be opened for a non-zero weight).
    /// @param node The node.
    function committeeWeight(uint64 epoch, address node) external view returns (uint256 weight) {
        EpochInfo storage info = _epochs[epoch];
        if (!info.opened) return 0;
        return _weight(epoch, info, node, _stakeManager.totalEligibleStakeAt(info.snapshotBlock));
    }

    /// @notice The committee weight a batch of `epoch` needs: ceil(2/3 × total eligible snapshot stake) (0 if not
    /// opened).
    function requiredWeight(uint64 epoch) external view returns (uint256) {
        EpochInfo storage info = _epochs[epoch];
        if (!info.opened) return 0;
        return _requiredWeight(_stakeManager.totalEligibleStakeAt(info.snapshotBlock));
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
        if (count == 0) revert EcdsaSettlementNoEpochSettled();
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

    /// @notice The expected committee size `C` of `epoch` (0 until opened).
    function committeeSizeOf(uint64 epoch) external view returns (uint32) {
        return _epochs[epoch].committeeSize;
    }

    /// @notice The block this contract was deployed in; epoch 0 starts there.
    function genesisBlock() external view returns (uint64) {
        return _clocks[0].startBlock;
    }

    /// @dev Reverts unless the signers of `digest` are sorted committee members of `epoch` with at least 2/3 of the
    /// eligible snapshot stake.
    function _checkSignatures(uint64 epoch, bytes32 digest, bytes[] calldata signatures) private view {
        EpochInfo storage info = _epochs[epoch];
        uint256 totalStake = _stakeManager.totalEligibleStakeAt(info.snapshotBlock);
        uint256 signed;
        address previous;
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = ECDSA.recoverCalldata(digest, signatures[i]);
            if (signer <= previous) revert EcdsaSettlementSignersNotSorted();
            previous = signer;
            uint256 weight = _weight(epoch, info, signer, totalStake);
            if (weight == 0) revert EcdsaSettlementNotCommitteeMember(signer);
            signed += weight;
        }
        uint256 required = _requiredWeight(totalStake);
        if (signed < required || signed == 0) revert EcdsaSettlementInsufficientSignatures(signed, required);
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

    /// @dev `totalStake` is the eligible stake at the snapshot. Eligibility as things stood at the snapshot: a jail
    /// imposed later (even one a member brings on itself to void a batch it signed) does not change the committee.
    function _weight(uint64 epoch, EpochInfo storage info, address node, uint256 totalStake)
        private
        view
        returns (uint256)
    {
        if (totalStake == 0) return 0;
        uint256 stake = _stakeManager.eligibleStakeAt(node, info.snapshotBlock);
        if (stake == 0) return 0;
        // stake <= totalStake < 2^208 (checkpointed as uint208) and C < 2^32, so C * stake cannot overflow.
        uint256 committeeSize_ = info.committeeSize;
        uint256 scaled = committeeSize_ * stake;
        if (scaled < totalStake) {
            uint256 ticket = uint256(keccak256(abi.encode(info.seed, epoch, node)));
            if (ticket > Math.mulDiv(type(uint256).max, scaled, totalStake)) return 0;
        }
        uint256 floor = totalStake / committeeSize_;
        return stake > floor ? stake : floor;
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
