"""Alarms (thresholds from the seed), their topic, the derived metrics and the dashboard."""

from __future__ import annotations

from pathlib import Path

from aws_cdk.assertions import Match

from tests.infra.conftest import Synth

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook.md"


def _alarms(synth: Synth) -> dict[str, dict]:
    return {a["Properties"]["AlarmName"].removeprefix("streamvault-dev-"): a["Properties"]
            for a in synth.template.find_resources("AWS::CloudWatch::Alarm").values()}


def test_oracle_alarms(dev: Synth) -> None:
    alarms = _alarms(dev)
    warning, critical = alarms["oracle-success-rate-warning"], alarms["oracle-success-rate-critical"]
    assert (warning["MetricName"], warning["Threshold"], warning["ComparisonOperator"]) == (
        "SyncSuccessRate", 90, "LessThanThreshold")
    assert (critical["Threshold"], critical["ComparisonOperator"]) == (70, "LessThanThreshold")
    failed = alarms["oracle-failed-transactions"]
    assert (failed["MetricName"], failed["Statistic"], failed["Period"], failed["Threshold"]) == (
        "FailedTransactions", "Sum", 3600, 10)
    assert failed["ComparisonOperator"] == "GreaterThanThreshold"
    stale = alarms["oracle-no-successful-sync"]
    assert (stale["MetricName"], stale["Period"], stale["Threshold"], stale["TreatMissingData"]) == (
        "DataFreshness", 7200, 7200, "breaching")
    for alarm in (warning, critical, failed, stale):
        assert alarm["Namespace"] == "StreamVault"
        assert alarm["Dimensions"] == [{"Name": "service", "Value": "streamvault"}]


def test_dead_letter_queue_alarms_fire_on_any_message(dev: Synth) -> None:
    alarms = _alarms(dev)
    for name in ("dlq-ingest-buffer-not-empty", "dlq-oracle-retry-not-empty"):
        alarm = alarms[name]
        assert (alarm["MetricName"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
            "ApproximateNumberOfMessagesVisible", 1, "GreaterThanOrEqualToThreshold")


def test_api_and_database_alarms(dev: Synth) -> None:
    alarms = _alarms(dev)
    assert (alarms["api-5xx-rate"]["MetricName"], alarms["api-5xx-rate"]["Threshold"]) == ("5XXError", 0.01)
    assert (alarms["api-p99-latency"]["ExtendedStatistic"], alarms["api-p99-latency"]["Threshold"]) == ("p99", 1000)
    assert (alarms["db-cpu"]["MetricName"], alarms["db-cpu"]["Threshold"]) == ("CPUUtilization", 80)
    assert alarms["db-connections"]["MetricName"] == "DatabaseConnections"
    assert (alarms["db-free-storage"]["MetricName"], alarms["db-free-storage"]["ComparisonOperator"]) == (
        "FreeStorageSpace", "LessThanThreshold")
    assert alarms["ingest-buffer-backlog-age"]["MetricName"] == "ApproximateAgeOfOldestMessage"


def test_every_alarm_notifies_the_encrypted_topic(dev: Synth, prod: Synth) -> None:
    (topic,) = dev.template.find_resources("AWS::SNS::Topic")
    for alarm in _alarms(dev).values():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic}]
    dev.template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    prod.template.has_resource_properties("AWS::SNS::Subscription", {
        "Protocol": "email", "Endpoint": "oncall@example.com",
    })


def test_every_alarm_has_a_runbook_entry(dev: Synth) -> None:
    runbook = RUNBOOK.read_text()
    for name, alarm in _alarms(dev).items():
        assert f"docs/runbook.md#{name}" in alarm["AlarmDescription"]
        assert f"## {name}" in runbook, f"docs/runbook.md has no entry for {name}"


def test_gas_and_ingestion_metrics_come_from_the_logs(dev: Synth) -> None:
    for metric, field in (("GasUsed", "$.gas_used"), ("EventsStored", "$.stored")):
        dev.template.has_resource_properties("AWS::Logs::MetricFilter", {
            "MetricTransformations": [Match.object_like({
                "MetricName": metric, "MetricNamespace": "StreamVault", "MetricValue": field,
            })],
        })


def test_events_stored_counts_direct_writes_and_buffer_replays(dev: Synth) -> None:
    # streamvault.services.ingest logs both, each with the count in "stored"
    (events,) = [f["Properties"] for f in dev.template.find_resources("AWS::Logs::MetricFilter").values()
                 if f["Properties"]["MetricTransformations"][0]["MetricName"] == "EventsStored"]
    assert events["FilterPattern"] == (
        '{ ($.message = "ingest batch stored") || ($.message = "buffered batch written") }')
    assert events["MetricTransformations"][0]["MetricValue"] == "$.stored"


def test_dashboard_shows_the_health_of_every_part(dev: Synth) -> None:
    (board,) = dev.template.find_resources("AWS::CloudWatch::Dashboard").values()
    body = str(board["Properties"]["DashboardBody"])
    for title in ("Ingestion", "sync success rate", "gas used", "Queue depths", "API latency"):
        assert title in body


def test_dashboard_shows_the_oracle_circuit_breaker(dev: Synth) -> None:
    # docs/runbook.md sends operators to it; the metric as oracle_sync emits it (namespace, name, service).
    (board,) = dev.template.find_resources("AWS::CloudWatch::Dashboard").values()
    body = "".join(part for part in board["Properties"]["DashboardBody"]["Fn::Join"][1] if isinstance(part, str))
    assert '["StreamVault","OracleBreakerOpen","service","streamvault"' in body
