// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";
import {CreatorCoin, ICoinParameters} from "./CreatorCoin.sol";
import {CreatorMetricsOracle} from "./CreatorMetricsOracle.sol";

/// @title StreamVault creator coin factory
/// @notice Creates one CreatorCoin per creator, at the CREATE2 address salted by the creator id.
/// Only the oracle role may call it, and the chain itself enforces the milestone rule: the
/// creator's metrics in the metrics oracle must meet both thresholds, whatever the backend thinks.
contract CreatorCoinFactory is AccessControl, ICoinParameters {
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");

    CreatorMetricsOracle public immutable metricsOracle;
    address public treasury;
    uint64 public minPlays;
    uint32 public minFollowers;

    mapping(uint256 creatorId => address coin) public coinOf;
    mapping(address coin => uint256 creatorIdPlusOne) private _creatorOfCoin;

    /// Set only for the duration of a deployment (the coin's constructor reads it back).
    struct Parameters {
        uint256 creatorId;
        address creatorWallet;
    }

    Parameters private _pending;

    event CoinCreated(uint256 indexed creatorId, address indexed coin, address creatorWallet);
    event ThresholdsChanged(uint64 minPlays, uint32 minFollowers);

    error CoinExists(uint256 creatorId, address coin);
    error BelowThresholds(uint256 creatorId, uint64 plays, uint32 followers);
    error ZeroAddress();

    constructor(address admin, address oracle, CreatorMetricsOracle metricsOracle_, address treasury_, uint64 minPlays_,
                uint32 minFollowers_) {
        if (treasury_ == address(0) || address(metricsOracle_) == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (oracle != address(0)) _grantRole(ORACLE_ROLE, oracle);
        metricsOracle = metricsOracle_;
        treasury = treasury_;
        _setThresholds(minPlays_, minFollowers_);
    }

    function setThresholds(uint64 minPlays_, uint32 minFollowers_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setThresholds(minPlays_, minFollowers_);
    }

    /// @notice Deploys the creator's coin; reverts below the thresholds or when the coin exists.
    function createCoin(uint256 creatorId, address creatorWallet) external onlyRole(ORACLE_ROLE) returns (address coin) {
        if (creatorWallet == address(0)) revert ZeroAddress();
        if (coinOf[creatorId] != address(0)) revert CoinExists(creatorId, coinOf[creatorId]);
        CreatorMetricsOracle.Metrics memory m = metricsOracle.metricsOf(creatorId);
        if (m.plays < minPlays || m.followers < minFollowers) revert BelowThresholds(creatorId, m.plays, m.followers);
        _pending = Parameters(creatorId, creatorWallet);
        coin = address(new CreatorCoin{salt: bytes32(creatorId)}());
        delete _pending;
        coinOf[creatorId] = coin;
        _creatorOfCoin[coin] = creatorId + 1;
        emit CoinCreated(creatorId, coin, creatorWallet);
    }

    function coinParameters() external view returns (uint256, address, address) {
        return (_pending.creatorId, _pending.creatorWallet, treasury);
    }

    function predictCoinAddress(uint256 creatorId) external view returns (address) {
        return Create2.computeAddress(bytes32(creatorId), keccak256(type(CreatorCoin).creationCode));
    }

    function isCoin(address coin) external view returns (bool) {
        return _creatorOfCoin[coin] != 0;
    }

    function _setThresholds(uint64 minPlays_, uint32 minFollowers_) private {
        minPlays = minPlays_;
        minFollowers = minFollowers_;
        emit ThresholdsChanged(minPlays_, minFollowers_);
    }
}
