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

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

NAMESPACE = "ballast"
ENVIRONMENTS = ("dev", "staging", "prod")
TIERS = ("tier-1", "tier-2", "tier-3")

#: Tags Ballast sets itself on every resource (provider default tags); a stack's
#: `ballast:tags` may add others but never override these.
RESERVED_TAG_KEYS = ("environment", "project", "owner", "managed-by")

#: Retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

#: Config keys that may only hold Pulumi secrets (`pulumi config set --secret`).
SECRET_KEYS = ("alertWebhookUrl",)

MIN_AZ_COUNT, MAX_AZ_COUNT, MIN_PROD_AZ_COUNT = 2, 6, 3
#: The subnet plan (components/network.py) carves private subnets of /(p+3) and public
#: and isolated subnets of /(p+6); /22 is the smallest VPC whose /28s still fit, /16
#: the largest AWS allows.
MIN_VPC_PREFIX, MAX_VPC_PREFIX = 16, 22
_PRIVATE_RANGES = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
_REGION = re.compile(
    r"^(us|eu|ap|sa|ca|me|af|il|mx|cn)(-gov|-iso[a-z]?)?"
    r"-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9]$"
)
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$")
_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_GITHUB_ENVIRONMENT = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
_GITHUB_OIDC_ARN = re.compile(
    r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$"
)
_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_KMS_KEY_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
_EXEMPT_PRINCIPAL_PATTERN = re.compile(
    r"^arn:aws(-cn|-us-gov)?:iam::(\d{12}|\*):role/[\w+=,.@/*-]+$"
)
_SERVICE_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_ORG_TARGET = re.compile(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$")


class ConfigError(Exception):
    """One or more stack configuration problems; `str()` gives one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


def _context(info: ValidationInfo, key: str) -> Any:
    return (info.context or {}).get(key)


class NetworkConfig(_Section):
    """`ballast:network`: the VPC every other component sits on."""

    cidr: str = Field(
        description="VPC IPv4 block, /16 to /22 from a private range; no default, because "
        "environments that may ever be peered must not overlap."
    )
    az_count: int = Field(
        default=3,
        description="Availability zones to span, 2-6 (default 3; prod needs at least 3 so "
        "losing one zone leaves a majority for quorum-based workloads).",
    )
    availability_zones: tuple[str, ...] | None = Field(
        default=None,
        description="Explicit zone names (default: the first azCount zones the region "
        "reports as available). Pin them when zone capacity or an existing "
        "deployment matters; their count must equal azCount.",
    )
    nat_mode: Literal["per-az", "single"] = Field(
        default="per-az",
        description="'per-az' (default): one NAT gateway per zone, so a zone outage cuts "
        "only that zone's egress. 'single' saves ~$33/month plus data processing per "
        "extra zone, but every zone then depends on one; refused in prod.",
    )
    interface_endpoints: bool = Field(
        default=False,
        description="Interface endpoints for ecr.api, ecr.dkr, sts and logs (default off: "
        "~$7/month per endpoint per zone; turn on to keep image pulls and STS calls "
        "off the NAT gateways).",
    )
    flow_log_retention_days: int = Field(
        default=90,
        description="VPC flow log retention in CloudWatch Logs, one of the periods "
        "CloudWatch accepts (default 90).",
    )

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(
                f"must be an IPv4 CIDR block such as 10.40.0.0/16 (got {value!r})"
            ) from None
        if network.version != 4:
            raise ValueError(f"must be an IPv4 CIDR block such as 10.40.0.0/16 (got {value!r})")
        if str(network) != value:
            raise ValueError(
                f"must be a network address: {value!r} has host bits set, did you mean {network}?"
            )
        if not MIN_VPC_PREFIX <= network.prefixlen <= MAX_VPC_PREFIX:
            raise ValueError(
                f"must be a /{MIN_VPC_PREFIX} to /{MAX_VPC_PREFIX} block so that every "
                f"subnet of the plan fits (got /{network.prefixlen})"
            )
        if not any(network.subnet_of(r) for r in _PRIVATE_RANGES):
            raise ValueError(
                "must lie in a private range (10.0.0.0/8, 172.16.0.0/12, "
                f"192.168.0.0/16 or 100.64.0.0/10) (got {value})"
            )
        return value

    @field_validator("az_count")
    @classmethod
    def _az_count(cls, value: int, info: ValidationInfo) -> int:
        if not MIN_AZ_COUNT <= value <= MAX_AZ_COUNT:
            raise ValueError(f"must be between {MIN_AZ_COUNT} and {MAX_AZ_COUNT} (got {value})")
        if _context(info, "environment") == "prod" and value < MIN_PROD_AZ_COUNT:
            raise ValueError(f"must be at least {MIN_PROD_AZ_COUNT} in prod (got {value})")
        return value

    @field_validator("availability_zones")
    @classmethod
    def _zones(cls, value: tuple[str, ...] | None, info: ValidationInfo):
        if value is None:
            return value
        region = _context(info, "primary_region")
        for zone in value:
            if region and not re.fullmatch(re.escape(region) + r"[a-z]", zone):
                raise ValueError(f"must name zones of {region} such as {region}a (got {zone!r})")
        if len(set(value)) != len(value):
            raise ValueError(f"must not repeat a zone (got {list(value)})")
        count = info.data.get("az_count")
        if count is not None and len(value) != count:
            raise ValueError(f"must list exactly azCount={count} zones (got {len(value)})")
        return value

    @field_validator("nat_mode")
    @classmethod
    def _nat_mode(cls, value: str, info: ValidationInfo) -> str:
        if value == "single" and _context(info, "environment") == "prod":
            raise ValueError(
                "must be 'per-az' in prod: a single NAT gateway makes every zone's "
                "egress depend on one zone (got 'single')"
            )
        return value

    @field_validator("flow_log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            accepted = ", ".join(str(d) for d in LOG_RETENTION_DAYS)
            raise ValueError(f"must be one of {accepted} (got {value})")
        return value

    @property
    def prefixlen(self) -> int:
        return ipaddress.ip_network(self.cidr).prefixlen


class SloConfig(_Section):
    """`slo` of one service: the objectives its alerts and error budget derive from."""

    availability: float = Field(
        description="Availability objective in percent over 30 days, 90-99.999 "
        "(99.9 allows 43 minutes of errors a month)."
    )
    latency_p95_ms: int = Field(
        description="95th-percentile latency objective in milliseconds, 1-60000."
    )

    @field_validator("availability")
    @classmethod
    def _availability(cls, value: float) -> float:
        if not 90.0 <= value <= 99.999:
            raise ValueError(f"must be a percentage between 90 and 99.999 (got {value})")
        return value

    @field_validator("latency_p95_ms")
    @classmethod
    def _latency(cls, value: int) -> int:
        if not 1 <= value <= 60_000:
            raise ValueError(f"must be between 1 and 60000 milliseconds (got {value})")
        return value


class ServiceConfig(_Section):
    """One entry of `ballast:services`: a workload the platform hosts."""

    name: str = Field(description="DNS-1123 label; also the default namespace.")
    tier: Literal["tier-1", "tier-2", "tier-3"] = Field(
        description="Criticality: tier-1 is user-facing and mission-critical, tier-3 batch."
    )
    namespace: str | None = Field(default=None, description="Namespace (default: name).")
    slo: SloConfig | None = Field(default=None, description="Objectives (default: none).")

    @field_validator("name", "namespace")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_LABEL.fullmatch(value):
            raise ValueError(
                "must be a DNS-1123 label: lowercase letters, digits and '-', starting "
                f"with a letter, at most 63 characters (got {value!r})"
            )
        return value


class CiConfig(_Section):
    """`ballast:ci`: keyless deploys from GitHub Actions (no static AWS keys in CI)."""

    repository: str = Field(
        description="GitHub repository whose workflows may deploy this stack, as 'org/repo'. "
        "The plan and apply roles trust only this repository's jobs running in the named "
        "GitHub environment (token subject repo:<org>/<repo>:environment:<env>)."
    )
    environment: str | None = Field(
        default=None,
        description="GitHub environment whose jobs may assume the apply role (default: the "
        "stack's environment name). Protect it with required reviewers in prod: that "
        "approval is the deploy gate.",
    )
    plan_environment: str | None = Field(
        default=None,
        description="GitHub environment whose jobs may assume the read-only plan role "
        "(default: the same as environment). A separate, unprotected environment (e.g. "
        "prod-preview) lets pull-request previews run without waiting for the apply "
        "approval; the plan role cannot change anything.",
    )
    oidc_provider_arn: str | None = Field(
        default=None,
        description="ARN of an existing GitHub Actions OIDC provider in this account "
        "(default: the stack creates one). An account holds one provider per issuer: when "
        "two stacks share an account, the second sets this to the first one's "
        "githubOidcProviderArn output.",
    )
    state_bucket: str | None = Field(
        default=None,
        description="S3 bucket of a Pulumi DIY state backend (pulumi login s3://<bucket>) "
        "(default: none, e.g. Pulumi Cloud, which needs no AWS access). The plan role may "
        "read this stack's state and take its lock; the apply role may also write its "
        "state, history and backups. Nothing outside this stack's paths.",
    )
    secrets_key_arn: str | None = Field(
        default=None,
        description="KMS key ARN of an awskms:// secrets provider (default: none). The plan "
        "role may decrypt with it, the apply role encrypt and decrypt.",
    )

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if not _GITHUB_REPOSITORY.fullmatch(value):
            raise ValueError(
                "must be a GitHub repository as 'org/repo': letters, digits and '-' for the "
                f"org, letters, digits, '.', '_' and '-' for the repository (got {value!r})"
            )
        return value

    @field_validator("environment", "plan_environment")
    @classmethod
    def _environment(cls, value: str | None) -> str | None:
        if value is not None and not _GITHUB_ENVIRONMENT.fullmatch(value):
            raise ValueError(
                "must be a GitHub environment name of 1-255 letters, digits, '.', '_' or "
                f"'-' (got {value!r})"
            )
        return value

    @field_validator("oidc_provider_arn")
    @classmethod
    def _oidc_provider(cls, value: str | None) -> str | None:
        if value is not None and not _GITHUB_OIDC_ARN.fullmatch(value):
            raise ValueError(
                "must be the ARN of this account's GitHub OIDC provider, such as "
                "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com "
                f"(got {value!r})"
            )
        return value

    @field_validator("state_bucket")
    @classmethod
    def _state_bucket(cls, value: str | None) -> str | None:
        if value is not None and not _S3_BUCKET.fullmatch(value):
            raise ValueError(
                "must be an S3 bucket name (3-63 lowercase letters, digits, '.' or '-'), "
                f"without s3:// (got {value!r})"
            )
        return value

    @field_validator("secrets_key_arn")
    @classmethod
    def _secrets_key(cls, value: str | None) -> str | None:
        if value is not None and not _KMS_KEY_ARN.fullmatch(value):
            raise ValueError(
                "must be a KMS key ARN such as "
                "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab "
                f"(got {value!r})"
            )
        return value


GUARDDUTY_FEATURES = (
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "RUNTIME_MONITORING",
    "RDS_LOGIN_EVENTS",
    "EBS_MALWARE_PROTECTION",
    "LAMBDA_NETWORK_LOGS",
)
GuardDutyFeature = Literal[
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "RUNTIME_MONITORING",
    "RDS_LOGIN_EVENTS",
    "EBS_MALWARE_PROTECTION",
    "LAMBDA_NETWORK_LOGS",
]
#: What the platform needs watched: S3 data access, the EKS control plane and its
#: nodes, and database logins. EBS and Lambda protection are opt-in (extra cost, and
#: the platform runs no Lambda).
DEFAULT_GUARDDUTY_FEATURES: tuple[GuardDutyFeature, ...] = (
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "RUNTIME_MONITORING",
    "RDS_LOGIN_EVENTS",
)
MIN_AUDIT_RETENTION_DAYS, MIN_PROD_AUDIT_RETENTION_DAYS, MAX_AUDIT_RETENTION_DAYS = 90, 365, 3653


class AuditConfig(_Section):
    """`ballast:audit`: CloudTrail, GuardDuty and the findings topic."""

    log_retention_days: int = Field(
        default=365,
        description="Days CloudTrail log files (and the bucket's access logs) are kept in "
        "S3 before they expire, 90-3653 (default 365; prod needs at least 365). Files "
        "older than 90 days move to Glacier Instant Retrieval when they are kept longer "
        "than 180 days.",
    )
    cloud_watch_retention_days: int = Field(
        default=90,
        description="Retention of the trail's CloudWatch Logs copy, which alarms and quick "
        "queries use; one of the periods CloudWatch accepts (default 90). S3 keeps the "
        "record of truth.",
    )
    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        default="GOVERNANCE",
        description="prod only: object lock mode of the trail bucket (default GOVERNANCE: "
        "only a principal allowed s3:BypassGovernanceRetention, which the permission "
        "boundary denies, can delete early). COMPLIANCE lets nobody, root included, "
        "delete a log file before its lock expires.",
    )
    object_lock_days: int = Field(
        default=365,
        description="prod only: days each trail log file is locked against deletion, 1 to "
        "logRetentionDays (default 365). dev and staging have no object lock so that "
        "they can be torn down.",
    )
    findings_min_severity: Literal["low", "medium", "high", "critical"] = Field(
        default="medium",
        description="Lowest GuardDuty severity sent to the findings topic (default medium, "
        "i.e. severity 4.0 and up; low would page on routine port scans).",
    )
    guard_duty_features: tuple[GuardDutyFeature, ...] = Field(
        default=DEFAULT_GUARDDUTY_FEATURES,
        description="GuardDuty protection plans enabled in every platform region (default "
        "S3_DATA_EVENTS, EKS_AUDIT_LOGS, RUNTIME_MONITORING, RDS_LOGIN_EVENTS). Drop one "
        "where a region does not offer it; EBS_MALWARE_PROTECTION and LAMBDA_NETWORK_LOGS "
        "are opt-in.",
    )
    security_principal_arns: tuple[str, ...] = Field(
        default=(),
        description="IAM roles or users (e.g. the security team's SSO role) that may assume "
        "the security-audit role, the only role that can decrypt the trail (default: any "
        "principal of this account signed in with MFA; SSO sessions carry no MFA flag, so "
        "list their role here).",
    )

    @field_validator("log_retention_days")
    @classmethod
    def _log_retention(cls, value: int, info: ValidationInfo) -> int:
        if not MIN_AUDIT_RETENTION_DAYS <= value <= MAX_AUDIT_RETENTION_DAYS:
            raise ValueError(
                f"must be between {MIN_AUDIT_RETENTION_DAYS} and {MAX_AUDIT_RETENTION_DAYS} "
                f"days (got {value})"
            )
        if _context(info, "environment") == "prod" and value < MIN_PROD_AUDIT_RETENTION_DAYS:
            raise ValueError(
                f"must be at least {MIN_PROD_AUDIT_RETENTION_DAYS} days in prod: the audit "
                f"record has to cover a full year (got {value})"
            )
        return value

    @field_validator("cloud_watch_retention_days")
    @classmethod
    def _cloud_watch_retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            accepted = ", ".join(str(d) for d in LOG_RETENTION_DAYS)
            raise ValueError(f"must be one of {accepted} (got {value})")
        return value

    @field_validator("object_lock_days")
    @classmethod
    def _object_lock_days(cls, value: int, info: ValidationInfo) -> int:
        retention = info.data.get("log_retention_days")
        upper = retention if isinstance(retention, int) else MAX_AUDIT_RETENTION_DAYS
        if not 1 <= value <= upper:
            raise ValueError(
                f"must be between 1 and logRetentionDays={upper}: a file cannot stay "
                f"locked after it expires (got {value})"
            )
        return value

    @field_validator("guard_duty_features")
    @classmethod
    def _features(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        dupes = sorted({f for f in value if value.count(f) > 1})
        if dupes:
            raise ValueError(f"must name each feature once (repeated: {', '.join(dupes)})")
        return value

    @field_validator("security_principal_arns")
    @classmethod
    def _principals(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for arn in value:
            if not _IAM_PRINCIPAL_ARN.fullmatch(arn):
                raise ValueError(
                    "must list IAM role or user ARNs such as "
                    "arn:aws:iam::111111111111:role/security-team, without wildcards "
                    f"(got {arn!r})"
                )
        return value


class BoundaryConfig(_Section):
    """`ballast:boundary`: the permission boundary every platform role carries."""

    extra_services: tuple[str, ...] = Field(
        default=(),
        description="AWS service prefixes (as in IAM actions, e.g. elasticfilesystem) that "
        "platform roles may use on top of the built-in list (default none). This key is "
        "how the boundary is widened: a reviewed change to the stack file, applied by "
        "the pipeline.",
    )

    @field_validator("extra_services")
    @classmethod
    def _services(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from components.identity import BOUNDARY_SERVICES

        for service in value:
            if not _SERVICE_PREFIX.fullmatch(service):
                raise ValueError(
                    "must list IAM service prefixes such as elasticfilesystem: lowercase "
                    f"letters, digits and '-', no actions or wildcards (got {service!r})"
                )
            if service in BOUNDARY_SERVICES:
                raise ValueError(f"need not list {service!r}: the boundary allows it already")
        dupes = sorted({s for s in value if value.count(s) > 1})
        if dupes:
            raise ValueError(f"must name each service once (repeated: {', '.join(dupes)})")
        return value


class OrgGuardrailsConfig(_Section):
    """`ballast:orgGuardrails`: service control policies, set by the organization stack."""

    target_ids: tuple[str, ...] = Field(
        description="Organizational units (ou-...) or the organization root (r-...) the "
        "SCPs are attached to (at least one)."
    )
    allowed_regions: tuple[str, ...] = Field(
        description="Regions member accounts may use (at least one); global services such "
        "as IAM, STS, Organizations, Route 53 and CloudFront stay usable."
    )
    exempt_principal_arns: tuple[str, ...] = Field(
        default=(),
        description="Break-glass roles the SCPs do not apply to, as ARN patterns such as "
        "arn:aws:iam::*:role/BreakGlass (default none: every principal of the targeted "
        "accounts is bound).",
    )

    @field_validator("target_ids")
    @classmethod
    def _targets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must name at least one OU or root")
        for target in value:
            if not _ORG_TARGET.fullmatch(target):
                raise ValueError(
                    "must list OU IDs such as ou-ab12-cdef3456 or the root ID such as "
                    f"r-ab12 (got {target!r})"
                )
        if len(set(value)) != len(value):
            raise ValueError(f"must not repeat a target (got {list(value)})")
        return value

    @field_validator("allowed_regions")
    @classmethod
    def _regions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must name at least one region")
        for region in value:
            if not _REGION.fullmatch(region):
                raise ValueError(f"must list AWS region names such as us-east-1 (got {region!r})")
        if len(set(value)) != len(value):
            raise ValueError(f"must not repeat a region (got {list(value)})")
        return value

    @field_validator("exempt_principal_arns")
    @classmethod
    def _exempt(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for arn in value:
            if not _EXEMPT_PRINCIPAL_PATTERN.fullmatch(arn):
                raise ValueError(
                    "must list IAM role ARN patterns such as "
                    f"arn:aws:iam::*:role/BreakGlass (got {arn!r})"
                )
        return value


# --- the EKS cluster -------------------------------------------------------------------

#: Kubernetes versions with pinned add-ons (components/versions.py); kept literal here so
#: config parsing imports nothing heavy. A test keeps the two in step.
CLUSTER_KUBERNETES_VERSIONS = ("1.35",)
#: Node labels and taint keys Ballast sets itself, and prefixes EKS refuses on node groups.
RESERVED_NODE_LABEL_KEYS = ("ballast.io/node-group",)
RESERVED_LABEL_PREFIXES = ("kubernetes.io/", "k8s.io/", "eks.amazonaws.com/")
SYSTEM_TAINT_KEY = "CriticalAddonsOnly"
#: Instance families that run on CPU credits: refused in prod, where a sustained load
#: would drain the credits and throttle every pod on the node.
BURSTABLE_FAMILIES = ("t2", "t3", "t3a", "t4g")
MIN_NODE_VOLUME_GIB, MAX_NODE_VOLUME_GIB = 20, 16384
MIN_PROD_CONTROL_PLANE_LOG_DAYS = 90
MIN_PROD_SYSTEM_NODES = 2
#: Namespaces the cluster creates for platform add-ons (components/cluster.py), and those
#: Kubernetes owns: no service may use them.
PLATFORM_NAMESPACES = ("cluster-autoscaler", "ingress", "observability", "vault", "gitops")
KUBERNETES_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")

_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
#: Graviton families carry a `g` after the generation digit (m7g, c7gn, r8gd, g5g).
_ARM_FAMILY = re.compile(r"^[a-z]+\d+[a-z]*g[a-z]*$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_NODE_GROUP_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,18}[a-z0-9])?$")


def instance_architecture(instance_type: str) -> Literal["arm64", "x86_64"]:
    """`arm64` for Graviton types (m7g.large, c7gn.xlarge), else `x86_64`."""
    family = instance_type.split(".", 1)[0]
    return "arm64" if _ARM_FAMILY.fullmatch(family) else "x86_64"


def _label_key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if not _LABEL_NAME.fullmatch(name) or (prefix and not _LABEL_PREFIX.fullmatch(prefix)):
        return (
            "must be a Kubernetes label key: an optional DNS prefix and '/', then at most 63 "
            f"letters, digits, '-', '_' or '.' (got {key!r})"
        )
    return None


def _instance_types(value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    if not value:
        raise ValueError("must list at least one instance type, such as m7i.large")
    for instance_type in value:
        if not _INSTANCE_TYPE.fullmatch(instance_type):
            raise ValueError(
                f"must list EC2 instance types such as m7i.large (got {instance_type!r})"
            )
    if len(set(value)) != len(value):
        raise ValueError(f"must not repeat an instance type (got {list(value)})")
    architectures = sorted({instance_architecture(t) for t in value})
    if len(architectures) > 1:
        raise ValueError(
            "must not mix Graviton (arm64) and x86_64 types: a node group runs one AMI "
            f"(got {list(value)})"
        )
    if _context(info, "environment") == "prod":
        burstable = [t for t in value if t.split(".", 1)[0] in BURSTABLE_FAMILIES]
        if burstable:
            raise ValueError(
                "must not use burstable types in prod: a sustained load drains their CPU "
                f"credits and throttles every pod on the node (got {', '.join(burstable)})"
            )
    return value


def _sizes(model: Any) -> Any:
    if model.min_size < 0 or model.max_size < 1:
        raise ValueError(
            f"minSize must be at least 0 and maxSize at least 1 (got minSize "
            f"{model.min_size}, maxSize {model.max_size})"
        )
    desired = model.desired_size if model.desired_size is not None else model.min_size
    if not model.min_size <= desired <= model.max_size:
        raise ValueError(
            f"needs minSize <= desiredSize <= maxSize (got {model.min_size} <= {desired} "
            f"<= {model.max_size})"
        )
    return model


class SystemNodeGroupConfig(_Section):
    """`ballast:cluster.systemNodeGroup`: nodes for platform add-ons only."""

    instance_types: tuple[str, ...] = Field(
        default=("m7i.large", "m6i.large"),
        description="Instance types, on-demand (default m7i.large, m6i.large: 2 vCPU, 8 GiB; "
        "a second type keeps the group scalable when one is short in a zone).",
    )
    min_size: int = Field(
        default=2,
        description="Fewest nodes (default 2; prod needs at least 2 so one node's loss "
        "does not take every platform add-on with it).",
    )
    max_size: int = Field(default=4, description="Most nodes (default 4).")
    desired_size: int | None = Field(
        default=None,
        description="Nodes at creation (default minSize). Only read when the group is "
        "created: afterwards the Cluster Autoscaler owns it (ignoreChanges).",
    )

    @field_validator("instance_types")
    @classmethod
    def _types(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        return _instance_types(value, info)

    @field_validator("min_size")
    @classmethod
    def _min(cls, value: int, info: ValidationInfo) -> int:
        if _context(info, "environment") == "prod" and value < MIN_PROD_SYSTEM_NODES:
            raise ValueError(
                f"must be at least {MIN_PROD_SYSTEM_NODES} in prod: one node's loss must "
                f"not take every platform add-on with it (got {value})"
            )
        return value

    _check_sizes = model_validator(mode="after")(_sizes)


class TaintConfig(_Section):
    """One taint of a workload node group."""

    key: str = Field(description="Taint key, a Kubernetes label key.")
    value: str | None = Field(default=None, description="Taint value (default none).")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(
        default="NoSchedule", description="What the taint does to pods that do not tolerate it."
    )

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        problem = _label_key_problem(value)
        if problem:
            raise ValueError(problem)
        if value == SYSTEM_TAINT_KEY:
            raise ValueError(
                f"must not be {SYSTEM_TAINT_KEY}: that taint marks the system node group, "
                "which only platform add-ons tolerate"
            )
        return value

    @field_validator("value")
    @classmethod
    def _value(cls, value: str | None) -> str | None:
        if value is not None and not _LABEL_VALUE.fullmatch(value):
            raise ValueError(
                "must be at most 63 letters, digits, '-', '_' or '.', starting and ending "
                f"with a letter or digit (got {value!r})"
            )
        return value


class NodeGroupConfig(_Section):
    """One entry of `ballast:cluster.nodeGroups`: managed nodes for workloads."""

    name: str = Field(
        description="Group name, a DNS label of at most 20 characters; nodes carry it as "
        "the label ballast.io/node-group."
    )
    instance_types: tuple[str, ...] = Field(
        description="Instance types, all of one architecture (Graviton or x86_64). Spot "
        "needs at least two, so one exhausted spot pool does not stop scaling."
    )
    capacity_type: Literal["on-demand", "spot"] = Field(
        default="on-demand",
        description="'on-demand' (default) or 'spot' (~60-70% cheaper, but a node can be "
        "reclaimed at two minutes' notice: for interruptible, replicated workloads).",
    )
    min_size: int = Field(default=1, description="Fewest nodes (default 1; 0 allowed).")
    max_size: int = Field(description="Most nodes the autoscaler may add.")
    desired_size: int | None = Field(
        default=None,
        description="Nodes at creation (default minSize). Only read when the group is "
        "created: afterwards the Cluster Autoscaler owns it (ignoreChanges).",
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="Kubernetes labels of the nodes (default none; ballast.io/node-group is "
        "always set, and kubernetes.io/, k8s.io/ and eks.amazonaws.com/ keys are refused).",
    )
    taints: tuple[TaintConfig, ...] = Field(
        default=(),
        description="Taints of the nodes (default none), so only tolerating pods land there.",
    )
    per_az: bool = Field(
        default=False,
        description="One group per zone instead of one spanning every private subnet "
        "(default false). Use it for stateful workloads with zonal EBS volumes: the "
        "autoscaler can then add a node in the zone where a pending pod's volume lives. "
        "minSize, maxSize and desiredSize then apply to each zone.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NODE_GROUP_NAME.fullmatch(value):
            raise ValueError(
                "must be a DNS label of at most 20 lowercase letters, digits and '-', "
                f"starting with a letter (got {value!r})"
            )
        if value == "system":
            raise ValueError("must not be 'system': that is the platform add-ons' group")
        return value

    @field_validator("instance_types")
    @classmethod
    def _types(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        return _instance_types(value, info)

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            problem = _label_key_problem(key)
            if problem:
                raise ValueError(problem)
            if key in RESERVED_NODE_LABEL_KEYS or key.startswith(RESERVED_LABEL_PREFIXES):
                raise ValueError(
                    f"must not set {key!r}: Ballast and EKS set ballast.io/node-group and "
                    "the kubernetes.io/, k8s.io/ and eks.amazonaws.com/ labels themselves"
                )
            if not _LABEL_VALUE.fullmatch(text):
                raise ValueError(
                    f"has an invalid value for {key!r}: at most 63 letters, digits, '-', '_' "
                    "or '.', starting and ending with a letter or digit"
                )
        return value

    @field_validator("taints")
    @classmethod
    def _taints(cls, value: tuple[TaintConfig, ...]) -> tuple[TaintConfig, ...]:
        seen = [(t.key, t.effect) for t in value]
        if len(set(seen)) != len(seen):
            raise ValueError("must not repeat a taint key with the same effect")
        return value

    @model_validator(mode="after")
    def _spot_and_sizes(self) -> NodeGroupConfig:
        if self.capacity_type == "spot" and len(self.instance_types) < 2:
            raise ValueError(
                "spot needs at least 2 instanceTypes, so one exhausted spot pool does not "
                f"stop scaling (got {list(self.instance_types)})"
            )
        return _sizes(self)


class ClusterConfig(_Section):
    """`ballast:cluster`: the EKS cluster (see docs/cluster.md)."""

    kubernetes_version: str = Field(
        default=CLUSTER_KUBERNETES_VERSIONS[-1],
        description="Kubernetes minor version (default: the newest one Ballast pins add-on "
        "versions for, components/versions.py). Upgrades go one minor at a time.",
    )
    endpoint_public_access: bool = Field(
        default=False,
        description="Also expose the Kubernetes API endpoint publicly (default false: "
        "private only, reachable from the VPC, so deploys run from inside it or over a "
        "VPN). Needs publicAccessCidrs.",
    )
    public_access_cidrs: tuple[str, ...] = Field(
        default=(),
        description="The only networks the public endpoint answers (required with "
        "endpointPublicAccess; never 0.0.0.0/0), e.g. the VPN's or the CI runners' egress.",
    )
    admin_principal_arns: tuple[str, ...] = Field(
        default=(),
        description="IAM roles or users given cluster admin through EKS access entries "
        "(default none). The CI apply role is added automatically when ballast:ci is set; "
        "nobody else is admin implicitly (not even the cluster's creator).",
    )
    read_only_principal_arns: tuple[str, ...] = Field(
        default=(),
        description="IAM roles or users given read-only access (AmazonEKSViewPolicy: no "
        "Secrets) through access entries (default none).",
    )
    log_retention_days: int = Field(
        default=90,
        description="Retention of the control-plane logs (api, audit, authenticator, "
        "controllerManager, scheduler) in CloudWatch, one of the periods CloudWatch "
        "accepts (default 90; prod needs at least 90: the audit log is evidence).",
    )
    node_volume_size_gib: int = Field(
        default=50,
        alias="nodeVolumeSizeGiB",
        description="Root volume of every node, encrypted gp3, 20-16384 GiB (default 50: "
        "images and ephemeral storage live there).",
    )
    system_node_group: SystemNodeGroupConfig = Field(
        default_factory=SystemNodeGroupConfig,
        description="The system node group, tainted CriticalAddonsOnly=true:NoSchedule for "
        "platform add-ons; see SystemNodeGroupConfig.",
    )
    node_groups: tuple[NodeGroupConfig, ...] = Field(
        description="Workload node groups (at least one: the system group takes platform "
        "add-ons only); see NodeGroupConfig."
    )

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value not in CLUSTER_KUBERNETES_VERSIONS:
            raise ValueError(
                "must be a Kubernetes version Ballast pins add-on versions for "
                f"({', '.join(CLUSTER_KUBERNETES_VERSIONS)}; see components/versions.py) "
                f"(got {value!r})"
            )
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            try:
                network = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(
                    f"must list IPv4 networks such as 203.0.113.0/24 (got {cidr!r})"
                ) from None
            if str(network) != cidr and network.version == 4:
                raise ValueError(
                    f"must list network addresses: {cidr!r} has host bits set, did you mean "
                    f"{network}?"
                )
            if network.version != 4:
                raise ValueError(f"must list IPv4 networks such as 203.0.113.0/24 (got {cidr!r})")
            if network.prefixlen == 0:
                raise ValueError(
                    f"must not open the API to the internet: list the admin networks, not {cidr}"
                )
            if any(network.subnet_of(r) for r in _PRIVATE_RANGES):
                raise ValueError(
                    f"must list public networks: {cidr} is private, and the private "
                    "endpoint already serves the VPC"
                )
        if len(set(value)) != len(value):
            raise ValueError(f"must not repeat a network (got {list(value)})")
        return value

    @field_validator("admin_principal_arns", "read_only_principal_arns")
    @classmethod
    def _principals(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        for arn in value:
            if not _IAM_PRINCIPAL_ARN.fullmatch(arn):
                raise ValueError(
                    "must list IAM role or user ARNs such as "
                    f"arn:aws:iam::111111111111:role/platform-admins, without wildcards (got {arn!r})"
                )
        if len(set(value)) != len(value):
            raise ValueError(f"must not repeat a principal (got {list(value)})")
        if info.field_name == "read_only_principal_arns":
            both = sorted(set(value) & set(info.data.get("admin_principal_arns") or ()))
            if both:
                raise ValueError(
                    f"must not list an admin too: a principal is admin or read-only "
                    f"(got {', '.join(both)})"
                )
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int, info: ValidationInfo) -> int:
        if value not in LOG_RETENTION_DAYS:
            accepted = ", ".join(str(d) for d in LOG_RETENTION_DAYS)
            raise ValueError(f"must be one of {accepted} (got {value})")
        if _context(info, "environment") == "prod" and value < MIN_PROD_CONTROL_PLANE_LOG_DAYS:
            raise ValueError(
                f"must be at least {MIN_PROD_CONTROL_PLANE_LOG_DAYS} days in prod: the API "
                f"audit log is evidence (got {value})"
            )
        return value

    @field_validator("node_volume_size_gib")
    @classmethod
    def _volume(cls, value: int) -> int:
        if not MIN_NODE_VOLUME_GIB <= value <= MAX_NODE_VOLUME_GIB:
            raise ValueError(
                f"must be between {MIN_NODE_VOLUME_GIB} and {MAX_NODE_VOLUME_GIB} GiB (got {value})"
            )
        return value

    @field_validator("node_groups")
    @classmethod
    def _groups(cls, value: tuple[NodeGroupConfig, ...]) -> tuple[NodeGroupConfig, ...]:
        if not value:
            raise ValueError(
                "must list at least one workload node group: the system group is tainted "
                "for platform add-ons only"
            )
        names = [g.name for g in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"must name each node group once (repeated: {', '.join(dupes)})")
        return value

    @model_validator(mode="after")
    def _endpoint(self) -> ClusterConfig:
        # Both keys may be absent, so this is a check of the section (reported at
        # ballast:cluster), not of one field.
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise ValueError(
                "has endpointPublicAccess: true but no publicAccessCidrs: list the networks "
                "allowed to reach the public endpoint (never 0.0.0.0/0)"
            )
        if self.public_access_cidrs and not self.endpoint_public_access:
            raise ValueError(
                "has publicAccessCidrs but endpointPublicAccess is false: set "
                "endpointPublicAccess: true, or remove the list"
            )
        return self


# --- data and disaster recovery ------------------------------------------------------


@dataclass(frozen=True)
class TierObjective:
    """What a tier promises: the longest outage (RTO) and the most data lost (RPO) it
    tolerates, and how long its backups are kept."""

    rto_minutes: int
    rpo_minutes: int
    backup_retention_days: int


#: Recovery objectives per tier (blueprint step 1.5). Every service and every database
#: names its tier, and validation rejects a design that cannot meet it. Changing an
#: objective is a platform-wide decision: a reviewed change here, keeping the promotion
#: runbook's time budget (runbooks/database-promotion.md) equal to the tier-1 RTO.
TIER_OBJECTIVES: dict[str, TierObjective] = {
    "tier-1": TierObjective(rto_minutes=15, rpo_minutes=5, backup_retention_days=35),
    "tier-2": TierObjective(rto_minutes=240, rpo_minutes=60, backup_retention_days=14),
    "tier-3": TierObjective(rto_minutes=1440, rpo_minutes=1440, backup_retention_days=7),
}
#: Automated-backup retention Ballast accepts: at least a week, at most the RDS maximum.
MIN_BACKUP_RETENTION_DAYS, MAX_BACKUP_RETENTION_DAYS = 7, 35
#: What a recovery in the DR region from AWS Backup's daily copies can lose.
DAILY_COPY_RPO_MINUTES = 1440
#: The database's automated backup window (UTC); AWS Backup must not start near it.
DATABASE_BACKUP_WINDOW_UTC = "03:00-03:30"
#: Performance Insights retention RDS accepts: 7 days (free), whole months of 31 days, or
#: 731 days.
PERFORMANCE_INSIGHTS_RETENTION_DAYS = (7, *range(31, 731, 31), 731)
#: Enhanced monitoring intervals RDS accepts (0, off, is not offered: Ballast always
#: monitors).
MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)

_DB_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_RESERVED_DB_NAMES = ("postgres", "rdsadmin", "template0", "template1")
_DB_INSTANCE_CLASS = re.compile(r"^db\.([a-z0-9-]+)\.([a-z0-9]+)$")
_ENGINE_VERSION = re.compile(r"^[1-9]\d\.\d{1,2}$")
_ZONE_NAME = re.compile(r"^(?=.{1,200}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _duration(minutes: int) -> str:
    return f"{minutes // 60} h" if minutes >= 60 and minutes % 60 == 0 else f"{minutes} min"


def tier_objective(tier: str) -> TierObjective:
    """The objectives of `tier` (one of TIERS)."""
    return TIER_OBJECTIVES[tier]


class DrNetworkConfig(NetworkConfig):
    """`ballast:drNetwork`: the smaller VPC in the DR region that holds the database
    replica (and, after a failover, whatever the team restores there)."""

    cidr: str = Field(
        description="VPC IPv4 block in the DR region, /16 to /22 from a private range, not "
        "overlapping ballast:network.cidr (no default: the two VPCs may be peered). A /20 "
        "is plenty for a replica and a recovery-time cluster."
    )
    az_count: int = Field(
        default=2,
        description="Availability zones of the DR VPC, 2-6 (default 2: the RDS subnet group "
        "needs two zones; a third adds NAT and endpoint cost to a region that is idle "
        "until a failover).",
    )
    availability_zones: tuple[str, ...] | None = Field(
        default=None,
        description="Explicit zone names of the DR region (default: the first azCount "
        "zones it reports as available); their count must equal azCount.",
    )
    nat_mode: Literal["per-az", "single"] = Field(
        default="single",
        description="'single' (default): one NAT gateway for the idle DR VPC, ~$33/month "
        "less per extra zone; switch to 'per-az' before running production traffic there.",
    )
    flow_log_retention_days: int = Field(
        default=90,
        description="VPC flow log retention of the DR VPC, one of the periods CloudWatch "
        "accepts (default 90).",
    )

    @field_validator("az_count")
    @classmethod
    def _az_count(cls, value: int, info: ValidationInfo) -> int:
        if not MIN_AZ_COUNT <= value <= MAX_AZ_COUNT:
            raise ValueError(f"must be between {MIN_AZ_COUNT} and {MAX_AZ_COUNT} (got {value})")
        return value

    @field_validator("nat_mode")
    @classmethod
    def _nat_mode(cls, value: str, info: ValidationInfo) -> str:
        return value

    @field_validator("availability_zones")
    @classmethod
    def _zones(cls, value: tuple[str, ...] | None, info: ValidationInfo):
        if value is None:
            return value
        region = _context(info, "dr_region")
        for zone in value:
            if region and not re.fullmatch(re.escape(region) + r"[a-z]", zone):
                raise ValueError(f"must name zones of {region} such as {region}a (got {zone!r})")
        if len(set(value)) != len(value):
            raise ValueError(f"must not repeat a zone (got {list(value)})")
        count = info.data.get("az_count")
        if count is not None and len(value) != count:
            raise ValueError(f"must list exactly azCount={count} zones (got {len(value)})")
        return value


class DatabaseConfig(_Section):
    """`ballast:database`: the environment's PostgreSQL database and its recovery shape.

    The tier decides what the design must include: tier-1 needs Multi-AZ and a
    cross-region replica; in a stack with a DR region, tier-2 needs a replica too (the
    daily backup copies lose up to 24 h); backups are kept at least as long as the tier
    says.
    """

    name: str = Field(
        description="Name of the application database RDS creates (lowercase letters, "
        "digits and '_', starting with a letter); also names its DNS record."
    )
    tier: Literal["tier-1", "tier-2", "tier-3"] = Field(
        description="Recovery tier: tier-1 RTO 15 min / RPO 5 min, tier-2 4 h / 1 h, "
        "tier-3 24 h / 24 h. Validation rejects a design that cannot meet it."
    )
    instance_class: str = Field(
        default="db.r6g.large",
        description="Instance class of the primary (default db.r6g.large: memory-optimised "
        "Graviton, the prod floor). Burstable db.t* classes are refused in prod (their CPU "
        "credits run out under sustained load); micro and small ones everywhere, as "
        "Performance Insights does not run on them.",
    )
    allocated_storage_gb: int = Field(
        default=50,
        description="Initial gp3 storage in GiB, 20-65536 (default 50).",
    )
    max_allocated_storage_gb: int = Field(
        default=200,
        description="Storage autoscaling ceiling in GiB, at least allocatedStorageGb "
        "(default 200); RDS grows the volume up to it instead of running out of space.",
    )
    engine_version: str | None = Field(
        default=None,
        description="PostgreSQL version as major.minor, e.g. 16.6 (default: the version "
        "pinned in components/versions.py). Set it only to hold a stack back or try the "
        "next version; minor upgrades are not automatic.",
    )
    multi_az: bool = Field(
        default=True,
        description="A synchronous standby in a second zone (default true; about doubles "
        "the instance cost). Required for tier-1 and in prod; dev turns it off.",
    )
    backup_retention_days: int | None = Field(
        default=None,
        description="Days of automated backups and point-in-time recovery, 7-35 (default: "
        "the tier's, 35 for tier-1, 14 for tier-2, 7 for tier-3; never less).",
    )
    replica: bool = Field(
        default=False,
        validate_default=True,
        description="A cross-region read replica in ballast:drRegion, promoted in a region "
        "failure (default false: dev stays cheap). Required for tier-1, and for tier-2 in a "
        "stack with a DR region; needs ballast:drRegion and ballast:drNetwork.",
    )
    replica_instance_class: str | None = Field(
        default=None,
        description="Instance class of the replica (default: instanceClass). A smaller "
        "replica is cheaper but, once promoted, serves the whole load.",
    )
    replica_multi_az: bool = Field(
        default=False,
        description="Multi-AZ replica (default false: half the DR cost; after a promotion, "
        "convert it to Multi-AZ, which the runbook lists as a follow-up).",
    )
    performance_insights_retention_days: int = Field(
        default=7,
        description="Performance Insights retention: 7 (default, free), a multiple of 31 "
        "up to 713, or 731 days.",
    )
    monitoring_interval_seconds: int = Field(
        default=60,
        description="Enhanced monitoring interval, one of 1, 5, 10, 15, 30, 60 seconds "
        "(default 60; shorter costs more CloudWatch Logs ingestion).",
    )
    dns_zone_name: str | None = Field(
        default=None,
        description="Private hosted zone of the database's failover record (default "
        "<environment>.ballast.internal); the record is <name>.db.<zone>.",
    )
    dns_zone_id: str | None = Field(
        default=None,
        description="ID of an existing private hosted zone for the record (default: "
        "Ballast creates the zone and associates both VPCs). The zone must already be "
        "associated with the platform's VPCs.",
    )
    dns_ttl_seconds: int = Field(
        default=30,
        description="TTL of the failover record, 1-60 seconds (default 30): clients follow a "
        "failover within one TTL.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _DB_NAME.fullmatch(value):
            raise ValueError(
                "must be a PostgreSQL database name of 1-63 lowercase letters, digits or "
                f"'_', starting with a letter (got {value!r})"
            )
        if value in _RESERVED_DB_NAMES:
            raise ValueError(
                f"must not be a name RDS reserves ({', '.join(_RESERVED_DB_NAMES)}) (got {value!r})"
            )
        return value

    @field_validator("instance_class", "replica_instance_class")
    @classmethod
    def _instance_class(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        match = _DB_INSTANCE_CLASS.fullmatch(value)
        if match is None:
            raise ValueError(f"must be an RDS instance class such as db.r6g.large (got {value!r})")
        family, size = match.groups()
        if family.startswith("t") and size in ("micro", "small"):
            raise ValueError(
                "must be db.t3.medium, db.t4g.medium or larger: Performance Insights, which "
                f"every Ballast database runs, is not offered on {size} classes (got {value})"
            )
        if family.startswith("t") and _context(info, "environment") == "prod":
            raise ValueError(
                "must not be a burstable class in prod: its CPU credits run out under "
                f"sustained load (got {value})"
            )
        return value

    @field_validator("allocated_storage_gb")
    @classmethod
    def _storage(cls, value: int) -> int:
        if not 20 <= value <= 65536:
            raise ValueError(f"must be between 20 and 65536 GiB (got {value})")
        return value

    @field_validator("max_allocated_storage_gb")
    @classmethod
    def _max_storage(cls, value: int, info: ValidationInfo) -> int:
        allocated = info.data.get("allocated_storage_gb")
        if allocated is not None and not allocated <= value <= 65536:
            raise ValueError(
                f"must be between allocatedStorageGb={allocated} and 65536 GiB (got {value})"
            )
        return value

    @field_validator("engine_version")
    @classmethod
    def _engine_version(cls, value: str | None) -> str | None:
        if value is not None and not _ENGINE_VERSION.fullmatch(value):
            raise ValueError(
                f"must be a PostgreSQL major.minor version such as 16.6 (got {value!r})"
            )
        return value

    @field_validator("multi_az")
    @classmethod
    def _multi_az(cls, value: bool, info: ValidationInfo) -> bool:
        if value:
            return value
        if info.data.get("tier") == "tier-1":
            raise ValueError(
                "must be true for a tier-1 database: a single-AZ instance recovers from a "
                "zone failure only by a point-in-time restore, which takes far longer than "
                "the 15 min RTO (got false)"
            )
        if _context(info, "environment") == "prod":
            raise ValueError(
                "must be true in prod: a zone failure would take the database down (got false)"
            )
        return value

    @field_validator("backup_retention_days")
    @classmethod
    def _retention(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        if not MIN_BACKUP_RETENTION_DAYS <= value <= MAX_BACKUP_RETENTION_DAYS:
            raise ValueError(
                f"must be between {MIN_BACKUP_RETENTION_DAYS} and "
                f"{MAX_BACKUP_RETENTION_DAYS} days (got {value})"
            )
        tier = info.data.get("tier")
        if tier and value < TIER_OBJECTIVES[tier].backup_retention_days:
            floor = TIER_OBJECTIVES[tier].backup_retention_days
            raise ValueError(f"must be at least {floor} days for a {tier} database (got {value})")
        return value

    @field_validator("replica")
    @classmethod
    def _replica(cls, value: bool, info: ValidationInfo) -> bool:
        tier = info.data.get("tier")
        dr_region = _context(info, "dr_region")
        if value:
            if not dr_region:
                raise ValueError(
                    "needs ballast:drRegion: the replica runs in the disaster-recovery "
                    "region (got true without one)"
                )
            if not _context(info, "has_dr_network"):
                raise ValueError(
                    "needs ballast:drNetwork: the replica's subnets live in a VPC of the DR "
                    "region (got true without one)"
                )
            return value
        if tier == "tier-1":
            objective = TIER_OBJECTIVES[tier]
            raise ValueError(
                "must be true for a tier-1 database: only promoting a cross-region replica "
                f"recovers a region failure within its RTO of {_duration(objective.rto_minutes)} "
                f"and RPO of {_duration(objective.rpo_minutes)}; restoring a backup copy takes "
                "hours and loses up to a day (got false)"
            )
        if tier and dr_region:
            rpo = TIER_OBJECTIVES[tier].rpo_minutes
            if rpo < DAILY_COPY_RPO_MINUTES:
                raise ValueError(
                    f"must be true for a {tier} database in a stack with a DR region: "
                    f"without a replica, the DR region holds only the daily backup copies, "
                    f"which lose up to {_duration(DAILY_COPY_RPO_MINUTES)}, more than the "
                    f"{tier} RPO of {_duration(rpo)} (got false)"
                )
        return value

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _pi_retention(cls, value: int) -> int:
        if value not in PERFORMANCE_INSIGHTS_RETENTION_DAYS:
            raise ValueError(f"must be 7, a multiple of 31 up to 713, or 731 days (got {value})")
        return value

    @field_validator("monitoring_interval_seconds")
    @classmethod
    def _monitoring(cls, value: int) -> int:
        if value not in MONITORING_INTERVALS:
            accepted = ", ".join(str(i) for i in MONITORING_INTERVALS)
            raise ValueError(f"must be one of {accepted} seconds (got {value})")
        return value

    @field_validator("dns_zone_name")
    @classmethod
    def _zone_name(cls, value: str | None) -> str | None:
        if value is not None and not _ZONE_NAME.fullmatch(value):
            raise ValueError(
                "must be a DNS domain such as prod.example.internal, lowercase, without a "
                f"trailing dot (got {value!r})"
            )
        return value

    @field_validator("dns_zone_id")
    @classmethod
    def _zone_id(cls, value: str | None) -> str | None:
        if value is not None and not _HOSTED_ZONE_ID.fullmatch(value):
            raise ValueError(
                f"must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ (got {value!r})"
            )
        return value

    @field_validator("dns_ttl_seconds")
    @classmethod
    def _ttl(cls, value: int) -> int:
        if not 1 <= value <= 60:
            raise ValueError(
                "must be between 1 and 60 seconds: clients keep resolving to a failed "
                f"primary for up to one TTL (got {value})"
            )
        return value

    @property
    def objective(self) -> TierObjective:
        return TIER_OBJECTIVES[self.tier]

    @property
    def retention_days(self) -> int:
        """Automated-backup retention: the configured value or the tier's."""
        return self.backup_retention_days or self.objective.backup_retention_days

    @property
    def dns_label(self) -> str:
        return self.name.replace("_", "-")


class BackupConfig(_Section):
    """`ballast:backup`: AWS Backup for every RDS instance and EBS volume tagged for it."""

    daily_at_utc: str = Field(
        default="05:00",
        description="Time of the daily backup, HH:MM UTC (default 05:00). Not between 02:00 "
        "and 04:29: AWS Backup skips RDS jobs that start within an hour of the database's "
        f"automated backup window ({DATABASE_BACKUP_WINDOW_UTC}).",
    )
    copy_to_dr_region: bool = Field(
        default=True,
        description="Copy every recovery point to a vault in ballast:drRegion (default "
        "true, required in prod: a region failure must not take the backups with it).",
    )
    vault_lock_mode: Literal["governance", "compliance"] = Field(
        default="governance",
        description="prod only: vault lock of the backup vaults. 'governance' (default): "
        "retention is enforced, but a principal allowed backup:DeleteBackupVaultLockConfiguration "
        "can lift the lock. 'compliance': after complianceGraceDays nobody, root included, "
        "can delete a recovery point early or remove the lock, ever.",
    )
    compliance_grace_days: int = Field(
        default=3,
        description="Days a compliance-mode lock can still be removed after it is applied, "
        "3-365 (default 3, the AWS minimum).",
    )

    @field_validator("daily_at_utc")
    @classmethod
    def _time(cls, value: str) -> str:
        match = _TIME_OF_DAY.fullmatch(value)
        if match is None:
            raise ValueError(f"must be a time of day as HH:MM, e.g. 05:00 (got {value!r})")
        minutes = int(match.group(1)) * 60 + int(match.group(2))
        if 2 * 60 <= minutes < 4 * 60 + 30:
            raise ValueError(
                "must not be between 02:00 and 04:29 UTC: AWS Backup skips RDS jobs that "
                "start within an hour of the database's automated backup window "
                f"({DATABASE_BACKUP_WINDOW_UTC}) (got {value})"
            )
        return value

    @field_validator("copy_to_dr_region")
    @classmethod
    def _copy(cls, value: bool, info: ValidationInfo) -> bool:
        if not value and _context(info, "environment") == "prod":
            raise ValueError(
                "must be true in prod: a region failure must not take the backups with it "
                "(got false)"
            )
        return value

    @field_validator("compliance_grace_days")
    @classmethod
    def _grace(cls, value: int) -> int:
        if not 3 <= value <= 365:
            raise ValueError(f"must be between 3 and 365 days (got {value})")
        return value

    @property
    def schedule(self) -> str:
        """The plan's schedule as an AWS cron expression."""
        hours, minutes = self.daily_at_utc.split(":")
        return f"cron({int(minutes)} {int(hours)} * * ? *)"


class FaultInjectionConfig(_Section):
    """`ballast:faultInjection`: the AWS FIS experiments that prove the recovery design."""

    node_termination_percent: int = Field(
        default=33,
        description="Share of the tagged nodes in the target zone the node experiment "
        "terminates, 1-100 (default 33; 100 simulates losing the zone's capacity).",
    )
    target_zone: str | None = Field(
        default=None,
        description="Zone whose nodes the node experiment terminates (default: the "
        "network's first zone).",
    )

    @field_validator("node_termination_percent")
    @classmethod
    def _percent(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise ValueError(f"must be between 1 and 100 percent (got {value})")
        return value

    @field_validator("target_zone")
    @classmethod
    def _zone(cls, value: str | None, info: ValidationInfo) -> str | None:
        region = _context(info, "primary_region")
        if value is not None and region and not re.fullmatch(re.escape(region) + r"[a-z]", value):
            raise ValueError(f"must name a zone of {region} such as {region}a (got {value!r})")
        return value


class PlatformConfig(_Section):
    """Everything one environment's stack file says, typed and validated."""

    environment: Literal["dev", "staging", "prod"] = Field(
        description="Which environment this stack is; prod turns on the strict rules."
    )
    stack_kind: Literal["platform", "organization"] = Field(
        default="platform",
        description="'platform' (default): one environment's platform. 'organization': the "
        "management account's own stack, which manages only the service control policies "
        "of ballast:orgGuardrails.",
    )
    owner: str = Field(description="Owning team, written to the `owner` tag everywhere.")
    account_id: str | None = Field(
        default=None,
        description="12-digit AWS account this stack may deploy to (default: any). Set it: "
        "the providers then refuse credentials for any other account.",
    )
    primary_region: str = Field(description="AWS region of the platform, e.g. eu-west-1.")
    dr_region: str | None = Field(
        default=None,
        description="Disaster-recovery region (required in prod): database replica and "
        "backup copies live there. Must differ from primaryRegion.",
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Extra tags for every resource (default none); cannot override "
        "environment, project, owner or managed-by.",
    )
    network: NetworkConfig | None = Field(default=None, description="The VPC; see NetworkConfig.")
    dr_network: DrNetworkConfig | None = Field(
        default=None,
        description="The smaller VPC in drRegion for the database replica; see "
        "DrNetworkConfig (default none; required with database.replica).",
    )
    services: tuple[ServiceConfig, ...] = Field(
        default=(), description="Workloads the platform hosts, with tiers and SLOs."
    )
    database: DatabaseConfig | None = Field(
        default=None,
        description="The PostgreSQL database, its tier and its DR shape; see DatabaseConfig "
        "(default: none).",
    )
    backup: BackupConfig = Field(
        default_factory=BackupConfig,
        description="AWS Backup vaults, daily plans per tier and DR copies; see BackupConfig "
        "(default: BackupConfig's defaults).",
    )
    fault_injection: FaultInjectionConfig = Field(
        default_factory=FaultInjectionConfig,
        description="AWS FIS experiment templates; see FaultInjectionConfig (default: "
        "FaultInjectionConfig's defaults).",
    )
    alert_webhook_url: str | None = Field(
        default=None,
        description="Optional chat/pager webhook for alerts. Must be a Pulumi secret "
        "(`pulumi config set --secret alertWebhookUrl ...`).",
    )
    ci: CiConfig | None = Field(
        default=None,
        description="Keyless CI from GitHub Actions; see CiConfig (default: no CI roles, "
        "so pipelines would need other credentials).",
    )
    audit: AuditConfig = Field(
        default_factory=AuditConfig,
        description="CloudTrail, GuardDuty and findings routing; see AuditConfig (default: "
        "AuditConfig's defaults).",
    )
    boundary: BoundaryConfig = Field(
        default_factory=BoundaryConfig,
        description="The permission boundary of every platform role; see BoundaryConfig.",
    )
    org_guardrails: OrgGuardrailsConfig | None = Field(
        default=None,
        description="Service control policies; only in a stack with stackKind "
        "'organization', run from the management account (default: none).",
    )
    cluster: ClusterConfig | None = Field(
        default=None,
        description="The EKS cluster; see ClusterConfig (default: no cluster).",
    )

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        if not value or len(value) > 256 or not _TAG_TEXT.fullmatch(value):
            raise ValueError(
                "must be a team name of 1-256 letters, digits, spaces or . : / = + - @ _ "
                f"(got {value!r})"
            )
        return value

    @field_validator("primary_region", "dr_region")
    @classmethod
    def _region(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        if not _REGION.fullmatch(value):
            raise ValueError(
                f"must be an AWS region name such as us-east-1 or eu-central-1 (got {value!r})"
            )
        if info.field_name == "dr_region" and value == info.data.get("primary_region"):
            raise ValueError(
                f"must differ from primaryRegion: a DR copy in the same region shares its "
                f"failures (got {value})"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if key in RESERVED_TAG_KEYS:
                raise ValueError(
                    f"must not set {key!r}: Ballast sets {', '.join(RESERVED_TAG_KEYS)} itself"
                )
            if key.lower().startswith("aws:") or not 1 <= len(key) <= 128:
                raise ValueError(
                    f"has an invalid tag key {key!r}: 1-128 characters, not starting with 'aws:'"
                )
            if len(text) > 256 or not _TAG_TEXT.fullmatch(text):
                raise ValueError(
                    f"has an invalid value for {key!r}: at most 256 letters, digits, spaces "
                    "or . : / = + - @ _"
                )
        return value

    @field_validator("database")
    @classmethod
    def _database_serves_its_services(cls, value: DatabaseConfig | None, info: ValidationInfo):
        """In prod, a service cannot recover faster than its data: the database's tier must
        be at least as strict as the strictest service's."""
        services = info.data.get("services") or ()
        if value is None or not services or _context(info, "environment") != "prod":
            return value
        strictest = min(services, key=lambda s: TIERS.index(s.tier))
        if TIERS.index(value.tier) > TIERS.index(strictest.tier):
            raise ValueError(
                f"tier must be at least {strictest.tier} in prod, the tier of service "
                f"{strictest.name}: a service cannot recover faster than its data "
                f"(got {value.tier})"
            )
        return value

    @field_validator("dr_network")
    @classmethod
    def _dr_network(cls, value: DrNetworkConfig | None, info: ValidationInfo):
        if value is None:
            return value
        if not _context(info, "dr_region"):
            raise ValueError(
                "needs ballast:drRegion: this VPC is created in the disaster-recovery region"
            )
        primary = info.data.get("network")
        if primary is not None:
            mine, theirs = ipaddress.ip_network(value.cidr), ipaddress.ip_network(primary.cidr)
            if mine.overlaps(theirs):
                raise ValueError(
                    f"must not overlap ballast:network.cidr {primary.cidr}: the two VPCs "
                    f"are peered or routed to each other after a failover (got {value.cidr})"
                )
        return value

    @field_validator("services")
    @classmethod
    def _unique_services(cls, value: tuple[ServiceConfig, ...]):
        names = [s.name for s in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"must name each service once (repeated: {', '.join(dupes)})")
        return value

    @field_validator("services")
    @classmethod
    def _service_namespaces(cls, value: tuple[ServiceConfig, ...]):
        reserved = (*KUBERNETES_NAMESPACES, *PLATFORM_NAMESPACES)
        for service in value:
            namespace = service.namespace or service.name
            if namespace in reserved:
                raise ValueError(
                    f"must not put service {service.name!r} in namespace {namespace!r}: "
                    f"{', '.join(reserved)} belong to Kubernetes and the platform add-ons"
                )
        return value

    @field_validator("cluster")
    @classmethod
    def _cluster_admins(cls, value: ClusterConfig | None, info: ValidationInfo):
        if value is not None and not value.admin_principal_arns and info.data.get("ci") is None:
            raise ValueError(
                "needs adminPrincipalArns when ballast:ci is not set: access entries are "
                "the only way in (the cluster's creator gets no implicit admin), so "
                "nothing could deploy the in-cluster objects"
            )
        return value

    @field_validator("account_id")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{12}", value):
            raise ValueError(f"must be a 12-digit AWS account ID (got {value!r})")
        return value


# --- parsing -------------------------------------------------------------------------


def _decode(value: Any) -> Any:
    """Config values arrive as strings; objects and lists are JSON-encoded (as the CLI does)."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _key_path(loc: Iterable[Any]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else f"{NAMESPACE}:") + str(part)
    return path


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class whose field list applies at `loc` (for did-you-mean)."""
    model: Any = PlatformConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = next(
            (f for name, f in model.model_fields.items() if part in (name, f.alias)),
            None,
        )
        if field is None:
            return None
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model


def _accepted_keys(model: type[BaseModel]) -> list[str]:
    return sorted(f.alias or n for n, f in model.model_fields.items())


def _unknown_key_message(loc: tuple[Any, ...]) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    accepted = _accepted_keys(model) if model else []
    lowered = {a.lower(): a for a in accepted}
    guess = lowered.get(key.lower()) or next(
        iter(difflib.get_close_matches(key, accepted, n=1, cutoff=0.6)), None
    )
    hint = f"; did you mean {guess}?" if guess else ""
    return f"{_key_path(loc)} is not a known key{hint} (accepted: {', '.join(accepted)})"


_TYPE_WORDS = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "a string",
    "dict_type": "a map of keys to values",
    "model_type": "a map of keys to values",
    "model_attributes_type": "a map of keys to values",
    "list_type": "a list",
    "tuple_type": "a list",
}


def _describe(error: Mapping[str, Any]) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    path = _key_path(loc)
    got = error.get("input")
    secret = any(str(p) in SECRET_KEYS or to_camel(str(p)) in SECRET_KEYS for p in loc)
    shown = "a secret value" if secret else repr(got)
    if kind == "extra_forbidden":
        return _unknown_key_message(loc)
    if kind == "missing":
        model = _model_at(loc[:-1])
        field = next(
            (
                f
                for n, f in (model.model_fields.items() if model else [])
                if loc[-1] in (n, f.alias)
            ),
            None,
        )
        hint = f": {field.description}" if field and field.description else ""
        return f"{path} is required{hint}"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        return f"{path} {message}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{path} must be one of {expected.replace(' or ', ', ')} (got {shown})"
    if kind in _TYPE_WORDS:
        return f"{path} must be {_TYPE_WORDS[kind]} (got {shown})"
    return f"{path}: {error['msg']} (got {shown})"


#: Keys only a platform stack uses; an organization stack manages nothing but SCPs.
PLATFORM_ONLY_KEYS = (
    "network",
    "services",
    "ci",
    "audit",
    "boundary",
    "drRegion",
    "cluster",
    "drNetwork",
    "database",
    "backup",
    "faultInjection",
)


def _stack_kind_problems(data: Mapping[str, Any], environment: str | None) -> list[str]:
    """Which keys a stack needs or must not have depends on its kind."""
    kind = data.get("stackKind", "platform")
    problems: list[str] = []
    if kind == "organization":
        if "orgGuardrails" not in data:
            problems.append(
                f"{NAMESPACE}:orgGuardrails is required in an organization stack: the OUs "
                "(targetIds) the service control policies attach to and the allowedRegions"
            )
        problems.extend(
            f"{NAMESPACE}:{key} is not used by an organization stack, which manages only "
            "the service control policies; remove it"
            for key in PLATFORM_ONLY_KEYS
            if key in data
        )
        return problems
    if kind != "platform":
        return problems  # the literal check has reported it
    if "network" not in data:
        field = PlatformConfig.model_fields["network"]
        problems.append(f"{NAMESPACE}:network is required: {field.description}")
    if "orgGuardrails" in data:
        problems.append(
            f"{NAMESPACE}:orgGuardrails is only used by an organization stack "
            f"({NAMESPACE}:stackKind: organization), which runs from the management "
            "account; remove it here"
        )
    if environment == "prod" and data.get("drRegion") is None:
        problems.append(
            f"{NAMESPACE}:drRegion is required in prod: the database replica and backup "
            "copies need a second region"
        )
    return problems


def parse_platform_config(
    raw: Mapping[str, Any],
    *,
    secret_keys: Iterable[str] = (),
    source: str = "stack config",
) -> PlatformConfig:
    """Build a `PlatformConfig` from flat stack config or raise `ConfigError`.

    `raw` maps qualified keys (`ballast:network`, `aws:region`, ...) to values as the
    Pulumi CLI hands them to a program: strings, with maps and lists JSON-encoded.
    `secret_keys` lists the qualified keys that hold Pulumi secrets. `source` prefixes
    every message (the stack file, e.g. `stacks/Pulumi.prod.yaml`).
    """
    secret = set(secret_keys)
    problems: list[str] = []
    data: dict[str, Any] = {}
    for qualified, value in raw.items():
        namespace, _, key = qualified.partition(":")
        if namespace != NAMESPACE:
            continue
        if key in SECRET_KEYS and qualified not in secret:
            problems.append(
                f"{qualified} must be a Pulumi secret: set it with "
                f"`pulumi config set --secret {key} <value>` so it is never stored in "
                "clear text"
            )
            continue
        data[key] = _decode(value)

    environment = data.get("environment")
    context = {
        "environment": environment if environment in ENVIRONMENTS else None,
        "primary_region": data.get("primaryRegion")
        if isinstance(data.get("primaryRegion"), str)
        else None,
        "dr_region": data.get("drRegion") if isinstance(data.get("drRegion"), str) else None,
        "has_dr_network": data.get("drNetwork") is not None,
    }
    config: PlatformConfig | None = None
    try:
        config = PlatformConfig.model_validate(data, context=context)
    except ValidationError as exc:
        problems.extend(_describe(e) for e in exc.errors(include_url=False))

    problems.extend(_stack_kind_problems(data, context["environment"]))
    if problems or config is None:
        # Sorted by key path, so related problems sit together and the order is stable.
        raise ConfigError([f"{source}: {p}" for p in sorted(problems)])
    return config


def stack_file_label(stack: str) -> str:
    """How messages name a stack's file (the project sets `stackConfigDir: stacks`)."""
    return f"stacks/Pulumi.{stack}.yaml"


def load_from_pulumi_runtime() -> PlatformConfig:
    """Read this program's config from the Pulumi runtime (real CLI or mock engine).

    The CLI hands config to the language host as `PULUMI_CONFIG` (and secret key names
    as `PULUMI_CONFIG_SECRET_KEYS`); the mock engine and the Automation API call
    `set_all_config`. Both are read so every key, known or not, is validated.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, Any] = dict(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys.update(runtime_config._SECRET_KEYS.get())  # private: the SDK has no getter
    return parse_platform_config(
        raw, secret_keys=secret_keys, source=stack_file_label(pulumi.get_stack())
    )
