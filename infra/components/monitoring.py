"""Alarms to one SNS topic, metrics derived from the functions' logs, and a dashboard.

Every alarm here has an entry in docs/runbook.md under its name. The oracle's metrics are EMF
(namespace ``StreamVault``, dimension ``service``: Powertools' service name of the logger).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.functions import NAMESPACE
from infra.config import StageConfig

SERVICE = {"service": "streamvault"}  # streamvault.observability's Logger/Metrics service name
GT = cw.ComparisonOperator.GREATER_THAN_THRESHOLD
GTE = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
LT = cw.ComparisonOperator.LESS_THAN_THRESHOLD
HOUR = Duration.hours(1)
FIVE_MIN = Duration.minutes(5)
INGEST_BUFFER_MAX_AGE_S = 900  # a buffered batch should replay within minutes once PostgreSQL is back
API_5XX_RATE = 0.01  # 1 % of requests
API_P99_LATENCY_MS = 1_000
DB_CPU_PERCENT = 80


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    metric: cw.IMetric
    threshold: float
    comparison: cw.ComparisonOperator
    periods: int = 1
    missing: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING
    description: str = ""


def _emf(name: str, statistic: str, period: Duration = HOUR) -> cw.Metric:
    return cw.Metric(namespace=NAMESPACE, metric_name=name, dimensions_map=SERVICE, statistic=statistic, period=period)


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, key: kms.IKey,
                 rest_api: apigw.RestApi, database: rds.DatabaseInstance, dead_letter_queues: dict[str, sqs.IQueue],
                 ingest_buffer: sqs.IQueue, oracle_retry: sqs.IQueue, functions: dict[str, lambda_.Function]) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Alarms", topic_name=f"streamvault-{config.stage}-alarms", master_key=key,
                               enforce_ssl=True)
        if config.alarm_email:
            self.topic.add_subscription(subs.EmailSubscription(config.alarm_email))
        self._stage = config.stage
        self._derived_metrics(functions)
        specs = [*self._oracle_alarms(), *self._queue_alarms(dead_letter_queues, ingest_buffer),
                 *self._api_alarms(rest_api), *self._database_alarms(config, database)]
        self.alarms = {spec.name: self._alarm(spec) for spec in specs}
        self._dashboard(rest_api, ingest_buffer, oracle_retry, dead_letter_queues, database)

    def _alarm(self, spec: AlarmSpec) -> cw.Alarm:
        alarm = cw.Alarm(
            self, spec.name, alarm_name=f"streamvault-{self._stage}-{spec.name}", metric=spec.metric,
            threshold=spec.threshold, comparison_operator=spec.comparison, evaluation_periods=spec.periods,
            treat_missing_data=spec.missing,
            alarm_description=f"{spec.description} Runbook: docs/runbook.md#{spec.name}",
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        alarm.add_ok_action(cw_actions.SnsAction(self.topic))
        return alarm

    def _derived_metrics(self, functions: dict[str, lambda_.Function]) -> None:
        """Gas and ingestion volume are in the functions' JSON log lines, not in EMF: filters make
        metrics of them (the oracle's run summary carries ``gas_used``; ingestion logs ``stored``)."""
        # Batches stored directly and batches replayed from the buffer after an outage: both log
        # ``stored``; counting only the first would hide the recovery on the dashboard.
        for name, fn, messages, field in (
            ("GasUsed", functions["oracle_sync"], ["oracle sync run"], "gas_used"),
            ("EventsStored", functions["ingest"], ["ingest batch stored", "buffered batch written"], "stored"),
        ):
            logs.MetricFilter(
                self, f"{name}Filter", log_group=fn.log_group, metric_namespace=NAMESPACE, metric_name=name,
                filter_pattern=logs.FilterPattern.any(
                    *(logs.FilterPattern.string_value("$.message", "=", m) for m in messages)),
                metric_value=f"$.{field}", dimensions={"service": "$.service"},
            )

    def _oracle_alarms(self) -> list[AlarmSpec]:
        rate = _emf("SyncSuccessRate", "Average")
        return [
            AlarmSpec("oracle-success-rate-warning", rate, 90, LT, description="Oracle sync success rate under 90 %."),
            AlarmSpec("oracle-success-rate-critical", rate, 70, LT,
                      description="CRITICAL: oracle sync success rate under 70 %."),
            AlarmSpec("oracle-failed-transactions", _emf("FailedTransactions", "Sum"), 10, GT,
                      description="More than 10 failed oracle transactions in an hour."),
            # DataFreshness is emitted by every run that has ever succeeded or has nothing to send;
            # no data for 2 h means no such run, so missing data breaches too.
            AlarmSpec("oracle-no-successful-sync", _emf("DataFreshness", "Maximum", Duration.hours(2)), 7_200, GT,
                      missing=cw.TreatMissingData.BREACHING, description="No successful oracle sync for 2 hours."),
        ]

    def _queue_alarms(self, dlqs: dict[str, sqs.IQueue], buffer: sqs.IQueue) -> list[AlarmSpec]:
        specs = [
            AlarmSpec(f"dlq-{_kebab(name)}-not-empty",
                      dlq.metric_approximate_number_of_messages_visible(statistic="Maximum", period=FIVE_MIN), 1, GTE,
                      description=f"A message reached the {name} dead-letter queue.")
            for name, dlq in dlqs.items()
        ]
        specs.append(AlarmSpec(
            "ingest-buffer-backlog-age", buffer.metric_approximate_age_of_oldest_message(statistic="Maximum",
                                                                                        period=FIVE_MIN),
            INGEST_BUFFER_MAX_AGE_S, GT, periods=3, description="Buffered ingest batches are not draining.",
        ))
        return specs

    def _api_alarms(self, api: apigw.RestApi) -> list[AlarmSpec]:
        return [
            AlarmSpec("api-5xx-rate", api.metric_server_error(statistic="Average", period=FIVE_MIN), API_5XX_RATE, GT,
                      periods=3, description="Over 1 % of API requests answered 5xx for 15 minutes."),
            AlarmSpec("api-p99-latency", api.metric_latency(statistic="p99", period=FIVE_MIN), API_P99_LATENCY_MS, GT,
                      periods=3, description="API p99 latency over 1 s for 15 minutes."),
        ]

    def _database_alarms(self, config: StageConfig, db: rds.DatabaseInstance) -> list[AlarmSpec]:
        return [
            AlarmSpec("db-cpu", db.metric_cpu_utilization(period=FIVE_MIN), DB_CPU_PERCENT, GT, periods=3,
                      description="Database CPU over 80 % for 15 minutes."),
            AlarmSpec("db-connections", db.metric_database_connections(period=FIVE_MIN, statistic="Maximum"),
                      config.db_max_connections_alarm, GT, periods=3,
                      description="Database connections near the instance's limit."),
            AlarmSpec("db-free-storage", db.metric_free_storage_space(period=FIVE_MIN, statistic="Minimum"),
                      config.db_free_storage_alarm_bytes, LT, periods=2,
                      description="Database free storage low (autoscaling may be at its maximum)."),
        ]

    def _dashboard(self, api: apigw.RestApi, buffer: sqs.IQueue, retry: sqs.IQueue, dlqs: dict[str, sqs.IQueue],
                   db: rds.DatabaseInstance) -> None:
        queues = {"ingest buffer": buffer, "oracle retry": retry, **{f"{k} DLQ": q for k, q in dlqs.items()}}
        depth = [q.metric_approximate_number_of_messages_visible(label=label, period=FIVE_MIN)
                 for label, q in queues.items()]
        board = cw.Dashboard(self, "Dashboard", dashboard_name=f"streamvault-{self._stage}")
        board.add_widgets(
            _graph("Ingestion: events stored", [_emf("EventsStored", "Sum", FIVE_MIN)]),
            _graph("Oracle: sync success rate (%)", [_emf("SyncSuccessRate", "Average")]),
            _graph("Oracle: data freshness (s)", [_emf("DataFreshness", "Maximum")]),
        )
        board.add_widgets(
            _graph("Oracle: gas used", [_emf("GasUsed", "Sum")]),
            _graph("Oracle: failed transactions", [_emf("FailedTransactions", "Sum")]),
            _graph("Queue depths", depth),
        )
        board.add_widgets(
            _graph("API latency (p50, p99)", [api.metric_latency(statistic="p50", period=FIVE_MIN),
                                              api.metric_latency(statistic="p99", period=FIVE_MIN)]),
            _graph("API 4xx / 5xx", [api.metric_client_error(period=FIVE_MIN),
                                     api.metric_server_error(period=FIVE_MIN)]),
            _graph("Database CPU and connections", [db.metric_cpu_utilization(period=FIVE_MIN),
                                                    db.metric_database_connections(period=FIVE_MIN)]),
        )
        # docs/runbook.md sends operators here when the oracle's transactions do not land: counts runs
        # the breaker paused or opened on (oracle_sync emits it with the service dimension, like the rest).
        board.add_widgets(_graph("Oracle: circuit breaker open", [_emf("OracleBreakerOpen", "Sum")]))


def _graph(title: str, metrics: list[cw.IMetric]) -> cw.GraphWidget:
    return cw.GraphWidget(title=title, left=metrics, width=8)


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")
