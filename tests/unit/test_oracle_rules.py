"""Pure rules of the oracle's transaction manager: backoff, fees, error classes, the breaker,
and the settings that guard them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from streamvault.config import Settings
from streamvault.domain import breaker
from streamvault.domain.chain_errors import ErrorClass, classify_message
from streamvault.domain.fees import FeeCapExceeded, Fees, bumped_fees, initial_fees
from streamvault.domain.networks import FILECOIN_BACKOFF_S, backoff_delay_s, network_rules

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_backoff_follows_the_seed_locally_and_blocks_on_filecoin():
    local = network_rules(31337).backoff_s
    assert [backoff_delay_s(a, local) for a in range(1, 8)] == [2, 4, 8, 16, 30, 30, 30]
    assert network_rules(314159).backoff_s == FILECOIN_BACKOFF_S
    assert max(FILECOIN_BACKOFF_S) <= 900  # SQS's longest message delay
    with pytest.raises(ValueError):
        backoff_delay_s(0, local)


def test_bump_floors_per_network():
    assert network_rules(314).min_bump_percent == network_rules(314159).min_bump_percent == 25
    assert network_rules(1).min_bump_percent == 10
    assert network_rules(314).default_bump_percent >= 25


def test_fee_caps_are_sized_for_each_networks_gas_units():
    # FEVM gas units are ~10^3-10^4× Ethereum's: an Ethereum-sized cap would not bound the budget
    assert network_rules(314).default_max_fee_per_gas == network_rules(314159).default_max_fee_per_gas
    assert network_rules(314).default_max_fee_per_gas * 10_000 < network_rules(1).default_max_fee_per_gas
    assert network_rules(314).default_max_fee_per_gas > 100  # above the FEVM base fee's floor


def test_settings_refuse_a_bump_the_node_would_refuse():
    with pytest.raises(ValidationError, match="25%"):
        Settings(chain_id=314, oracle_fee_bump_percent=20)
    assert Settings(chain_id=31337, oracle_fee_bump_percent=20).oracle_fee_bump_percent == 20


def test_private_key_setting_only_in_stage_local():
    with pytest.raises(ValidationError, match="KMS"):
        Settings(stage="prod", oracle_signer_private_key="0x" + "11" * 32)


def test_initial_fees_are_capped_and_refused_under_the_base_fee():
    assert initial_fees(base_fee=10, priority_fee=2, cap=100) == Fees(22, 2)
    assert initial_fees(base_fee=40, priority_fee=2, cap=50) == Fees(50, 2)
    with pytest.raises(FeeCapExceeded):
        initial_fees(base_fee=49, priority_fee=2, cap=50)


@given(st.integers(1, 10**12), st.integers(0, 10**10), st.sampled_from([10, 20, 25, 50]))
def test_a_bump_raises_both_fields_by_at_least_the_percent(max_fee, tip, percent):
    tip = min(tip, max_fee)
    new = bumped_fees(Fees(max_fee, tip), percent, cap=10**15)
    assert new.max_fee_per_gas * 100 >= max_fee * (100 + percent)
    assert new.max_priority_fee_per_gas * 100 >= tip * (100 + percent)
    assert new.max_priority_fee_per_gas <= new.max_fee_per_gas


def test_a_bump_follows_a_higher_market_and_stops_at_the_cap():
    assert bumped_fees(Fees(100, 10), 25, cap=1000, market=Fees(300, 20)) == Fees(300, 20)
    with pytest.raises(FeeCapExceeded):
        bumped_fees(Fees(100, 10), 25, cap=120)


@pytest.mark.parametrize(("message", "expected"), [
    ("nonce too low: next nonce 5, tx nonce 3", ErrorClass.NONCE),
    ("message nonce too low", ErrorClass.NONCE),  # Lotus
    ("nonce too high", ErrorClass.NONCE_GAP),
    ("replacement transaction underpriced", ErrorClass.UNDERPRICED),
    ("replace by fee has too low GasPremium", ErrorClass.UNDERPRICED),  # Lotus
    ("max fee per gas less than block base fee", ErrorClass.UNDERPRICED),
    ("insufficient funds for gas * price + value", ErrorClass.INSUFFICIENT_FUNDS),
    ("execution reverted: AccessControlUnauthorizedAccount", ErrorClass.REVERT),
    ("already known", ErrorClass.ALREADY_KNOWN),
    ("503 Server Error: Service Unavailable", ErrorClass.NETWORK),
    ("something new", ErrorClass.UNKNOWN),
])
def test_error_classes(message, expected):
    assert classify_message(message) is expected


def test_breaker_opens_after_threshold_then_one_probe_decides():
    b = breaker.Breaker()
    for _ in range(2):
        b = breaker.record_failure(b, NOW, threshold=3)
    assert b.state is breaker.BreakerState.CLOSED
    b = breaker.record_failure(b, NOW, threshold=3)
    assert b.state is breaker.BreakerState.OPEN
    assert breaker.admit(b, NOW + timedelta(seconds=10), cooldown_s=60) == (False, b)

    admitted, probing = breaker.admit(b, NOW + timedelta(seconds=60), cooldown_s=60)
    assert admitted and probing.state is breaker.BreakerState.HALF_OPEN
    assert breaker.admit(probing, NOW + timedelta(seconds=61), cooldown_s=60)[0] is False  # one probe only
    reopened = breaker.record_failure(probing, NOW + timedelta(seconds=62), threshold=3)
    assert reopened.state is breaker.BreakerState.OPEN
    assert breaker.record_success().state is breaker.BreakerState.CLOSED
