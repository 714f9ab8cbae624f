"""VPC, subnets, endpoints and security groups.

- ``isolated`` subnets hold the database and its proxy: no route out at all.
- ``private`` subnets hold the Lambdas. Their only way to the internet is the NAT gateway,
  which exists for the FEVM JSON-RPC endpoint (a third party). AWS APIs the functions call
  (SQS, KMS, Secrets Manager) are reached through interface endpoints, so that traffic never
  leaves AWS' network and keeps working if the NAT is down.
- Security groups: functions → proxy on 5432, proxy → database on 5432, functions → 443
  (endpoints and the RPC); nothing else.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig

POSTGRES_PORT = 5432
INTERFACE_ENDPOINTS = {
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
}


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self, "Vpc", max_azs=2, nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
                ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
            flow_logs={"all": ec2.FlowLogOptions(
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                    logs.LogGroup(self, "FlowLogs", retention=config.log_retention)),
                traffic_type=ec2.FlowLogTrafficType.REJECT,  # what security groups refused
            )},
        )
        self.functions_sg = self._group("Functions", "StreamVault Lambdas")
        self.proxy_sg = self._group("Proxy", "RDS Proxy")
        self.database_sg = self._group("Database", "RDS PostgreSQL")
        self.endpoints_sg = self._group("Endpoints", "interface VPC endpoints")
        self._allow_flows()
        self._endpoints()

    def _group(self, name: str, description: str) -> ec2.SecurityGroup:
        return ec2.SecurityGroup(self, f"{name}Sg", vpc=self.vpc, description=description, allow_all_outbound=False)

    def _allow_flows(self) -> None:
        postgres = ec2.Port.tcp(POSTGRES_PORT)
        https = ec2.Port.tcp(443)
        self.functions_sg.connections.allow_to(self.proxy_sg, postgres, "functions to RDS Proxy")
        self.functions_sg.connections.allow_to(self.database_sg, postgres, "functions to the read replica")
        self.proxy_sg.connections.allow_to(self.database_sg, postgres, "proxy to PostgreSQL")
        self.functions_sg.connections.allow_to(self.endpoints_sg, https, "functions to AWS APIs")
        # The FEVM RPC is an HTTPS endpoint on the internet, through the NAT gateway.
        self.functions_sg.add_egress_rule(ec2.Peer.any_ipv4(), https, "functions to the FEVM JSON-RPC (NAT)")

    def _endpoints(self) -> None:
        for name, service in INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                f"{name}Endpoint", service=service, security_groups=[self.endpoints_sg], private_dns_enabled=True,
                open=False,  # only the functions' group, allowed above
                subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            )
