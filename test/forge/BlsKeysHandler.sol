// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BLS12381} from "../../contracts/BLS12381.sol";
import {NetworkParameters} from "../../contracts/NetworkParameters.sol";
import {StakeManager} from "../../contracts/StakeManager.sol";
import {TestToken} from "../../contracts/TestToken.sol";
import {FixedParameters} from "./EscrowHandler.sol";
import {vm} from "./Vm.sol";

/// @notice Drives StakeManager's BLS bookkeeping through random sequences of key registration (valid, or with a proof
/// for another node), stake, unbond, slash, jail, refresh and block rolls, for four nodes with fixed keys (made with
/// blst; proofs of possession bound to these addresses). It records, per block it leaves, the signing set the
/// contract should hold then, for the invariants to compare with `aggregateKeyAt` and `totalSigningStakeAt`.
contract BlsKeysHandler {
    uint256 public constant NODES = 4;
    uint256 private constant _MAX_AMOUNT = 1e24;

    TestToken public immutable token;
    StakeManager public immutable stakeManager;
    address[NODES] public nodes;
    BLS12381.G1Point[NODES] private _keys;
    BLS12381.G2Point[NODES] private _proofs;

    /// @notice Blocks left behind (each with the set as it stood at its end), newest last.
    uint256[] public pastBlocks;
    mapping(uint256 blockNumber => bytes32) public aggregateHashAt;
    mapping(uint256 blockNumber => uint256) public signingStakeAt;
    mapping(bytes32 action => uint256) public calls;

    constructor() {
        token = new TestToken();
        stakeManager = new StakeManager(token, NetworkParameters(address(new FixedParameters())));
        stakeManager.setSettlement(address(this));
        for (uint256 i = 0; i < NODES; ++i) nodes[i] = address(uint160(0x2000 + i));
        // 0x0000000000000000000000000000000000002000
        _keys[0] = BLS12381.G1Point(0x0000000000000000000000000000000003dacad012403d29f49875ed794e597a, 0x1ab28761647cb7a1659aaa788906a13407c290b99f98648d22ad05cdf5440519, 0x0000000000000000000000000000000019325b2639d83be92b845f0d843eef1b, 0xb7b7c961bb40cb2841ac115ecb505ea597be01c8a5eb0c288bba8e76d34aeb67);
        _proofs[0] = BLS12381.G2Point(0x000000000000000000000000000000000201d204d6ee91c27df8b84f682ba0a2, 0x173d7aaaa83e5af8e16ac4e470d365b911925099b02684db033eac2751730d95, 0x0000000000000000000000000000000011f7243f8ac4b830bd316c076d60f035, 0x62b769899dd61b08ff0132a9aa57f40054a522400604221c1d3532b8594a77de, 0x0000000000000000000000000000000002b038bdedea684d5cd80060d656b534, 0xd57f2dc370ad4ced6508ac0809aa4f57866dd85aac7aed540045a658267d75c1, 0x0000000000000000000000000000000005ee8344bb876bd7abb26a1ac9e6565a, 0x723a801df8b3d08401d4941c22f000a792aace1cdf4bdfe5ee931d4cda2f210f);
        // 0x0000000000000000000000000000000000002001
        _keys[1] = BLS12381.G1Point(0x00000000000000000000000000000000081428f0c785751ebd9a0d0f35702167, 0x16be23b227ed10f4b8df10c4f48755c1138f118787eec1254f4d8d9616a8dcfe, 0x0000000000000000000000000000000012927fefeb898d18034d1c8d9dd7f81b, 0x308f05ce57ddcac2dcd4037a0d9425a456cfd534daf7aee78ae13c1c39e7bfd3);
        _proofs[1] = BLS12381.G2Point(0x00000000000000000000000000000000085da01bfe72b88e4651d231e49feda4, 0xe8537d557e7a3a5cc931ea2726f075ae901022359c0e0c23ce8eb11ddfb6bb8a, 0x000000000000000000000000000000001258bb03f0f9e7366b7fadcfa6c66703, 0xa457144014bf91796f12152cb3c5c4e55cf784906554c2552e49e7a19b8a91ae, 0x00000000000000000000000000000000083a2da6f60224c434ee2789adb70e2b, 0x12b844ff88b66edf5a4d51038c2eeca46ab4d2b6dc950127054f228c40fb6b49, 0x000000000000000000000000000000000f9f62c2b9f2795636b481617d1805d7, 0x3d6c5bb4b717995f867e59d3f8adcfa5a89c48396f23252e8133714d032c31cd);
        // 0x0000000000000000000000000000000000002002
        _keys[2] = BLS12381.G1Point(0x00000000000000000000000000000000094b0c3c09befc914f24b787ad7645c0, 0xd1db4fbd12a721bac5d5f86ed4fb90bcbe75fe24f2a6cc7c6929f2f3a60355c8, 0x0000000000000000000000000000000008a3e4df6c2fa58c42723a2c78fbb588, 0xc2d216184ab424c6ff5cc81fff88e3f4be989319edb582cdda0d7087d6274066);
        _proofs[2] = BLS12381.G2Point(0x00000000000000000000000000000000052a2d0810b67b8913883011e1ab6f3a, 0x4c6029cf43f82058683a45f02410071c375284c665864417b15faa2511de37b5, 0x00000000000000000000000000000000194bcb3349a7d5e0ba9de1d09b7a6255, 0xa4eceaadde45c58c794733215cacb36500c742370e9726651748d326d5d29116, 0x000000000000000000000000000000000a17ac5fefea940ae665624baac4573d, 0x60ef2b41678a85089ca6ca92b76df186d6af20f7c12d845e18464988580665e3, 0x00000000000000000000000000000000093d672746c466fb5bd989e9d4dd76d9, 0xb0145aaa8ce279991087435349441c30bc2d2c6b57a6fc98b7b983619d556cf2);
        // 0x0000000000000000000000000000000000002003
        _keys[3] = BLS12381.G1Point(0x000000000000000000000000000000000a19f9d321c06c946e4fedb349628a71, 0x5e0752ac5c846a5a25d08d15374d5b6717e4ea3989021f942517a48b2fe40114, 0x0000000000000000000000000000000018d7bb806cb110afde582d041872b236, 0xfa494433281b545650526bda592caa0b4bb8310950efadbf30e84cb6f5966a7d);
        _proofs[3] = BLS12381.G2Point(0x000000000000000000000000000000000fb1b62a58737a8635afd97ffe7e41ad, 0x4e28577d21691f644bce58a6e432849853d1148cef96d68337621fcbdc0bd387, 0x000000000000000000000000000000001812b3f88cd4076bc31973a50e23fd4b, 0x5d6d0b5312c5892c6031d8ec8eb8531b20ea6ee04658f7bffe01b899748b57ae, 0x000000000000000000000000000000000a7cf3d0c1139db82c231efd782debcb, 0xb5629ed30dcb73270aa352feda86435b9402c04a52663a1b236929295e15ca17, 0x000000000000000000000000000000000d70b5e0fb7db5aed5d26de9bc9f7438, 0x53a5f8e4e6247b4c750a25903067f1537c49dd55876dc457224783ed590fe54b);
    }

    /// @notice Registers node `who`'s key with its proof, or (when `wrong`) with the next node's proof, which must fail.
    function register(uint256 who, bool wrong) external {
        uint256 i = who % NODES;
        vm.prank(nodes[i]);
        try stakeManager.registerBlsKey(_keys[i], _proofs[wrong ? (i + 1) % NODES : i]) {
            require(!wrong, "a proof of another node's key was accepted");
            calls["register"]++;
        } catch {
            calls["register refused"]++;
        }
    }

    function stake(uint256 who, uint256 amount) external {
        uint256 i = who % NODES;
        amount = _bound(amount, 1, _MAX_AMOUNT);
        token.mint(nodes[i], amount);
        vm.startPrank(nodes[i]);
        token.approve(address(stakeManager), amount);
        stakeManager.stake(amount);
        vm.stopPrank();
        calls["stake"]++;
    }

    function requestUnbond(uint256 who, uint256 amount) external {
        uint256 i = who % NODES;
        uint256 active = stakeManager.stakeOf(nodes[i]);
        if (active == 0) return;
        vm.prank(nodes[i]);
        stakeManager.requestUnbond(_bound(amount, 1, active));
        calls["requestUnbond"]++;
    }

    function slash(uint256 who, uint256 amount) external {
        stakeManager.slash(nodes[who % NODES], _bound(amount, 0, 2 * _MAX_AMOUNT), address(this));
        calls["slash"]++;
    }

    function jail(uint256 who, uint256 blocks) external {
        stakeManager.jail(nodes[who % NODES], uint64(block.number + _bound(blocks, 1, 10)));
        calls["jail"]++;
    }

    function refreshEligibility(uint256 who) external {
        stakeManager.refreshEligibility(nodes[who % NODES]);
        calls["refreshEligibility"]++;
    }

    /// @notice Ends the block: records the set the contract should hold at its end, then moves on.
    function roll(uint256 blocks) external {
        (bytes32 hash, uint256 total) = expectedSet();
        aggregateHashAt[block.number] = hash;
        signingStakeAt[block.number] = total;
        pastBlocks.push(block.number);
        vm.roll(block.number + _bound(blocks, 1, 5));
        calls["roll"]++;
    }

    /// @notice The signing set recomputed from scratch: the sum of the keys of registered nodes with eligible stake
    /// (hashed), and their total stake.
    function expectedSet() public view returns (bytes32 aggregateHash, uint256 total) {
        BLS12381.G1Point memory sum;
        for (uint256 i = 0; i < NODES; ++i) {
            uint256 eligible = stakeManager.eligibleStakeOf(nodes[i]);
            if (eligible == 0 || stakeManager.blsKeyRegisteredAt(nodes[i]) == 0) continue;
            sum = BLS12381.add(sum, _keys[i]);
            total += eligible;
        }
        return (keccak256(abi.encode(sum)), total);
    }

    function pastBlockCount() external view returns (uint256) {
        return pastBlocks.length;
    }

    function _bound(uint256 x, uint256 min, uint256 max) private pure returns (uint256) {
        return min + x % (max - min + 1);
    }
}
