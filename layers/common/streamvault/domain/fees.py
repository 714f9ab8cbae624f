"""EIP-1559 fee rules: first fees from the node's estimates under a cap, and replacement bumps."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Fees:
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


class FeeCapExceeded(Exception):
    """The network asks for more than the configured maximum fee: wait rather than overpay."""


def market_fees(base_fee: int, priority_fee: int) -> Fees:
    """Room for the base fee to double (it can rise 12.5% a block: six full blocks) plus the tip."""
    return Fees(max_fee_per_gas=2 * base_fee + priority_fee, max_priority_fee_per_gas=priority_fee)


def initial_fees(base_fee: int, priority_fee: int, cap: int) -> Fees:
    """The market's fees, never over ``cap``. Under the current base fee plus the tip the
    transaction could not be included at all: refused rather than sent to sit in the pool."""
    if base_fee + priority_fee > cap:
        raise FeeCapExceeded(f"base fee {base_fee} + tip {priority_fee} wei is over the cap of {cap} wei")
    market = market_fees(base_fee, priority_fee)
    return Fees(max_fee_per_gas=min(market.max_fee_per_gas, cap), max_priority_fee_per_gas=priority_fee)


def _raised(value: int, percent: int) -> int:
    return value + max(1, -(-value * percent // 100))  # ceiling: rounding down could land under the floor


def bumped_fees(previous: Fees, percent: int, cap: int, market: Fees | None = None) -> Fees:
    """A replacement's fees: both fields raised by at least ``percent`` (nodes check both), or to
    the market's current fees if those are higher. Refused when the bump would pass ``cap``:
    a capped bump below the node's floor would only be rejected as underpriced."""
    tip = _raised(previous.max_priority_fee_per_gas, percent)
    max_fee = _raised(previous.max_fee_per_gas, percent)
    if market is not None:
        tip, max_fee = max(tip, market.max_priority_fee_per_gas), max(max_fee, market.max_fee_per_gas)
    if max_fee > cap:
        raise FeeCapExceeded(f"a {percent}% bump needs a max fee of {max_fee} wei, over the cap of {cap} wei")
    return Fees(max_fee_per_gas=max_fee, max_priority_fee_per_gas=min(tip, max_fee))
