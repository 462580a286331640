// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Alys Light devnet bridge (predeployed at 0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB)
/// @notice Written for this project with Alys's peg-out ABI (alys-protocol.md 6.3): a peg-out
/// request burns the sent value to 0x…dEaD and emits RequestPegOut; the federation pays the
/// Bitcoin side. Sending value without a Bitcoin address is refused.
contract Bridge {
    /// Where burned value goes (also the fee recipient of every Alys block).
    address payable public constant BURN_ADDRESS = payable(0x000000000000000000000000000000000000dEaD);

    /// topic0 = keccak256("RequestPegOut(address,bytes,uint256)")
    event RequestPegOut(address indexed _evmAddress, bytes _bitcoinAddress, uint256 _value);

    /// @param bitcoinAddress the Bitcoin address to pay, as UTF-8 text (e.g. "bcrt1q…")
    function requestPegOut(bytes calldata bitcoinAddress) external payable {
        (bool burned, ) = BURN_ADDRESS.call{value: msg.value}("");
        require(burned, "Bridge: burn failed");
        emit RequestPegOut(msg.sender, bitcoinAddress, msg.value);
    }

    receive() external payable {
        revert("Bridge: plain transfers are refused, call requestPegOut(bytes)");
    }

    fallback() external payable {
        revert("Bridge: unknown function, call requestPegOut(bytes)");
    }
}
