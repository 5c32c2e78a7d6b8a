// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {IERC5805} from "@openzeppelin/contracts/interfaces/IERC5805.sol";
import {BLS12381} from "./BLS12381.sol";
import {NetworkParameters} from "./NetworkParameters.sol";

/// @title StakeManager
/// @notice Holds the nodes' stake. Active stake is checkpointed per block (like ERC20Votes), so
/// committees and sortition can read "stake at the epoch snapshot". Stake leaves in two steps:
/// `requestUnbond` moves it out of the active stake at once, and `withdraw` pays it out only after
/// `unbondingBlocks`. Until it is withdrawn, unbonding stake stays slashable, so a node cannot
/// escape a slash by unbonding.
///
/// Eligible stake is the stake that can sign: a node's active stake while it is at or above the minimum stake and
/// not jailed, else 0. It is checkpointed too, per node and in total, so Settlement can ask for 2/3 of the stake that
/// can actually sign at a snapshot, and judge each signer by the same record. It is recomputed whenever a node's
/// stake or jail changes; what changes with no transaction (a jail running out, a governed minimum stake taking
/// effect) counts from the next `refreshEligibility(node)`, which anyone may call: a freed node calls it for
/// itself, and nodes left below a raised minimum lose their eligibility to whoever refreshes them.
///
/// It is also the votes source of governance (IERC5805, block-number clock): a node's voting power is its active
/// stake, always its own. There is no delegation: `delegates(node)` is `node`, and `delegate` accepts only the caller
/// itself (a no-op). Unbonding stake does not vote. The minimum stake and the unbonding delay are governed: read from
/// NetworkParameters, as in effect for the latest opened epoch.
/// The epoch committee signs with BLS12-381 (see Settlement): each node registers one BLS public key
/// (`registerBlsKey`, once, with a proof of possession, so that nobody can register a key made from others' keys and
/// cancel them out of an aggregate: the rogue-key attack). A node's signing stake is its eligible stake once its key
/// is registered, else 0; the signing set is the nodes with signing stake, and its aggregate public key (the sum of
/// their keys) is kept incrementally, O(1) per change: a key is added when its node's signing stake becomes positive
/// and subtracted (added negated) when it drops to 0. Signing stake (per node and in total) and the aggregate key are
/// recorded per block, so a batch is checked against the signing set of its epoch's snapshot block.
/// @dev Tokens with transfer fees or rebasing balances are not supported.
contract StakeManager is IERC5805 {
    using SafeERC20 for IERC20;
    using Checkpoints for Checkpoints.Trace208;

    /// @dev Stake on its way out: all of a node's unbonding requests aggregated. A new request
    /// restarts the delay for the whole amount.
    struct Unbonding {
        uint256 amount;
        uint64 withdrawableAtBlock;
    }

    /// @dev A G1 point in three words instead of EIP-2537's four (its 32 zero bytes dropped): `x ‖ y`, 96 bytes.
    struct PackedG1 {
        bytes32 a;
        bytes32 b;
        bytes32 c;
    }

    IERC20 private immutable _token;
    NetworkParameters private immutable _parameters;
    address private immutable _deployer;

    address private _settlement;
    mapping(address node => Checkpoints.Trace208) private _stakes;
    Checkpoints.Trace208 private _totalStake;
    mapping(address node => Unbonding) private _unbondings;
    mapping(address node => uint64) private _jailedUntil;
    mapping(address node => Checkpoints.Trace208) private _eligibleStakes;
    Checkpoints.Trace208 private _totalEligibleStake;
    /// @dev Eligible stake by bit length: bucket `b` sums the eligible stakes in [2^(b-1), 2^b). A histogram kept in
    /// O(1) per change, so governance can bound a raise of the minimum stake by the stake it would leave out.
    mapping(uint256 bitLength => uint256) private _eligibleByLength;
    /// @dev The longest bit length any eligible stake ever had: where `eligibleStakeAtLeast` stops.
    uint256 private _longestEligible;
    mapping(address node => PackedG1) private _blsKeys;
    /// @dev The block a node registered its BLS key in (0: none).
    mapping(address node => uint64) private _blsKeyBlocks;
    /// @dev Who registered each key (by keccak256 of its encoding): a key belongs to one node.
    mapping(bytes32 keyHash => address node) private _blsKeyOwners;
    Checkpoints.Trace208 private _totalSigningStake;
    /// @dev The signing set's aggregate key, versioned: `_aggregateKeyVersions` maps blocks to versions and
    /// `_aggregateKeys[v]` holds version v. Version 0, the empty set's point at infinity (all zeros), is never written.
    mapping(uint256 version => PackedG1) private _aggregateKeys;
    Checkpoints.Trace208 private _aggregateKeyVersions;

    /// @notice `node` added `amount` to its active stake, which is now `newStake`.
    event Staked(address indexed node, uint256 amount, uint256 newStake);
    /// @notice `node` moved `amount` from active stake to unbonding; its unbonding total is
    /// `unbondingAmount`, withdrawable from block `withdrawableAtBlock`.
    event UnbondRequested(address indexed node, uint256 amount, uint256 unbondingAmount, uint64 withdrawableAtBlock);
    /// @notice `node` withdrew `amount` of matured unbonding stake.
    event Withdrawn(address indexed node, uint256 amount);
    /// @notice `amount` of `node`'s stake (`fromActive` + `fromUnbonding`) went to `recipient`.
    event Slashed(address indexed node, uint256 amount, uint256 fromActive, uint256 fromUnbonding, address recipient);
    /// @notice `node` is jailed until block `untilBlock` (exclusive).
    event Jailed(address indexed node, uint64 untilBlock);
    /// @notice `node`'s eligible stake (what it can sign with) is now `eligibleStake`: 0 while it is jailed or below
    /// the minimum stake.
    event EligibilityChanged(address indexed node, uint256 eligibleStake);
    /// @notice The settlement contract, the only one that may slash and jail, was set.
    event SettlementSet(address settlement);
    /// @notice `node` advertised what its runtimes hold (`wasm`, `onnx`, `onnx:<model id>`): sortition draws it
    /// only for tasks that need one of these, from the first epoch whose snapshot block comes after this event.
    event CapabilitiesAdvertised(address indexed node, string[] capabilities);

    /// @notice `node` registered the BLS public key `publicKey` (EIP-2537 G1 encoding), its proof of possession checked.
    event BlsKeyRegistered(address indexed node, BLS12381.G1Point publicKey);
    /// @notice `node`'s signing stake is now `signingStake`: its key is in the aggregate key iff it is positive.
    event SigningStakeChanged(address indexed node, uint256 signingStake);

    /// @notice An amount of zero was given.
    error StakeManagerZeroAmount();
    /// @notice An address of zero was given.
    error StakeManagerZeroAddress();
    /// @notice `requested` exceeds the `available` active stake.
    error StakeManagerInsufficientStake(uint256 available, uint256 requested);
    /// @notice The caller has no unbonding stake.
    error StakeManagerNothingToWithdraw();
    /// @notice The unbonding stake becomes withdrawable only at block `withdrawableAtBlock`.
    error StakeManagerUnbondingNotReady(uint256 withdrawableAtBlock);
    /// @notice Historical stake can only be read for past blocks (`blockNumber` < `currentBlock`).
    error StakeManagerFutureLookup(uint256 blockNumber, uint256 currentBlock);
    /// @notice `caller` may not call this function.
    error StakeManagerUnauthorized(address caller);
    /// @notice The settlement contract was already set to `settlement`.
    error StakeManagerSettlementAlreadySet(address settlement);
    /// @notice Voting power cannot be delegated: each node votes its own stake.
    error StakeManagerDelegationUnsupported();
    /// @notice A capability list must hold 1 to `MAX_CAPABILITIES` names of 1 to `MAX_CAPABILITY_BYTES` bytes
    /// (`length` is the offending name's, or 0 when the count is wrong).
    error StakeManagerInvalidCapabilities(uint256 count, uint256 length);

    /// @notice `node` registered a BLS key already (keys are permanent: a new key needs a new account).
    error StakeManagerBlsKeyAlreadyRegistered(address node);
    /// @notice The BLS key is not a canonical EIP-2537 G1 encoding, or is the point at infinity.
    error StakeManagerInvalidBlsKey();
    /// @notice The BLS key was registered by `owner` already.
    error StakeManagerBlsKeyTaken(address owner);
    /// @notice The proof of possession does not verify for the key and the caller (or a point is not in its group).
    error StakeManagerInvalidProofOfPossession();

    /// @notice What a proof of possession signs, before the node's address and key.
    string public constant BLS_POP_PREFIX = "veritask/bls-pop/1";

    /// @notice Most capabilities one advertisement may list.
    uint256 public constant MAX_CAPABILITIES = 32;
    /// @notice Longest capability name, in bytes (`onnx:` and a 0x-prefixed content id take 71).
    uint256 public constant MAX_CAPABILITY_BYTES = 96;

    modifier onlySettlement() {
        if (msg.sender != _settlement || msg.sender == address(0)) revert StakeManagerUnauthorized(msg.sender);
        _;
    }

    /// @param token_ The stake token.
    /// @param parameters_ The governed parameters (minimum stake, unbonding delay).
    constructor(IERC20 token_, NetworkParameters parameters_) {
        if (address(token_) == address(0) || address(parameters_) == address(0)) revert StakeManagerZeroAddress();
        _token = token_;
        _parameters = parameters_;
        _deployer = msg.sender;
    }

    /// @notice Sets the settlement contract, the only caller of `slash` and `jail`. Callable once, by the deployer.
    /// @param settlement_ The Settlement contract.
    function setSettlement(address settlement_) external {
        if (msg.sender != _deployer) revert StakeManagerUnauthorized(msg.sender);
        if (_settlement != address(0)) revert StakeManagerSettlementAlreadySet(_settlement);
        if (settlement_ == address(0)) revert StakeManagerZeroAddress();
        _settlement = settlement_;
        emit SettlementSet(settlement_);
    }

    /// @notice Advertises what the caller's runtimes hold, replacing its earlier advertisement. Nothing is
    /// stored: nodes read the newest advertisement at or before each epoch's snapshot block from the event log,
    /// so every node ranks with the same capabilities. A node that never advertised runs `wasm` only.
    /// @param capabilities Capability names, e.g. `wasm`, `onnx`, `onnx:0x…` (a model's content id).
    function advertiseCapabilities(string[] calldata capabilities) external {
        if (capabilities.length == 0 || capabilities.length > MAX_CAPABILITIES) {
            revert StakeManagerInvalidCapabilities(capabilities.length, 0);
        }
        for (uint256 i = 0; i < capabilities.length; i++) {
            uint256 length = bytes(capabilities[i]).length;
            if (length == 0 || length > MAX_CAPABILITY_BYTES) revert StakeManagerInvalidCapabilities(capabilities.length, length);
        }
        emit CapabilitiesAdvertised(msg.sender, capabilities);
    }

    /// @notice Registers the caller's BLS public key, once. `proof` is the caller's BLS signature (tag
    /// `BLS12381.SIGNATURE_DST`) of `blsPopMessage(caller, publicKey)`: it proves the caller knows the secret key, so
    /// a key cannot be made from other nodes' keys (rogue-key attack). From this block on, the caller's eligible stake
    /// is also signing stake and its key is part of the aggregate key while that stake is positive.
    /// @param publicKey The G1 public key, EIP-2537 encoded.
    /// @param proof The proof of possession, a G2 point, EIP-2537 encoded.
    function registerBlsKey(BLS12381.G1Point calldata publicKey, BLS12381.G2Point calldata proof) external {
        if (_blsKeyBlocks[msg.sender] != 0) revert StakeManagerBlsKeyAlreadyRegistered(msg.sender);
        BLS12381.G1Point memory key = publicKey;
        if (!BLS12381.isCanonical(key) || BLS12381.isInfinity(key)) revert StakeManagerInvalidBlsKey();
        bytes32 keyHash = keccak256(abi.encode(key));
        address owner = _blsKeyOwners[keyHash];
        if (owner != address(0)) revert StakeManagerBlsKeyTaken(owner);
        // The pairing precompile checks both points are in their subgroups: a key outside G1 fails here.
        if (!BLS12381.verify(key, abi.encodePacked(blsPopMessage(msg.sender, key)), proof)) {
            revert StakeManagerInvalidProofOfPossession();
        }
        _blsKeys[msg.sender] = _pack(key);
        _blsKeyBlocks[msg.sender] = SafeCast.toUint64(block.number);
        _blsKeyOwners[keyHash] = msg.sender;
        emit BlsKeyRegistered(msg.sender, key);
        uint256 eligible = _eligibleStakes[msg.sender].latest();
        if (eligible > 0) _changeSigningStake(msg.sender, 0, eligible);
    }

    /// @notice The message a proof of possession signs: keccak256(BLS_POP_PREFIX ‖ node ‖ publicKey), binding the key to
    /// the node that registers it.
    function blsPopMessage(address node, BLS12381.G1Point memory publicKey) public pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(BLS_POP_PREFIX, node, publicKey.xHi, publicKey.xLo, publicKey.yHi, publicKey.yLo)
        );
    }

    /// @notice Adds `amount` tokens (pulled from the caller, who must have approved them) to the caller's active stake.
    /// @param amount The amount to stake.
    function stake(uint256 amount) external {
        if (amount == 0) revert StakeManagerZeroAmount();
        uint256 newStake = _stakes[msg.sender].latest() + amount;
        _writeStake(msg.sender, newStake);
        _totalStake.push(_now(), SafeCast.toUint208(_totalStake.latest() + amount));
        emit Staked(msg.sender, amount, newStake);
        _refreshEligibility(msg.sender);
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Moves `amount` of the caller's active stake to unbonding. The active stake drops at once;
    /// the whole unbonding amount (earlier requests included) becomes withdrawable `unbondingBlocks()` from now.
    /// @param amount The amount to unbond.
    function requestUnbond(uint256 amount) external {
        if (amount == 0) revert StakeManagerZeroAmount();
        uint256 active = _stakes[msg.sender].latest();
        if (amount > active) revert StakeManagerInsufficientStake(active, amount);
        unchecked {
            // amount <= active, so neither subtraction underflows.
            _writeStake(msg.sender, active - amount);
            _totalStake.push(_now(), uint208(_totalStake.latest() - amount));
        }
        Unbonding storage unbonding = _unbondings[msg.sender];
        uint256 unbondingAmount = unbonding.amount + amount;
        uint64 withdrawableAtBlock = SafeCast.toUint64(block.number + unbondingBlocks());
        unbonding.amount = unbondingAmount;
        unbonding.withdrawableAtBlock = withdrawableAtBlock;
        emit UnbondRequested(msg.sender, amount, unbondingAmount, withdrawableAtBlock);
        _refreshEligibility(msg.sender);
    }

    /// @notice Pays the caller's unbonding stake out to the caller once it has matured.
    /// @return amount The amount withdrawn.
    function withdraw() external returns (uint256 amount) {
        Unbonding storage unbonding = _unbondings[msg.sender];
        amount = unbonding.amount;
        if (amount == 0) revert StakeManagerNothingToWithdraw();
        if (block.number < unbonding.withdrawableAtBlock) {
            revert StakeManagerUnbondingNotReady(unbonding.withdrawableAtBlock);
        }
        delete _unbondings[msg.sender];
        emit Withdrawn(msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    /// @notice Takes up to `amount` of `node`'s stake, active stake first, then unbonding stake, and sends it to
    /// `recipient`. Only the settlement contract may slash.
    /// @param node The node to slash.
    /// @param amount The amount to take; capped at what the node has.
    /// @param recipient The receiver of the slashed tokens.
    /// @return slashed The amount actually taken.
    function slash(address node, uint256 amount, address recipient) external onlySettlement returns (uint256 slashed) {
        if (recipient == address(0)) revert StakeManagerZeroAddress();
        uint256 active = _stakes[node].latest();
        uint256 fromActive = amount < active ? amount : active;
        uint256 fromUnbonding;
        unchecked {
            // fromActive <= amount and fromActive <= active.
            uint256 rest = amount - fromActive;
            if (fromActive > 0) {
                _writeStake(node, active - fromActive);
                _totalStake.push(_now(), uint208(_totalStake.latest() - fromActive));
            }
            Unbonding storage unbonding = _unbondings[node];
            fromUnbonding = rest < unbonding.amount ? rest : unbonding.amount;
            if (fromUnbonding > 0) unbonding.amount -= fromUnbonding;
            // Both parts are bounded by tokens this contract holds, so the sum cannot overflow.
            slashed = fromActive + fromUnbonding;
        }
        if (slashed == 0) return 0;
        emit Slashed(node, slashed, fromActive, fromUnbonding, recipient);
        if (fromActive > 0) _refreshEligibility(node);
        _token.safeTransfer(recipient, slashed);
    }

    /// @notice Excludes `node` from committees until block `untilBlock`: its eligible stake is 0 from this block on,
    /// and comes back with the first `refreshEligibility(node)` from `untilBlock` on. A jail is never shortened: the
    /// later of the current and the new end wins. Only the settlement contract may jail.
    /// @param node The node to jail.
    /// @param untilBlock The first block at which the node is free again.
    function jail(address node, uint64 untilBlock) external onlySettlement {
        if (untilBlock <= _jailedUntil[node]) return;
        _jailedUntil[node] = untilBlock;
        emit Jailed(node, untilBlock);
        _refreshEligibility(node);
    }

    /// @notice Brings `node`'s eligible stake up to date with its stake, its jail and the minimum stake in effect now.
    /// Anyone may call it: it only makes the record true (see `isEligibilityStale`).
    /// @param node The node.
    function refreshEligibility(address node) external {
        _refreshEligibility(node);
    }

    /// @notice The stake token.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @notice The governed parameters.
    function parameters() external view returns (NetworkParameters) {
        return _parameters;
    }

    /// @notice The smallest active stake that makes a node eligible for committees and tasks, as in effect now.
    function minStake() public view returns (uint256) {
        return _parameters.activeValue(NetworkParameters.Parameter.MinStake);
    }

    /// @notice How many blocks unbonding stake waits before it can be withdrawn, as in effect now.
    function unbondingBlocks() public view returns (uint64) {
        // Bounded by NetworkParameters far below 2^64.
        return uint64(_parameters.activeValue(NetworkParameters.Parameter.UnbondingBlocks));
    }

    /// @notice The settlement contract (zero until set).
    function settlement() external view returns (address) {
        return _settlement;
    }

    /// @notice The current active stake of `node`.
    function stakeOf(address node) external view returns (uint256) {
        return _stakes[node].latest();
    }

    /// @notice The sum of all nodes' current active stake.
    function totalStake() external view returns (uint256) {
        return _totalStake.latest();
    }

    /// @notice The active stake of `node` at the end of block `blockNumber`, which must be in the past.
    /// @param node The node.
    /// @param blockNumber A block number smaller than the current one.
    function stakeAt(address node, uint256 blockNumber) external view returns (uint256) {
        return _stakes[node].upperLookupRecent(_pastKey(blockNumber));
    }

    /// @notice The total active stake at the end of block `blockNumber`, which must be in the past.
    /// @param blockNumber A block number smaller than the current one.
    function totalStakeAt(uint256 blockNumber) external view returns (uint256) {
        return _totalStake.upperLookupRecent(_pastKey(blockNumber));
    }

    /// @notice The unbonding stake of `node` and the block from which it can be withdrawn.
    function unbondingOf(address node) external view returns (uint256 amount, uint256 withdrawableAtBlock) {
        Unbonding storage unbonding = _unbondings[node];
        return (unbonding.amount, unbonding.withdrawableAtBlock);
    }

    /// @notice The first block at which `node` is no longer jailed (0 if it never was).
    function jailedUntil(address node) external view returns (uint64) {
        return _jailedUntil[node];
    }

    /// @notice The stake `node` can sign with now: its active stake if it is eligible, else 0.
    function eligibleStakeOf(address node) external view returns (uint256) {
        return _eligibleStakes[node].latest();
    }

    /// @notice `node`'s eligible stake at the end of block `blockNumber`, which must be in the past: a jail or a
    /// slash after an epoch's snapshot does not change who sits on its committee.
    /// @param node The node.
    /// @param blockNumber A block number smaller than the current one.
    function eligibleStakeAt(address node, uint256 blockNumber) external view returns (uint256) {
        return _eligibleStakes[node].upperLookupRecent(_pastKey(blockNumber));
    }

    /// @notice The sum of all nodes' eligible stake now.
    function totalEligibleStake() external view returns (uint256) {
        return _totalEligibleStake.latest();
    }

    /// @notice The total eligible stake at the end of block `blockNumber`, which must be in the past.
    /// @param blockNumber A block number smaller than the current one.
    function totalEligibleStakeAt(uint256 blockNumber) external view returns (uint256) {
        return _totalEligibleStake.upperLookupRecent(_pastKey(blockNumber));
    }

    /// @notice A lower bound on the eligible stake of nodes holding at least `amount`: the eligible stake in every
    /// bucket whose stakes are all at least `amount` (so at most one bucket, stakes within a factor of 2 of `amount`,
    /// is left uncounted). O(number of non-empty bit lengths above `amount`).
    /// @param amount A stake, e.g. a proposed minimum.
    function eligibleStakeAtLeast(uint256 amount) external view returns (uint256 total) {
        // Bucket b holds stakes >= 2^(b-1): all of them are >= amount iff 2^(b-1) >= amount.
        uint256 first = amount <= 1 ? 1 : Math.log2(amount - 1) + 2;
        for (uint256 b = first; b <= _longestEligible; ++b) total += _eligibleByLength[b];
    }

    /// @notice Whether `refreshEligibility(node)` would change `node`'s eligible stake: its jail ran out, or the
    /// minimum stake in effect changed across its stake.
    function isEligibilityStale(address node) external view returns (bool) {
        return _eligibleNow(node) != _eligibleStakes[node].latest();
    }

    /// @notice Whether `node` is jailed now.
    function isJailed(address node) external view returns (bool) {
        return block.number < _jailedUntil[node];
    }

    /// @notice `node`'s BLS public key (the point at infinity, all zeros, when it registered none).
    function blsKeyOf(address node) external view returns (BLS12381.G1Point memory) {
        return _unpack(_blsKeys[node]);
    }

    /// @notice The block `node` registered its BLS key in (0: none).
    function blsKeyRegisteredAt(address node) external view returns (uint64) {
        return _blsKeyBlocks[node];
    }

    /// @notice `node`'s signing stake at the end of block `blockNumber` (in the past): its eligible stake then if its
    /// BLS key was registered by then, else 0.
    function signingStakeAt(address node, uint256 blockNumber) public view returns (uint256) {
        uint64 registered = _blsKeyBlocks[node];
        if (registered == 0 || registered > blockNumber) return 0;
        return _eligibleStakes[node].upperLookupRecent(_pastKey(blockNumber));
    }

    /// @notice `node`'s signing stake at the end of block `blockNumber` (in the past) and its BLS key, in one call.
    function signingKeyAt(address node, uint256 blockNumber)
        external
        view
        returns (uint256 signingStake, BLS12381.G1Point memory publicKey)
    {
        return (signingStakeAt(node, blockNumber), _unpack(_blsKeys[node]));
    }

    /// @notice The sum of all nodes' signing stake now.
    function totalSigningStake() external view returns (uint256) {
        return _totalSigningStake.latest();
    }

    /// @notice The total signing stake at the end of block `blockNumber`, which must be in the past.
    function totalSigningStakeAt(uint256 blockNumber) external view returns (uint256) {
        return _totalSigningStake.upperLookupRecent(_pastKey(blockNumber));
    }

    /// @notice The aggregate BLS key of the signing set now: the sum of the keys of the nodes with signing stake.
    function aggregateKey() external view returns (BLS12381.G1Point memory) {
        return _unpack(_aggregateKeys[_aggregateKeyVersions.latest()]);
    }

    /// @notice The aggregate BLS key of the signing set at the end of block `blockNumber`, which must be in the past.
    function aggregateKeyAt(uint256 blockNumber) external view returns (BLS12381.G1Point memory) {
        return _unpack(_aggregateKeys[_aggregateKeyVersions.upperLookupRecent(_pastKey(blockNumber))]);
    }

    /// @notice The signing set at the end of block `blockNumber` (in the past), as two numbers a reader can keep: the
    /// total signing stake and the version of the aggregate key (see `aggregateKeyOfVersion`). Settlement pins them
    /// when it opens an epoch, so that checking a batch reads fixed slots instead of searching the history.
    function signingSetAt(uint256 blockNumber) external view returns (uint256 signingStake, uint256 keyVersion) {
        uint48 key = _pastKey(blockNumber);
        return (_totalSigningStake.upperLookupRecent(key), _aggregateKeyVersions.upperLookupRecent(key));
    }

    /// @notice Version `version` of the aggregate key (version 0 is the empty set's point at infinity). A version,
    /// once superseded by a later block's, never changes.
    function aggregateKeyOfVersion(uint256 version) external view returns (BLS12381.G1Point memory) {
        return _unpack(_aggregateKeys[version]);
    }

    // ── IERC5805: stake as voting power ────────────────────────────────────────────────────────────────────────

    /// @notice The governance clock: block numbers.
    function clock() external view returns (uint48) {
        return _now();
    }

    /// @notice The clock's description (EIP-6372).
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() external pure returns (string memory) {
        return "mode=blocknumber&from=default";
    }

    /// @notice The voting power of `account`: its active stake now.
    function getVotes(address account) external view returns (uint256) {
        return _stakes[account].latest();
    }

    /// @notice The voting power of `account` at the end of block `timepoint` (in the past): its active stake then.
    function getPastVotes(address account, uint256 timepoint) external view returns (uint256) {
        return _stakes[account].upperLookupRecent(_pastKey(timepoint));
    }

    /// @notice All voting power at the end of block `timepoint` (in the past): the total active stake then.
    function getPastTotalSupply(uint256 timepoint) external view returns (uint256) {
        return _totalStake.upperLookupRecent(_pastKey(timepoint));
    }

    /// @notice Every node votes its own stake.
    function delegates(address account) external pure returns (address) {
        return account;
    }

    /// @notice Accepts only the caller itself, which changes nothing: stake cannot be delegated.
    function delegate(address delegatee) external view {
        if (delegatee != msg.sender) revert StakeManagerDelegationUnsupported();
    }

    /// @notice Always reverts: stake cannot be delegated.
    function delegateBySig(address, uint256, uint256, uint8, bytes32, bytes32) external pure {
        revert StakeManagerDelegationUnsupported();
    }

    function _refreshEligibility(address node) private {
        uint256 eligible = _eligibleNow(node);
        uint256 previous = _eligibleStakes[node].latest();
        if (eligible == previous) return;
        _eligibleStakes[node].push(_now(), SafeCast.toUint208(eligible));
        if (previous > 0) _eligibleByLength[Math.log2(previous) + 1] -= previous;
        if (eligible > 0) {
            uint256 length = Math.log2(eligible) + 1;
            _eligibleByLength[length] += eligible;
            if (length > _longestEligible) _longestEligible = length;
        }
        // The total is the sum of the nodes' latest eligible stakes, `previous` among them: no underflow.
        _totalEligibleStake.push(_now(), SafeCast.toUint208(_totalEligibleStake.latest() - previous + eligible));
        emit EligibilityChanged(node, eligible);
        if (_blsKeyBlocks[node] != 0) _changeSigningStake(node, previous, eligible);
    }

    /// @dev A node with a registered key went from `previous` to `current` signing stake: the total follows, and the
    /// aggregate key gains the node's key when it joins the signing set and loses it (adds its negation) when it
    /// leaves. One G1 addition per change, whatever the size of the set.
    function _changeSigningStake(address node, uint256 previous, uint256 current) private {
        // The total is the sum of the nodes' signing stakes, `previous` among them: no underflow.
        _totalSigningStake.push(_now(), SafeCast.toUint208(_totalSigningStake.latest() - previous + current));
        if ((previous == 0) != (current == 0)) {
            BLS12381.G1Point memory key = _unpack(_blsKeys[node]);
            BLS12381.G1Point memory aggregate = _unpack(_aggregateKeys[_aggregateKeyVersions.latest()]);
            _writeAggregateKey(BLS12381.add(aggregate, current == 0 ? BLS12381.negate(key) : key));
        }
        emit SigningStakeChanged(node, current);
    }

    /// @dev Records `point` as the aggregate key from this block on: a new version in a new block, else the block's
    /// version overwritten (a lookup reads the state at the end of a block).
    function _writeAggregateKey(BLS12381.G1Point memory point) private {
        (bool exists, uint48 key, uint208 version) = _aggregateKeyVersions.latestCheckpoint();
        if (!exists || key != _now()) {
            // Versions count changes in distinct blocks: far below 2^208.
            version += 1;
            _aggregateKeyVersions.push(_now(), version);
        }
        _aggregateKeys[version] = _pack(point);
    }

    /// @dev `point` (canonical: each coordinate's top 16 bytes zero) as `x ‖ y` in three words.
    function _pack(BLS12381.G1Point memory point) private pure returns (PackedG1 memory) {
        uint256 xLo = uint256(point.xLo);
        return PackedG1(
            bytes32((uint256(point.xHi) << 128) | (xLo >> 128)),
            bytes32((xLo << 128) | uint256(point.yHi)),
            point.yLo
        );
    }

    function _unpack(PackedG1 memory packed) private pure returns (BLS12381.G1Point memory) {
        uint256 a = uint256(packed.a);
        uint256 b = uint256(packed.b);
        return BLS12381.G1Point(
            bytes32(a >> 128), bytes32((a << 128) | (b >> 128)), bytes32(b & type(uint128).max), packed.c
        );
    }

    function _eligibleNow(address node) private view returns (uint256) {
        uint256 active = _stakes[node].latest();
        if (active == 0 || active < minStake() || block.number < _jailedUntil[node]) return 0;
        return active;
    }

    function _writeStake(address node, uint256 newStake) private {
        (uint256 previous,) = _stakes[node].push(_now(), SafeCast.toUint208(newStake));
        emit DelegateVotesChanged(node, previous, newStake);
    }

    function _now() private view returns (uint48) {
        return SafeCast.toUint48(block.number);
    }

    function _pastKey(uint256 blockNumber) private view returns (uint48) {
        if (blockNumber >= block.number) revert StakeManagerFutureLookup(blockNumber, block.number);
        return SafeCast.toUint48(blockNumber);
    }
}
