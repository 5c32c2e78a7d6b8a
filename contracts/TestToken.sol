// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Veritask Test Token
/// @notice The fee and stake token of devnets and tests: a plain 18-decimal ERC-20 that its owner can mint.
contract TestToken is ERC20, Ownable {
    /// @notice Deploys the token; the deployer becomes the owner (the only minter).
    constructor() ERC20("Veritask Test Token", "VTT") Ownable(msg.sender) {}

    /// @notice Mints `amount` tokens to `to`. Only the owner may mint.
    /// @param to The receiver of the new tokens.
    /// @param amount The amount, in token units (18 decimals).
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
