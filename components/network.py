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

The same component serves the DR region: instantiate it a second time with the DR
region's provider and a smaller `az_count`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.iam import RoleFactory, Trust
from components.kms import LOG_GROUP_KEY_ACTIONS_DOCUMENTED_ORDER, log_group_statement, rotating_key
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
    network = ipaddress.ip_network(cidr)
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
    """Inputs of `Network`. Defaults are the production-safe choice."""

    region: str
    """Region of the provider this network is created with (required): names the
    endpoint services and scopes the flow-log key and role to that region."""

    roles: RoleFactory
    """The platform's role factory (required): the flow-log delivery role is created
    through it, so it carries the environment's permission boundary."""

    cidr: str
    """VPC IPv4 block, /16 to /22 (required). No default: environments that may ever be
    peered or connected through a transit gateway must not overlap."""

    az_count: int = 3
    """Zones to span (default 3). Two zones survive one zone outage only at half
    capacity; three keep a majority for quorum-based workloads."""

    availability_zones: Sequence[str] | None = None
    """Zone names to use (default: the first `az_count` zones the region reports as
    available without opt-in). Pin them when an existing deployment or zone capacity
    matters; the count must equal `az_count`."""

    nat_mode: Literal["per-az", "single"] = "per-az"
    """One NAT gateway per zone (default), or one in total. A single NAT saves ~$33/month
    plus data processing per extra zone, but a zone outage then cuts egress for all
    zones; fine for dev, refused in prod by config validation."""

    interface_endpoints: bool = False
    """Create interface endpoints for ecr.api, ecr.dkr, sts and logs (default off).
    They cost ~$7/month each per zone; they keep image pulls and token exchange
    working when NAT is degraded and cut NAT data-processing charges."""

    flow_log_retention_days: int = 90
    """CloudWatch retention of the VPC flow logs (default 90 days)."""

    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags added to every resource of the network (default none); the provider's default
    tags (environment, project, owner, managed-by) apply on top."""

    protect: bool = False
    """Protect the stateful pieces (the flow-log KMS key and log group) from deletion
    (default off; `Platform` turns it on in prod). A deleted key makes every log it
    encrypted unreadable, after the 30-day deletion window."""


class Network(pulumi.ComponentResource):
    """A VPC across `az_count` zones; see the module docstring for the shape.

    Outputs: `vpc_id`, `vpc_cidr`, `availability_zones` (plain list, known at once),
    `public_subnet_ids`, `private_subnet_ids`, `isolated_subnet_ids` (zone order),
    `private_route_table_ids`, `isolated_route_table_id`, `nat_gateway_ids`,
    `flow_log_group_name`, `endpoint_security_group_id` (None without interface endpoints).
    """

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Network", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        plan = plan_subnets(args.cidr, args.az_count)
        zones = self._zones(args)
        self.availability_zones: list[str] = zones
        self.vpc_cidr = args.cidr

        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOptions(parent=self))

        vpc = aws.ec2.Vpc(
            name,
            cidr_block=args.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=self._tags(name),
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
            tags=self._tags(f"{name}-default-deny"),
            opts=child,
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=self._tags(f"{name}-igw"), opts=child
        )

        subnets: dict[SubnetTier, list[aws.ec2.Subnet]] = {
            "public": [],
            "private": [],
            "isolated": [],
        }
        for entry in plan:
            zone = zones[entry.zone_index]
            subnet_name = f"{name}-{entry.tier}-{zone}"
            tags = {**self._tags(subnet_name), SUBNET_TIER_TAG: entry.tier}
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
            f"{name}-public", vpc_id=vpc.id, tags=self._tags(f"{name}-public"), opts=child
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

        nat_zones = zones if args.nat_mode == "per-az" else zones[:1]
        nats: list[aws.ec2.NatGateway] = []
        for zone, subnet in zip(nat_zones, subnets["public"], strict=False):
            eip = aws.ec2.Eip(
                f"{name}-nat-{zone}",
                domain="vpc",
                tags=self._tags(f"{name}-nat-{zone}"),
                opts=child,
            )
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{zone}",
                    allocation_id=eip.allocation_id,
                    subnet_id=subnet.id,
                    connectivity_type="public",
                    tags=self._tags(f"{name}-nat-{zone}"),
                    # A NAT gateway needs the internet gateway attached first.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )

        private_rts: list[aws.ec2.RouteTable] = []
        for index, (zone, subnet) in enumerate(zip(zones, subnets["private"], strict=True)):
            table = aws.ec2.RouteTable(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                tags=self._tags(f"{name}-private-{zone}"),
                opts=child,
            )
            nat = nats[index] if args.nat_mode == "per-az" else nats[0]
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
            f"{name}-isolated", vpc_id=vpc.id, tags=self._tags(f"{name}-isolated"), opts=child
        )
        for zone, subnet in zip(zones, subnets["isolated"], strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-isolated-{zone}",
                subnet_id=subnet.id,
                route_table_id=isolated_rt.id,
                opts=child,
            )

        service_prefix = partition.reverse_dns_prefix.apply(lambda p: f"{p}.{args.region}")
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=service_prefix.apply(lambda p: f"{p}.s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in private_rts] + [isolated_rt.id],
            tags=self._tags(f"{name}-s3"),
            opts=child,
        )

        self.endpoint_security_group_id: pulumi.Output[str] | None = None
        if args.interface_endpoints:
            self.endpoint_security_group_id = self._interface_endpoints(
                vpc, service_prefix, [s.id for s in subnets["private"]]
            )

        self.flow_log_group_name = self._flow_logs(vpc, identity.account_id, partition.partition)

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

    def _tags(self, name: str) -> dict[str, str]:
        return {**self._args.tags, "Name": name}

    def _zones(self, args: NetworkArgs) -> list[str]:
        if args.availability_zones is not None:
            zones = list(args.availability_zones)
            if len(zones) != args.az_count:
                raise ValueError(
                    f"{self._name}: availability_zones lists {len(zones)} zones but "
                    f"az_count is {args.az_count}"
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
        if len(names) < args.az_count:
            raise pulumi.RunError(
                f"{self._name}: {args.region} offers {len(names)} available zones "
                f"({', '.join(names)}) but az_count is {args.az_count}"
            )
        return names[: args.az_count]

    def _interface_endpoints(
        self,
        vpc: aws.ec2.Vpc,
        service_prefix: pulumi.Output[str],
        subnet_ids: list[pulumi.Output[str]],
    ) -> pulumi.Output[str]:
        name = self._name
        child = pulumi.ResourceOptions(parent=self)
        group = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            vpc_id=vpc.id,
            description="HTTPS from inside the VPC to its interface endpoints",
            tags=self._tags(f"{name}-endpoints"),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https",
            security_group_id=group.id,
            description="HTTPS from the VPC",
            cidr_ipv4=self._args.cidr,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            tags=self._tags(f"{name}-endpoints-https"),
            opts=child,
        )
        for service in INTERFACE_ENDPOINT_SERVICES:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=vpc.id,
                service_name=service_prefix.apply(lambda p, s=service: f"{p}.{s}"),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=subnet_ids,
                security_group_ids=[group.id],
                tags=self._tags(f"{name}-{service}"),
                opts=child,
            )
        return group.id

    def _flow_logs(
        self,
        vpc: aws.ec2.Vpc,
        account_id: pulumi.Output[str],
        partition: pulumi.Output[str],
    ) -> pulumi.Output[str]:
        name, region = self._name, self._args.region
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=self._args.protect)
        group_name = f"/ballast/{name}/vpc-flow-logs"
        group_arn = pulumi.Output.format(
            "arn:{0}:logs:{1}:{2}:log-group:{3}", partition, region, account_id, group_name
        )
        key = rotating_key(
            f"{name}-flow-logs",
            parent=self,
            description=f"Encrypts the VPC flow logs of {name}",
            partition=partition,
            account_id=account_id,
            statements=[
                log_group_statement(
                    region=region,
                    log_group_arn=group_arn,
                    actions=LOG_GROUP_KEY_ACTIONS_DOCUMENTED_ORDER,
                )
            ],
            tags=self._tags(f"{name}-flow-logs"),
            protect=self._args.protect,
        )
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=group_name,
            retention_in_days=self._args.flow_log_retention_days,
            kms_key_id=key.arn,
            tags=self._tags(group_name),
            opts=stateful,
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
                    source_arn_like=pulumi.Output.format(
                        "arn:{0}:ec2:{1}:{2}:vpc-flow-log/*", partition, region, account_id
                    ),
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
                                "Resource": pulumi.Output.format(
                                    "arn:{0}:logs:{1}:{2}:log-group:*",
                                    partition,
                                    region,
                                    account_id,
                                ),
                            },
                        ],
                    }
                )
            },
            tags=self._args.tags,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=self._tags(f"{name}-flow-logs"),
            opts=child,
        )
        return group.name
