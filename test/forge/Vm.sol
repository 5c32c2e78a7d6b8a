// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The few forge cheatcodes these tests use (forge serves them at `VM_ADDRESS`); the project has no
/// forge-std dependency.
interface Vm {
    function roll(uint256 blockNumber) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function expectRevert(bytes calldata revertData) external;
    function assume(bool condition) external pure;
}

/// @dev address(uint160(uint256(keccak256("hevm cheat code")))).
address constant VM_ADDRESS = 0x7109709ECfa91a80626fF3989D68f67F5b1DD12D;
Vm constant vm = Vm(VM_ADDRESS);

/// @notice What forge's invariant runner reads from a test contract to pick the functions it calls.
abstract contract InvariantTargets {
    /// @dev The layout forge decodes (forge-std's `StdInvariant.FuzzSelector`).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targets;
    FuzzSelector[] private _selectors;

    /// @dev Lets the invariant runner call `selectors` (repeats weigh more) of `target`, and nothing else.
    function _target(address target, bytes4[] memory selectors) internal {
        _targets.push(target);
        _selectors.push(FuzzSelector(target, selectors));
    }

    /// @notice The contracts the invariant runner calls in random sequences.
    function targetContracts() public view returns (address[] memory) {
        return _targets;
    }

    /// @notice The functions of those contracts it calls.
    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _selectors;
    }
}
