// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BLS12381} from "../../contracts/BLS12381.sol";
import {BlsKeysHandler} from "./BlsKeysHandler.sol";
import {InvariantTargets} from "./Vm.sol";

/// @title BLS key bookkeeping invariants
/// @notice StakeManager keeps the signing set's aggregate key incrementally (one G1 addition per change); after every
/// call of a random sequence it must equal the sum recomputed from scratch, now and at every block left behind, and
/// the total signing stake must equal the signing set's stake.
contract BlsKeysInvariantsTest is InvariantTargets {
    BlsKeysHandler private _handler;

    function setUp() public {
        _handler = new BlsKeysHandler();
        bytes4[] memory actions = new bytes4[](9);
        actions[0] = BlsKeysHandler.register.selector;
        actions[1] = BlsKeysHandler.register.selector;
        actions[2] = BlsKeysHandler.stake.selector;
        actions[3] = BlsKeysHandler.requestUnbond.selector;
        actions[4] = BlsKeysHandler.slash.selector;
        actions[5] = BlsKeysHandler.jail.selector;
        actions[6] = BlsKeysHandler.refreshEligibility.selector;
        actions[7] = BlsKeysHandler.roll.selector;
        actions[8] = BlsKeysHandler.stake.selector;
        _target(address(_handler), actions);
    }

    function invariant_aggregateKeyIsTheSumOfTheSigningSet() public view {
        (bytes32 expected, uint256 total) = _handler.expectedSet();
        BLS12381.G1Point memory key = _handler.stakeManager().aggregateKey();
        require(keccak256(abi.encode(key)) == expected, "aggregate key differs from the signing set's sum");
        require(_handler.stakeManager().totalSigningStake() == total, "total signing stake differs from the set's");
        uint256 count = _handler.pastBlockCount();
        // The history, at up to three blocks left behind (the newest, one in the middle, the first).
        for (uint256 k = 0; k < 3 && k < count; ++k) {
            uint256 blockNumber = _handler.pastBlocks(k == 0 ? count - 1 : (k == 1 ? count / 2 : 0));
            BLS12381.G1Point memory then = _handler.stakeManager().aggregateKeyAt(blockNumber);
            require(keccak256(abi.encode(then)) == _handler.aggregateHashAt(blockNumber), "aggregate key history differs");
            require(
                _handler.stakeManager().totalSigningStakeAt(blockNumber) == _handler.signingStakeAt(blockNumber),
                "total signing stake history differs"
            );
        }
    }
}
