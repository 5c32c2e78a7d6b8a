// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title NaiveResultStore
/// @notice Benchmark baseline only (bench/settlement-gas.ts), not part of the protocol: the naive design that records
/// every task result on-chain with its own transaction. It is deliberately generous to the naive side: no signature
/// checks, no payments, just the result (hash and status) in storage and the executors in an event.
contract NaiveResultStore {
    /// @dev Two storage slots per task: the result hash, then the status packed with the recording block.
    struct Result {
        bytes32 resultHash;
        uint8 status;
        uint64 recordedAtBlock;
    }

    mapping(bytes32 taskId => Result) private _results;

    /// @notice The result of `taskId` was recorded.
    event ResultRecorded(bytes32 indexed taskId, bytes32 resultHash, uint8 status, address[] executors);

    /// @notice A result for `taskId` was recorded already.
    error NaiveResultStoreAlreadyRecorded(bytes32 taskId);

    /// @notice Records the result of one task. Status: 0 verified, 1 failed, 2 unresolved (as in outcome leaves).
    function record(bytes32 taskId, bytes32 resultHash, uint8 status, address[] calldata executors) external {
        Result storage result = _results[taskId];
        if (result.recordedAtBlock != 0) revert NaiveResultStoreAlreadyRecorded(taskId);
        result.resultHash = resultHash;
        result.status = status;
        result.recordedAtBlock = uint64(block.number);
        emit ResultRecorded(taskId, resultHash, status, executors);
    }

    /// @notice The recorded result of `taskId`; `recordedAtBlock` is 0 when none was recorded.
    function resultOf(bytes32 taskId) external view returns (bytes32 resultHash, uint8 status, uint64 recordedAtBlock) {
        Result storage result = _results[taskId];
        return (result.resultHash, result.status, result.recordedAtBlock);
    }
}
