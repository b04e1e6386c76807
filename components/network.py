"""`Network`: a multi-AZ VPC with public, private and isolated subnets per zone.

Shape (per zone): a public subnet (load balancers and the NAT gateway only; instances get
no public IPs), a private subnet for workloads (egress through a NAT gateway), and an
isolated subnet for data stores (no route to the internet at all). Each zone has its own
private route table so a zone's egress never depends on another zone's NAT gateway
(unless `nat_mode="single"` is chosen on purpose).

Also: VPC flow logs to a KMS-encrypted CloudWatch log group (delivered by a role from the
platform's `RoleFactory`, so it carries the permission boundary), an S3 gateway endpoint on
every private and isolated route table, optional interface endpoints, the default
security group stripped of all rules, and the subnet tags the AWS Load Balancer
Controller uses for discovery.

The same component serves the DR region: instantiate it a second time with a context for
the DR region and the `ballast:drNetwork` settings.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

import pulumi
import pulumi_aws as aws

from components.config import NetworkConfig
from components.context import AwsContext
from components.iam import RoleFactory, Trust
from components.kms import LOG_GROUP_KEY_ACTIONS_DOCUMENTED_ORDER
from components.log_groups import encrypted_log_group
from components.tags import INTERNAL_ELB_TAG, PUBLIC_ELB_TAG, SUBNET_TIER_TAG

SubnetTier = Literal["public", "private", "isolated"]

#: Interface endpoints created when `interface_endpoints=True`: image pulls (ecr.api,
#: ecr.dkr), IRSA/Pod Identity token exchange (sts) and log shipping (logs).
INTERFACE_ENDPOINT_SERVICES = ("ecr.api", "ecr.dkr", "sts", "logs")

MAX_ZONES = 6


@dataclass(frozen=True)
class SubnetPlan:
    tier: SubnetTier
    zone_index: int
    cidr: str


def plan_subnets(cidr: str, az_count: int) -> list[SubnetPlan]:
    """Carve the VPC block into per-zone subnets, leaving room to grow.

    The block is split into eighths. Eighths 0-5 are the private subnets of zones 0-5
    (the largest tier: with the VPC CNI every pod takes an address). Eighth 6 is split
    into eighths again for the public subnets, eighth 7 likewise for the isolated ones.
    A /16 thus gives /19 private and /22 public and isolated subnets; with 3 zones, the
    private blocks of zones 3-5 and the small blocks 6-7 stay free for later growth.
    """
    network = ipaddress.IPv4Network(cidr)
    if not 1 <= az_count <= MAX_ZONES:
        raise ValueError(f"az_count must be between 1 and {MAX_ZONES} (got {az_count})")
    if network.prefixlen + 6 > 28:
        raise ValueError(f"{cidr} is too small: the plan needs at least a /22")
    eighths = list(network.subnets(prefixlen_diff=3))
    public = list(eighths[6].subnets(prefixlen_diff=3))
    isolated = list(eighths[7].subnets(prefixlen_diff=3))
    plan: list[SubnetPlan] = []
    for zone in range(az_count):
        plan.append(SubnetPlan("public", zone, str(public[zone])))
        plan.append(SubnetPlan("private", zone, str(eighths[zone])))
        plan.append(SubnetPlan("isolated", zone, str(isolated[zone])))
    return plan


@dataclass(kw_only=True)
class NetworkArgs:
    """Inputs of `Network`."""

    context: AwsContext
    """Region, account, tags and protection (required): the flow-log key and role are
    scoped to the context's region, and `protect` covers the flow-log key and log group
    (a deleted key makes every log it encrypted unreadable after its deletion window)."""

    roles: RoleFactory
    """The platform's role factory (required): the flow-log delivery role is created
    through it, so it carries the environment's permission boundary."""

    settings: NetworkConfig
    """The validated `ballast:network` (or `ballast:drNetwork`) section: CIDR, zones, NAT
    mode, endpoints, flow-log retention. Defaults, limits and trade-offs are documented
    there (docs/configuration.md)."""


class Network(pulumi.ComponentResource):
    """A VPC across `az_count` zones; see the module docstring for the shape.

    Outputs: `vpc_id`, `vpc_cidr`, `availability_zones` (plain list, known at once),
    `public_subnet_ids`, `private_subnet_ids`, `isolated_subnet_ids` (zone order),
    `private_route_table_ids`, `isolated_route_table_id`, `nat_gateway_ids`,
    `flow_log_group_name`, `endpoint_security_group_id` (None without interface endpoints).
    """

    #: Stack outputs (export name -> attribute); `__main__.py` exports them.
    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "vpcId": "vpc_id",
        "vpcCidr": "vpc_cidr",
        "availabilityZones": "availability_zones",
        "publicSubnetIds": "public_subnet_ids",
        "privateSubnetIds": "private_subnet_ids",
        "isolatedSubnetIds": "isolated_subnet_ids",
        "natGatewayIds": "nat_gateway_ids",
        "flowLogGroupName": "flow_log_group_name",
    }

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Network", name, None, opts)
        self._name = name
        self._args = args
        self._ctx = ctx = args.context
        settings = args.settings
        child = ctx.opts(self)
        plan = plan_subnets(settings.cidr, settings.az_count)
        zones = self._zones(settings)
        self.availability_zones: list[str] = zones
        self.vpc_cidr = settings.cidr

        vpc = aws.ec2.Vpc(
            name,
            cidr_block=settings.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=self._ctx.tags_for(name),
            opts=child,
        )
        self.vpc_id = vpc.id
        # Adopt the default security group and strip its rules, so nothing that falls
        # back to it gets open access (CIS AWS 5.4).
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags=self._ctx.tags_for(f"{name}-default-deny"),
            opts=child,
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=self._ctx.tags_for(f"{name}-igw"), opts=child
        )

        subnets: dict[SubnetTier, list[aws.ec2.Subnet]] = {
            "public": [],
            "private": [],
            "isolated": [],
        }
        for entry in plan:
            zone = zones[entry.zone_index]
            subnet_name = f"{name}-{entry.tier}-{zone}"
            tags = {**self._ctx.tags_for(subnet_name), SUBNET_TIER_TAG: entry.tier}
            if entry.tier == "public":
                tags[PUBLIC_ELB_TAG] = "1"
            elif entry.tier == "private":
                tags[INTERNAL_ELB_TAG] = "1"
            subnets[entry.tier].append(
                aws.ec2.Subnet(
                    subnet_name,
                    vpc_id=vpc.id,
                    cidr_block=entry.cidr,
                    availability_zone=zone,
                    # Public subnets hold load balancers and NAT gateways; nothing
                    # launched there should get a public address by accident.
                    map_public_ip_on_launch=False,
                    tags=tags,
                    opts=child,
                )
            )

        public_rt = aws.ec2.RouteTable(
            f"{name}-public", vpc_id=vpc.id, tags=self._ctx.tags_for(f"{name}-public"), opts=child
        )
        aws.ec2.Route(
            f"{name}-public-internet",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        for zone, subnet in zip(zones, subnets["public"], strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}",
                subnet_id=subnet.id,
                route_table_id=public_rt.id,
                opts=child,
            )

        nat_zones = zones if settings.nat_mode == "per-az" else zones[:1]
        nats: list[aws.ec2.NatGateway] = []
        for zone, subnet in zip(nat_zones, subnets["public"], strict=False):
            eip = aws.ec2.Eip(
                f"{name}-nat-{zone}",
                domain="vpc",
                tags=self._ctx.tags_for(f"{name}-nat-{zone}"),
                opts=child,
            )
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{zone}",
                    allocation_id=eip.allocation_id,
                    subnet_id=subnet.id,
                    connectivity_type="public",
                    tags=self._ctx.tags_for(f"{name}-nat-{zone}"),
                    # A NAT gateway needs the internet gateway attached first.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )

        private_rts: list[aws.ec2.RouteTable] = []
        for index, (zone, subnet) in enumerate(zip(zones, subnets["private"], strict=True)):
            table = aws.ec2.RouteTable(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                tags=self._ctx.tags_for(f"{name}-private-{zone}"),
                opts=child,
            )
            nat = nats[index] if settings.nat_mode == "per-az" else nats[0]
            aws.ec2.Route(
                f"{name}-private-{zone}-egress",
                route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}", subnet_id=subnet.id, route_table_id=table.id, opts=child
            )
            private_rts.append(table)

        # Isolated subnets share one route table with only the local route: no internet
        # path exists, so there is no zone dependency to avoid.
        isolated_rt = aws.ec2.RouteTable(
            f"{name}-isolated",
            vpc_id=vpc.id,
            tags=self._ctx.tags_for(f"{name}-isolated"),
            opts=child,
        )
        for zone, subnet in zip(zones, subnets["isolated"], strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-isolated-{zone}",
                subnet_id=subnet.id,
                route_table_id=isolated_rt.id,
                opts=child,
            )

        service_prefix = ctx.reverse_dns_prefix.apply(lambda p: f"{p}.{ctx.region}")
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=service_prefix.apply(lambda p: f"{p}.s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in private_rts] + [isolated_rt.id],
            tags=self._ctx.tags_for(f"{name}-s3"),
            opts=child,
        )

        self.endpoint_security_group_id: pulumi.Output[str] | None = None
        if settings.interface_endpoints:
            self.endpoint_security_group_id = self._interface_endpoints(
                vpc, service_prefix, [s.id for s in subnets["private"]]
            )

        self.flow_log_group_name = self._flow_logs(vpc)

        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in subnets["public"]])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in subnets["private"]])
        self.isolated_subnet_ids = pulumi.Output.all(*[s.id for s in subnets["isolated"]])
        self.private_route_table_ids = pulumi.Output.all(*[t.id for t in private_rts])
        self.isolated_route_table_id = isolated_rt.id
        self.nat_gateway_ids = pulumi.Output.all(*[n.id for n in nats])
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "vpcCidr": self.vpc_cidr,
                "availabilityZones": self.availability_zones,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "isolatedSubnetIds": self.isolated_subnet_ids,
                "privateRouteTableIds": self.private_route_table_ids,
                "natGatewayIds": self.nat_gateway_ids,
                "flowLogGroupName": self.flow_log_group_name,
            }
        )

    # --- pieces ---------------------------------------------------------------------

    def _zones(self, settings: NetworkConfig) -> list[str]:
        if settings.availability_zones is not None:
            zones = list(settings.availability_zones)
            if len(zones) != settings.az_count:
                raise ValueError(
                    f"{self._name}: availability_zones lists {len(zones)} zones but "
                    f"az_count is {settings.az_count}"
                )
            return zones
        # Synchronous invoke: zone names must be plain strings, because they name
        # resources and no resource may be created inside an apply.
        found = aws.get_availability_zones(
            state="available",
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=pulumi.InvokeOptions(parent=self),
        )
        names = sorted(found.names)
        if len(names) < settings.az_count:
            raise pulumi.RunError(
                f"{self._name}: {self._ctx.region} offers {len(names)} available zones "
                f"({', '.join(names)}) but az_count is {settings.az_count}"
            )
        return names[: settings.az_count]

    def _interface_endpoints(
        self,
        vpc: aws.ec2.Vpc,
        service_prefix: pulumi.Output[str],
        subnet_ids: list[pulumi.Output[str]],
    ) -> pulumi.Output[str]:
        name = self._name
        child = self._ctx.opts(self)
        group = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            vpc_id=vpc.id,
            description="HTTPS from inside the VPC to its interface endpoints",
            tags=self._ctx.tags_for(f"{name}-endpoints"),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https",
            security_group_id=group.id,
            description="HTTPS from the VPC",
            cidr_ipv4=self._args.settings.cidr,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            tags=self._ctx.tags_for(f"{name}-endpoints-https"),
            opts=child,
        )
        for service in INTERFACE_ENDPOINT_SERVICES:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=vpc.id,
                service_name=pulumi.Output.concat(service_prefix, f".{service}"),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=subnet_ids,
                security_group_ids=[group.id],
                tags=self._ctx.tags_for(f"{name}-{service}"),
                opts=child,
            )
        return group.id

    def _flow_logs(self, vpc: aws.ec2.Vpc) -> pulumi.Output[str]:
        name, ctx = self._name, self._ctx
        account_id = ctx.account_id
        child = ctx.opts(self)
        group_name = ctx.names.log_group(name, "vpc-flow-logs")
        _, group = encrypted_log_group(
            ctx,
            self,
            key_resource=f"{name}-flow-logs",
            key_description=f"Encrypts the VPC flow logs of {name}",
            group_resource=f"{name}-flow-logs",
            group_name=group_name,
            retention_days=self._args.settings.flow_log_retention_days,
            key_actions=LOG_GROUP_KEY_ACTIONS_DOCUMENTED_ORDER,
        )
        role = self._args.roles.role(
            f"{name}-flow-logs",
            parent=self,
            description=f"Lets VPC Flow Logs deliver {name}'s flow logs to CloudWatch Logs",
            # Confused-deputy guard: only flow logs of this account and region.
            trust=[
                Trust.service(
                    "vpc-flow-logs.amazonaws.com",
                    source_account=account_id,
                    source_arn_like=ctx.arn(service="ec2", resource="vpc-flow-log/*"),
                )
            ],
            inline_policies={
                "write-flow-logs": pulumi.Output.json_dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "WriteThisLogGroupOnly",
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                    "logs:DescribeLogStreams",
                                ],
                                "Resource": pulumi.Output.format("{0}:*", group.arn),
                            },
                            {
                                "Sid": "FindTheLogGroup",
                                "Effect": "Allow",
                                "Action": "logs:DescribeLogGroups",
                                "Resource": ctx.arn(service="logs", resource="log-group:*"),
                            },
                        ],
                    }
                )
            },
            tags=ctx.tags_for(),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=self._ctx.tags_for(f"{name}-flow-logs"),
            opts=child,
        )
        return group.name
