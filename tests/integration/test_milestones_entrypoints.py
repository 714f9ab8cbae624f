"""The milestones entry points on real PostgreSQL and anvil: the Lambda's three triggers (the
"sync done" event, the daily and quarterly schedules), the CLI's `milestones detect` and
`revenue distribute`, and the local stack's demo (`make run`), where a creator crosses the
thresholds while it runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from streamvault.chain.coins import deploy_coin_contracts, distributor_contract, factory_contract, predict_coin_address
from streamvault.cli import main
from streamvault.config import get_settings, reset_settings
from streamvault.domain.milestones import Quarter, holders_share
from streamvault.local.anvil import ANVIL_DEV_KEY
from streamvault.local.apigw import LocalContext
from streamvault.local.oracle import _give_demo_wallets, local_cycle, start_local_milestones
from streamvault.services.milestones import build_milestone_runtime
from streamvault.services.oracle_sync import build_runtime, run_sync
from streamvault.services.sync_events import DETAIL_TYPE, SOURCE

from functions.milestones import app
from tests.integration.chain_fixtures import (  # noqa: F401 (fixtures)
    STRANGER_KEY,
    RecordingQueue,
    anvil_node,
    deployer_signer,
    oracle_address,
    oracle_settings,
    web3_client,
)
from tests.integration.factories import make_creator, make_track, make_user
from tests.integration.test_milestones import add_revenue
from tests.integration.test_milestones_chain import FIL, MIN_FOLLOWERS, MIN_PLAYS, creator_with_wallet

NO_ADDRESS = "0x" + "0" * 40


@pytest.fixture(name="coins")
def coin_contracts(w3, deployer, oracle) -> tuple[str, str]:
    return deploy_coin_contracts(w3, deployer, metrics_oracle=oracle, treasury=deployer.address,
                                 min_plays=MIN_PLAYS, min_followers=MIN_FOLLOWERS)


def sharing_creator(engine, quarter: Quarter) -> int:
    """Above the coin thresholds, past the (lowered) monthly revenue milestone now, and with
    revenue in ``quarter`` to distribute."""
    creator = creator_with_wallet(engine, STRANGER_KEY, plays=MIN_PLAYS + 1, followers=MIN_FOLLOWERS)
    with engine.begin() as conn:
        add_revenue(conn, creator, 2 * FIL, datetime.now(UTC))
        add_revenue(conn, creator, 5 * FIL + 7, quarter.start + timedelta(days=10))
    return creator


# --- the Lambda ---------------------------------------------------------------------------------------
@pytest.fixture
def lambda_settings(engine, db_url, anvil, oracle, coins):
    oracle_settings(db_url, anvil, oracle, coin_factory_address=coins[0], revenue_distributor_address=coins[1],
                    coin_min_plays=MIN_PLAYS, coin_min_followers=MIN_FOLLOWERS, milestone_play_thresholds=(10,),
                    milestone_follower_thresholds=(), revenue_share_min_monthly_attofil=FIL)
    app.runtime.cache_clear()
    yield
    app.runtime.cache_clear()


def test_lambda_sync_event_then_daily_then_quarterly(engine, lambda_settings, anvil, w3, coins):
    last_quarter = Quarter.containing(datetime.now(UTC)).previous()
    creator = sharing_creator(engine, last_quarter)
    run_id = run_sync(build_runtime(), RecordingQueue()).run_id
    assert run_id is not None

    event = {"source": SOURCE, "detail-type": DETAIL_TYPE, "detail": {"run_id": run_id}}
    result = app.lambda_handler(event, LocalContext())
    # 10 and 50 plays, 5 followers, the monthly revenue; then the coin, and sharing in the same run
    assert result["detection"] == {"creators": 1, "recorded": 4}
    assert result["actions"] == {"coins": 1, "sharing_enabled": 1, "failed": 0, "pending": 0}
    coin = predict_coin_address(coins[0], creator)
    assert factory_contract(w3, coins[0]).functions.coinOf(creator).call() == coin

    daily = app.lambda_handler({"task": "daily"}, LocalContext())
    assert daily["detection"]["recorded"] == 0 and daily["actions"]["coins"] == 0  # nothing twice

    anvil.rpc("evm_mine")  # the snapshot is one block behind the head
    report = app.lambda_handler({"task": "quarterly"}, LocalContext())
    share = holders_share(5 * FIL + 7, get_settings().revenue_holders_share_bps)
    assert (report["quarter"], report["distributions"], report["confirmed"]) == (str(last_quarter), 1, 1)
    assert report["deposited_attofil"] == share
    assert distributor_contract(w3, coins[1]).functions.sharingEnabled(coin).call()
    assert w3.eth.get_balance(coins[1]) == share
    assert app.lambda_handler({"task": "quarterly"}, LocalContext())["distributions"] == 0  # never twice

    with pytest.raises(ValueError, match="unknown milestones trigger"):
        app.lambda_handler({"task": "hourly"}, LocalContext())


# --- the CLI --------------------------------------------------------------------------------------------
@pytest.fixture
def cli_env(engine, anvil, oracle, coins, monkeypatch):
    for name, value in {"STREAMVAULT_CHAIN_RPC_URL": anvil.url, "STREAMVAULT_ORACLE_CONTRACT_ADDRESS": oracle,
                        "STREAMVAULT_ORACLE_SIGNER_PRIVATE_KEY": ANVIL_DEV_KEY,
                        "STREAMVAULT_COIN_FACTORY_ADDRESS": coins[0],
                        "STREAMVAULT_REVENUE_DISTRIBUTOR_ADDRESS": coins[1],
                        "STREAMVAULT_COIN_MIN_PLAYS": str(MIN_PLAYS),
                        "STREAMVAULT_COIN_MIN_FOLLOWERS": str(MIN_FOLLOWERS),
                        "STREAMVAULT_REVENUE_SHARE_MIN_MONTHLY_ATTOFIL": str(FIL),
                        "STREAMVAULT_ORACLE_RECEIPT_WAIT_S": "5"}.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    yield
    reset_settings()


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_cli_detect_and_distribute(cli_env, engine, db_url, anvil, w3, coins, capsys):
    quarter = Quarter(2026, 3)
    if datetime.now(UTC) < quarter.end:
        pytest.skip("2026Q3 is not over yet")
    creator = sharing_creator(engine, quarter)
    code, _ = run(capsys, "oracle", "sync", "--json", "--database-url", db_url)
    assert code == 0

    code, result = run(capsys, "milestones", "detect", "--json", "--database-url", db_url)
    assert code == 0
    assert result["detection"]["recorded"] >= 3  # 50 plays, 5 followers, the monthly revenue (+ defaults)
    assert result["actions"] == {"coins": 1, "sharing_enabled": 1, "failed": 0, "pending": 0}
    code, again = run(capsys, "milestones", "detect", "--json", "--database-url", db_url)
    assert code == 0 and again["detection"]["recorded"] == 0 and again["actions"]["coins"] == 0

    assert main(["milestones", "detect", "--database-url", db_url]) == 0  # the text form
    assert "milestones recorded; coins created 0" in capsys.readouterr().out

    anvil.rpc("evm_mine")
    code, report = run(capsys, "revenue", "distribute", "--quarter", "2026Q3", "--json", "--database-url", db_url)
    share = holders_share(5 * FIL + 7, 1_000)
    assert code == 0
    assert (report["quarter"], report["distributions"], report["confirmed"], report["deposited_attofil"]) == (
        "2026Q3", 1, 1, share)
    assert w3.eth.get_balance(coins[1]) == share
    with engine.connect() as conn:
        row = conn.execute(text("SELECT quarter, status, holders_share_attofil FROM revenue_distributions "
                                "WHERE creator_id = :c"), {"c": creator}).one()
    assert (row.quarter, row.status, int(row.holders_share_attofil)) == ("2026Q3", "CONFIRMED", share)
    code, twice = run(capsys, "revenue", "distribute", "--quarter", "2026Q3", "--json", "--database-url", db_url)
    assert code == 0 and twice["distributions"] == 0

    unfinished = Quarter.containing(datetime.now(UTC))
    assert main(["revenue", "distribute", "--quarter", str(unfinished), "--database-url", db_url]) == 2
    assert "is not over yet" in capsys.readouterr().err


@pytest.mark.parametrize("quarter", ["2026Q5", "Q3-2026", "2026q3"])
def test_cli_bad_quarter_exits_2_with_a_message(quarter, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["revenue", "distribute", "--quarter", quarter])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--quarter" in err and "a quarter is written like 2026Q3" in err


# --- the local demo (`make run`) ------------------------------------------------------------------------
def test_local_demo_creator_crosses_thresholds(engine, db_url, anvil, w3, deployer, oracle, tmp_path, capsys):
    oracle_settings(db_url, anvil, oracle)
    released = datetime.now(UTC) - timedelta(days=10)
    with engine.begin() as conn:
        star = make_creator(conn, plays=40, followers=3, verified=True)
        runner_up = make_creator(conn, plays=5, verified=True)
        for creator in (star, runner_up):
            make_track(conn, creator, released)
        for _ in range(3):
            make_user(conn)
    assert _give_demo_wallets() == 2

    local = start_local_milestones(w3, deployer, oracle, tmp_path)
    assert local.demo is not None and local.demo.creator_id == star
    assert local.thresholds == {"coin_min_plays": 50, "coin_min_followers": 5,
                                "revenue_share_min_monthly_attofil": FIL}
    factory = factory_contract(w3, local.factory)
    assert (factory.functions.minPlays().call(), factory.functions.minFollowers().call()) == (50, 5)
    runtime = build_runtime()
    milestones = build_milestone_runtime(runtime)

    local_cycle(runtime, milestones, local.demo)  # +6 plays, +1 follower, +0.6 FIL: still below
    assert factory.functions.coinOf(star).call() == NO_ADDRESS
    local_cycle(runtime, milestones, local.demo)  # crossed: milestones, coin, sharing
    coin = predict_coin_address(local.factory, star)
    assert factory.functions.coinOf(star).call() == coin
    with engine.connect() as conn:
        row = conn.execute(text("SELECT coin_address, revenue_sharing_enabled, play_count, follower_count "
                                "FROM creators WHERE id = :c"), {"c": star}).one()
    assert (row.coin_address, row.revenue_sharing_enabled, row.play_count, row.follower_count) == (coin, True, 52, 5)
    out = capsys.readouterr().out
    assert f"milestones: creator {star} reached PLAYS 50, FOLLOWERS 5, REVENUE 1.00 FIL/month; coin {coin} " \
           "created; revenue sharing enabled" in out

    local_cycle(runtime, milestones, local.demo)  # done: no more top-ups
    assert "ingested" not in capsys.readouterr().out

    again = start_local_milestones(w3, deployer, oracle, tmp_path)  # a restart on the same chain
    assert (again.factory, again.distributor) == (local.factory, local.distributor)
    assert again.demo is not None and again.demo.creator_id == runner_up
