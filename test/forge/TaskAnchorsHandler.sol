// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {NetworkParameters} from "../../contracts/NetworkParameters.sol";
import {TaskAnchors} from "../../contracts/TaskAnchors.sol";
import {TestToken} from "../../contracts/TestToken.sol";
import {vm} from "./Vm.sol";

/// @notice The governed minimum fee as TaskAnchors reads it, changed by the handler as governance would (within
/// NetworkParameters' bounds for MinFee). Every other parameter reads 0, so reading the wrong one shows as a fee of 0.
contract MinFeeParameters {
    address private immutable _owner = msg.sender;
    uint256 public minFee = 1;

    function setMinFee(uint256 fee) external {
        require(msg.sender == _owner, "MinFeeParameters: owner only");
        minFee = fee;
    }

    function activeValue(NetworkParameters.Parameter parameter) external view returns (uint256) {
        return parameter == NetworkParameters.Parameter.MinFee ? minFee : 0;
    }
}

/// @notice Drives TaskAnchors through random sequences of anchors by four requesters over a small pool of roots (the
/// zero root among them), with counts of 0, 1 to 1000, MAX_COUNT or above it, funded exactly or one token short; of
/// re-anchors of roots already anchored; of minimum fee changes and block rolls. It predicts each call's outcome
/// before making it and records what moved; a call that ends otherwise than predicted counts as a wrong outcome (a
/// revert here would only be skipped by forge, with `fail_on_revert = false`).
contract TaskAnchorsHandler {
    uint256 public constant REQUESTERS = 4;
    /// @notice Roots 1 to ROOTS are non-zero; root 0 is the zero root.
    uint256 public constant ROOTS = 6;
    uint256 public constant TREASURY_INDEX = REQUESTERS;
    uint256 private constant _MAX_MIN_FEE = 1e27; // NetworkParameters' bound for MinFee

    TestToken public immutable token;
    MinFeeParameters public immutable parameters;
    TaskAnchors public immutable anchors;
    address public immutable treasury = address(uint160(0x3000 + TREASURY_INDEX));
    address[REQUESTERS] public requesters;

    /// @notice What each requester was minted, and paid for successful anchors.
    uint256[REQUESTERS] public ghostMinted;
    uint256[REQUESTERS] public ghostPaid;
    /// @notice Σ count × minFee over successful anchors.
    uint256 public ghostTreasuryDue;
    /// @notice The (block, count) each successful anchor wrote, by requester and root index.
    uint64[ROOTS + 1][REQUESTERS] private _ghostBlock;
    uint32[ROOTS + 1][REQUESTERS] private _ghostCount;
    /// @notice Anchors written, to re-anchor them on purpose.
    uint256[] private _written;
    /// @notice Calls whose outcome differed from the prediction, and the last one's description.
    uint256 public wrongOutcomes;
    string public lastWrongOutcome;
    /// @notice Calls per outcome, to show the runs reach the interesting states.
    mapping(bytes32 outcome => uint256) public calls;

    constructor() {
        token = new TestToken();
        parameters = new MinFeeParameters();
        anchors = new TaskAnchors(token, address(parameters), treasury);
        for (uint256 i = 0; i < REQUESTERS; ++i) requesters[i] = address(uint160(0x3000 + i));
    }

    // ---- actions -------------------------------------------------------------------------------------------------

    /// @notice Requester `who` anchors root `rootSeed % (ROOTS + 1)` with a count drawn from `countSeed`, funded
    /// exactly (approve and, if need be, mint) or, one time in eight, one token short.
    function anchor(uint256 who, uint256 rootSeed, uint256 countSeed, uint256 fundSeed) external {
        _anchor(who % REQUESTERS, rootSeed % (ROOTS + 1), _count(countSeed), fundSeed % 8 == 0);
    }

    /// @notice Anchors again a (requester, root) already anchored, funded in full: it must be refused.
    function reanchor(uint256 pick, uint256 countSeed) external {
        if (_written.length == 0) return;
        uint256 key = _written[pick % _written.length];
        _anchor(key / (ROOTS + 1), key % (ROOTS + 1), _count(countSeed), false);
    }

    /// @notice Governance changes the minimum fee (1 to 1e27), effective for the next anchor.
    function setMinFee(uint256 seed) external {
        uint256 fee = seed % 4 == 0 ? 1 : 1 + (seed >> 2) % (seed % 4 == 1 ? _MAX_MIN_FEE : 1e18);
        parameters.setMinFee(fee);
        calls["setMinFee"]++;
    }

    function roll(uint256 blocks) external {
        vm.roll(block.number + 1 + blocks % 20);
        calls["roll"]++;
    }

    // ---- views for the invariants --------------------------------------------------------------------------------

    function rootOf(uint256 index) public pure returns (bytes32) {
        return index == 0 ? bytes32(0) : keccak256(abi.encode("veritask-anchor-root", index));
    }

    /// @notice How many (requester, root) pairs read otherwise than the (block, count) their successful anchor wrote,
    /// or zeros when none did. Swept here, in one call per check, as the sweep runs after every call.
    function changedAnchors() external view returns (uint256 changed) {
        for (uint256 r = 0; r < REQUESTERS; ++r) {
            for (uint256 root = 0; root <= ROOTS; ++root) {
                (uint64 atBlock, uint32 count) = anchors.anchorOf(requesters[r], rootOf(root));
                if (atBlock != _ghostBlock[r][root] || count != _ghostCount[r][root]) changed++;
            }
        }
    }

    function writtenCount() external view returns (uint256) {
        return _written.length;
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    /// @dev One anchor call: who, what, and the outcome predicted for it (a struct keeps the stack shallow).
    struct Call {
        uint256 r;
        uint256 rootIndex;
        address requester;
        bytes32 root;
        uint32 count;
        uint256 due;
        bool unfunded;
        bytes expected;
        uint256 before;
    }

    function _anchor(uint256 r, uint256 rootIndex, uint32 count, bool short) private {
        Call memory call = Call(r, rootIndex, requesters[r], rootOf(rootIndex), count, 0, false, "", 0);
        call.due = uint256(count) * parameters.minFee();
        // Fund: exactly `due` approved and held, or one token short of it (approval short, balance at least that).
        uint256 allowance = short && call.due > 0 ? call.due - 1 : call.due;
        call.unfunded = allowance < call.due;
        uint256 balance = token.balanceOf(call.requester);
        if (balance < allowance) {
            token.mint(call.requester, allowance - balance);
            ghostMinted[r] += allowance - balance;
        }
        vm.prank(call.requester);
        token.approve(address(anchors), allowance);
        call.expected = _expectedError(call);
        call.before = token.balanceOf(call.requester);

        vm.prank(call.requester);
        try anchors.anchor(call.root, count) returns (uint256 paid) {
            _succeeded(call, paid);
        } catch (bytes memory reason) {
            _refused(call, reason);
        }
    }

    /// @dev The custom error the contract must refuse `call` with, in its order of checks; empty when none (a short
    /// allowance then fails in the token).
    function _expectedError(Call memory call) private view returns (bytes memory) {
        uint32 max = anchors.MAX_COUNT();
        if (call.root == bytes32(0)) return abi.encodeWithSelector(TaskAnchors.TaskAnchorsZeroRoot.selector);
        if (call.count == 0 || call.count > max) {
            return abi.encodeWithSelector(TaskAnchors.TaskAnchorsBadCount.selector, call.count, max);
        }
        uint64 atBlock = _ghostBlock[call.r][call.rootIndex];
        if (_ghostCount[call.r][call.rootIndex] != 0) {
            return abi.encodeWithSelector(
                TaskAnchors.TaskAnchorsAlreadyAnchored.selector, call.requester, call.root, atBlock
            );
        }
        return "";
    }

    function _succeeded(Call memory call, uint256 paid) private {
        if (call.expected.length > 0 || call.unfunded) return _wrong("an anchor that must fail succeeded");
        if (paid != call.due) return _wrong("paid differs from count x minFee");
        if (token.balanceOf(call.requester) != call.before - call.due) {
            return _wrong("the requester paid other than count x minFee");
        }
        _ghostBlock[call.r][call.rootIndex] = uint64(block.number);
        _ghostCount[call.r][call.rootIndex] = call.count;
        _written.push(call.r * (ROOTS + 1) + call.rootIndex);
        ghostPaid[call.r] += paid;
        ghostTreasuryDue += paid;
        calls[call.count == anchors.MAX_COUNT() ? bytes32("anchor MAX_COUNT") : bytes32("anchor")]++;
    }

    function _refused(Call memory call, bytes memory reason) private {
        if (call.expected.length == 0 && !call.unfunded) return _wrong("a funded, valid, new anchor was refused");
        if (call.expected.length > 0 && keccak256(reason) != keccak256(call.expected)) {
            return _wrong("an anchor was refused with the wrong error");
        }
        if (token.balanceOf(call.requester) != call.before) return _wrong("a refused anchor moved the requester's tokens");
        calls[_refusal(call.expected)]++;
    }

    function _wrong(string memory what) private {
        wrongOutcomes++;
        lastWrongOutcome = what;
    }

    function _refusal(bytes memory expected) private pure returns (bytes32) {
        if (expected.length == 0) return "refused: unfunded";
        bytes4 selector = bytes4(expected);
        if (selector == TaskAnchors.TaskAnchorsZeroRoot.selector) return "refused: zero root";
        if (selector == TaskAnchors.TaskAnchorsBadCount.selector) return "refused: bad count";
        return "refused: already anchored";
    }

    /// @dev 0 (1 in 16), above MAX_COUNT (1 in 16), MAX_COUNT (1 in 16), else 1 to 1000.
    function _count(uint256 seed) private pure returns (uint32) {
        uint256 kind = seed % 16;
        uint256 rest = seed >> 4;
        uint32 max = 1 << 20;
        if (kind == 0) return 0;
        if (kind == 1) return uint32(max + 1 + rest % (type(uint32).max - max));
        if (kind == 2) return max;
        return uint32(1 + rest % 1000);
    }
}
