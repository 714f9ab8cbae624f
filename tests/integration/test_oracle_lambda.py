"""The oracle_sync Lambda: the scheduled run with EMF metrics, and the SQS retry consumer with
partial batch failure and the DLQ after the last attempt (moto SQS)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import text
from streamvault.config import get_settings
from streamvault.local.apigw import LocalContext
from streamvault.observability import metrics
from streamvault.services import oracle_sync

from functions.oracle_sync import app
from tests.integration.chain_fixtures import (  # noqa: F401 (fixtures)
    anvil_node,
    deployer_signer,
    oracle_address,
    oracle_settings,
    web3_client,
)
from tests.integration.test_oracle_sync import make_creators


@pytest.fixture
def queues(engine, db_url, anvil, oracle):
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        retry = sqs.create_queue(QueueName="oracle-retry")["QueueUrl"]
        dlq = sqs.create_queue(QueueName="oracle-dlq")["QueueUrl"]
        oracle_settings(db_url, anvil, oracle, oracle_retry_queue_url=retry, oracle_dlq_url=dlq,
                        oracle_receipt_wait_s=0.3, aws_region="us-east-1", oracle_backoff_s=(0,))  # visible at once
        app.runtime.cache_clear()
        metrics.clear_metrics()  # left unflushed by other tests' direct runs in this worker
        yield sqs, retry, dlq
        app.runtime.cache_clear()


def sqs_event(*bodies: str) -> dict:
    return {"Records": [{"messageId": f"m{i}", "receiptHandle": f"h{i}", "body": body, "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:oracle-retry",
                         "awsRegion": "us-east-1"} for i, body in enumerate(bodies)]}


def emitted(capsys) -> dict[str, list[float]]:
    """The EMF metrics printed so far: name → values."""
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for doc in docs for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    return {name: [v for doc in docs if name in doc for v in (doc[name] if isinstance(doc[name], list)
                                                               else [doc[name]])] for name in names}


def test_scheduled_run_syncs_and_emits_metrics(engine, queues, capsys):
    make_creators(engine, 3)
    result = app.lambda_handler({"source": "aws.events", "detail-type": "Scheduled Event"}, LocalContext())
    assert (result["creators"], result["confirmed"]) == (3, 1)
    metrics = emitted(capsys)
    assert {"SyncDuration", "CreatorsSynced"} <= set(metrics)
    assert metrics["SyncSuccessRate"] == [100.0]  # one point per finished transaction
    assert "FailedTransactions" not in metrics
    assert 0 <= metrics["DataFreshness"][0] < 60  # the batch it just confirmed


def _successes(engine, *rows: tuple[str, str]) -> None:
    with engine.begin() as conn:
        for operation, age in rows:
            conn.execute(text("INSERT INTO oracle_sync_logs (operation, status, created_at) "
                              "VALUES (:op, 'SUCCESS', now() - CAST(:age AS interval))"), {"op": operation, "age": age})


def test_a_run_with_nothing_to_sync_reports_the_chain_fresh(engine, queues, capsys):
    _successes(engine, ("UPDATE_METRICS", "3 hours"))  # a quiet spell: no change to send since
    result = app.lambda_handler({"source": "aws.events"}, LocalContext())
    assert result["creators"] == 0
    assert emitted(capsys)["DataFreshness"] == [0.0]  # not 3 hours: the alarm must not fire


def test_freshness_is_the_age_of_the_last_metrics_sync_while_changes_wait(engine, anvil, queues, capsys):
    _successes(engine, ("UPDATE_METRICS", "3 hours"), ("CREATE_COIN", "1 minute"))  # a coin is not a sync
    make_creators(engine, 2)
    anvil.rpc("evm_setAutomine", False)  # the batch stays pending
    app.lambda_handler({"source": "aws.events"}, LocalContext())
    anvil.rpc("evm_setAutomine", True)
    metrics = emitted(capsys)
    (freshness,) = metrics["DataFreshness"]
    assert 3 * 3600 <= freshness < 3 * 3600 + 60
    assert "SyncSuccessRate" not in metrics  # a batch not yet mined is no failure: counted when it finishes


def test_retry_records_partial_failure_and_dlq(engine, anvil, queues, capsys, monkeypatch):
    sqs, retry, dlq = queues
    make_creators(engine, 2)
    anvil.rpc("evm_setAutomine", False)  # the batch stays pending: the run queues it
    app.lambda_handler({"source": "aws.events"}, LocalContext())
    queued = sqs.receive_message(QueueUrl=retry, WaitTimeSeconds=0, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["attempt"] for m in queued] == [1]
    tx_id = json.loads(queued[0]["Body"])["transaction_id"]

    last = json.dumps({"transaction_id": tx_id, "attempt": get_settings().oracle_max_attempts})
    result = app.lambda_handler(sqs_event(last, "not json"), LocalContext())
    assert result["batchItemFailures"] == [{"itemIdentifier": "m1"}]  # only the broken record comes back
    dead = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages", [])
    assert json.loads(dead[0]["Body"])["transaction_id"] == tx_id
    metrics = emitted(capsys)
    assert metrics["FailedTransactions"] == [1.0] and "SyncSuccessRate" not in metrics  # given up, not finished

    anvil.rpc("evm_setAutomine", True)
    anvil.rpc("evm_mine")
    announced = []
    monkeypatch.setattr(oracle_sync, "announce_sync_done", lambda settings, run_id: announced.append(run_id))
    again = app.lambda_handler(sqs_event(json.dumps({"transaction_id": tx_id, "attempt": 2})), LocalContext())
    assert again["batchItemFailures"] == []
    with engine.connect() as conn:
        run_id = conn.execute(text("SELECT max(id) FROM oracle_sync_runs")).scalar_one()
    assert announced == [run_id]  # confirmed by the retry consumer: milestone detection hears of it
    assert emitted(capsys)["SyncSuccessRate"] == [100.0]  # finished by the retry consumer: counted there
    with engine.connect() as conn:
        assert conn.execute(text("SELECT state FROM chain_transactions WHERE id = :id"),
                            {"id": tx_id}).scalar_one() == "confirmed"
