"""What a failed chain call means, from the node's error text (geth, anvil/reth, Lotus), and
what to do about it."""

from __future__ import annotations

from enum import StrEnum


class ErrorClass(StrEnum):
    NETWORK = "network"  # node unreachable, timeout, 5xx: retry after backoff
    UNDERPRICED = "underpriced"  # fees too low for the pool or the replacement floor: bump, retry
    NONCE = "nonce"  # the chain is past our nonce: one of ours was mined, or something else used it
    NONCE_GAP = "nonce_gap"  # our nonce is ahead of the chain's: an earlier one lands first, then retry
    INSUFFICIENT_FUNDS = "insufficient_funds"  # the signer needs topping up: retry later, alarm
    FEE_CAP = "fee_cap"  # the market is above our configured cap: wait
    REVERT = "revert"  # the contract refused: never retried, the reason is logged
    ALREADY_KNOWN = "already_known"  # the node already has this exact transaction: not an error
    UNKNOWN = "unknown"


RETRYABLE = frozenset({ErrorClass.NETWORK, ErrorClass.UNDERPRICED, ErrorClass.NONCE, ErrorClass.NONCE_GAP,
                       ErrorClass.INSUFFICIENT_FUNDS, ErrorClass.FEE_CAP, ErrorClass.UNKNOWN})

# Checked in order: the first matching fragment wins (lowercase substrings).
_PATTERNS: tuple[tuple[ErrorClass, tuple[str, ...]], ...] = (
    (ErrorClass.ALREADY_KNOWN, ("already known", "already imported", "known transaction",
                                "already in mpool")),
    (ErrorClass.NONCE_GAP, ("nonce too high",)),
    (ErrorClass.NONCE, ("nonce too low", "invalid nonce", "nonce has already been used",
                        "message nonce too low", "minimum expected nonce")),
    (ErrorClass.UNDERPRICED, ("underpriced", "fee too low", "gas price too low", "less than block base fee",
                              "gas fee cap too low", "too low gaspremium", "premium too low",
                              "replace by fee", "max fee per gas less than")),
    (ErrorClass.INSUFFICIENT_FUNDS, ("insufficient funds", "not enough funds", "insufficient balance")),
    (ErrorClass.REVERT, ("execution reverted", "revert", "vm execution error", "out of gas",
                         "invalid opcode")),
    (ErrorClass.NETWORK, ("connection", "timed out", "timeout", "temporarily unavailable", "502", "503",
                          "504", "too many requests", "429")),
)


def classify_message(message: str) -> ErrorClass:
    text = message.lower()
    for error_class, fragments in _PATTERNS:
        if any(fragment in text for fragment in fragments):
            return error_class
    return ErrorClass.UNKNOWN
