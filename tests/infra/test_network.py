"""VPC layout, endpoints, and least-privilege security groups."""

from __future__ import annotations

from tests.infra.conftest import Synth


def test_nat_per_stage_and_interface_endpoints(dev: Synth, prod: Synth) -> None:
    assert len(dev.template.find_resources("AWS::EC2::NatGateway")) == 1
    assert len(prod.template.find_resources("AWS::EC2::NatGateway")) == 2
    endpoints = dev.template.find_resources("AWS::EC2::VPCEndpoint")
    services = {str(e["Properties"]["ServiceName"]) for e in endpoints.values()}
    for service in ("sqs", "kms", "secretsmanager"):
        assert any(f".{service}" in s for s in services), service


def test_database_and_proxy_accept_postgres_from_named_groups_only(dev: Synth) -> None:
    ingress = dev.template.find_resources("AWS::EC2::SecurityGroupIngress")
    for rule in ingress.values():
        props = rule["Properties"]
        assert "CidrIp" not in props  # never an address range: always another security group
        assert "SourceSecurityGroupId" in props
    postgres = [r["Properties"] for r in ingress.values() if r["Properties"]["FromPort"] == 5432]
    assert len(postgres) == 3  # functions → proxy, functions → replica, proxy → database


def test_groups_do_not_allow_all_outbound(dev: Synth) -> None:
    for group in dev.template.find_resources("AWS::EC2::SecurityGroup").values():
        for rule in group["Properties"].get("SecurityGroupEgress", []):
            assert rule.get("IpProtocol") != "-1" or rule.get("CidrIp") == "255.255.255.255/32"


def test_only_https_leaves_for_the_internet(dev: Synth) -> None:
    groups = dev.template.find_resources("AWS::EC2::SecurityGroup")
    open_egress = [rule for g in groups.values() for rule in g["Properties"].get("SecurityGroupEgress", [])
                   if rule.get("CidrIp") == "0.0.0.0/0"]
    assert [(r["FromPort"], r["ToPort"]) for r in open_egress] == [(443, 443)]
