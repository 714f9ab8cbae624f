// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {CreatorCoin} from "./CreatorCoin.sol";
import {CreatorCoinFactory} from "./CreatorCoinFactory.sol";

/// @title StreamVault quarterly revenue distributor (pull payments)
/// @notice The oracle deposits a coin's holders' share of a quarter (native FIL) once, with the
/// snapshot block; each holder then claims `amount × balance at snapshot / supply at snapshot`,
/// rounded down, once. Rounding down means the claims together never exceed the deposit.
contract RevenueDistributor is AccessControl {
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");

    CreatorCoinFactory public immutable factory;

    struct Distribution {
        uint256 amount;
        uint256 claimed;
        uint64 snapshotBlock;
    }

    mapping(address coin => bool) public sharingEnabled;
    /// quarter: year × 10 + quarter number (2026Q3 → 20263)
    mapping(address coin => mapping(uint32 quarter => Distribution)) public distributions;
    mapping(address coin => mapping(uint32 quarter => mapping(address holder => bool))) public hasClaimed;

    event SharingEnabled(address indexed coin);
    event Deposited(address indexed coin, uint32 indexed quarter, uint256 amount, uint64 snapshotBlock);
    event Claimed(address indexed coin, uint32 indexed quarter, address indexed holder, uint256 amount);

    error NotACoin(address coin);
    error SharingNotEnabled(address coin);
    error AlreadyDistributed(address coin, uint32 quarter);
    error EmptyDeposit();
    error SnapshotNotPast(uint64 snapshotBlock);
    error AlreadyClaimed(address coin, uint32 quarter, address holder);
    error NothingToClaim(address coin, uint32 quarter, address holder);

    constructor(address admin, address oracle, CreatorCoinFactory factory_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (oracle != address(0)) _grantRole(ORACLE_ROLE, oracle);
        factory = factory_;
    }

    function enableSharing(address coin) external onlyRole(ORACLE_ROLE) {
        if (!factory.isCoin(coin)) revert NotACoin(coin);
        sharingEnabled[coin] = true;
        emit SharingEnabled(coin);
    }

    /// @notice One deposit per (coin, quarter): a second one reverts, so a quarter is never paid twice.
    function deposit(address coin, uint32 quarter, uint64 snapshotBlock) external payable onlyRole(ORACLE_ROLE) {
        if (!sharingEnabled[coin]) revert SharingNotEnabled(coin);
        if (distributions[coin][quarter].amount != 0) revert AlreadyDistributed(coin, quarter);
        if (msg.value == 0) revert EmptyDeposit();
        if (snapshotBlock >= block.number) revert SnapshotNotPast(snapshotBlock);
        distributions[coin][quarter] = Distribution(msg.value, 0, snapshotBlock);
        emit Deposited(coin, quarter, msg.value, snapshotBlock);
    }

    function claimable(address coin, uint32 quarter, address holder) public view returns (uint256) {
        Distribution storage d = distributions[coin][quarter];
        if (d.amount == 0 || hasClaimed[coin][quarter][holder]) return 0;
        CreatorCoin token = CreatorCoin(coin);
        return d.amount * token.balanceOfAt(holder, d.snapshotBlock) / token.totalSupplyAt(d.snapshotBlock);
    }

    function claim(address coin, uint32 quarter) external returns (uint256 amount) {
        if (hasClaimed[coin][quarter][msg.sender]) revert AlreadyClaimed(coin, quarter, msg.sender);
        amount = claimable(coin, quarter, msg.sender);
        if (amount == 0) revert NothingToClaim(coin, quarter, msg.sender);
        // Effects before the transfer: a re-entering holder finds the claim spent.
        hasClaimed[coin][quarter][msg.sender] = true;
        distributions[coin][quarter].claimed += amount;
        emit Claimed(coin, quarter, msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }
}
