// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title BLS12381
/// @notice BLS signatures over BLS12-381 with the EIP-2537 precompiles: public keys in G1, signatures in G2 (the
/// "minimal public key" variant Ethereum's consensus layer and blst use), messages hashed to G2 per RFC 9380
/// (`BLS12381G2_XMD:SHA-256_SSWU_RO_`) with the proof-of-possession ciphersuite's tag, so a signature made by blst's
/// `sign` verifies here. Points use the EIP-2537 encoding: each base-field element is 64 bytes, 16 zero bytes then
/// the 48-byte big-endian value; an Fp2 element is `c0 ‖ c1`; the point at infinity is all zeros.
///
/// Verification is one pairing check `e(pk, H(m)) · e(−g1, σ) == 1`. The pairing precompile checks that every
/// input point is on its curve and in the prime-order subgroup, so a key or signature that is not one makes the
/// check fail (`verify` returns false) rather than pass.
library BLS12381 {
    /// @notice A G1 point, EIP-2537 encoded: `x = xHi ‖ xLo`, `y = yHi ‖ yLo` (each 64 bytes, 16 of them zero).
    struct G1Point {
        bytes32 xHi;
        bytes32 xLo;
        bytes32 yHi;
        bytes32 yLo;
    }

    /// @notice A G2 point, EIP-2537 encoded: `x = (x0, x1)`, `y = (y0, y1)` with each Fp element as two words.
    struct G2Point {
        bytes32 x0Hi;
        bytes32 x0Lo;
        bytes32 x1Hi;
        bytes32 x1Lo;
        bytes32 y0Hi;
        bytes32 y0Lo;
        bytes32 y1Hi;
        bytes32 y1Lo;
    }

    /// @notice The hash-to-curve domain separation tag of signatures: the IETF BLS proof-of-possession suite's, which
    /// blst's `sign` uses. Messages are domain-separated by their own content (EIP-712 digests, a proof of
    /// possession's prefix).
    bytes internal constant SIGNATURE_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

    /// @notice An EIP-2537 precompile at `precompile` refused its input (a coordinate not below p, a point off its
    /// curve) or is missing.
    error BLS12381PrecompileFailed(address precompile);

    address private constant _G1ADD = address(0x0b);
    address private constant _G2ADD = address(0x0d);
    address private constant _PAIRING = address(0x0f);
    address private constant _MAP_FP2_TO_G2 = address(0x11);
    address private constant _MODEXP = address(0x05);

    // p = 0x1a0111ea…aaab, split as the two words of its 64-byte encoding.
    bytes32 private constant _P_HI = 0x000000000000000000000000000000001a0111ea397fe69a4b1ba7b6434bacd7;
    bytes32 private constant _P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;

    /// @notice The generator of G1, negated: the constant side of the verification pairing.
    function negatedGenerator() internal pure returns (G1Point memory) {
        return G1Point(
            0x0000000000000000000000000000000017f1d3a73197d7942695638c4fa9ac0f,
            0xc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb,
            0x00000000000000000000000000000000114d1d6855d545a8aa7d76c8cf2e21f2,
            0x67816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca
        );
    }

    /// @notice Whether `point` is the point at infinity (all zeros).
    function isInfinity(G1Point memory point) internal pure returns (bool) {
        return point.xHi == 0 && point.xLo == 0 && point.yHi == 0 && point.yLo == 0;
    }

    /// @notice Whether every coordinate of `point` is a canonical field element: 16 zero bytes, then a value below p.
    /// The precompiles refuse anything else; checking first lets callers name the error.
    function isCanonical(G1Point memory point) internal pure returns (bool) {
        return _isFieldElement(point.xHi, point.xLo) && _isFieldElement(point.yHi, point.yLo);
    }

    /// @notice `-point` (the point at infinity stays itself). `point` must be canonical.
    function negate(G1Point memory point) internal pure returns (G1Point memory) {
        if (point.yHi == 0 && point.yLo == 0) return point; // infinity, or a point with y = 0 (none on the curve)
        uint256 yHi = uint256(point.yHi);
        uint256 yLo = uint256(point.yLo);
        uint256 pLo = uint256(_P_LO);
        unchecked {
            // 0 < y < p, so p − y is in (0, p): a two-word subtraction with one borrow.
            uint256 borrow = yLo > pLo ? 1 : 0;
            return G1Point(point.xHi, point.xLo, bytes32(uint256(_P_HI) - yHi - borrow), bytes32(pLo - yLo));
        }
    }

    /// @notice `a + b` in G1 (EIP-2537 G1ADD: both must be on the curve; no subgroup check).
    function add(G1Point memory a, G1Point memory b) internal view returns (G1Point memory sum) {
        bytes memory out = _call(_G1ADD, abi.encode(a, b), 128);
        sum = abi.decode(out, (G1Point));
    }

    /// @notice `a + b` in G2.
    function add(G2Point memory a, G2Point memory b) internal view returns (G2Point memory sum) {
        bytes memory out = _call(_G2ADD, abi.encode(a, b), 256);
        sum = abi.decode(out, (G2Point));
    }

    /// @notice Whether `signature` is a BLS signature of `message` by `publicKey` (tag `SIGNATURE_DST`). False for a
    /// point that is not on its curve or not in its subgroup; callers reject the point at infinity as a key.
    function verify(G1Point memory publicKey, bytes memory message, G2Point memory signature)
        internal
        view
        returns (bool)
    {
        return verifyHashed(publicKey, hashToG2(message, SIGNATURE_DST), signature);
    }

    /// @notice `verify` with the message already hashed to G2 (to check several keys against one message).
    function verifyHashed(G1Point memory publicKey, G2Point memory hashed, G2Point memory signature)
        internal
        view
        returns (bool)
    {
        bytes memory input = abi.encode(publicKey, hashed, negatedGenerator(), signature);
        (bool ok, bytes memory out) = _PAIRING.staticcall(input);
        return ok && out.length == 32 && abi.decode(out, (uint256)) == 1;
    }

    /// @notice RFC 9380 `hash_to_curve` to G2 with `expand_message_xmd` over SHA-256 (suite
    /// `BLS12381G2_XMD:SHA-256_SSWU_RO_`): two field elements mapped with MAP_FP2_TO_G2 (which clears the cofactor,
    /// a group homomorphism, so adding after it equals clearing after the addition) and added.
    /// @param message The message.
    /// @param dst The domain separation tag (at most 255 bytes).
    function hashToG2(bytes memory message, bytes memory dst) internal view returns (G2Point memory) {
        bytes memory uniform = expandMessageXmd(message, dst);
        return add(_mapToG2(uniform, 0), _mapToG2(uniform, 128));
    }

    /// @notice RFC 9380 `expand_message_xmd` with SHA-256, for the 256 bytes hashing to G2 needs (ell = 8).
    function expandMessageXmd(bytes memory message, bytes memory dst) internal pure returns (bytes memory out) {
        bytes memory dstPrime = abi.encodePacked(dst, uint8(dst.length)); // dst.length <= 255 for our constants
        bytes32 b0 = sha256(abi.encodePacked(bytes32(0), bytes32(0), message, uint16(256), uint8(0), dstPrime));
        bytes32 bi = sha256(abi.encodePacked(b0, uint8(1), dstPrime));
        out = new bytes(256);
        assembly ("memory-safe") {
            mstore(add(out, 32), bi)
        }
        for (uint256 i = 2; i <= 8; ++i) {
            bi = sha256(abi.encodePacked(b0 ^ bi, uint8(i), dstPrime));
            assembly ("memory-safe") {
                mstore(add(out, mul(i, 32)), bi)
            }
        }
    }

    /// @dev The 64 bytes of `uniform` at `offset` as a big-endian integer mod p, EIP-2537 encoded (two words).
    function _reduce(bytes memory uniform, uint256 offset) private view returns (bytes32 hi, bytes32 lo) {
        bytes32 a;
        bytes32 b;
        assembly ("memory-safe") {
            a := mload(add(add(uniform, 32), offset))
            b := mload(add(add(uniform, 64), offset))
        }
        // MODEXP(base = 64 bytes, exponent = 1, modulus = p as 48 bytes) returns base mod p as 48 bytes.
        bytes memory input = abi.encodePacked(
            uint256(64), uint256(1), uint256(48), a, b, uint8(1), bytes16(uint128(uint256(_P_HI))), _P_LO
        );
        bytes memory out = _call(_MODEXP, input, 48);
        bytes32 top;
        bytes32 rest;
        assembly ("memory-safe") {
            top := mload(add(out, 32)) // bytes 0..32 of the 48
            rest := mload(add(out, 48)) // bytes 16..48
        }
        hi = bytes32(uint256(top) >> 128);
        lo = rest;
    }

    /// @dev MAP_FP2_TO_G2 of the Fp2 element `(c0, c1)` whose two 64-byte halves start at `offset` of `uniform`.
    function _mapToG2(bytes memory uniform, uint256 offset) private view returns (G2Point memory) {
        (bytes32 c0Hi, bytes32 c0Lo) = _reduce(uniform, offset);
        (bytes32 c1Hi, bytes32 c1Lo) = _reduce(uniform, offset + 64);
        bytes memory out = _call(_MAP_FP2_TO_G2, abi.encode(c0Hi, c0Lo, c1Hi, c1Lo), 256);
        return abi.decode(out, (G2Point));
    }

    function _isFieldElement(bytes32 hi, bytes32 lo) private pure returns (bool) {
        if (uint256(hi) >> 128 != 0) return false;
        return uint256(hi) < uint256(_P_HI) || (hi == _P_HI && uint256(lo) < uint256(_P_LO));
    }

    function _call(address precompile, bytes memory input, uint256 outLength) private view returns (bytes memory out) {
        bool ok;
        (ok, out) = precompile.staticcall(input);
        if (!ok || out.length != outLength) revert BLS12381PrecompileFailed(precompile);
    }
}
