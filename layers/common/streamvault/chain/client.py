"""JSON-RPC access through web3.py, every failure turned into a classified ``ChainError``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound

from streamvault.chain.contracts import all_artifacts
from streamvault.domain.chain_errors import ErrorClass, classify_message

T = TypeVar("T")


class ChainError(Exception):
    def __init__(self, error_class: ErrorClass, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class


@dataclass(frozen=True, slots=True)
class Receipt:
    tx_hash: str
    status: int
    block_number: int
    gas_used: int


@functools.cache
def _custom_errors() -> dict[bytes, tuple[str, list[str]]]:
    """Every built contract's custom errors (OpenZeppelin's included) by selector, to name a revert."""
    out = {}
    for item in (i for art in all_artifacts() for i in art["abi"]):
        if item["type"] == "error":
            types = [i["type"] for i in item["inputs"]]
            out[function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")] = (item["name"], types)
    return out


def revert_reason(data: str | bytes | None, fallback: str) -> str:
    """``Name(args…)`` for a known custom error, the message otherwise."""
    raw = bytes.fromhex(data[2:]) if isinstance(data, str) and data.startswith("0x") else data
    if isinstance(raw, bytes) and raw[:4] in _custom_errors():
        name, types = _custom_errors()[raw[:4]]
        args = decode(types, raw[4:])
        return f"{name}({', '.join(a.hex() if isinstance(a, bytes) else str(a) for a in args)})"
    return fallback


def _classified(exc: Exception) -> ChainError:
    if isinstance(exc, ChainError):
        return exc
    if isinstance(exc, ContractCustomError | ContractLogicError):
        return ChainError(ErrorClass.REVERT, revert_reason(getattr(exc, "data", None), str(exc)))
    if isinstance(exc, requests.ConnectionError | requests.Timeout | ConnectionError | TimeoutError):
        return ChainError(ErrorClass.NETWORK, f"{type(exc).__name__}: the RPC endpoint is unreachable")
    return ChainError(classify_message(str(exc)), str(exc)[:500])


def _rpc(fn: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise _classified(exc) from exc

    return wrapper


class ChainClient:
    def __init__(self, rpc_url: str, timeout_s: float = 10.0, fallback_priority_fee: int = 10**9) -> None:
        self.w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout_s}))
        self._fallback_priority_fee = fallback_priority_fee

    @_rpc
    def chain_id(self) -> int:
        return self.w3.eth.chain_id

    @_rpc
    def block_number(self) -> int:
        return self.w3.eth.block_number

    @_rpc
    def nonce(self, address: str, block: str = "pending") -> int:
        return self.w3.eth.get_transaction_count(to_checksum_address(address), block)  # type: ignore[arg-type]

    @_rpc
    def balance(self, address: str) -> int:
        return self.w3.eth.get_balance(to_checksum_address(address))

    @_rpc
    def code_size(self, address: str) -> int:
        return len(self.w3.eth.get_code(to_checksum_address(address)))

    @_rpc
    def fee_inputs(self) -> tuple[int, int]:
        """(latest base fee, suggested tip) in wei (attoFIL on Filecoin)."""
        base_fee = int(self.w3.eth.get_block("latest")["baseFeePerGas"])  # type: ignore[typeddict-item]
        try:
            tip = int(self.w3.eth.max_priority_fee)
        except Exception:  # nodes without eth_maxPriorityFeePerGas
            tip = self._fallback_priority_fee
        return base_fee, tip

    @_rpc
    def estimate_gas(self, sender: str, to: str, data: bytes, value: int = 0) -> int:
        return self.w3.eth.estimate_gas({"from": to_checksum_address(sender), "to": to_checksum_address(to),
                                         "data": data, "value": value})  # type: ignore[typeddict-item]

    @_rpc
    def send_raw(self, raw: bytes) -> str:
        return "0x" + bytes(self.w3.eth.send_raw_transaction(raw)).hex()

    @_rpc
    def receipt(self, tx_hash: str) -> Receipt | None:
        try:
            r = self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return None
        return Receipt(tx_hash=tx_hash, status=int(r["status"]), block_number=int(r["blockNumber"]),
                       gas_used=int(r["gasUsed"]))

    def replay_revert_reason(self, sender: str, to: str, data: bytes, block_number: int, value: int = 0) -> str:
        """Why a mined transaction reverted: the same call replayed at its block (nodes do not
        store revert reasons in receipts)."""
        try:
            self.w3.eth.call({"from": to_checksum_address(sender), "to": to_checksum_address(to), "data": data,
                              "value": value}, block_number)  # type: ignore[typeddict-item]
        except Exception as exc:
            err = _classified(exc)
            # A pruned node may no longer hold that block's state: say so rather than guess.
            return str(err) if err.error_class is ErrorClass.REVERT else f"reverted (reason unavailable: {err})"
        return "reverted (the replayed call succeeds now: state changed since that block)"
