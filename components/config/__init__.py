"""Typed, validated stack configuration.

Every `ballast:*` key of a stack file is parsed into one immutable `PlatformConfig` before
any resource is registered. Problems are collected, never raised one at a time: a stack
with three mistakes reports three lines, each naming the stack file, the key path and
what is accepted, e.g.::

    stacks/Pulumi.prod.yaml: ballast:network.azCount must be at least 3 in prod (got 2)

Components never read `pulumi.Config`; `Platform` hands them typed args built from this.

Keys are camelCase in the stack file (Pulumi's convention) and snake_case in Python.
Keys outside the `ballast:` namespace (`aws:*`, `pulumi:*`) are left to their owners.
"""

from components.config.base import (
    ENVIRONMENTS,
    LOG_RETENTION_DAYS,
    NAMESPACE,
    SECRET_KEYS,
    TIERS,
    ConfigError,
)
from components.config.cluster import (
    BURSTABLE_FAMILIES,
    CLUSTER_KUBERNETES_VERSIONS,
    KUBERNETES_NAMESPACES,
    MAX_NODE_VOLUME_GIB,
    MIN_NODE_VOLUME_GIB,
    MIN_PROD_CONTROL_PLANE_LOG_DAYS,
    MIN_PROD_SYSTEM_NODES,
    PLATFORM_NAMESPACES,
    RESERVED_LABEL_PREFIXES,
    RESERVED_NODE_LABEL_KEYS,
    ClusterConfig,
    NodeGroupConfig,
    SystemNodeGroupConfig,
    TaintConfig,
    instance_architecture,
)
from components.config.cluster_stack import ClusterStackConfig
from components.config.data import (
    DAILY_COPY_RPO_MINUTES,
    DATABASE_BACKUP_WINDOW_UTC,
    MAX_BACKUP_RETENTION_DAYS,
    MIN_BACKUP_RETENTION_DAYS,
    MONITORING_INTERVALS,
    PERFORMANCE_INSIGHTS_RETENTION_DAYS,
    TIER_OBJECTIVES,
    BackupConfig,
    DatabaseConfig,
    FaultInjectionConfig,
    TierObjective,
    tier_objective,
)
from components.config.gitops import (
    GITHUB_ACTIONS_ISSUER,
    GitOpsConfig,
    GitOpsSettings,
    OidcConfig,
    SigningConfig,
    SyncWindowConfig,
)
from components.config.ingress import (
    MAX_IDLE_TIMEOUT,
    MAX_PORT,
    MAX_WAF_RATE_LIMIT,
    MIN_IDLE_TIMEOUT,
    MIN_PORT,
    MIN_WAF_RATE_LIMIT,
    IngressConfig,
    ServiceIngressConfig,
    in_zone,
)
from components.config.network import (
    MAX_AZ_COUNT,
    MAX_VPC_PREFIX,
    MIN_AZ_COUNT,
    MIN_PROD_AZ_COUNT,
    MIN_VPC_PREFIX,
    DrNetworkConfig,
    NetworkConfig,
)
from components.config.platform import (
    CLUSTER_STACK_KEYS,
    ORGANIZATION_ONLY_KEYS,
    PLATFORM_ONLY_KEYS,
    PlatformConfig,
    StackConfig,
    load_from_pulumi_runtime,
    parse_cluster_stack_config,
    parse_platform_config,
    parse_stack_config,
    stack_file_label,
)
from components.config.registry import MAX_KEEP_IMAGES, RegistryConfig
from components.config.runner import (
    MAX_BUILD_TIMEOUT_MINUTES,
    MIN_BUILD_TIMEOUT_MINUTES,
    RUNNER_COMPUTE_TYPES,
    RunnerComputeType,
    RunnerConfig,
)
from components.config.security import (
    DEFAULT_GUARDDUTY_FEATURES,
    GUARDDUTY_FEATURES,
    MAX_AUDIT_RETENTION_DAYS,
    MIN_AUDIT_RETENTION_DAYS,
    MIN_PROD_AUDIT_RETENTION_DAYS,
    AuditConfig,
    BoundaryConfig,
    CiConfig,
    GuardDutyFeature,
    OrgGuardrailsConfig,
)
from components.config.services import (
    NamespaceBudgetConfig,
    ServiceAwsSecretsConfig,
    ServiceConfig,
    ServiceSecretsConfig,
    SloConfig,
)
from components.config.vault import IN_CLUSTER_ADDRESS, VaultAdminJwtConfig, VaultConfig

# The tag, label and taint contract lives in components/tags.py; these names stay
# importable from here for the modules that already do.
from components.tags import RESERVED_TAG_KEYS, SYSTEM_TAINT_KEY

__all__ = [
    "BURSTABLE_FAMILIES",
    "CLUSTER_KUBERNETES_VERSIONS",
    "CLUSTER_STACK_KEYS",
    "DAILY_COPY_RPO_MINUTES",
    "DATABASE_BACKUP_WINDOW_UTC",
    "DEFAULT_GUARDDUTY_FEATURES",
    "ENVIRONMENTS",
    "GITHUB_ACTIONS_ISSUER",
    "GUARDDUTY_FEATURES",
    "IN_CLUSTER_ADDRESS",
    "KUBERNETES_NAMESPACES",
    "LOG_RETENTION_DAYS",
    "MAX_AUDIT_RETENTION_DAYS",
    "MAX_AZ_COUNT",
    "MAX_BACKUP_RETENTION_DAYS",
    "MAX_BUILD_TIMEOUT_MINUTES",
    "MAX_IDLE_TIMEOUT",
    "MAX_KEEP_IMAGES",
    "MAX_NODE_VOLUME_GIB",
    "MAX_PORT",
    "MAX_VPC_PREFIX",
    "MAX_WAF_RATE_LIMIT",
    "MIN_AUDIT_RETENTION_DAYS",
    "MIN_AZ_COUNT",
    "MIN_BACKUP_RETENTION_DAYS",
    "MIN_BUILD_TIMEOUT_MINUTES",
    "MIN_IDLE_TIMEOUT",
    "MIN_NODE_VOLUME_GIB",
    "MIN_PORT",
    "MIN_PROD_AUDIT_RETENTION_DAYS",
    "MIN_PROD_AZ_COUNT",
    "MIN_PROD_CONTROL_PLANE_LOG_DAYS",
    "MIN_PROD_SYSTEM_NODES",
    "MIN_VPC_PREFIX",
    "MIN_WAF_RATE_LIMIT",
    "MONITORING_INTERVALS",
    "NAMESPACE",
    "ORGANIZATION_ONLY_KEYS",
    "PERFORMANCE_INSIGHTS_RETENTION_DAYS",
    "PLATFORM_NAMESPACES",
    "PLATFORM_ONLY_KEYS",
    "RESERVED_LABEL_PREFIXES",
    "RESERVED_NODE_LABEL_KEYS",
    "RESERVED_TAG_KEYS",
    "RUNNER_COMPUTE_TYPES",
    "SECRET_KEYS",
    "SYSTEM_TAINT_KEY",
    "TIERS",
    "TIER_OBJECTIVES",
    "AuditConfig",
    "BackupConfig",
    "BoundaryConfig",
    "CiConfig",
    "ClusterConfig",
    "ClusterStackConfig",
    "ConfigError",
    "DatabaseConfig",
    "DrNetworkConfig",
    "FaultInjectionConfig",
    "GitOpsConfig",
    "GitOpsSettings",
    "GuardDutyFeature",
    "IngressConfig",
    "NamespaceBudgetConfig",
    "NetworkConfig",
    "NodeGroupConfig",
    "OidcConfig",
    "OrgGuardrailsConfig",
    "PlatformConfig",
    "RegistryConfig",
    "RunnerComputeType",
    "RunnerConfig",
    "ServiceAwsSecretsConfig",
    "ServiceConfig",
    "ServiceIngressConfig",
    "ServiceSecretsConfig",
    "SigningConfig",
    "SloConfig",
    "StackConfig",
    "SyncWindowConfig",
    "SystemNodeGroupConfig",
    "TaintConfig",
    "TierObjective",
    "VaultAdminJwtConfig",
    "VaultConfig",
    "in_zone",
    "instance_architecture",
    "load_from_pulumi_runtime",
    "parse_cluster_stack_config",
    "parse_platform_config",
    "parse_stack_config",
    "stack_file_label",
    "tier_objective",
]
