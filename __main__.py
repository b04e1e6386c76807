"""Ballast: one environment per stack. Load and validate the stack's config, build the
platform, export what operators and the toolkit need.

The management account's organization stack (`ballast:stackKind: organization`) builds
only the service control policies."""

import pulumi

from components.config import ConfigError, load_from_pulumi_runtime
from components.platform import Organization, Platform

try:
    config = load_from_pulumi_runtime()
except ConfigError as error:
    # RunError: the CLI prints the message alone, without a traceback.
    raise pulumi.RunError(f"invalid stack configuration:\n{error}") from None

pulumi.export("stackKind", config.stack_kind)

if config.stack_kind == "organization":
    organization = Organization("ballast-org", config)
    pulumi.export("scpIds", organization.guardrails.policy_ids)
    pulumi.export("scpTargetIds", organization.guardrails.target_ids)
else:
    platform = Platform(f"ballast-{config.environment}", config)
    network = platform.network
    identity = platform.identity
    audit = platform.audit_trail

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
    # Security baseline: what CI workflows, the security team and the SIEM need.
    pulumi.export("permissionBoundaryArn", identity.boundary_arn)
    pulumi.export("securityAuditRoleArn", identity.security_role_arn)
    pulumi.export("githubOidcProviderArn", identity.github_oidc_provider_arn)
    pulumi.export("ciPlanRoleArn", identity.ci_plan_role_arn)
    pulumi.export("ciApplyRoleArn", identity.ci_apply_role_arn)
    pulumi.export("trailName", audit.trail_name)
    pulumi.export("trailBucketName", audit.trail_bucket_name)
    pulumi.export("trailLogGroupName", audit.trail_log_group_name)
    pulumi.export("findingsTopicArn", audit.findings_topic_arn)
    pulumi.export("guardDutyDetectorIds", audit.detector_ids)
