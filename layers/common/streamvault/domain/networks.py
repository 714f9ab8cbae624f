"""Per-network rules of the transaction manager: replacement bump, backoff, when a tx is stuck.

Why the numbers differ: Filecoin's Lotus message pool replaces a pending message only when the
new gas premium is at least 1.25× the old one (``ReplaceByFeePercentageDefault = 125``), where
geth's txpool needs 1.10× (``PriceBump = 10``). The seed's +20% would be refused on Filecoin, so
the Filecoin networks' floor is 25%. A Filecoin block (a tipset) comes every 30 s, so waiting
2 s before a retry there only burns an attempt: its backoff starts at one block.
"""

from __future__ import annotations

from dataclasses import dataclass

FILECOIN_CHAIN_IDS = frozenset({314, 314159})  # mainnet, Calibration
LOCAL_BACKOFF_S = (2, 4, 8, 16, 30)  # the seed's schedule (local chains and EVM networks)
FILECOIN_BACKOFF_S = (30, 60, 120, 240, 480)  # whole blocks; ≤ 900 s, SQS's longest message delay
# Fee caps per gas unit. FEVM gas units are far larger than Ethereum's (a 250-creator batch is
# on the order of 10^8 of them), so an Ethereum-sized cap (500 gwei) would let one congested hour
# spend the month. The worst case of docs/deploy.md (every creator changing every hour: 28,800
# batches a month of ~3·10^8 units) at 1,500,000 attoFIL a unit costs at most ~13 FIL (~$45 at
# $3.5/FIL), inside the seed's < $50/month, while staying far above the base fee's floor (100
# attoFIL) so normal blocks never reach it.
FILECOIN_MAX_FEE_PER_GAS = 1_500_000
EVM_MAX_FEE_PER_GAS = 500 * 10**9  # 500 gwei


@dataclass(frozen=True, slots=True)
class NetworkRules:
    min_bump_percent: int  # the node's own replacement floor: a smaller bump is refused
    default_bump_percent: int
    backoff_s: tuple[int, ...]
    stuck_after_s: int  # no receipt this long after a broadcast: replace with bumped fees
    default_max_fee_per_gas: int  # attoFIL (wei) per gas unit, unless configured


def network_rules(chain_id: int) -> NetworkRules:
    if chain_id in FILECOIN_CHAIN_IDS:
        return NetworkRules(min_bump_percent=25, default_bump_percent=25, backoff_s=FILECOIN_BACKOFF_S,
                            stuck_after_s=90, default_max_fee_per_gas=FILECOIN_MAX_FEE_PER_GAS)  # three blocks
    return NetworkRules(min_bump_percent=10, default_bump_percent=20, backoff_s=LOCAL_BACKOFF_S, stuck_after_s=15,
                        default_max_fee_per_gas=EVM_MAX_FEE_PER_GAS)


def backoff_delay_s(attempt: int, schedule: tuple[int, ...]) -> int:
    """Delay before retry number ``attempt`` (1-based); past the schedule, its last (maximum) value."""
    if attempt < 1:
        raise ValueError("attempts count from 1")
    return schedule[min(attempt, len(schedule)) - 1]
