// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Devnet load token
/// @notice A minimal ERC-20-style token for realistic "contract call" load on the devnet:
/// storage writes (balances, supply) and Transfer events. Anyone may mint: it is test money.
contract LoadToken {
    string public constant name = "Devnet Load Token";
    string public constant symbol = "LOAD";
    uint8 public constant decimals = 18;

    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;

    event Transfer(address indexed from, address indexed to, uint256 value);

    error InsufficientBalance(address account, uint256 balance, uint256 needed);

    /// Mint `amount` to `to` (open to everyone on the devnet).
    function mint(address to, uint256 amount) external {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        uint256 balance = balanceOf[msg.sender];
        if (balance < amount) revert InsufficientBalance(msg.sender, balance, amount);
        unchecked {
            balanceOf[msg.sender] = balance - amount;
        }
        balanceOf[to] += amount;
        emit Transfer(msg.sender, to, amount);
        return true;
    }
}
