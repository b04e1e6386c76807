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
    # The EKS cluster: what `aws eks update-kubeconfig`, IRSA roles of later components and
    # operators need (docs/cluster.md).
    cluster = platform.cluster
    pulumi.export("clusterName", cluster.cluster_name if cluster else None)
    pulumi.export("clusterEndpoint", cluster.endpoint if cluster else None)
    pulumi.export("clusterOidcProviderArn", cluster.oidc_provider_arn if cluster else None)
    pulumi.export("clusterOidcIssuerUrl", cluster.oidc_issuer_url if cluster else None)
    pulumi.export("clusterNodeRoleArn", cluster.node_role_arn if cluster else None)
    pulumi.export("clusterSecurityGroupId", cluster.cluster_security_group_id if cluster else None)
    # Data and disaster recovery: what applications connect to, and what operators need in
    # a failover (runbooks/database-promotion.md) or a restore.
    database = platform.database
    resilience = platform.resilience
    pulumi.export("databaseEndpoint", database.endpoint if database else None)
    pulumi.export("databaseDnsName", database.dns_name if database else None)
    pulumi.export("databaseSecretArn", database.master_user_secret_arn if database else None)
    pulumi.export("databaseReplicaAddress", database.replica_address if database else None)
    pulumi.export("databaseReplicaIdentifier", database.replica_identifier if database else None)
    pulumi.export("databaseHealthCheckAlarm", database.health_alarm_arn if database else None)
    pulumi.export("backupVaultName", resilience.vault_name)
    pulumi.export("drBackupVaultName", resilience.dr_vault_name)
    pulumi.export("faultInjectionTemplateIds", resilience.experiment_template_ids)
