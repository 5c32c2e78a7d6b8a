// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BLS12381} from "../BLS12381.sol";

/// @title BLS12381Harness
/// @notice Exposes the BLS12381 library's functions, for the tests that check it against blst and for the gas bench.
contract BLS12381Harness {
    /// @notice `BLS12381.expandMessageXmd`.
    function expandMessageXmd(bytes calldata message, bytes calldata dst) external pure returns (bytes memory) {
        return BLS12381.expandMessageXmd(message, dst);
    }

    /// @notice `BLS12381.hashToG2`.
    function hashToG2(bytes calldata message, bytes calldata dst) external view returns (BLS12381.G2Point memory) {
        return BLS12381.hashToG2(message, dst);
    }

    /// @notice `BLS12381.verify` with the signature tag.
    function verify(BLS12381.G1Point calldata publicKey, bytes calldata message, BLS12381.G2Point calldata signature)
        external
        view
        returns (bool)
    {
        return BLS12381.verify(publicKey, message, signature);
    }

    /// @notice `BLS12381.add` in G1.
    function add(BLS12381.G1Point calldata a, BLS12381.G1Point calldata b)
        external
        view
        returns (BLS12381.G1Point memory)
    {
        return BLS12381.add(a, b);
    }

    /// @notice `BLS12381.negate`.
    function negate(BLS12381.G1Point calldata point) external pure returns (BLS12381.G1Point memory) {
        return BLS12381.negate(point);
    }

    /// @notice `BLS12381.isCanonical`.
    function isCanonical(BLS12381.G1Point calldata point) external pure returns (bool) {
        return BLS12381.isCanonical(point);
    }

}
