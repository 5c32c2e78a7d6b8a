// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TaskAnchorsHandler} from "./TaskAnchorsHandler.sol";
import {InvariantTargets} from "./Vm.sol";

/// @title Task anchor invariants
/// @notice Forge calls the handler's actions in random sequences (runs and depth: src/chain/forge.test.ts) and checks
/// after every call that every anchor was paid for, leaf by leaf, that anchors are write-once, and that a refused
/// anchor costs nothing.
contract TaskAnchorsInvariantsTest is InvariantTargets {
    TaskAnchorsHandler private _handler;

    function setUp() public {
        _handler = new TaskAnchorsHandler();
        bytes4[] memory actions = new bytes4[](6);
        actions[0] = TaskAnchorsHandler.anchor.selector;
        actions[1] = TaskAnchorsHandler.anchor.selector; // twice: anchoring is what the invariants are about
        actions[2] = TaskAnchorsHandler.reanchor.selector;
        actions[3] = TaskAnchorsHandler.setMinFee.selector;
        actions[4] = TaskAnchorsHandler.roll.selector;
        actions[5] = TaskAnchorsHandler.anchor.selector;
        _target(address(_handler), actions);
    }

    /// @notice All the invariants below, checked after every call of one campaign.
    function invariant_anchorsArePaidAndWriteOnce() public view {
        if (_handler.wrongOutcomes() != 0) revert(_handler.lastWrongOutcome());
        treasuryReceivedEveryLeafsFee();
        anchorsNeverChange();
        refusedAnchorsCostNothing();
    }

    /// @notice The treasury holds exactly Σ count × minFee (the fee when each was made) over successful anchors, and
    /// the anchors contract keeps nothing.
    function treasuryReceivedEveryLeafsFee() public view {
        require(
            _handler.token().balanceOf(_handler.treasury()) == _handler.ghostTreasuryDue(),
            "treasury balance differs from the fees of the successful anchors"
        );
        require(_handler.token().balanceOf(address(_handler.anchors())) == 0, "the anchors contract holds tokens");
    }

    /// @notice Every (requester, root) reads the (block, count) its first successful anchor wrote, or zeros if none
    /// succeeded: later anchors of the same root, refused, changed nothing.
    function anchorsNeverChange() public view {
        require(_handler.changedAnchors() == 0, "an anchor changed, or appeared unpaid");
    }

    /// @notice Each requester holds exactly what it was minted less what its successful anchors paid: a refused
    /// anchor (zero root, bad count, already anchored, short allowance) took nothing.
    function refusedAnchorsCostNothing() public view {
        for (uint256 r = 0; r < _handler.REQUESTERS(); ++r) {
            require(
                _handler.token().balanceOf(_handler.requesters(r)) == _handler.ghostMinted(r) - _handler.ghostPaid(r),
                "a requester paid for a refused anchor"
            );
        }
    }
}
