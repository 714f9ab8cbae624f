"""Creator coins and revenue sharing on a real anvil node and PostgreSQL, end to end: thresholds
crossed → milestones once → coin once at the predicted address → sharing → a quarter's deposit →
holders claim exactly pro rata, a third claim fails. The factory refuses below-threshold creators
on chain, whatever the caller."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from streamvault.chain.client import ChainError
from streamvault.chain.coins import (
    coin_contract,
    deploy_coin_contracts,
    distributor_contract,
    factory_contract,
    predict_coin_address,
)
from streamvault.chain.contracts import OnChainMetrics, encode_records, oracle_contract
from streamvault.chain.signers import LocalSigner
from streamvault.domain.chain_errors import ErrorClass
from streamvault.domain.milestones import Quarter, holders_share
from streamvault.services.milestones import after_sync, build_milestone_runtime, daily, distribute
from streamvault.services.oracle_sync import build_runtime, run_sync
from streamvault.wallets import encrypt_wallet
from web3.exceptions import ContractCustomError

from tests.integration.chain_fixtures import (  # noqa: F401 (fixtures)
    SECOND_ORACLE_KEY,
    STRANGER_KEY,
    RecordingQueue,
    anvil_node,
    deployer_signer,
    oracle_address,
    oracle_settings,
    web3_client,
)
from tests.integration.factories import make_creator
from tests.integration.test_milestones import add_revenue

FIL = 10**18
# NOT A SECRET: anvil's public test account 3.
THIRD_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
MIN_PLAYS, MIN_FOLLOWERS = 50, 5  # the thresholds, lowered (configurable) so the seeds stay small


@pytest.fixture(name="coins")
def coin_contracts(w3, deployer, oracle) -> tuple[str, str]:
    return deploy_coin_contracts(w3, deployer, metrics_oracle=oracle, treasury=deployer.address,
                                 min_plays=MIN_PLAYS, min_followers=MIN_FOLLOWERS)


@pytest.fixture(name="rt")
def milestone_runtime(engine, db_url, anvil, oracle, coins):
    oracle_settings(db_url, anvil, oracle, coin_factory_address=coins[0], revenue_distributor_address=coins[1],
                    coin_min_plays=MIN_PLAYS, coin_min_followers=MIN_FOLLOWERS, milestone_play_thresholds=(10,),
                    milestone_follower_thresholds=(), revenue_share_min_monthly_attofil=FIL,
                    revenue_holders_share_bps=1_000)
    return build_milestone_runtime(build_runtime())


def creator_with_wallet(engine, key: str, plays: int, followers: int) -> int:
    sealed = encrypt_wallet(LocalSigner(key).address)
    with engine.begin() as conn:
        creator_id = make_creator(conn, plays=plays, followers=followers, verified=True)
        conn.execute(text("UPDATE creators SET wallet_ciphertext = :c, wallet_blind_index = :b WHERE id = :id"),
                     {"c": sealed.ciphertext, "b": sealed.blind_index, "id": creator_id})
    return creator_id


def send(w3, signer: LocalSigner, call, gas: int | None = None) -> dict:
    """A direct transaction (a holder's own, or one forced on chain with a fixed gas limit)."""
    tx = call.build_transaction({"from": signer.address, "nonce": w3.eth.get_transaction_count(signer.address),
                                 "chainId": w3.eth.chain_id, **({"gas": gas} if gas else {})})
    return w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signer.sign(tx)))


def logs(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("""
            SELECT operation, status, creator_id FROM oracle_sync_logs WHERE operation <> 'UPDATE_METRICS' ORDER BY id
        """))]


def test_thresholds_to_coin_to_sharing_to_pro_rata_claims(engine, rt, w3, deployer, monkeypatch):
    factory, distributor = rt.factory, rt.distributor
    creator = creator_with_wallet(engine, STRANGER_KEY, plays=MIN_PLAYS + 1, followers=MIN_FOLLOWERS)
    below = creator_with_wallet(engine, THIRD_KEY, plays=MIN_PLAYS + 1, followers=MIN_FOLLOWERS - 1)

    sync = run_sync(rt.oracle, RecordingQueue())
    detection, actions = after_sync(rt, sync.run_id)
    assert (detection.creators, detection.recorded) == (2, 5)  # 10 and 50 plays each, 5 followers for one
    assert (actions.coins, actions.failed, actions.pending) == (1, 0, 0)

    coin = predict_coin_address(factory, creator)
    assert factory_contract(w3, factory).functions.coinOf(creator).call() == coin
    assert factory_contract(w3, factory).functions.predictCoinAddress(creator).call() == coin
    holder_a, holder_b, stranger = (LocalSigner(k) for k in (STRANGER_KEY, SECOND_ORACLE_KEY, THIRD_KEY))
    token = coin_contract(w3, coin)
    assert token.functions.balanceOf(holder_a.address).call() == 600_000 * FIL  # the creator's allocation
    with engine.connect() as conn:
        row = conn.execute(text("SELECT coin_address, coin_tx_hash FROM creators WHERE id = :id"),
                           {"id": creator}).one()
        action = conn.execute(text("""SELECT action_tx_hash FROM creator_milestones
                                      WHERE creator_id = :id AND milestone_type = 'PLAYS' AND threshold = :t"""),
                              {"id": creator, "t": MIN_PLAYS}).scalar_one()
    assert row.coin_address == coin and row.coin_tx_hash == action and action.startswith("0x")

    assert daily(rt)[1].coins == 0  # run again: nothing recorded twice, no second coin
    with pytest.raises(ContractCustomError):  # and the factory itself refuses a second coin
        factory_contract(w3, factory).functions.createCoin(creator, holder_a.address).call({"from": deployer.address})

    now = datetime.now(UTC)
    with engine.begin() as conn:
        add_revenue(conn, creator, 7 * FIL + 3, now)  # past the (lowered) 1 FIL monthly milestone
    assert daily(rt)[1].sharing_enabled == 1
    assert distributor_contract(w3, distributor).functions.sharingEnabled(coin).call()

    send(w3, holder_a, token.functions.transfer(holder_b.address, 150_000 * FIL))
    w3.provider.make_request("evm_mine", [])  # the snapshot is one block behind the head: let the transfer in
    quarter = Quarter.containing(now)

    def reverts(*args, **kwargs):
        raise ChainError(ErrorClass.REVERT, "execution reverted: a stand-in for any deposit refused")

    with monkeypatch.context() as patched:  # the first deposit fails...
        patched.setattr(rt.oracle.client, "estimate_gas", reverts)
        failed = distribute(rt, quarter, now=quarter.end)
    assert (failed.distributions, failed.failed, failed.deposited_attofil) == (1, 1, 0)
    report = distribute(rt, quarter, now=quarter.end)  # ...and the next run tries it again
    share = holders_share(7 * FIL + 3, 1_000)
    assert (report.distributions, report.confirmed, report.deposited_attofil) == (1, 1, share)
    assert w3.eth.get_balance(distributor) == share

    d = distributor_contract(w3, distributor)
    paid = {}
    for holder in (holder_a, holder_b):
        receipt = send(w3, holder, d.functions.claim(coin, quarter.on_chain_id))
        [claimed] = d.events.Claimed().process_receipt(receipt)
        paid[holder.address] = claimed["args"]["amount"]
    assert paid == {holder_a.address: share * 450_000 // 1_000_000, holder_b.address: share * 150_000 // 1_000_000}
    for claimer in (holder_a, stranger):  # a second claim, and a claim with no balance at the snapshot
        assert send(w3, claimer, d.functions.claim(coin, quarter.on_chain_id), gas=200_000)["status"] == 0
    assert w3.eth.get_balance(distributor) == share - sum(paid.values())  # the treasury's 40% awaits its claim

    assert distribute(rt, quarter, now=quarter.end).distributions == 0  # never paid twice
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM revenue_distributions")).scalar_one()
    assert status == "CONFIRMED"
    assert logs(engine) == [("CREATE_COIN", "SUCCESS", creator), ("ENABLE_REVENUE_SHARE", "SUCCESS", creator),
                            ("DISTRIBUTE_REVENUE", "FAILED", creator), ("DISTRIBUTE_REVENUE", "SUCCESS", creator)]
    assert factory_contract(w3, factory).functions.coinOf(below).call() == "0x" + "0" * 40


def test_factory_reverts_on_chain_below_thresholds(w3, deployer, oracle, coins):
    factory = factory_contract(w3, coins[0])
    records = encode_records([(7, OnChainMetrics(1, MIN_PLAYS - 1, MIN_FOLLOWERS, 0, 0))])
    send(w3, deployer, oracle_contract(w3, oracle).functions.updateMetricsBatch(records))
    receipt = send(w3, deployer, factory.functions.createCoin(7, deployer.address), gas=3_000_000)
    assert receipt["status"] == 0  # mined, and reverted by the contract's own check
    assert factory.functions.coinOf(7).call() == "0x" + "0" * 40
    stranger = LocalSigner(STRANGER_KEY)  # without the oracle role, even above the thresholds
    send(w3, deployer, oracle_contract(w3, oracle).functions.updateMetricsBatch(
        encode_records([(7, OnChainMetrics(2, MIN_PLAYS, MIN_FOLLOWERS, 0, 0))])))
    assert send(w3, stranger, factory.functions.createCoin(7, stranger.address), gas=3_000_000)["status"] == 0
    assert send(w3, deployer, factory.functions.createCoin(7, deployer.address))["status"] == 1
