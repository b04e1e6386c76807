"""The security sections: keyless CI (`ballast:ci`), the audit trail (`ballast:audit`),
the permission boundary (`ballast:boundary`) and the organization's service control
policies (`ballast:orgGuardrails`)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from components.aws_catalog import region_problem
from components.config.base import (
    _IAM_PRINCIPAL_ARN,
    _context,
    _log_retention,
    _Section,
)

_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_GITHUB_ENVIRONMENT = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
_GITHUB_OIDC_ARN = re.compile(
    r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$"
)
_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_KMS_KEY_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_EXEMPT_PRINCIPAL_PATTERN = re.compile(
    r"^arn:aws(-cn|-us-gov)?:iam::(\d{12}|\*):role/[\w+=,.@/*-]+$"
)
_SERVICE_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
#: A GuardDuty detector ID as CreateDetector returns it: 32 lowercase hex characters.
_DETECTOR_ID = re.compile(r"^[0-9a-f]{32}$")
_ORG_TARGET = re.compile(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$")


class CiConfig(_Section):
    """`ballast:ci`: keyless deploys from GitHub Actions (no static AWS keys in CI)."""

    repository: str = Field(
        description="GitHub repository whose workflows may deploy this stack, as 'org/repo'. "
        "The plan and apply roles trust only this repository's jobs running in the named "
        "GitHub environment (token subject repo:<org>/<repo>:environment:<env>)."
    )
    environment: str | None = Field(
        default=None,
        description="GitHub environment whose jobs may assume the apply role (unset: the "
        "stack's environment name). Protect it with required reviewers in prod: that "
        "approval is the deploy gate.",
    )
    plan_environment: str | None = Field(
        default=None,
        description="GitHub environment whose jobs may assume the read-only plan role "
        "(unset: the same as environment). A separate, unprotected environment (e.g. "
        "prod-preview) lets pull-request previews run without waiting for the apply "
        "approval; the plan role cannot change anything.",
    )
    oidc_provider_arn: str | None = Field(
        default=None,
        description="ARN of an existing GitHub Actions OIDC provider in this account "
        "(unset: the stack creates one). An account holds one provider per issuer: when "
        "two stacks share an account, the second sets this to the first one's "
        "githubOidcProviderArn output.",
    )
    state_bucket: str | None = Field(
        default=None,
        description="S3 bucket of a Pulumi DIY state backend (pulumi login s3://<bucket>) "
        "(unset: another backend, e.g. Pulumi Cloud, which needs no AWS access). The plan role may "
        "read this stack's state and take its lock; the apply role may also write its "
        "state, history and backups. Nothing outside this stack's paths.",
    )
    secrets_key_arn: str | None = Field(
        default=None,
        description="KMS key ARN of an awskms:// secrets provider. The plan "
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


#: Every detector feature the GuardDuty API accepts (botocore 1.44 `DetectorFeature`,
#: pulumi-aws 7.51 `DetectorFeature.name`) except EKS_RUNTIME_MONITORING, which
#: RUNTIME_MONITORING supersedes (the API rejects both on one detector). The stack sets
#: each of them on every detector: ENABLED when configured, else DISABLED.
GUARDDUTY_FEATURES = (
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "RUNTIME_MONITORING",
    "RDS_LOGIN_EVENTS",
    "EBS_MALWARE_PROTECTION",
    "LAMBDA_NETWORK_LOGS",
    "AI_PROTECTION",
    "AI_ANALYST",
)
GuardDutyFeature = Literal[
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "RUNTIME_MONITORING",
    "RDS_LOGIN_EVENTS",
    "EBS_MALWARE_PROTECTION",
    "LAMBDA_NETWORK_LOGS",
    "AI_PROTECTION",
    "AI_ANALYST",
]
#: What the platform needs watched: S3 data access, the EKS control plane and its
#: nodes, and database logins. EBS, Lambda and AI protection are opt-in (extra cost, and
#: the platform runs no Lambda or Bedrock workload).
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
        ge=MIN_AUDIT_RETENTION_DAYS,
        le=MAX_AUDIT_RETENTION_DAYS,
        description="Days CloudTrail log files (and the bucket's access logs) are kept in "
        f"S3 before they expire; at least {MIN_PROD_AUDIT_RETENTION_DAYS} in prod. Files "
        "older than 90 days move to Glacier Instant Retrieval when they are kept longer "
        "than 180 days.",
    )
    cloud_watch_retention_days: int = Field(
        default=90,
        description="Retention of the trail's CloudWatch Logs copy, which alarms and quick "
        "queries use, in days: one of the periods CloudWatch accepts. S3 keeps the "
        "record of truth.",
    )
    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        default="GOVERNANCE",
        description="prod only: object lock mode of the trail bucket. GOVERNANCE: only a "
        "principal allowed s3:BypassGovernanceRetention, which the permission boundary "
        "denies, can delete early. COMPLIANCE lets nobody, root included, "
        "delete a log file before its lock expires.",
    )
    object_lock_days: int = Field(
        default=365,
        ge=1,
        le=MAX_AUDIT_RETENTION_DAYS,
        description="prod only: days each trail log file is locked against deletion, at "
        "most logRetentionDays. dev and staging have no object lock so that they can be "
        "torn down.",
    )
    findings_min_severity: Literal["low", "medium", "high", "critical"] = Field(
        default="medium",
        description="Lowest GuardDuty severity sent to the findings topic: medium is "
        "severity 4.0 and up; low would page on routine port scans.",
    )
    guard_duty_features: tuple[GuardDutyFeature, ...] = Field(
        default=DEFAULT_GUARDDUTY_FEATURES,
        description="GuardDuty protection plans enabled in every platform region; every "
        "other plan is set to DISABLED explicitly (a new detector turns on every plan it "
        "is not told about). EBS_MALWARE_PROTECTION, LAMBDA_NETWORK_LOGS, AI_PROTECTION and "
        "AI_ANALYST are opt-in (extra cost, and the platform runs no Lambda).",
    )
    guard_duty_detector_ids: dict[str, str] = Field(
        default_factory=dict,
        description="Existing GuardDuty detectors to adopt, as region -> detector ID (the "
        "primary or DR region). AWS allows one detector per account and region, so a "
        "region listed here gets no detector of its own: the stack configures the "
        "protection plans of the given detector and routes its findings. List a region "
        "when a second environment stack in the same account (whose stack creates it) or "
        "the organization's delegated GuardDuty administrator (auto-enable) already owns "
        "the detector; unlisted regions get a detector created by this stack, which then "
        "is the account's standalone or administrator detector.",
    )
    security_principal_arns: tuple[str, ...] = Field(
        default=(),
        description="IAM roles or users (e.g. the security team's SSO role) that may assume "
        "the security-audit role, the only role that can read the trail (empty: any "
        "principal of this account signed in with MFA; SSO sessions carry no MFA flag, so "
        "list their role here).",
    )

    @field_validator("log_retention_days")
    @classmethod
    def _log_retention(cls, value: int, info: ValidationInfo) -> int:
        if _context(info, "environment") == "prod" and value < MIN_PROD_AUDIT_RETENTION_DAYS:
            raise ValueError(
                f"must be at least {MIN_PROD_AUDIT_RETENTION_DAYS} days in prod: the audit "
                f"record has to cover a full year (got {value})"
            )
        return value

    @field_validator("cloud_watch_retention_days")
    @classmethod
    def _cloud_watch_retention(cls, value: int) -> int:
        return _log_retention(value)

    @field_validator("object_lock_days")
    @classmethod
    def _object_lock_days(cls, value: int, info: ValidationInfo) -> int:
        retention = info.data.get("log_retention_days")
        if retention is not None and value > retention:
            raise ValueError(
                f"must be at most logRetentionDays={retention}: a file cannot stay locked "
                f"after it expires (got {value})"
            )
        return value

    @field_validator("guard_duty_features")
    @classmethod
    def _features(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        dupes = sorted({f for f in value if value.count(f) > 1})
        if dupes:
            raise ValueError(f"must name each feature once (repeated: {', '.join(dupes)})")
        return value

    @field_validator("guard_duty_detector_ids")
    @classmethod
    def _detector_ids(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        regions = [r for r in (_context(info, "primary_region"), _context(info, "dr_region")) if r]
        for region, detector_id in value.items():
            if regions and region not in regions:
                raise ValueError(
                    "must map the primary or DR region of this stack "
                    f"({' or '.join(regions)}) to a detector ID (got region {region!r})"
                )
            if not _DETECTOR_ID.fullmatch(detector_id):
                raise ValueError(
                    "must map each region to a GuardDuty detector ID: 32 lowercase hex "
                    "characters such as 12abc34d567e8fa901bc2d34e56789f0, as "
                    f"'aws guardduty list-detectors' prints it (got {detector_id!r} for {region})"
                )
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
        "platform roles may use on top of the built-in list. This key is "
        "how the boundary is widened: a reviewed change to the stack file, applied by "
        "the pipeline.",
    )

    @field_validator("extra_services")
    @classmethod
    def _services(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from components.iam.actions import BOUNDARY_SERVICES

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
        min_length=1,
        description="Organizational units (ou-...) or the organization root (r-...) the "
        "SCPs are attached to.",
    )
    allowed_regions: tuple[str, ...] = Field(
        min_length=1,
        description="Regions member accounts may use; global services such as IAM, STS, "
        "Organizations, Route 53 and CloudFront stay usable.",
    )
    exempt_principal_arns: tuple[str, ...] = Field(
        default=(),
        description="Break-glass roles the SCPs do not apply to, as ARN patterns such as "
        "arn:aws:iam::*:role/BreakGlass (empty: every principal of the targeted "
        "accounts is bound).",
    )

    @field_validator("target_ids")
    @classmethod
    def _targets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
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
        for region in value:
            problem = region_problem(region)
            if problem is not None:
                raise ValueError(problem.replace("must be an AWS region", "must list AWS regions"))
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
