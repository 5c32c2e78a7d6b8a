// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {NetworkParameters} from "./NetworkParameters.sol";

/// @title TaskAnchors
/// @notice Requesters' commitments to their task ids, made before the tasks' draws. A requester anchors, in one
/// transaction, the Merkle root of a batch of `count` task ids (the tree is built and its proofs checked off-chain;
/// only the root is stored here). Nodes accept a task only if its id is a leaf of a root its requester anchored at
/// a block before the task's draw block: the id was then fixed before the draw block's hash was known, so the
/// requester cannot grind ids for a draw that suits it.
///
/// Each leaf is charged the governed minimum fee (`NetworkParameters.MinFee`), paid to the treasury at once.
/// Anchoring alone does not stop grinding: a requester could anchor many variants of one task under a single root
/// (differing in a nonce, say), wait for the draw block, and submit only the variant whose draw suits it. Charging
/// per leaf makes every committed variant cost at least what a real task would, so trying `n` variants costs
/// `n * minFee` whichever one is submitted.
/// @dev `count` is the requester's own claim: this contract cannot see the tree. Nodes must bind a leaf to it (accept
/// only a leaf whose index is below `count`, in a tree of the shape `count` leaves give), or a requester could pay
/// for one leaf and hide many. Anchors are write-once per (requester, root) and never deleted. Tokens with transfer
/// fees or rebasing balances are not supported.
contract TaskAnchors {
    using SafeERC20 for IERC20;

    /// @dev One anchored root: the block that recorded it and the leaves paid for (0: not anchored).
    struct Anchor {
        uint64 atBlock;
        uint32 count;
    }

    /// @notice The most leaves one root may hold (2^20, a tree of depth 20).
    uint32 public constant MAX_COUNT = 1 << 20;

    IERC20 private immutable _token;
    NetworkParameters private immutable _parameters;
    address private immutable _treasury;

    mapping(address requester => mapping(bytes32 root => Anchor)) private _anchors;

    /// @notice `requester` anchored `root`, a tree of `count` task ids, at block `atBlock`, paying `paid` to the
    /// treasury.
    event TasksAnchored(address indexed requester, bytes32 indexed root, uint32 count, uint64 atBlock, uint256 paid);

    /// @notice An address of zero was given.
    error TaskAnchorsZeroAddress();
    /// @notice A root of zero was given.
    error TaskAnchorsZeroRoot();
    /// @notice A root must hold between 1 and `max` leaves; `count` was given.
    error TaskAnchorsBadCount(uint32 count, uint32 max);
    /// @notice `requester` already anchored `root`, at block `atBlock`: anchors are write-once.
    error TaskAnchorsAlreadyAnchored(address requester, bytes32 root, uint64 atBlock);

    /// @param token_ The fee token.
    /// @param parameters_ The NetworkParameters contract, whose active `MinFee` each leaf pays.
    /// @param treasury_ The receiver of anchoring fees.
    constructor(IERC20 token_, address parameters_, address treasury_) {
        if (address(token_) == address(0) || parameters_ == address(0) || treasury_ == address(0)) {
            revert TaskAnchorsZeroAddress();
        }
        _token = token_;
        _parameters = NetworkParameters(parameters_);
        _treasury = treasury_;
    }

    /// @notice Anchors `root`, the Merkle root of `count` of the caller's task ids, at this block, and pays
    /// `count` times the active minimum fee (pulled from the caller; approve this contract first) to the treasury.
    /// A root can be anchored once per requester; other requesters' anchors of the same root are their own.
    /// @param root The Merkle root of the task ids (built off-chain).
    /// @param count How many task ids the tree holds, and pays for: 1 to `MAX_COUNT`.
    /// @return paid The fee paid to the treasury: `count * minFee`.
    function anchor(bytes32 root, uint32 count) external returns (uint256 paid) {
        if (root == bytes32(0)) revert TaskAnchorsZeroRoot();
        if (count == 0 || count > MAX_COUNT) revert TaskAnchorsBadCount(count, MAX_COUNT);
        Anchor storage existing = _anchors[msg.sender][root];
        if (existing.count != 0) revert TaskAnchorsAlreadyAnchored(msg.sender, root, existing.atBlock);
        // At most 2^20 * 1e27 (MinFee's upper bound): far below 2^256.
        paid = uint256(count) * _parameters.activeValue(NetworkParameters.Parameter.MinFee);
        uint64 atBlock = uint64(block.number);
        _anchors[msg.sender][root] = Anchor(atBlock, count);
        emit TasksAnchored(msg.sender, root, count, atBlock, paid);
        if (paid > 0) _token.safeTransferFrom(msg.sender, _treasury, paid);
    }

    /// @notice When `requester` anchored `root` and how many leaves it paid for; zeros when it did not.
    function anchorOf(address requester, bytes32 root) external view returns (uint64 atBlock, uint32 count) {
        Anchor storage stored = _anchors[requester][root];
        return (stored.atBlock, stored.count);
    }

    /// @notice The fee token.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @notice The NetworkParameters contract whose active `MinFee` each leaf pays.
    function parameters() external view returns (address) {
        return address(_parameters);
    }

    /// @notice The receiver of anchoring fees.
    function treasury() external view returns (address) {
        return _treasury;
    }
}
