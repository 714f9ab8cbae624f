// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

/// @notice What the factory hands a coin while deploying it (read back in the coin's constructor).
interface ICoinParameters {
    function coinParameters() external view returns (uint256 creatorId, address creatorWallet, address treasury);
}

/// @title A StreamVault creator coin
/// @notice Fixed supply, minted once at deployment (see docs/coins.md): the creator's wallet gets
/// CREATOR_ALLOCATION, the platform treasury the rest. Every balance and the total supply are
/// checkpointed per block, so the revenue distributor can pay holders pro rata to their balance at
/// a past block (ERC20Snapshot's idea, on OpenZeppelin 5's Checkpoints; no delegation involved).
/// The constructor takes no arguments: the CREATE2 address depends on the factory and the
/// creator id only, and anyone can predict it before the coin exists.
contract CreatorCoin is ERC20 {
    using Checkpoints for Checkpoints.Trace208;

    uint256 public constant TOTAL_SUPPLY = 1_000_000 ether;
    uint256 public constant CREATOR_ALLOCATION = 600_000 ether;

    uint256 public immutable creatorId;
    address public immutable factory;

    mapping(address account => Checkpoints.Trace208) private _balanceCheckpoints;
    Checkpoints.Trace208 private _supplyCheckpoints;

    error FutureLookup(uint256 timepoint, uint48 currentBlock);

    constructor() ERC20("", "") {
        factory = msg.sender;
        (uint256 id, address creatorWallet, address treasury) = ICoinParameters(msg.sender).coinParameters();
        creatorId = id;
        _mint(creatorWallet, CREATOR_ALLOCATION);
        _mint(treasury, TOTAL_SUPPLY - CREATOR_ALLOCATION);
    }

    function name() public view override returns (string memory) {
        return string.concat("StreamVault Creator ", _decimal(creatorId));
    }

    function symbol() public view override returns (string memory) {
        return string.concat("SVC", _decimal(creatorId));
    }

    /// @notice The balance at the end of block `timepoint` (a past block only: the current one can still change).
    function balanceOfAt(address account, uint256 timepoint) external view returns (uint256) {
        return _balanceCheckpoints[account].upperLookupRecent(_past(timepoint));
    }

    function totalSupplyAt(uint256 timepoint) external view returns (uint256) {
        return _supplyCheckpoints.upperLookupRecent(_past(timepoint));
    }

    function _past(uint256 timepoint) private view returns (uint48) {
        uint48 current = uint48(block.number);
        if (timepoint >= current) revert FutureLookup(timepoint, current);
        return uint48(timepoint);
    }

    /// OpenZeppelin 5.7's Strings pulls in Bytes, which needs Cancun's MCOPY; FEVM is Paris-level.
    function _decimal(uint256 value) private pure returns (string memory) {
        if (value == 0) return "0";
        bytes memory digits = new bytes(78);
        uint256 at = digits.length;
        for (; value != 0; value /= 10) digits[--at] = bytes1(uint8(48 + value % 10));
        bytes memory out = new bytes(digits.length - at);
        for (uint256 i = 0; i < out.length; ++i) out[i] = digits[at + i];
        return string(out);
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        uint48 blockNumber = uint48(block.number);
        if (from == address(0) || to == address(0)) {
            _supplyCheckpoints.push(blockNumber, uint208(totalSupply()));
        }
        if (from != address(0)) _balanceCheckpoints[from].push(blockNumber, uint208(balanceOf(from)));
        if (to != address(0)) _balanceCheckpoints[to].push(blockNumber, uint208(balanceOf(to)));
    }
}
