// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {Escrow, ISettlementBalances} from "../../contracts/Escrow.sol";
import {NetworkParameters} from "../../contracts/NetworkParameters.sol";
import {StakeManager} from "../../contracts/StakeManager.sol";
import {TestToken} from "../../contracts/TestToken.sol";
import {vm} from "./Vm.sol";

/// @notice Settlement as Escrow sees it, driven by the handler: which epochs are settled, their snapshot blocks, and
/// the latest balances root.
contract MockSettlement is ISettlementBalances {
    address private immutable _owner = msg.sender;
    bytes32 public balancesRoot;
    uint64 public settledEpochCount;
    mapping(uint64 epoch => uint64) public snapshotBlockOf;

    function open(uint64 epoch, uint64 snapshotBlock) external {
        require(msg.sender == _owner, "MockSettlement: owner only");
        snapshotBlockOf[epoch] = snapshotBlock;
    }

    function settle(bytes32 root) external {
        require(msg.sender == _owner, "MockSettlement: owner only");
        balancesRoot = root;
        settledEpochCount += 1;
    }
}

/// @dev A tenth of the largest stake the handler adds at once: stakes below it, and unbonds and slashes down to it,
/// are common.
uint256 constant MIN_STAKE = 1e23;

/// @notice The governed values StakeManager reads, fixed for the fuzz run.
contract FixedParameters {
    function activeValue(NetworkParameters.Parameter parameter) external pure returns (uint256) {
        if (parameter == NetworkParameters.Parameter.UnbondingBlocks) return 20;
        if (parameter == NetworkParameters.Parameter.MinStake) return MIN_STAKE;
        return 0;
    }
}

/// @notice Drives Escrow and StakeManager through random sequences of deposit, request withdrawal, withdraw, spend
/// (a task fee in the open epoch), open epoch, settle, claim, roll, stake, unbond, withdraw stake, slash, jail and
/// refresh eligibility. It plays
/// the committee honestly by the spending rule (docs/economics.md): an epoch's charges to a requester are capped at
/// what it funded at the epoch's snapshot (deposits − withdrawals − pending withdrawal) less earlier charges, fees
/// above that scaled down. Requesters over-commit freely: no node acceptance check stands in front of the batch.
/// Ghost totals record what actually moved, for the invariants to compare with the contracts.
contract EscrowHandler {
    uint256 public constant REQUESTERS = 4;
    uint256 public constant ACCOUNTS = 8; // 4 requesters, 2 executors, the treasury, one never-active account
    uint256 public constant EXECUTOR_A = 4;
    uint256 public constant EXECUTOR_B = 5;
    uint256 public constant TREASURY = 6;
    uint256 public constant EXECUTORS_BPS = 8_000;
    uint64 public constant WITHDRAWAL_DELAY = 5;
    uint256 private constant _MAX_AMOUNT = 1e24;
    uint256 private constant _MAX_OPEN_EPOCHS = 3;

    struct EpochRecord {
        uint64 snapshotBlock;
        uint256[REQUESTERS] funded;
        uint256[REQUESTERS] owed;
    }

    TestToken public immutable token;
    Escrow public immutable escrow;
    MockSettlement public immutable settlement;
    StakeManager public immutable stakeManager;

    address[ACCOUNTS] public accounts;
    EpochRecord[] private _epochs;
    uint64 public settledCount;

    /// @dev The cumulative balances of the latest settled root, and its tree (8 leaves, 3 levels).
    uint256[ACCOUNTS] public earnedOf;
    uint256[ACCOUNTS] public chargedOf;
    bytes32[ACCOUNTS] private _leaves;
    bytes32[4] private _level1;
    bytes32[2] private _level2;
    bool public hasRoot;

    uint256 public ghostDeposited;
    uint256 public ghostClaimed;
    uint256 public ghostWithdrawn;
    uint256[ACCOUNTS] public ghostStaked;
    uint256[ACCOUNTS] public ghostStakeWithdrawn;
    uint256[ACCOUNTS] public ghostSlashed;
    /// @notice Successful calls per action, to show the runs reach the interesting states.
    mapping(bytes32 action => uint256) public calls;

    constructor() {
        token = new TestToken();
        escrow = new Escrow(token, WITHDRAWAL_DELAY);
        settlement = new MockSettlement();
        escrow.setSettlement(address(settlement));
        stakeManager = new StakeManager(token, NetworkParameters(address(new FixedParameters())));
        stakeManager.setSettlement(address(this));
        for (uint256 i = 0; i < ACCOUNTS; ++i) accounts[i] = address(uint160(0x1000 + i));
    }

    // ---- escrow actions ------------------------------------------------------------------------------------------

    function deposit(uint256 who, uint256 amount) external {
        address requester = accounts[who % REQUESTERS];
        amount = _bound(amount, 1, _MAX_AMOUNT);
        token.mint(requester, amount);
        vm.startPrank(requester);
        token.approve(address(escrow), amount);
        escrow.deposit(amount);
        vm.stopPrank();
        ghostDeposited += amount;
        calls["deposit"]++;
    }

    function requestWithdrawal(uint256 who, uint256 amount) external {
        address requester = accounts[who % REQUESTERS];
        uint256 unwithdrawn = escrow.depositOf(requester) - escrow.withdrawnOf(requester);
        if (unwithdrawn == 0) return;
        vm.prank(requester);
        escrow.requestWithdrawal(_bound(amount, 1, unwithdrawn));
        calls["requestWithdrawal"]++;
    }

    function withdraw(uint256 who) external {
        uint256 i = who % REQUESTERS;
        (uint256 earned, uint256 charged, bytes32[] memory proof) = _leaf(i);
        vm.prank(accounts[i]);
        try escrow.withdraw(earned, charged, proof) returns (uint256 amount) {
            ghostWithdrawn += amount;
            calls["withdraw"]++;
        } catch {
            calls["withdraw refused"]++;
        }
    }

    /// @notice A task fee of `fee` for requester `who` in the newest opened epoch, while it is unsettled.
    function spend(uint256 who, uint256 fee) external {
        if (_epochs.length == 0 || _epochs.length == settledCount) return;
        _epochs[_epochs.length - 1].owed[who % REQUESTERS] += _bound(fee, 1, _MAX_AMOUNT);
        calls["spend"]++;
    }

    /// @notice Opens the next epoch with its snapshot at this block: what each requester funds is read now.
    function openEpoch() public {
        if (_epochs.length - settledCount >= _MAX_OPEN_EPOCHS) return;
        EpochRecord storage epoch = _epochs.push();
        epoch.snapshotBlock = uint64(block.number);
        for (uint256 i = 0; i < REQUESTERS; ++i) epoch.funded[i] = _fundedNow(accounts[i]);
        settlement.open(uint64(_epochs.length - 1), epoch.snapshotBlock);
        // Everything after the snapshot happens in later blocks.
        vm.roll(block.number + 1);
        calls["openEpoch"]++;
    }

    /// @notice Settles the oldest opened, unsettled epoch by the spending rule.
    function settleEpoch() public {
        if (settledCount == _epochs.length) return;
        EpochRecord storage epoch = _epochs[settledCount];
        uint256 totalFees;
        for (uint256 i = 0; i < REQUESTERS; ++i) {
            uint256 chargeable = epoch.funded[i] > chargedOf[i] ? epoch.funded[i] - chargedOf[i] : 0;
            uint256 charge = epoch.owed[i] <= chargeable ? epoch.owed[i] : chargeable;
            chargedOf[i] += charge;
            totalFees += charge;
        }
        uint256 each = totalFees * EXECUTORS_BPS / 10_000 / 2;
        earnedOf[EXECUTOR_A] += each;
        earnedOf[EXECUTOR_B] += each;
        earnedOf[TREASURY] += totalFees - 2 * each;
        settledCount++;
        settlement.settle(_buildTree());
        hasRoot = true;
        calls["settleEpoch"]++;
    }

    function claim(uint256 who) external {
        uint256 i = EXECUTOR_A + who % 3;
        (uint256 earned, uint256 charged, bytes32[] memory proof) = _leaf(i);
        try escrow.claim(accounts[i], earned, charged, proof) returns (uint256 amount) {
            ghostClaimed += amount;
            calls["claim"]++;
        } catch {
            calls["claim refused"]++;
        }
    }

    function roll(uint256 blocks) external {
        vm.roll(block.number + _bound(blocks, 1, 3 * WITHDRAWAL_DELAY));
        calls["roll"]++;
    }

    // ---- stake actions -------------------------------------------------------------------------------------------

    function stake(uint256 who, uint256 amount) external {
        uint256 i = EXECUTOR_A + who % 2;
        amount = _bound(amount, 1, _MAX_AMOUNT);
        token.mint(accounts[i], amount);
        vm.startPrank(accounts[i]);
        token.approve(address(stakeManager), amount);
        stakeManager.stake(amount);
        vm.stopPrank();
        ghostStaked[i] += amount;
        calls["stake"]++;
    }

    function requestUnbond(uint256 who, uint256 amount) external {
        uint256 i = EXECUTOR_A + who % 2;
        uint256 active = stakeManager.stakeOf(accounts[i]);
        if (active == 0) return;
        vm.prank(accounts[i]);
        stakeManager.requestUnbond(_bound(amount, 1, active));
        calls["requestUnbond"]++;
    }

    function withdrawStake(uint256 who) external {
        uint256 i = EXECUTOR_A + who % 2;
        vm.prank(accounts[i]);
        try stakeManager.withdraw() returns (uint256 amount) {
            ghostStakeWithdrawn[i] += amount;
            calls["withdrawStake"]++;
        } catch {
            calls["withdrawStake refused"]++;
        }
    }

    /// @notice Slashes up to `amount` (more than the node has, at times) to the treasury, as a settled penalty does.
    function slash(uint256 who, uint256 amount) external {
        uint256 i = EXECUTOR_A + who % 2;
        uint256 slashed = stakeManager.slash(accounts[i], _bound(amount, 0, 2 * _MAX_AMOUNT), accounts[TREASURY]);
        ghostSlashed[i] += slashed;
        calls["slash"]++;
    }

    /// @notice Jails for 1 to 30 blocks, as a settled penalty or a proven equivocation does.
    function jail(uint256 who, uint256 blocks) external {
        uint256 i = EXECUTOR_A + who % 2;
        stakeManager.jail(accounts[i], uint64(block.number + _bound(blocks, 1, 30)));
        calls["jail"]++;
    }

    /// @notice Anyone's refresh of a node's eligible stake.
    function refreshEligibility(uint256 who) external {
        stakeManager.refreshEligibility(accounts[EXECUTOR_A + who % 2]);
        calls["refreshEligibility"]++;
    }

    // ---- the end of a run: everybody leaves ----------------------------------------------------------------------

    /// @notice Every requester asks for all it has not withdrawn, the open epochs settle and one more epoch (whose
    /// snapshot sees the requests) opens and settles; then each requester must get exactly its deposits less its
    /// withdrawals less its charges, and each earner its earnings, leaving the escrow empty.
    function drain() external {
        uint256[REQUESTERS] memory expected;
        for (uint256 i = 0; i < REQUESTERS; ++i) {
            uint256 unwithdrawn = escrow.depositOf(accounts[i]) - escrow.withdrawnOf(accounts[i]);
            if (unwithdrawn == 0) continue;
            vm.prank(accounts[i]);
            escrow.requestWithdrawal(unwithdrawn);
        }
        vm.roll(block.number + 1);
        while (settledCount < _epochs.length) settleEpoch();
        openEpoch();
        settleEpoch();
        vm.roll(block.number + WITHDRAWAL_DELAY);
        for (uint256 i = 0; i < REQUESTERS; ++i) {
            address requester = accounts[i];
            expected[i] = escrow.depositOf(requester) - escrow.withdrawnOf(requester) - chargedOf[i];
            (uint256 earned, uint256 charged, bytes32[] memory proof) = _leaf(i);
            (uint256 pending,,) = escrow.pendingWithdrawalOf(requester);
            if (pending == 0) continue;
            if (expected[i] == 0) {
                vm.expectRevert(abi.encodeWithSelector(Escrow.EscrowInsufficientBalance.selector, 0, pending));
                vm.prank(requester);
                escrow.withdraw(earned, charged, proof);
            } else {
                vm.prank(requester);
                uint256 amount = escrow.withdraw(earned, charged, proof);
                require(amount == expected[i], "drain: a requester did not get back exactly its unspent deposit");
                ghostWithdrawn += amount;
            }
        }
        for (uint256 i = EXECUTOR_A; i <= TREASURY; ++i) {
            if (earnedOf[i] <= escrow.claimedOf(accounts[i])) continue;
            (uint256 earned, uint256 charged, bytes32[] memory proof) = _leaf(i);
            ghostClaimed += escrow.claim(accounts[i], earned, charged, proof);
        }
        require(token.balanceOf(address(escrow)) == 0, "drain: tokens left in escrow after everybody left");
    }

    // ---- views for the invariants --------------------------------------------------------------------------------

    function openEpochCount() external view returns (uint256) {
        return _epochs.length;
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    /// @dev The spending rule's funding, from Escrow's state now (the handler reads it at the snapshot block).
    function _fundedNow(address requester) private view returns (uint256) {
        (uint256 pending,,) = escrow.pendingWithdrawalOf(requester);
        uint256 spent = escrow.withdrawnOf(requester) + pending;
        uint256 deposited = escrow.depositOf(requester);
        return deposited > spent ? deposited - spent : 0;
    }

    /// @dev Account `i`'s leaf in the latest root and its proof (before any root: zeros and an empty proof).
    function _leaf(uint256 i) private view returns (uint256 earned, uint256 charged, bytes32[] memory proof) {
        if (!hasRoot) return (0, 0, new bytes32[](0));
        proof = new bytes32[](3);
        proof[0] = _leaves[i ^ 1];
        proof[1] = _level1[(i >> 1) ^ 1];
        proof[2] = _level2[(i >> 2) ^ 1];
        return (earnedOf[i], chargedOf[i], proof);
    }

    /// @dev A tree over every account's cumulative balance, hashed as OpenZeppelin's StandardMerkleTree hashes
    /// leaves and pairs (so MerkleProof verifies it), though laid out more simply.
    function _buildTree() private returns (bytes32) {
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            _leaves[i] = keccak256(bytes.concat(keccak256(abi.encode(accounts[i], earnedOf[i], chargedOf[i]))));
        }
        for (uint256 i = 0; i < 4; ++i) _level1[i] = Hashes.commutativeKeccak256(_leaves[2 * i], _leaves[2 * i + 1]);
        for (uint256 i = 0; i < 2; ++i) _level2[i] = Hashes.commutativeKeccak256(_level1[2 * i], _level1[2 * i + 1]);
        return Hashes.commutativeKeccak256(_level2[0], _level2[1]);
    }

    function _bound(uint256 x, uint256 min, uint256 max) private pure returns (uint256) {
        return min + x % (max - min + 1);
    }
}
