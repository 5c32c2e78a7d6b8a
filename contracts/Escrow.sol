// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @notice What Escrow reads from Settlement: the latest settled cumulative-balance root, and which epochs are settled.
interface ISettlementBalances {
    /// @notice The balances root of the latest settled epoch (zero before the first).
    function balancesRoot() external view returns (bytes32);
    /// @notice How many epochs are settled (epochs settle in order, so the latest settled is this minus one).
    function settledEpochCount() external view returns (uint64);
    /// @notice The stake and escrow snapshot block of `epoch` (zero until opened).
    function snapshotBlockOf(uint64 epoch) external view returns (uint64);
}

/// @title Escrow
/// @notice Holds requesters' fee deposits and pays nodes' earnings, pull-style. Each settled epoch
/// commits to a Merkle root of cumulative balances, one leaf per account:
/// `(account, cumulativeEarned, cumulativeCharged)`, hashed like OpenZeppelin's StandardMerkleTree
/// over `['address','uint256','uint256']`. Nodes `claim` their earnings with a proof; requesters
/// take back unspent deposits with `requestWithdrawal`, then `withdraw` with a proof.
///
/// The spending rule (docs/economics.md): an epoch may charge a requester at most what it had at the epoch's
/// snapshot block — deposits, less withdrawals, less its pending withdrawal, less what earlier epochs charged.
/// A withdrawal requested at block `b` is paid only once an epoch whose snapshot block is at or after `b` has
/// settled. Epochs with an earlier snapshot may have charged against the requested funds (nodes could not see the
/// request), and epochs settle in order, so by then all their charges are in the root the withdrawal is checked
/// against; epochs with a later snapshot see the request and do not spend it. The wait therefore follows the
/// governed epoch length by construction; `withdrawalDelayBlocks` is only a floor. Every account that ever
/// deposited is listed (`depositorAt`), and each batch gives every depositor at its snapshot a leaf, so a depositor
/// never charged can still prove its charges (zero) and withdraw. Nothing here is O(accounts).
/// @dev Tokens with transfer fees or rebasing balances are not supported.
contract Escrow {
    using SafeERC20 for IERC20;

    /// @dev A requester's pending withdrawal request.
    struct PendingWithdrawal {
        uint256 amount;
        uint64 requestedAtBlock;
        uint64 availableAtBlock;
    }

    IERC20 private immutable _token;
    uint64 private immutable _withdrawalDelayBlocks;
    address private immutable _deployer;

    ISettlementBalances private _settlement;
    mapping(address account => uint256) private _depositOf;
    mapping(address account => uint256) private _claimedOf;
    mapping(address account => uint256) private _withdrawnOf;
    mapping(address account => PendingWithdrawal) private _pendingWithdrawals;
    address[] private _depositors;

    /// @notice `payer` deposited `amount` for `requester`, whose deposits now total `totalDeposited`.
    event Deposited(address indexed requester, address indexed payer, uint256 amount, uint256 totalDeposited);
    /// @notice `requester` asked to withdraw `amount`: paid no earlier than block `availableAtBlock`, and only once
    /// an epoch whose snapshot block is at or after this block has settled.
    event WithdrawalRequested(address indexed requester, uint256 amount, uint64 availableAtBlock);
    /// @notice `requester` withdrew `amount` of the `requested` (less when charges left less unspent).
    event Withdrawn(address indexed requester, uint256 amount, uint256 requested);
    /// @notice `amount` of earnings was paid to `account`, whose claims now total `cumulativeEarned`.
    event Claimed(address indexed account, uint256 amount, uint256 cumulativeEarned);
    /// @notice The settlement contract, whose balances root backs claims and withdrawals, was set.
    event SettlementSet(address settlement);

    /// @notice An amount of zero was given.
    error EscrowZeroAmount();
    /// @notice An address of zero was given.
    error EscrowZeroAddress();
    /// @notice `caller` may not call this function.
    error EscrowUnauthorized(address caller);
    /// @notice The settlement contract was already set.
    error EscrowSettlementAlreadySet(address settlement);
    /// @notice The pending withdrawal becomes available only at block `availableAt`.
    error EscrowWithdrawalNotReady(uint256 availableAt);
    /// @notice The pending withdrawal, requested at block `requestedAt`, waits until an epoch whose snapshot block
    /// is at or after it has settled; the latest settled epoch's snapshot is block `settledSnapshot` (0: none).
    error EscrowWithdrawalNotSettled(uint256 requestedAt, uint256 settledSnapshot);
    /// @notice The caller has no pending withdrawal.
    error EscrowNoPendingWithdrawal();
    /// @notice Only `available` can be withdrawn, `requested` was asked.
    error EscrowInsufficientBalance(uint256 available, uint256 requested);
    /// @notice The balance leaf is not in the latest balances root.
    error EscrowInvalidProof();
    /// @notice Everything earned has been claimed already.
    error EscrowNothingToClaim();

    /// @param token_ The fee token.
    /// @param withdrawalDelayBlocks_ The fewest blocks a withdrawal request waits (it also waits for settlement).
    constructor(IERC20 token_, uint64 withdrawalDelayBlocks_) {
        if (address(token_) == address(0)) revert EscrowZeroAddress();
        _token = token_;
        _withdrawalDelayBlocks = withdrawalDelayBlocks_;
        _deployer = msg.sender;
    }

    /// @notice Sets the settlement contract whose balances root backs claims and withdrawals. Callable once, by the
    /// deployer.
    /// @param settlement_ The Settlement contract.
    function setSettlement(address settlement_) external {
        if (msg.sender != _deployer) revert EscrowUnauthorized(msg.sender);
        if (address(_settlement) != address(0)) revert EscrowSettlementAlreadySet(address(_settlement));
        if (settlement_ == address(0)) revert EscrowZeroAddress();
        _settlement = ISettlementBalances(settlement_);
        emit SettlementSet(settlement_);
    }

    /// @notice Deposits `amount` fee tokens (pulled from the caller) for the caller's own tasks.
    /// @param amount The amount to deposit.
    function deposit(uint256 amount) external {
        _deposit(msg.sender, amount);
    }

    /// @notice Deposits `amount` fee tokens (pulled from the caller) for `requester`'s tasks.
    /// @param requester The account credited.
    /// @param amount The amount to deposit.
    function depositFor(address requester, uint256 amount) external {
        if (requester == address(0)) revert EscrowZeroAddress();
        _deposit(requester, amount);
    }

    /// @notice Pays `account` its earnings not yet claimed, proven by its leaf in the latest balances root.
    /// Anyone may call this for any account; the tokens always go to `account`.
    /// @param account The account whose earnings are paid.
    /// @param cumulativeEarned The account's cumulative earnings in the latest root.
    /// @param cumulativeCharged The account's cumulative charges in the latest root.
    /// @param proof The Merkle proof of the leaf.
    /// @return amount The amount paid.
    function claim(address account, uint256 cumulativeEarned, uint256 cumulativeCharged, bytes32[] calldata proof)
        external
        returns (uint256 amount)
    {
        if (!_verifyBalance(account, cumulativeEarned, cumulativeCharged, proof)) revert EscrowInvalidProof();
        uint256 claimed = _claimedOf[account];
        if (cumulativeEarned <= claimed) revert EscrowNothingToClaim();
        unchecked {
            // cumulativeEarned > claimed.
            amount = cumulativeEarned - claimed;
        }
        _claimedOf[account] = cumulativeEarned;
        emit Claimed(account, amount, cumulativeEarned);
        _token.safeTransfer(account, amount);
    }

    /// @notice Asks to withdraw `amount` of the caller's unspent deposits. Replaces any pending request (amount and
    /// wait). From the first epoch whose snapshot block is at or after this block, nodes treat `amount` as not
    /// spendable; the request is paid once such an epoch has settled and `withdrawalDelayBlocks` have passed.
    /// @param amount The amount to withdraw; at most deposits minus withdrawals (charges are checked at `withdraw`).
    function requestWithdrawal(uint256 amount) external {
        if (amount == 0) revert EscrowZeroAmount();
        uint256 unwithdrawn = _depositOf[msg.sender] - _withdrawnOf[msg.sender];
        if (amount > unwithdrawn) revert EscrowInsufficientBalance(unwithdrawn, amount);
        uint64 requestedAtBlock = uint64(block.number);
        uint64 availableAtBlock = requestedAtBlock + _withdrawalDelayBlocks;
        _pendingWithdrawals[msg.sender] = PendingWithdrawal(amount, requestedAtBlock, availableAtBlock);
        emit WithdrawalRequested(msg.sender, amount, availableAtBlock);
    }

    /// @notice Pays out the caller's pending withdrawal, or as much of it as is unspent, once it is ready (see
    /// `requestWithdrawal`). The caller proves its cumulative charges with its leaf in the latest balances root;
    /// it is paid the request or, when less, deposits minus charges minus earlier withdrawals.
    /// @param cumulativeEarned The caller's cumulative earnings in the latest root.
    /// @param cumulativeCharged The caller's cumulative charges in the latest root.
    /// @param proof The Merkle proof of the leaf.
    /// @return amount The amount withdrawn.
    function withdraw(uint256 cumulativeEarned, uint256 cumulativeCharged, bytes32[] calldata proof)
        external
        returns (uint256 amount)
    {
        PendingWithdrawal storage pending = _pendingWithdrawals[msg.sender];
        uint256 requested = pending.amount;
        if (requested == 0) revert EscrowNoPendingWithdrawal();
        if (block.number < pending.availableAtBlock) revert EscrowWithdrawalNotReady(pending.availableAtBlock);
        uint256 settledSnapshot = _latestSettledSnapshot();
        if (settledSnapshot < pending.requestedAtBlock) {
            revert EscrowWithdrawalNotSettled(pending.requestedAtBlock, settledSnapshot);
        }
        if (!_verifyBalance(msg.sender, cumulativeEarned, cumulativeCharged, proof)) revert EscrowInvalidProof();
        uint256 available = _available(msg.sender, cumulativeCharged);
        if (available == 0) revert EscrowInsufficientBalance(0, requested);
        amount = requested < available ? requested : available;
        _withdrawnOf[msg.sender] += amount;
        delete _pendingWithdrawals[msg.sender];
        emit Withdrawn(msg.sender, amount, requested);
        _token.safeTransfer(msg.sender, amount);
    }

    /// @notice The fee token.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @notice The fewest blocks a withdrawal request waits (it also waits for an epoch to settle: see
    /// `requestWithdrawal`).
    function withdrawalDelayBlocks() external view returns (uint64) {
        return _withdrawalDelayBlocks;
    }

    /// @notice The settlement contract (zero until set).
    function settlement() external view returns (address) {
        return address(_settlement);
    }

    /// @notice Everything ever deposited for `account`.
    function depositOf(address account) external view returns (uint256) {
        return _depositOf[account];
    }

    /// @notice Everything `account` has claimed (its cumulative earnings at its last claim).
    function claimedOf(address account) external view returns (uint256) {
        return _claimedOf[account];
    }

    /// @notice Everything `account` has withdrawn from its deposits.
    function withdrawnOf(address account) external view returns (uint256) {
        return _withdrawnOf[account];
    }

    /// @notice The pending withdrawal of `account` (amount 0 when none): what was asked, at which block, and the
    /// block before which it is never paid.
    function pendingWithdrawalOf(address account)
        external
        view
        returns (uint256 amount, uint256 requestedAtBlock, uint256 availableAtBlock)
    {
        PendingWithdrawal storage pending = _pendingWithdrawals[account];
        return (pending.amount, pending.requestedAtBlock, pending.availableAtBlock);
    }

    /// @notice Whether `account`'s pending withdrawal can be paid now (given a valid proof of its balance leaf).
    function isWithdrawalReady(address account) external view returns (bool) {
        PendingWithdrawal storage pending = _pendingWithdrawals[account];
        return pending.amount > 0 && block.number >= pending.availableAtBlock
            && _latestSettledSnapshot() >= pending.requestedAtBlock;
    }

    /// @notice How many accounts ever deposited (or were deposited for).
    function depositorCount() external view returns (uint256) {
        return _depositors.length;
    }

    /// @notice The `index`-th account that ever deposited, in order of first deposit.
    function depositorAt(uint256 index) external view returns (address) {
        return _depositors[index];
    }

    /// @notice What `account` could withdraw if its cumulative charges were `cumulativeCharged`:
    /// deposits − charges − withdrawals, or 0 when charges and withdrawals exceed deposits. Unproven.
    function availableOf(address account, uint256 cumulativeCharged) external view returns (uint256) {
        return _available(account, cumulativeCharged);
    }

    /// @notice The leaf hash of a balance entry, as OpenZeppelin's StandardMerkleTree computes it.
    function balanceLeaf(address account, uint256 cumulativeEarned, uint256 cumulativeCharged)
        external
        pure
        returns (bytes32)
    {
        return _balanceLeaf(account, cumulativeEarned, cumulativeCharged);
    }

    /// @notice Whether `(account, cumulativeEarned, cumulativeCharged)` is a leaf of the latest balances root.
    function verifyBalance(
        address account,
        uint256 cumulativeEarned,
        uint256 cumulativeCharged,
        bytes32[] calldata proof
    ) external view returns (bool) {
        return _verifyBalance(account, cumulativeEarned, cumulativeCharged, proof);
    }

    function _deposit(address requester, uint256 amount) private {
        if (amount == 0) revert EscrowZeroAmount();
        uint256 before = _depositOf[requester];
        // Deposits only grow, so an account with none yet is a new depositor.
        if (before == 0) _depositors.push(requester);
        uint256 totalDeposited = before + amount;
        _depositOf[requester] = totalDeposited;
        emit Deposited(requester, msg.sender, amount, totalDeposited);
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    function _available(address account, uint256 cumulativeCharged) private view returns (uint256) {
        uint256 spent = cumulativeCharged + _withdrawnOf[account];
        uint256 deposited = _depositOf[account];
        return deposited > spent ? deposited - spent : 0;
    }

    /// @dev The snapshot block of the latest settled epoch, or 0 before the first.
    function _latestSettledSnapshot() private view returns (uint256) {
        if (address(_settlement) == address(0)) return 0;
        uint64 count = _settlement.settledEpochCount();
        if (count == 0) return 0;
        unchecked {
            // count > 0.
            return _settlement.snapshotBlockOf(count - 1);
        }
    }

    function _verifyBalance(
        address account,
        uint256 cumulativeEarned,
        uint256 cumulativeCharged,
        bytes32[] calldata proof
    ) private view returns (bool) {
        bytes32 root = address(_settlement) == address(0) ? bytes32(0) : _settlement.balancesRoot();
        if (root == bytes32(0)) {
            // Nothing settled yet: nobody has earned or been charged anything.
            return cumulativeEarned == 0 && cumulativeCharged == 0 && proof.length == 0;
        }
        return MerkleProof.verifyCalldata(proof, root, _balanceLeaf(account, cumulativeEarned, cumulativeCharged));
    }

    function _balanceLeaf(address account, uint256 cumulativeEarned, uint256 cumulativeCharged)
        private
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeEarned, cumulativeCharged))));
    }
}
