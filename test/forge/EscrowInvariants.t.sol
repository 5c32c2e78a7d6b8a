// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EscrowHandler} from "./EscrowHandler.sol";
import {InvariantTargets} from "./Vm.sol";
import {StakeManager} from "../../contracts/StakeManager.sol";

/// @title Escrow and stake invariants
/// @notice Forge calls the handler's actions in random sequences (runs and depth: src/chain/forge.test.ts) and checks
/// these after every call; `afterInvariant` then makes everybody leave and checks that each gets exactly its own.
contract EscrowInvariantsTest is InvariantTargets {
    EscrowHandler private _handler;

    function setUp() public {
        _handler = new EscrowHandler();
        bytes4[] memory actions = new bytes4[](15);
        actions[0] = EscrowHandler.deposit.selector;
        actions[1] = EscrowHandler.requestWithdrawal.selector;
        actions[2] = EscrowHandler.withdraw.selector;
        actions[3] = EscrowHandler.spend.selector;
        actions[4] = EscrowHandler.openEpoch.selector;
        actions[5] = EscrowHandler.settleEpoch.selector;
        actions[6] = EscrowHandler.claim.selector;
        actions[7] = EscrowHandler.roll.selector;
        actions[8] = EscrowHandler.stake.selector;
        actions[9] = EscrowHandler.requestUnbond.selector;
        actions[10] = EscrowHandler.withdrawStake.selector;
        actions[11] = EscrowHandler.slash.selector;
        actions[12] = EscrowHandler.spend.selector; // twice: spending is what attacks need most
        actions[13] = EscrowHandler.jail.selector;
        actions[14] = EscrowHandler.refreshEligibility.selector;
        _target(address(_handler), actions);
    }

    /// @notice All the invariants below, checked after every call of one campaign (one campaign per invariant
    /// function would multiply the run time).
    function invariant_escrowAndStake() public view {
        payoutsNeverExceedDeposits();
        noRequesterPaysFromAnothersDeposit();
        escrowCoversWhatItOwes();
        slashedStakeIsNeverWithdrawn();
        eligibleStakeCanSign();
    }

    /// @notice Total claimed + withdrawn never exceeds total deposited, and the escrow holds exactly the difference.
    function payoutsNeverExceedDeposits() public view {
        uint256 deposited = _handler.ghostDeposited();
        uint256 paidOut = _handler.ghostClaimed() + _handler.ghostWithdrawn();
        require(paidOut <= deposited, "claimed + withdrawn exceeds deposited");
        require(
            _handler.token().balanceOf(address(_handler.escrow())) == deposited - paidOut,
            "escrow balance differs from deposits less payouts"
        );
    }

    /// @notice No requester's fee is paid from another requester's deposit: each requester's settled charges plus its
    /// withdrawals stay within its own deposits.
    function noRequesterPaysFromAnothersDeposit() public view {
        for (uint256 i = 0; i < _handler.REQUESTERS(); ++i) {
            address requester = _handler.accounts(i);
            require(
                _handler.chargedOf(i) + _handler.escrow().withdrawnOf(requester)
                    <= _handler.escrow().depositOf(requester),
                "a requester was charged or paid out beyond its own deposits"
            );
        }
    }

    /// @notice Earnings are exactly the charges (the batch balances), and nobody claims beyond its earnings; so the
    /// escrow always covers every requester's unspent deposit and every earner's unclaimed earnings.
    function escrowCoversWhatItOwes() public view {
        uint256 earned;
        uint256 owed;
        for (uint256 i = 0; i < _handler.ACCOUNTS(); ++i) {
            address account = _handler.accounts(i);
            earned += _handler.earnedOf(i);
            uint256 claimed = _handler.escrow().claimedOf(account);
            require(claimed <= _handler.earnedOf(i), "claimed beyond earnings");
            owed += _handler.earnedOf(i) - claimed;
            if (i < _handler.REQUESTERS()) {
                owed += _handler.escrow().depositOf(account) - _handler.escrow().withdrawnOf(account)
                    - _handler.chargedOf(i);
            }
        }
        uint256 charged;
        for (uint256 i = 0; i < _handler.REQUESTERS(); ++i) charged += _handler.chargedOf(i);
        require(earned == charged, "earnings differ from charges");
        require(_handler.token().balanceOf(address(_handler.escrow())) >= owed, "escrow cannot cover what it owes");
    }

    /// @notice Stake never goes negative and a slashed part is never withdrawn: for each node, active + unbonding +
    /// withdrawn + slashed is exactly what it staked, and the stake manager holds exactly the active + unbonding.
    function slashedStakeIsNeverWithdrawn() public view {
        uint256 held;
        for (uint256 i = _handler.EXECUTOR_A(); i <= _handler.EXECUTOR_B(); ++i) {
            address node = _handler.accounts(i);
            (uint256 unbonding,) = _handler.stakeManager().unbondingOf(node);
            uint256 bonded = _handler.stakeManager().stakeOf(node) + unbonding;
            require(
                bonded + _handler.ghostStakeWithdrawn(i) + _handler.ghostSlashed(i) == _handler.ghostStaked(i),
                "stake accounting broken"
            );
            require(
                _handler.ghostStakeWithdrawn(i) <= _handler.ghostStaked(i) - _handler.ghostSlashed(i),
                "a slashed part was withdrawn"
            );
            held += bonded;
        }
        require(_handler.token().balanceOf(address(_handler.stakeManager())) == held, "stake manager balance differs");
    }

    /// @notice Eligible stake is stake that can sign, and its total is their sum, now and in the last block (as
    /// Settlement reads it at a snapshot): a node's eligible stake is 0 or all its active stake, never while it is
    /// jailed or below the minimum; and a node that could sign but has none is one refresh away from it.
    function eligibleStakeCanSign() public view {
        StakeManager stakes = _handler.stakeManager();
        uint256 total;
        uint256 totalBefore;
        for (uint256 i = _handler.EXECUTOR_A(); i <= _handler.EXECUTOR_B(); ++i) {
            address node = _handler.accounts(i);
            uint256 eligible = stakes.eligibleStakeOf(node);
            uint256 active = stakes.stakeOf(node);
            bool free = !stakes.isJailed(node) && active >= stakes.minStake() && active > 0;
            require(eligible == 0 || eligible == active, "eligible stake is neither 0 nor the active stake");
            require(eligible == 0 || free, "a jailed or under-staked node has eligible stake");
            require(eligible != 0 || !free || stakes.isEligibilityStale(node), "a free node cannot refresh its way back");
            total += eligible;
            if (block.number > 1) totalBefore += stakes.eligibleStakeAt(node, block.number - 1);
        }
        require(stakes.totalEligibleStake() == total, "total eligible stake differs from the nodes' sum");
        require(stakes.eligibleStakeAtLeast(1) == total, "the histogram by bit length differs from the total");
        // The bound governance uses: never more than the eligible stake at or above an amount, never
        // less than the eligible stake at or above twice it.
        for (uint256 i = _handler.EXECUTOR_A(); i <= _handler.EXECUTOR_B(); ++i) {
            uint256 own = stakes.eligibleStakeOf(_handler.accounts(i));
            if (own == 0) continue;
            for (uint256 amount = own; amount <= own + 1; ++amount) {
                uint256 bound = stakes.eligibleStakeAtLeast(amount);
                require(bound <= _eligibleAtLeast(stakes, amount), "the bound counts stake below the amount");
                require(bound >= _eligibleAtLeast(stakes, 2 * amount), "the bound misses stake of twice the amount");
            }
        }
        if (block.number > 1) {
            require(stakes.totalEligibleStakeAt(block.number - 1) == totalBefore, "past total differs from the past sum");
        }
    }

    /// @dev The eligible stake of nodes holding at least `amount`, counted exactly.
    function _eligibleAtLeast(StakeManager stakes, uint256 amount) private view returns (uint256 total) {
        for (uint256 i = _handler.EXECUTOR_A(); i <= _handler.EXECUTOR_B(); ++i) {
            uint256 own = stakes.eligibleStakeOf(_handler.accounts(i));
            if (own >= amount) total += own;
        }
    }

    /// @notice At the end of each run, everybody leaves: each requester gets back exactly its deposits less its
    /// withdrawals and charges, each earner its earnings, and nothing is left in the escrow.
    function afterInvariant() public {
        _handler.drain();
    }
}
