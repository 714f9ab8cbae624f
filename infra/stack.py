"""The StreamVault stack: one construct per concern, wired together here."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from infra.components.api import Api
from infra.components.database import Database
from infra.components.functions import Functions
from infra.components.keys import Keys
from infra.components.layer import CommonLayer
from infra.components.migrations import Migrations
from infra.components.monitoring import Monitoring
from infra.components.network import Network
from infra.components.queues import Queues
from infra.components.scheduling import Scheduling
from infra.config import StageConfig
from infra.nag import suppress_reviewed_findings

# The ingest buffer's consumer may use at most this many concurrent executions, so a draining
# backlog leaves the rest of the account's concurrency to the API.
INGEST_REPLAY_CONCURRENCY = 3
SQS_BATCH_SIZE = 10


class StreamVaultStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.stage = config.stage
        # A DBProxyTargetGroup takes no tags (CloudFormation refuses the property).
        untaggable = ["AWS::RDS::DBProxyTargetGroup"]
        cdk.Tags.of(self).add("project", "streamvault", exclude_resource_types=untaggable)
        cdk.Tags.of(self).add("stage", config.stage, exclude_resource_types=untaggable)

        network = Network(self, "Network", config=config)
        self.keys = Keys(self, "Keys", config=config)
        self.database = Database(self, "Database", config=config, network=network, encryption_key=self.keys.data_key)
        layer = CommonLayer(self, "CommonLayer", prebuilt_dir=config.layer_asset_dir)
        self.functions = Functions(self, "Functions", config=config, network=network, database=self.database,
                                   keys=self.keys, layer=layer.layer)
        self.queues = Queues(self, "Queues", config=config, key=self.keys.queue_key)
        self._wire_queues()
        fns = self.functions.by_name
        self.api = Api(self, "Api", config=config, api_fn=fns["api"], ingest_fn=fns["ingest"],
                       authorizer_fn=fns["authorizer"])
        Scheduling(self, "Scheduling", oracle_fn=fns["oracle_sync"], milestones_fn=fns["milestones"], ops_fn=fns["ops"])
        migrations = Migrations(self, "Migrations", ops_fn=fns["ops"])
        migrations.node.add_dependency(self.database)  # the proxy's target must be registered first
        self.monitoring = Monitoring(
            self, "Monitoring", config=config, key=self.keys.data_key, rest_api=self.api.rest_api,
            database=self.database.instance, dead_letter_queues=self.queues.dead_letter_queues,
            ingest_buffer=self.queues.ingest_buffer, oracle_retry=self.queues.oracle_retry, functions=fns,
        )
        cdk.CfnOutput(self, "ApiUrl", value=self.api.rest_api.url)
        # for `streamvault keys create|revoke` (STREAMVAULT_API_USAGE_PLAN_ID): per-key throttling
        cdk.CfnOutput(self, "ApiUsagePlanId", value=self.api.usage_plan.usage_plan_id)
        cdk.CfnOutput(self, "SignerKeyId", value=self.keys.signer_key.key_id)
        cdk.CfnOutput(self, "RpcUrlSecret", value=self.keys.rpc_url.secret_name)
        suppress_reviewed_findings(self, dev=config.stage == "dev")

    def _wire_queues(self) -> None:
        fns, queues = self.functions.by_name, self.queues
        ingest, oracle, api = fns["ingest"], fns["oracle_sync"], fns["api"]
        # /v1/health reports every queue's depth (reading attributes needs no access to the messages' key)
        api.add_environment("STREAMVAULT_HEALTH_QUEUE_URLS",
                            self.to_json_string({name: q.queue_url for name, q in queues.by_name.items()}))
        for queue in queues.by_name.values():
            queue.grant(api, "sqs:GetQueueAttributes")
        ingest.add_environment("STREAMVAULT_INGEST_BUFFER_QUEUE_URL", queues.ingest_buffer.queue_url)
        queues.ingest_buffer.grant_send_messages(ingest)
        ingest.add_event_source(sources.SqsEventSource(
            queues.ingest_buffer, batch_size=SQS_BATCH_SIZE, report_batch_item_failures=True,
            max_concurrency=INGEST_REPLAY_CONCURRENCY,
        ))
        oracle.add_environment("STREAMVAULT_ORACLE_RETRY_QUEUE_URL", queues.oracle_retry.queue_url)
        oracle.add_environment("STREAMVAULT_ORACLE_DLQ_URL", queues.oracle_dlq.queue_url)
        queues.oracle_retry.grant_send_messages(oracle)
        queues.oracle_dlq.grant_send_messages(oracle)  # gives a transaction up after its last attempt
        oracle.add_event_source(sources.SqsEventSource(
            queues.oracle_retry, batch_size=SQS_BATCH_SIZE, report_batch_item_failures=True,
        ))
