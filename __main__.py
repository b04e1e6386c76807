"""Ballast: one environment per stack. Load and validate the stack's config, build the
platform, export what operators and the toolkit need."""

import pulumi

from components.config import ConfigError, load_from_pulumi_runtime
from components.platform import Platform

try:
    config = load_from_pulumi_runtime()
except ConfigError as error:
    # RunError: the CLI prints the message alone, without a traceback.
    raise pulumi.RunError(f"invalid stack configuration:\n{error}") from None

platform = Platform(f"ballast-{config.environment}", config)
network = platform.network

pulumi.export("environment", config.environment)
pulumi.export("primaryRegion", config.primary_region)
pulumi.export("drRegion", config.dr_region)
pulumi.export("vpcId", network.vpc_id)
pulumi.export("vpcCidr", network.vpc_cidr)
pulumi.export("availabilityZones", network.availability_zones)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("isolatedSubnetIds", network.isolated_subnet_ids)
pulumi.export("natGatewayIds", network.nat_gateway_ids)
pulumi.export("flowLogGroupName", network.flow_log_group_name)
