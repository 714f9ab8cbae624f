"""The creator coin factory and the revenue distributor: calldata, the coin's CREATE2 address,
and their deployment (operator setup: the local stack, tests)."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract

from streamvault.chain.contracts import artifact, deploy_contract

FACTORY_CONTRACT = "CreatorCoinFactory"
DISTRIBUTOR_CONTRACT = "RevenueDistributor"
COIN_CONTRACT = "CreatorCoin"


def _contract(w3: Web3, name: str, address: str) -> Contract:
    return w3.eth.contract(address=to_checksum_address(address), abi=artifact(name)["abi"])


def factory_contract(w3: Web3, address: str) -> Contract:
    return _contract(w3, FACTORY_CONTRACT, address)


def distributor_contract(w3: Web3, address: str) -> Contract:
    return _contract(w3, DISTRIBUTOR_CONTRACT, address)


def coin_contract(w3: Web3, address: str) -> Contract:
    return _contract(w3, COIN_CONTRACT, address)


def predict_coin_address(factory: str, creator_id: int) -> str:
    """CREATE2: the factory, the creator id as salt and the coin's init code (no constructor
    arguments), so the address is known before the coin exists and never depends on anything else."""
    init_code_hash = keccak(hexstr=artifact(COIN_CONTRACT)["bytecode"])
    digest = keccak(b"\xff" + bytes.fromhex(to_checksum_address(factory)[2:]) + creator_id.to_bytes(32, "big")
                    + init_code_hash)
    return to_checksum_address(digest[12:])


def _calldata(contract: Contract, function: str, args: list[Any]) -> bytes:
    return bytes.fromhex(contract.encode_abi(function, args)[2:])


def create_coin_call(w3: Web3, factory: str, creator_id: int, creator_wallet: str) -> bytes:
    return _calldata(factory_contract(w3, factory), "createCoin", [creator_id, to_checksum_address(creator_wallet)])


def enable_sharing_call(w3: Web3, distributor: str, coin: str) -> bytes:
    return _calldata(distributor_contract(w3, distributor), "enableSharing", [to_checksum_address(coin)])


def deposit_call(w3: Web3, distributor: str, coin: str, quarter_id: int, snapshot_block: int) -> bytes:
    return _calldata(distributor_contract(w3, distributor), "deposit",
                     [to_checksum_address(coin), quarter_id, snapshot_block])


def deploy_coin_contracts(w3: Web3, signer: Any, *, metrics_oracle: str, treasury: str, min_plays: int,
                          min_followers: int) -> tuple[str, str]:
    """(factory, distributor); the signer is admin and oracle of both."""
    factory = deploy_contract(w3, signer, FACTORY_CONTRACT, signer.address, signer.address,
                              to_checksum_address(metrics_oracle), to_checksum_address(treasury), min_plays,
                              min_followers)
    distributor = deploy_contract(w3, signer, DISTRIBUTOR_CONTRACT, signer.address, signer.address, factory)
    return factory, distributor
