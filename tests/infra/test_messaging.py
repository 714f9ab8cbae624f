"""SQS queues, their consumers, and the EventBridge schedules."""

from __future__ import annotations

from aws_cdk.assertions import Match

from tests.infra.conftest import Synth

FOURTEEN_DAYS = 14 * 24 * 3600


def _queue(synth: Synth, name: str) -> dict:
    (queue,) = synth.template.find_resources("AWS::SQS::Queue", {"Properties": {"QueueName": name}}).values()
    return queue["Properties"]


def test_every_queue_is_kms_encrypted_and_kept_14_days(dev: Synth) -> None:
    queues = dev.template.find_resources("AWS::SQS::Queue")
    assert len(queues) == 4
    for queue in queues.values():
        assert "KmsMasterKeyId" in queue["Properties"]
        assert queue["Properties"]["MessageRetentionPeriod"] == FOURTEEN_DAYS


def test_ingest_buffer_visibility_and_redrive(dev: Synth) -> None:
    buffer = _queue(dev, "streamvault-dev-ingest-buffer")
    assert buffer["VisibilityTimeout"] == 6 * 29  # 6 × the ingest function's timeout
    assert "streamvault-dev-ingest-buffer-dlq" in str(dev.template.to_json())


def test_ingest_buffer_rides_out_a_two_hour_database_outage(dev: Synth) -> None:
    # Every failed replay is one receive, one visibility timeout apart: buffered batches must not
    # reach the dead-letter queue before the outage ends (RTO ≤ 1 h).
    buffer = _queue(dev, "streamvault-dev-ingest-buffer")
    assert buffer["RedrivePolicy"]["maxReceiveCount"] * buffer["VisibilityTimeout"] >= 2 * 3600


def test_oracle_retry_visibility_and_redrive(dev: Synth) -> None:
    retry = _queue(dev, "streamvault-dev-oracle-retry")
    assert retry["VisibilityTimeout"] == 6 * 300
    assert retry["RedrivePolicy"]["maxReceiveCount"] == 10


def test_queues_refuse_plain_http(dev: Synth) -> None:
    for policy in dev.template.find_resources("AWS::SQS::QueuePolicy").values():
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_event_sources_report_partial_batch_failures(dev: Synth) -> None:
    mappings = dev.template.find_resources("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == 2
    for mapping in mappings.values():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["Properties"]["BatchSize"] == 10
    dev.template.has_resource_properties("AWS::Lambda::EventSourceMapping", {
        "ScalingConfig": {"MaximumConcurrency": 3},
    })


def test_ingest_may_send_to_its_buffer(dev: Synth) -> None:
    dev.template.has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": Match.array_with(["sqs:SendMessage"]),
        })])},
        "Roles": [{"Ref": Match.string_like_regexp("FunctionsIngestServiceRole")}],
    })


SCHEDULES = {
    "cron(0 * * * ? *)": None,  # hourly oracle sync
    "cron(15 0 * * ? *)": '{"task":"daily"}',  # functions/milestones: detection for every creator
    "cron(30 0 * * ? *)": '{"task":"maintain_partitions"}',
    "cron(0 2 1 1,4,7,10 ? *)": '{"task":"quarterly"}',
}


def test_schedules_and_their_inputs(dev: Synth) -> None:
    rules = {r["Properties"]["ScheduleExpression"]: r["Properties"]["Targets"][0]
             for r in dev.template.find_resources("AWS::Events::Rule").values()
             if "ScheduleExpression" in r["Properties"]}
    assert set(rules) == set(SCHEDULES)
    for expression, payload in SCHEDULES.items():
        assert rules[expression].get("Input") == payload
    assert rules["cron(0 * * * ? *)"]["RetryPolicy"]["MaximumRetryAttempts"] == 0


def test_milestones_run_after_each_oracle_sync(dev: Synth) -> None:
    dev.template.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {"source": ["streamvault.oracle"], "detail-type": ["OracleSyncCompleted"]},
    })
    dev.template.has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Action": "events:PutEvents"})])},
        "Roles": [{"Ref": Match.string_like_regexp("FunctionsOracleSyncServiceRole")}],
    })
