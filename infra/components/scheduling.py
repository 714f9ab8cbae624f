"""EventBridge: schedules (UTC), each target getting its task as input, and the rule that hands
the oracle's ``OracleSyncCompleted`` events to the milestones function."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

# streamvault.services.sync_events' event (kept literal: infra does not import the layer's code)
SYNC_SOURCE = "streamvault.oracle"
SYNC_DETAIL_TYPE = "OracleSyncCompleted"
HOURLY = events.Schedule.cron(minute="0")
DAILY_MILESTONES = events.Schedule.cron(minute="15", hour="0")
DAILY_PARTITIONS = events.Schedule.cron(minute="30", hour="0")
# The first day of each quarter, after the previous quarter's last sync has settled.
QUARTERLY = events.Schedule.cron(minute="0", hour="2", day="1", month="1,4,7,10")


class Scheduling(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, oracle_fn: lambda_.IFunction,
                 milestones_fn: lambda_.IFunction, ops_fn: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        # The oracle ignores its input: a scheduled event is "run a sync"; a missed hour is made
        # up by the next one, so no retry that could overlap it.
        self._rule("OracleSyncHourly", HOURLY, oracle_fn, None, retries=0)
        self._rule("MilestoneSweepDaily", DAILY_MILESTONES, milestones_fn, {"task": "daily"})
        self._rule("PartitionMaintenanceDaily", DAILY_PARTITIONS, ops_fn, {"task": "maintain_partitions"})
        self._rule("RevenueDistributionQuarterly", QUARTERLY, milestones_fn, {"task": "quarterly"})
        events.Rule(
            self, "MilestonesAfterSync", description="StreamVault: milestone detection after each oracle run",
            event_pattern=events.EventPattern(source=[SYNC_SOURCE], detail_type=[SYNC_DETAIL_TYPE]),
            targets=[targets.LambdaFunction(milestones_fn, retry_attempts=2, max_event_age=Duration.hours(1))],
        )

    def _rule(self, name: str, schedule: events.Schedule, fn: lambda_.IFunction, payload: dict[str, str] | None,
              retries: int = 2) -> None:
        target = targets.LambdaFunction(
            fn, event=events.RuleTargetInput.from_object(payload) if payload else None,
            retry_attempts=retries, max_event_age=Duration.hours(1),
        )
        events.Rule(self, name, schedule=schedule, targets=[target], description=f"StreamVault: {name}")
