"""cdk-nag (AwsSolutions): the findings reviewed and accepted, each with the reason it is accepted.

Acknowledgments apply to a construct and its children, so each is placed on the narrowest
construct that holds every resource it covers. Anything not listed here fails the synth in the
tests (tests/infra/test_nag.py).
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

MANAGED_BASIC = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
MANAGED_VPC = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
MANAGED_APIGW_LOGS = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"

_SQS_GRANT = "CDK's SQS send grant on the KMS-encrypted queue (ingest buffer, oracle retry); scoped to the queue key."
FUNCTIONS = {
    f"AwsSolutions-IAM4[{MANAGED_BASIC}]": "Writes the function's own logs; AWS keeps this policy minimal and current.",
    f"AwsSolutions-IAM4[{MANAGED_VPC}]": (
        "ENI management for VPC functions; EC2 ENI actions cannot be scoped to resources."),
    "AwsSolutions-IAM5[Resource::*]": "X-Ray PutTraceSegments/PutTelemetryRecords accept no resource but '*'.",
    "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]": _SQS_GRANT,
    "AwsSolutions-IAM5[Action::kms:ReEncrypt*]": _SQS_GRANT,
    "AwsSolutions-L1": (
        "Python 3.12 on purpose: the layer's wheels (psycopg, pydantic-core, cytoolz, …) were checked for it; "
        "moving to a newer runtime is a tested change of its own."),
}
DATABASE = {
    "AwsSolutions-RDS11": "Port 5432 is reachable only from the proxy and function security groups; a custom port "
                          "adds no protection there and breaks client defaults.",
    "AwsSolutions-SMG4": "Clients authenticate with IAM tokens and never read this secret; only RDS Proxy does. "
                         "Rotation with the hosted rotation function is a follow-up (docs/deploy.md).",
}
DEV_DATABASE = {
    "AwsSolutions-RDS3": "dev only: a single-AZ instance halves its cost; prod is Multi-AZ.",
    "AwsSolutions-RDS10": "dev only: throwaway data, deleted with the stack; prod has deletion protection.",
}
REPLICA = {
    "AwsSolutions-RDS2": "A replica inherits the source's KMS encryption; CloudFormation refuses StorageEncrypted "
                         "on a replica (cfn-lint E3020).",
    "AwsSolutions-RDS3": "A read-only copy for analytics; the primary is Multi-AZ. If the replica is lost, a deploy "
                         "without read_replica sends reads to the primary (docs/runbook.md).",
}
SECRETS = {
    "AwsSolutions-SMG4": "Values owned outside AWS (the RPC provider's URL) or whose rotation would break stored "
                         "hashes (the user-agent HMAC key): rotated by hand, per docs/deploy.md.",
}
API = {
    "AwsSolutions-APIG2": "Every body is validated by the functions (pydantic) with the project's error shape; "
                          "API Gateway's validator would answer in another shape.",
    "AwsSolutions-APIG3": "No WAF for now: the authorizer, usage-plan and stage throttling bound abuse; a web ACL "
                          "is a cost decision noted in docs/deploy.md.",
    "AwsSolutions-APIG4": "Only /v1/health, /v1/docs and /v1/openapi.json are open, on purpose (monitoring, docs).",
    "AwsSolutions-COG4": "Clients are apps and services with API keys (Lambda REQUEST authorizer), not Cognito users.",
    f"AwsSolutions-IAM4[{MANAGED_APIGW_LOGS}]": "API Gateway's account-level role for access and execution logs.",
}
CDK_INTERNALS = {
    f"AwsSolutions-IAM4[{MANAGED_BASIC}]": "CDK framework function (custom resource / log retention): logs only.",
    "AwsSolutions-IAM5[Resource::*]": "CDK's log retention function sets retention on log groups it creates by name.",
    "AwsSolutions-L1": "CDK framework function; its runtime is chosen and updated by aws-cdk-lib.",
}


def _acknowledge(scope: IConstruct, findings: dict[str, str]) -> None:
    validations = cdk.Validations.of(scope)
    for rule, reason in findings.items():
        validations.acknowledge(cdk.Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason))


def suppress_reviewed_findings(stack: cdk.Stack, *, dev: bool) -> None:
    node = stack.node
    _acknowledge(node.find_child("Functions"), FUNCTIONS)
    _acknowledge(node.find_child("Database"), DATABASE)
    if dev:
        _acknowledge(node.find_child("Database"), DEV_DATABASE)
    replica = node.find_child("Database").node.try_find_child("ReadReplica")
    if replica is not None:
        _acknowledge(replica, REPLICA)
    _acknowledge(node.find_child("Keys"), SECRETS)
    _acknowledge(node.find_child("Api"), API)
    ops = node.find_child("Functions").node.find_child("Ops").node.default_child
    ops_versions = f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(ops)}.Arn>:*]"  # type: ignore[arg-type]
    _acknowledge(node.find_child("Migrations"), {
        **CDK_INTERNALS, ops_versions: "The provider framework may invoke any version of the ops function.",
    })
    for child in node.children:
        if child.node.id.startswith("LogRetention"):
            _acknowledge(child, CDK_INTERNALS)
