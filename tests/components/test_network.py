"""The network each shipped stack would create, asserted on the recorded resource graph."""

from __future__ import annotations

import ipaddress
import json

import pulumi
import pulumi_aws as aws
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ballast.offline import ProgramError, ProgramRun, run_component
from components.config import NetworkConfig
from components.iam import RoleFactory
from components.network import (
    INTERFACE_ENDPOINT_SERVICES,
    Network,
    NetworkArgs,
    plan_subnets,
)
from tests.conftest import (
    SHIPPED_STACKS,
    account_of,
    aws_context,
    expected_zones,
    name_prefix,
    platform_boundary,
    platform_config,
    regions_of,
    stack_run,
)
from tests.tokens import (
    AWS_PROVIDER,
    NAT,
    ROUTE,
    ROUTE_TABLE,
    ROUTE_TABLE_ASSOCIATION,
    SUBNET,
    VPC_ENDPOINT,
)

#: The platform stacks whose primary network these tests read.
EXPECTED = SHIPPED_STACKS


def network_config(stack: str):
    """The stack's `ballast:network` settings, as the program reads them."""
    return platform_config(stack).network


def zones_of(stack: str) -> list[str]:
    return expected_zones(platform_config(stack).primary_region, network_config(stack))


def nat_count_of(stack: str) -> int:
    """One NAT gateway per zone, or one in all (`natMode: single`)."""
    settings = network_config(stack)
    return 1 if settings.nat_mode == "single" else len(zones_of(stack))


#: The boundary a stand-alone Network test hands its role factory.
TEST_BOUNDARY = "arn:aws:iam::123456789012:policy/ballast-test-permission-boundary"


def tier_of(record) -> str:
    return record.inputs["tags"]["ballast.io/subnet-tier"]


def primary_network(run: ProgramRun) -> ProgramRun:
    """The run seen through the primary region's Network only: the security baseline and
    the database have keys, roles and security groups of their own, and prod has a second
    (DR) network (tests/components/test_database.py covers it)."""
    networks = run.of_type("ballast:components:Network")
    if len(networks) > 1:  # the primary region's is named for the platform, the DR one not
        networks = [r for r in networks if r.name == f"{name_prefix(run)}net"]
    (network,) = networks
    return ProgramRun(
        project=run.project,
        stack=run.stack,
        resources=[network, *(r for r in run.resources if r.parent == network.urn)],
        invokes=run.invokes,
        outputs=run.outputs,
    )


def of_network(run, type_: str) -> list:
    """Records of `type_` that belong to the primary region's Network component."""
    return primary_network(run).of_type(type_)


def factory() -> RoleFactory:
    return RoleFactory(role_prefix="ballast-test-", boundary_arn=TEST_BOUNDARY)


@pytest.mark.parametrize("stack", EXPECTED)
def test_one_subnet_per_tier_and_zone(stack):
    run = primary_network(stack_run(stack))
    zones = zones_of(stack)
    subnets = run.of_type(SUBNET)
    by_tier = {
        tier: sorted(s.inputs["availabilityZone"] for s in subnets if tier_of(s) == tier)
        for tier in ("public", "private", "isolated")
    }
    assert by_tier == {"public": zones, "private": zones, "isolated": zones}
    assert run.outputs["availabilityZones"] == zones


@pytest.mark.parametrize("stack", EXPECTED)
def test_subnets_fit_the_vpc_without_overlap(stack):
    run = primary_network(stack_run(stack))
    vpc = ipaddress.ip_network(run.of_type("aws:ec2/vpc:Vpc")[0].inputs["cidrBlock"])
    blocks = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in run.of_type(SUBNET)]
    assert all(b.subnet_of(vpc) for b in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])


@pytest.mark.parametrize("stack", EXPECTED)
def test_load_balancer_discovery_tags_and_no_public_ips(stack):
    run = primary_network(stack_run(stack))
    for subnet in run.of_type(SUBNET):
        tags, tier = subnet.inputs["tags"], tier_of(subnet)
        assert (tags.get("kubernetes.io/role/elb") == "1") == (tier == "public")
        assert (tags.get("kubernetes.io/role/internal-elb") == "1") == (tier == "private")
        assert subnet.inputs["mapPublicIpOnLaunch"] is False


@pytest.mark.parametrize("stack", EXPECTED)
def test_nat_gateways_sit_in_public_subnets(stack):
    run = primary_network(stack_run(stack))
    nats = run.of_type(NAT)
    assert len(nats) == nat_count_of(stack)
    assert len(run.of_type("aws:ec2/eip:Eip")) == len(nats)
    public_ids = {s.id for s in run.of_type(SUBNET) if tier_of(s) == "public"}
    assert {n.inputs["subnetId"] for n in nats} <= public_ids
    assert sorted(run.outputs["natGatewayIds"]) == sorted(n.id for n in nats)


@pytest.mark.parametrize("stack", EXPECTED)
def test_each_zone_has_its_own_private_route_table(stack):
    """Per-AZ NAT: a zone's egress goes through the NAT in that zone (single NAT: the one)."""
    run = primary_network(stack_run(stack))
    zones, nat_count = zones_of(stack), nat_count_of(stack)
    subnets = {s.id: s for s in run.of_type(SUBNET)}
    nat_zone = {
        n.id: subnets[n.inputs["subnetId"]].inputs["availabilityZone"] for n in run.of_type(NAT)
    }
    tables = {t.id: t for t in run.of_type(ROUTE_TABLE)}
    private_tables = set()
    for assoc in run.of_type(ROUTE_TABLE_ASSOCIATION):
        subnet = subnets[assoc.inputs["subnetId"]]
        if tier_of(subnet) != "private":
            continue
        table_id = assoc.inputs["routeTableId"]
        private_tables.add(table_id)
        egress = [r for r in run.of_type(ROUTE) if r.inputs["routeTableId"] == table_id]
        assert len(egress) == 1 and egress[0].inputs["destinationCidrBlock"] == "0.0.0.0/0"
        expected_zone = subnet.inputs["availabilityZone"] if nat_count > 1 else zones[0]
        assert nat_zone[egress[0].inputs["natGatewayId"]] == expected_zone
    assert len(private_tables) == len(zones)
    assert private_tables <= set(tables)


@pytest.mark.parametrize("stack", EXPECTED)
def test_isolated_subnets_have_no_route_out(stack):
    run = primary_network(stack_run(stack))
    subnets = {s.id: s for s in run.of_type(SUBNET)}
    isolated_tables = {
        a.inputs["routeTableId"]
        for a in run.of_type(ROUTE_TABLE_ASSOCIATION)
        if tier_of(subnets[a.inputs["subnetId"]]) == "isolated"
    }
    assert len(isolated_tables) == 1
    assert not [r for r in run.of_type(ROUTE) if r.inputs["routeTableId"] in isolated_tables]


@pytest.mark.parametrize("stack", EXPECTED)
def test_flow_logs_to_an_encrypted_log_group(stack):
    run = primary_network(stack_run(stack))
    (flow_log,) = run.of_type("aws:ec2/flowLog:FlowLog")
    (group,) = of_network(run, "aws:cloudwatch/logGroup:LogGroup")
    (key,) = of_network(run, "aws:kms/key:Key")
    (vpc,) = run.of_type("aws:ec2/vpc:Vpc")
    assert flow_log.inputs["vpcId"] == vpc.id
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestination"] == group.outputs["arn"]
    assert group.inputs["retentionInDays"] == network_config(stack).flow_log_retention_days
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    # The key lets CloudWatch Logs use it for this one log group only.
    statements = json.loads(key.inputs["policy"])["Statement"]
    logs_service = f"logs.{platform_config(stack).primary_region}.amazonaws.com"
    logs = next(s for s in statements if s["Principal"] == {"Service": logs_service})
    assert (
        logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == group.outputs["arn"]
    )


@pytest.mark.parametrize("stack", EXPECTED)
def test_flow_log_role_writes_only_its_log_group(stack):
    run = stack_run(stack)
    (role,) = of_network(run, "aws:iam/role:Role")
    (group,) = of_network(run, "aws:cloudwatch/logGroup:LogGroup")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "vpc-flow-logs.amazonaws.com"}]
    assert trust[0]["Condition"]["StringEquals"] == {"aws:SourceAccount": account_of(stack)}
    # Made by the role factory: it carries the environment's permission boundary.
    boundary = platform_boundary(run)
    assert role.inputs["permissionsBoundary"] == boundary.outputs["arn"]
    (policy,) = of_network(run, "aws:iam/rolePolicy:RolePolicy")
    write = json.loads(policy.inputs["policy"])["Statement"][0]
    assert write["Resource"] == f"{group.outputs['arn']}:*"


@pytest.mark.parametrize("stack", EXPECTED)
def test_s3_gateway_endpoint_on_every_private_and_isolated_table(stack):
    run = primary_network(stack_run(stack))
    gateways = [e for e in run.of_type(VPC_ENDPOINT) if e.inputs["vpcEndpointType"] == "Gateway"]
    region = platform_config(stack).primary_region
    assert [g.inputs["serviceName"] for g in gateways] == [f"com.amazonaws.{region}.s3"]
    public = {t.id for t in run.of_type(ROUTE_TABLE) if t.name.endswith("-public")}
    others = {t.id for t in run.of_type(ROUTE_TABLE)} - public
    assert set(gateways[0].inputs["routeTableIds"]) == others


@pytest.mark.parametrize("stack", EXPECTED)
def test_interface_endpoints_behind_one_flag(stack):
    run = primary_network(stack_run(stack))
    interfaces = [
        e for e in run.of_type(VPC_ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"
    ]
    if not network_config(stack).interface_endpoints:
        assert interfaces == []
        assert run.of_type("aws:ec2/securityGroup:SecurityGroup") == []
        return
    services = sorted(
        e.inputs["serviceName"].rsplit(".", len(s.split(".")))[-1]
        for e, s in zip(interfaces, INTERFACE_ENDPOINT_SERVICES, strict=True)
    )
    assert len(interfaces) == len(INTERFACE_ENDPOINT_SERVICES)
    assert sorted(e.inputs["serviceName"] for e in interfaces) == sorted(
        f"com.amazonaws.{platform_config(stack).primary_region}.{s}"
        for s in INTERFACE_ENDPOINT_SERVICES
    ), services
    private_ids = sorted(s.id for s in run.of_type(SUBNET) if tier_of(s) == "private")
    (group,) = run.of_type("aws:ec2/securityGroup:SecurityGroup")
    for endpoint in interfaces:
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert sorted(endpoint.inputs["subnetIds"]) == private_ids
        assert endpoint.inputs["securityGroupIds"] == [group.id]
    (rule,) = run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["ipProtocol"]) == (
        443,
        443,
        "tcp",
    )
    assert rule.inputs["cidrIpv4"] == run.outputs["vpcCidr"]


def test_default_security_group_is_stripped(shipped):
    (default,) = of_network(shipped, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.inputs.get("ingress", []) == [] and default.inputs.get("egress", []) == []


def test_providers_carry_the_default_tags(shipped):
    config = platform_config(shipped.stack)
    for provider in [r for r in shipped.resources if r.type == AWS_PROVIDER]:
        tags = provider.inputs["defaultTags"]
        tags = json.loads(tags) if isinstance(tags, str) else tags
        assert {k: tags["tags"][k] for k in ("environment", "project", "owner", "managed-by")} == {
            "environment": config.environment,
            "project": shipped.project,
            "owner": config.owner,
            "managed-by": "pulumi",
        }


def test_network_resources_name_their_service_and_tier(shipped):
    network = [
        r
        for r in shipped.resources
        if "ballast:components:Network$" in r.urn and "tags" in r.inputs
    ]
    assert network
    for record in network:
        assert record.inputs["tags"]["service"] == "network", record.urn
        assert record.inputs["tags"]["tier"] == "tier-1", record.urn


def test_no_resource_or_invoke_uses_a_default_provider(shipped):
    custom = [r for r in shipped.resources if r.custom and not r.is_provider]
    assert custom
    assert [r.urn for r in custom if r.provider is None] == []
    provider_urns = {r.urn for r in shipped.resources if r.is_provider}
    assert {r.provider for r in custom} <= provider_urns
    assert shipped.invokes and all(i.provider in provider_urns for i in shipped.invokes)


def test_one_provider_per_configured_region(shipped):
    """A provider for the primary region, and one for the DR region where there is one."""
    regions = [r.inputs["region"] for r in shipped.resources if r.type == AWS_PROVIDER]
    assert sorted(regions) == sorted(regions_of(shipped.stack))
    assert len(set(regions)) == len(regions)


def test_a_forgotten_provider_fails_loudly():
    def program():
        aws.ec2.Vpc("orphan", cidr_block="10.9.0.0/16")

    with pytest.raises(
        ProgramError,
        match=r"resource orphan \(aws:ec2/vpc:Vpc\) uses the default aws provider, which this stack disables",
    ):
        run_component(program)


def test_the_same_network_serves_the_dr_region():
    def program():
        dr = aws.Provider("dr", region="us-west-2")
        Network(
            "dr-net",
            NetworkArgs(
                context=aws_context(dr, "us-west-2"),
                roles=factory(),
                settings=NetworkConfig(cidr="10.31.0.0/20", az_count=2, nat_mode="single"),
            ),
            opts=pulumi.ResourceOptions(provider=dr),
        )

    run = run_component(program)
    zones = sorted({s.inputs["availabilityZone"] for s in run.of_type(SUBNET)})
    assert zones == ["us-west-2a", "us-west-2b"]
    assert len(run.of_type(NAT)) == 1
    (group,) = run.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert group.outputs["arn"].startswith("arn:aws:logs:us-west-2:")
    (gateway,) = [e for e in run.of_type(VPC_ENDPOINT)]
    assert gateway.inputs["serviceName"] == "com.amazonaws.us-west-2.s3"
    (role,) = run.of_type("aws:iam/role:Role")
    assert role.inputs["permissionsBoundary"] == TEST_BOUNDARY
    assert role.inputs["name"] == "ballast-test-dr-net-flow-logs"


def test_pinned_zones_are_used_as_given():
    def program():
        provider = aws.Provider("p", region="eu-west-1")
        Network(
            "pinned",
            NetworkArgs(
                context=aws_context(provider, "eu-west-1"),
                roles=factory(),
                settings=NetworkConfig(
                    cidr="10.5.0.0/16", az_count=2, availability_zones=("eu-west-1c", "eu-west-1a")
                ),
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    run = run_component(program)
    assert not [i for i in run.invokes if i.token.endswith("getAvailabilityZones")]
    assert {s.inputs["availabilityZone"] for s in run.of_type(SUBNET)} == {
        "eu-west-1c",
        "eu-west-1a",
    }


def test_preview_is_deterministic():
    from ballast.offline import load_stack_config, run_stack
    from ballast.offline.stack_config import load_project
    from tests.conftest import ROOT

    again = run_stack(load_stack_config(load_project(ROOT), "prod"))
    assert json.dumps(again.to_json()) == json.dumps(stack_run("prod").to_json())


# --- the subnet plan ---------------------------------------------------------------------


def test_plan_of_a_slash_16():
    plan = plan_subnets("10.30.0.0/16", 3)
    assert [(p.tier, p.zone_index, p.cidr) for p in plan] == [
        ("public", 0, "10.30.192.0/22"),
        ("private", 0, "10.30.0.0/19"),
        ("isolated", 0, "10.30.224.0/22"),
        ("public", 1, "10.30.196.0/22"),
        ("private", 1, "10.30.32.0/19"),
        ("isolated", 1, "10.30.228.0/22"),
        ("public", 2, "10.30.200.0/22"),
        ("private", 2, "10.30.64.0/19"),
        ("isolated", 2, "10.30.232.0/22"),
    ]


def test_plan_rejects_what_does_not_fit():
    with pytest.raises(ValueError, match="too small"):
        plan_subnets("10.0.0.0/23", 2)
    with pytest.raises(ValueError, match="between 1 and 6"):
        plan_subnets("10.0.0.0/16", 7)


@given(
    prefix=st.integers(min_value=16, max_value=22),
    zones=st.integers(min_value=1, max_value=6),
    base=st.integers(min_value=0, max_value=255),
)
def test_plan_always_fits_without_overlap(prefix, zones, base):
    vpc = ipaddress.ip_network(f"10.{base}.0.0/{prefix}", strict=False)
    blocks = [ipaddress.ip_network(p.cidr) for p in plan_subnets(str(vpc), zones)]
    assert len(blocks) == 3 * zones
    assert all(b.subnet_of(vpc) and b.prefixlen <= 28 for b in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])


@pytest.mark.parametrize(
    ("stack", "protected"), [("dev", False), ("staging", False), ("prod", True)]
)
def test_flow_log_key_and_group_are_protected_in_prod(stack, protected):
    network = primary_network(stack_run(stack)).resources
    stateful = [
        r for r in network if r.type in ("aws:kms/key:Key", "aws:cloudwatch/logGroup:LogGroup")
    ]
    assert len(stateful) == 2
    assert all(r.protect is protected for r in stateful)
