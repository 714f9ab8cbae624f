"""The compiled contracts (``chain/build/*.json``, made by ``contracts/compile.js``) and the
oracle's calldata: one 40-byte record per creator, the same layout the contract stores."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract

BUILD_DIR = Path(__file__).with_name("build")
ORACLE_CONTRACT = "CreatorMetricsOracle"
ORACLE_ROLE = Web3.keccak(text="ORACLE_ROLE")
RECORD_BYTES = 40

# Field widths of the packed metrics word (most significant first), as in the Solidity source.
_EPOCH_BITS, _PLAYS_BITS, _FOLLOWERS_BITS, _BPS_BITS, _REVENUE_BITS = 32, 64, 32, 16, 112
MAX_ENGAGEMENT_BPS = 10_000


@dataclass(frozen=True, slots=True)
class OnChainMetrics:
    epoch: int
    plays: int
    followers: int
    engagement_bps: int
    monthly_revenue_attofil: int


@functools.cache
def artifact(name: str = ORACLE_CONTRACT) -> dict[str, Any]:
    return json.loads((BUILD_DIR / f"{name}.json").read_text())


def all_artifacts() -> list[dict[str, Any]]:
    return [artifact(path.stem) for path in sorted(BUILD_DIR.glob("*.json"))]


def oracle_contract(w3: Web3, address: str) -> Contract:
    return w3.eth.contract(address=to_checksum_address(address), abi=artifact()["abi"])


def _fits(value: int, bits: int, name: str) -> int:
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{name} {value} does not fit in uint{bits}")
    return value


def pack_metrics(m: OnChainMetrics) -> int:
    """The contract's storage word: epoch | plays | followers | engagementBps | monthlyRevenue.
    Values past a field's width are refused rather than truncated (a wrapped counter would be a lie)."""
    if m.engagement_bps > MAX_ENGAGEMENT_BPS:
        raise ValueError(f"engagement {m.engagement_bps} bps is over {MAX_ENGAGEMENT_BPS}")
    word = _fits(m.epoch, _EPOCH_BITS, "epoch")
    for value, bits, name in ((m.plays, _PLAYS_BITS, "plays"), (m.followers, _FOLLOWERS_BITS, "followers"),
                              (m.engagement_bps, _BPS_BITS, "engagement_bps"),
                              (m.monthly_revenue_attofil, _REVENUE_BITS, "monthly_revenue_attofil")):
        word = (word << bits) | _fits(value, bits, name)
    return word


def unpack_metrics(word: int) -> OnChainMetrics:
    fields = []
    for bits in (_REVENUE_BITS, _BPS_BITS, _FOLLOWERS_BITS, _PLAYS_BITS, _EPOCH_BITS):
        fields.append(word & ((1 << bits) - 1))
        word >>= bits
    revenue, bps, followers, plays, epoch = fields
    return OnChainMetrics(epoch, plays, followers, bps, revenue)


def encode_records(updates: list[tuple[int, OnChainMetrics]]) -> bytes:
    """``updateMetricsBatch`` calldata argument: per creator, its id as uint64 then the metrics word."""
    return b"".join(_fits(creator_id, 64, "creator id").to_bytes(8, "big") + pack_metrics(m).to_bytes(32, "big")
                    for creator_id, m in updates)


def decode_records(records: bytes) -> list[tuple[int, OnChainMetrics]]:
    if len(records) % RECORD_BYTES:
        raise ValueError(f"records are {RECORD_BYTES}-byte multiples, not {len(records)} bytes")
    return [(int.from_bytes(records[i:i + 8], "big"), unpack_metrics(int.from_bytes(records[i + 8:i + 40], "big")))
            for i in range(0, len(records), RECORD_BYTES)]


def deploy_contract(w3: Web3, signer: Any, name: str, *args: Any) -> str:
    """Deploy a built contract with its constructor arguments; its address. A one-off operator
    action (local stack, tests, first setup), not an oracle operation: no transaction manager."""
    art = artifact(name)
    factory = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    tx = factory.constructor(*args).build_transaction({
        "from": signer.address, "nonce": w3.eth.get_transaction_count(signer.address, "pending"),
        "chainId": w3.eth.chain_id,
    })
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signer.sign(tx)), timeout=30)
    if receipt["status"] != 1:
        raise RuntimeError(f"the {name} deployment reverted")
    return str(receipt["contractAddress"])


def deploy_oracle(w3: Web3, signer: Any, admin: str, oracle: str) -> str:
    """Deploy CreatorMetricsOracle (admin and oracle roles granted in the constructor); its address."""
    return deploy_contract(w3, signer, ORACLE_CONTRACT, to_checksum_address(admin), to_checksum_address(oracle))
