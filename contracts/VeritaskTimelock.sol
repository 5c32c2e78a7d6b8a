// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title VeritaskTimelock
/// @notice OpenZeppelin's TimelockController, unchanged: it owns NetworkParameters and runs what the governor passed,
/// after `getMinDelay()` seconds. The deployer proposes nothing: it grants the governor the proposer and canceller
/// roles and then renounces its admin role, so only passed proposals can change parameters.
contract VeritaskTimelock is TimelockController {
    /// @param minDelay Seconds between queueing an operation and executing it.
    /// @param proposers Accounts that may schedule operations (the governor).
    /// @param executors Accounts that may execute ready operations (`address(0)`: anyone).
    /// @param admin An optional admin for the setup (renounced after it), or zero.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
