"""IAM policy documents as pure functions of plain values (so tests read and evaluate
them): the permission boundary, the CI plan and apply policies, the security-audit
role's read access, and IAM's size limits."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.iam.actions import (
    ACTION_SCOPED_SERVICES,
    AUDIT_DISABLING_ACTIONS,
    DATA_EXPOSURE_ACTIONS,
    GLOBAL_SERVICE_ACTIONS,
    IAM_MANAGEMENT_ACTIONS,
    IAM_USER_ACTIONS,
    KEY_ADMIN_ACTIONS,
    KEY_CREATE_ACTIONS,
    KEY_USE_ACTIONS,
    KEY_USE_THROUGH_SERVICES,
    NAME_SCOPED_SERVICES,
    OIDC_PROVIDER_ACTIONS,
    S3_BUCKET_MANAGEMENT_ACTIONS,
    SERVICE_LINKED_ROLE_SERVICES,
)
from components.iam.read_actions import AUDIT_READ_ACTIONS
from components.tags import AUDIT_EVIDENCE_TAG, ENVIRONMENT_TAG

#: IAM's limit for a managed policy document, counted without whitespace.
MANAGED_POLICY_MAX_CHARS = 6144
#: IAM's limit for all inline policies of one role together, without whitespace.
INLINE_POLICY_MAX_CHARS = 10240


def compact_length(document: Mapping[str, Any]) -> int:
    """Characters IAM counts against a policy's size limit (whitespace is not counted)."""
    return len(re.sub(r"\s", "", json.dumps(document, separators=(",", ":"))))


def check_fits(document: Mapping[str, Any], limit: int, label: str) -> None:
    size = compact_length(document)
    if size > limit:
        raise ValueError(
            f"{label}: the policy is {size} characters, over IAM's limit of {limit}; "
            "shorten it before deploying"
        )


@dataclass(frozen=True)
class BoundaryInputs:
    environment: str
    #: Every platform role's name starts with this (`PhysicalNames.role_prefix`).
    role_prefix: str
    partition: str
    account_id: str
    regions: tuple[str, ...]
    services: tuple[str, ...]
    boundary_arn: str
    apply_role_arn: str | None
    security_role_arn: str
    audit_bucket_prefix: str
    #: The security-audit role's own read-only boundary (`audit_boundary_document`).
    audit_boundary_arn: str


def boundary_document(b: BoundaryInputs) -> dict[str, Any]:
    """The permission boundary: one Allow for the platform's services, then the Denies."""
    iam = f"arn:{b.partition}:iam::{b.account_id}"
    platform_roles = f"{iam}:role/{b.role_prefix}*"
    editing: dict[str, Any] = {
        "Sid": "DenyEditingTheBoundaryOutsideThePipeline",
        "Effect": "Deny",
        "Action": [
            "iam:CreatePolicyVersion",
            "iam:DeletePolicy",
            "iam:DeletePolicyVersion",
            "iam:SetDefaultPolicyVersion",
        ],
        "Resource": [b.boundary_arn, b.audit_boundary_arn],
    }
    if b.apply_role_arn:
        editing["Condition"] = {"ArnNotEquals": {"aws:PrincipalArn": b.apply_role_arn}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowOnlyThePlatformServices",
                "Effect": "Allow",
                "Action": [f"{s}:*" for s in b.services],
                "Resource": "*",
            },
            {
                "Sid": "DenyIamUsersAndAccessKeys",
                "Effect": "Deny",
                "Action": list(IAM_USER_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "DenyDisablingAuditAndThreatDetection",
                "Effect": "Deny",
                "Action": list(AUDIT_DISABLING_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "DenyDestroyingAuditEvidence",
                "Effect": "Deny",
                "Action": [
                    "kms:DisableKey",
                    "kms:ScheduleKeyDeletion",
                    "logs:DeleteLogGroup",
                    "logs:DeleteLogStream",
                    "logs:DeleteRetentionPolicy",
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/{AUDIT_EVIDENCE_TAG}": "true"}},
            },
            {
                # Rewriting an evidence key's policy or granting on it could make any role
                # a reader of the trail; only administrators outside the boundary may.
                "Sid": "DenyOpeningAuditEvidenceKeys",
                "Effect": "Deny",
                "Action": ["kms:CreateGrant", "kms:PutKeyPolicy"],
                "Resource": "*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/{AUDIT_EVIDENCE_TAG}": "true"}},
            },
            {
                # Re-tagging evidence (tag value "false") would lift the statements above.
                "Sid": "DenyRetaggingAuditEvidence",
                "Effect": "Deny",
                "Action": ["kms:TagResource", "logs:TagLogGroup", "logs:TagResource"],
                "Resource": "*",
                "Condition": {
                    "ForAnyValue:StringEquals": {"aws:TagKeys": [AUDIT_EVIDENCE_TAG]},
                    "StringEquals": {f"aws:ResourceTag/{AUDIT_EVIDENCE_TAG}": "true"},
                },
            },
            {
                "Sid": "DenyUntaggingAuditEvidence",
                "Effect": "Deny",
                "Action": ["kms:UntagResource", "logs:UntagLogGroup", "logs:UntagResource"],
                "Resource": "*",
                "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": [AUDIT_EVIDENCE_TAG]}},
            },
            {
                "Sid": "DenyDeletingAuditLogs",
                "Effect": "Deny",
                "Action": [
                    "s3:BypassGovernanceRetention",
                    "s3:DeleteBucket",
                    "s3:DeleteBucketPolicy",
                    "s3:DeleteObject",
                    "s3:DeleteObjectVersion",
                ],
                "Resource": [
                    f"arn:{b.partition}:s3:::{b.audit_bucket_prefix}*",
                    f"arn:{b.partition}:s3:::{b.audit_bucket_prefix}*/*",
                ],
            },
            {
                "Sid": "DenyBypassingObjectLock",
                "Effect": "Deny",
                "Action": "s3:BypassGovernanceRetention",
                "Resource": "*",
            },
            {
                "Sid": "DenyLeavingTheOrganization",
                "Effect": "Deny",
                "Action": "organizations:LeaveOrganization",
                "Resource": "*",
            },
            {
                # Where the resource carries an environment tag, it must be this one.
                # Untagged resources, and actions AWS gives no resource tags for, are left
                # to the tag policy (every Ballast resource carries the tag).
                "Sid": "DenyOtherEnvironmentsResources",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {f"aws:ResourceTag/{ENVIRONMENT_TAG}": b.environment},
                    "Null": {f"aws:ResourceTag/{ENVIRONMENT_TAG}": "false"},
                },
            },
            {
                "Sid": "DenyTaggingIntoOtherEnvironments",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {f"aws:RequestTag/{ENVIRONMENT_TAG}": b.environment},
                    "Null": {f"aws:RequestTag/{ENVIRONMENT_TAG}": "false"},
                },
            },
            {
                "Sid": "DenyRolesWithoutThisBoundary",
                "Effect": "Deny",
                "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {
                        "iam:PermissionsBoundary": [b.boundary_arn, b.audit_boundary_arn]
                    }
                },
            },
            {
                # The read-only audit boundary reads every region: the security role's only.
                "Sid": "DenyAuditBoundaryElsewhere",
                "Effect": "Deny",
                "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
                "NotResource": b.security_role_arn,
                "Condition": {"StringEquals": {"iam:PermissionsBoundary": b.audit_boundary_arn}},
            },
            {
                "Sid": "DenyRemovingTheBoundary",
                "Effect": "Deny",
                "Action": "iam:DeleteRolePermissionsBoundary",
                "Resource": "*",
            },
            editing,
            {
                "Sid": "DenyPassingRolesOutsideThePlatform",
                "Effect": "Deny",
                "Action": "iam:PassRole",
                "NotResource": platform_roles,
            },
            {
                # No exemption: the security-audit role, which must see every region,
                # carries the audit boundary instead of this one.
                "Sid": "DenyRegionsOutsideThePlatform",
                "Effect": "Deny",
                "NotAction": list(GLOBAL_SERVICE_ACTIONS),
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": list(b.regions)}},
            },
        ],
    }


#: Reads of data rather than configuration that `AUDIT_READ_ACTIONS`' `Get*` patterns
#: would allow: secret values, table items, stream records, Windows passwords, archives
#: and source files. (Parameter values and object contents have statements of their own.)
AUDIT_DATA_READS: tuple[str, ...] = (
    "codecommit:GetBlob",
    "codecommit:GetFile",
    "dynamodb:GetItem",
    "ec2:GetPasswordData",
    "glacier:GetJobOutput",
    "kinesis:GetRecords",
    "secretsmanager:GetSecretValue",
)


def audit_boundary_document(*, partition: str, audit_bucket_prefix: str) -> dict[str, Any]:
    """The security-audit role's permission boundary: read-only, every region.

    Allows the generated read patterns of `AUDIT_READ_SERVICES` (Describe*, Get*, List*
    where the IAM catalogue lists only Read and List actions under them) and decrypting
    with the audit evidence keys only; denies secret values, parameter values (except
    AWS's public ones) and object contents outside the audit trail's buckets."""
    s3 = f"arn:{partition}:s3:::"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowReadingConfiguration",
                "Effect": "Allow",
                "Action": list(AUDIT_READ_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "AllowDecryptingAuditEvidence",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/{AUDIT_EVIDENCE_TAG}": "true"}},
            },
            {
                "Sid": "DenyReadingData",
                "Effect": "Deny",
                "Action": list(AUDIT_DATA_READS),
                "Resource": "*",
            },
            {
                "Sid": "DenyReadingParameterValues",
                "Effect": "Deny",
                "Action": "ssm:GetParameter*",
                "NotResource": f"arn:{partition}:ssm:*::parameter/aws/service/*",
            },
            {
                "Sid": "DenyReadingObjectsOutsideTheAuditTrail",
                "Effect": "Deny",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "NotResource": f"{s3}{audit_bucket_prefix}*/*",
            },
        ],
    }


@dataclass(frozen=True)
class StateAccess:
    """Where one stack's Pulumi DIY state lives (s3://<bucket>, `.pulumi/` layout)."""

    partition: str
    bucket: str
    project: str
    stack: str

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket}"

    def objects(self) -> list[str]:
        """This stack's checkpoint (and .bak), history, backups and locks: the DIY backend
        keeps them under `.pulumi/<kind>/[organization/]<project>/<stack>`."""
        base = f"{self.bucket_arn}/.pulumi/*/{self.project}/{self.stack}"
        return [f"{base}.json*", f"{base}/*"]

    def locks(self) -> list[str]:
        return [f"{self.bucket_arn}/.pulumi/locks/*/{self.project}/{self.stack}/*"]

    def list_statement(self) -> dict[str, Any]:
        return {
            "Sid": "ListStateBucket",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
            "Resource": self.bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [".pulumi/*", ""]}},
        }


#: The one secret-value read the CI roles keep (`program_secrets_arn`).
READ_SECRET_VALUE = "secretsmanager:GetSecretValue"


def program_secrets_arn(*, partition: str, account_id: str, secret_prefix: str) -> str:
    """Every secret this stack's program writes, in any of its regions (the boundary
    fences the regions) and in this account only: `arn:<partition>:secretsmanager:*:
    <account>:secret:<secret_prefix>*` (`PhysicalNames.secret_prefix`, `ballast-dev/`)."""
    return f"arn:{partition}:secretsmanager:*:{account_id}:secret:{secret_prefix}*"


def _secret_value_deny(program_secrets: str) -> dict[str, Any]:
    # The provider reads a secret version back with GetSecretValue after writing it and on
    # every refresh; the value is already in the stack's encrypted state, so reading back
    # the program's own secrets exposes nothing new. Every other secret stays unreadable.
    return {
        "Sid": "DenyReadingSecretsTheProgramDoesNotWrite",
        "Effect": "Deny",
        "Action": [READ_SECRET_VALUE],
        "NotResource": program_secrets,
    }


def plan_policy_document(
    *,
    partition: str,
    account_id: str,
    secret_prefix: str,
    state: StateAccess | None,
    secrets_key_arn: str | None,
) -> dict[str, Any]:
    """Inline policy of the plan role, on top of AWS's ReadOnlyAccess: this stack's state
    and lock, the secrets key, reading back the secrets the program writes (names under
    `secret_prefix`, `program_secrets_arn`) and decrypting them through Secrets Manager,
    and no other reading of data (object contents, other secret values, parameters)."""
    program_secrets = program_secrets_arn(
        partition=partition, account_id=account_id, secret_prefix=secret_prefix
    )
    statements: list[dict[str, Any]] = [
        {
            # A refresh reads these back, whatever AWS's ReadOnlyAccess includes.
            "Sid": "ReadBackTheProgramsSecrets",
            "Effect": "Allow",
            "Action": READ_SECRET_VALUE,
            "Resource": program_secrets,
        },
        {
            # Secrets Manager decrypts a secret with the caller's kms:Decrypt, with the
            # secret's ARN in the encryption context: only for those secrets, only through it.
            "Sid": "DecryptTheProgramsSecretsThroughSecretsManager",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": f"arn:{partition}:kms:*:{account_id}:key/*",
            "Condition": {
                "StringLike": {
                    "kms:ViaService": "secretsmanager.*.amazonaws.com",
                    "kms:EncryptionContext:SecretARN": program_secrets,
                }
            },
        },
    ]
    readable = [f"arn:{partition}:ssm:*::parameter/aws/service/*"]
    if state:
        statements += [
            state.list_statement(),
            {
                "Sid": "ReadThisStacksState",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": [f"{state.bucket_arn}/.pulumi/meta.yaml", *state.objects()],
            },
            {
                "Sid": "TakeThisStacksLock",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": state.locks(),
            },
        ]
    if secrets_key_arn:
        statements.append(
            {
                "Sid": "DecryptStackSecrets",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": secrets_key_arn,
            }
        )
    state_objects = [f"{state.bucket_arn}/.pulumi/meta.yaml", *state.objects()] if state else []
    no_data: dict[str, Any] = {
        "Sid": "DenyReadingObjectContents",
        "Effect": "Deny",
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
    }
    if state_objects:
        no_data["NotResource"] = state_objects
    else:
        no_data["Resource"] = "*"
    statements += [
        no_data,
        _secret_value_deny(program_secrets),
        {
            # Public parameters (EKS AMI IDs, for instance) stay readable for previews.
            "Sid": "DenyReadingParameters",
            "Effect": "Deny",
            "Action": ["ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters",
                       "ssm:GetParametersByPath"],
            "NotResource": readable,
        },
    ]  # fmt: skip
    return {"Version": "2012-10-17", "Statement": statements}


def apply_policy_document(
    *,
    role_prefix: str,
    secret_prefix: str,
    partition: str,
    account_id: str,
    services: Sequence[str],
    state: StateAccess | None,
    secrets_key_arn: str | None,
) -> dict[str, Any]:
    """Inline policy of the apply role: the deploy-time services (`DEPLOY_SERVICES` plus
    the stack's extra services) service-wide, KMS action by action (administer and create
    keys; use them only through the services that encrypt for it), and IAM and S3 only for
    names that start with `role_prefix` (this stack's, `PhysicalNames.role_prefix`), minus
    the data-exposure actions it never needs: secret values are denied except those of
    the secrets the program writes (names under `secret_prefix`, `program_secrets_arn`),
    which the provider reads back. The boundary caps it further."""
    iam = f"arn:{partition}:iam::{account_id}"
    prefix = role_prefix
    statements: list[dict[str, Any]] = [
        {
            # Service-wide: the platform manages hundreds of resource types whose ARNs
            # are not known before they exist. The boundary's Denies and region fence
            # apply on top; the reviewed pipeline is the only caller.
            "Sid": "DeployThePlatformServices",
            "Effect": "Allow",
            "Action": [
                f"{s}:*"
                for s in services
                if s not in NAME_SCOPED_SERVICES and s not in ACTION_SCOPED_SERVICES
            ],
            "Resource": "*",
        },
        {
            "Sid": "AdministerAndCreateKeys",
            "Effect": "Allow",
            "Action": sorted({*KEY_ADMIN_ACTIONS, *KEY_CREATE_ACTIONS}),
            "Resource": "*",
        },
        {
            # Encrypted RDS, EKS secrets, volumes, secrets and vaults are created with the
            # caller's key permissions, forwarded by the service; a direct Decrypt by the
            # deploy job is not allowed (no data through this role).
            "Sid": "UseKeysOnlyThroughAwsServices",
            "Effect": "Allow",
            "Action": list(KEY_USE_ACTIONS),
            "Resource": "*",
            "Condition": {
                "StringLike": {
                    "kms:ViaService": [f"{s}.*.amazonaws.com" for s in KEY_USE_THROUGH_SERVICES]
                }
            },
        },
        {
            # Platform buckets are named <namePrefix>-<stack>-...; the apply role manages their
            # configuration only (no object reads or writes), and no other bucket:
            # another stack's state included.
            "Sid": "ManageThisEnvironmentsBuckets",
            "Effect": "Allow",
            "Action": list(S3_BUCKET_MANAGEMENT_ACTIONS),
            "Resource": f"arn:{partition}:s3:::{prefix}*",
        },
        {
            "Sid": "ReadAccountWideS3Settings",
            "Effect": "Allow",
            "Action": ["s3:GetAccountPublicAccessBlock", "s3:ListAllMyBuckets"],
            "Resource": "*",
        },
        {
            "Sid": "ManageThisEnvironmentsRolesAndPolicies",
            "Effect": "Allow",
            "Action": list(IAM_MANAGEMENT_ACTIONS),
            "Resource": [
                f"{iam}:role/{prefix}*",
                f"{iam}:policy/{prefix}*",
                f"{iam}:instance-profile/{prefix}*",
            ],
        },
        {
            "Sid": "ReadAwsManagedPolicies",
            "Effect": "Allow",
            "Action": ["iam:GetPolicy", "iam:GetPolicyVersion"],
            "Resource": f"arn:{partition}:iam::aws:policy/*",
        },
        {
            "Sid": "ManageOidcProviders",
            "Effect": "Allow",
            "Action": list(OIDC_PROVIDER_ACTIONS),
            "Resource": f"{iam}:oidc-provider/*",
        },
        {
            # The service-wide grant above includes reading every secret and parameter,
            # sharing snapshots with other accounts and commands on nodes; `pulumi up`
            # needs none of them (components/iam/actions.py) but reading back the secrets
            # it writes, so whoever can run the deploy job gets no data through this role.
            "Sid": "DenyReadingOrSharingData",
            "Effect": "Deny",
            "Action": [a for a in DATA_EXPOSURE_ACTIONS if a != READ_SECRET_VALUE],
            "Resource": "*",
        },
        _secret_value_deny(
            program_secrets_arn(
                partition=partition, account_id=account_id, secret_prefix=secret_prefix
            )
        ),
        {
            "Sid": "CreateServiceLinkedRoles",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": f"{iam}:role/aws-service-role/*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": list(SERVICE_LINKED_ROLE_SERVICES)}},
        },
    ]  # fmt: skip
    if state:
        statements += [
            state.list_statement(),
            {
                "Sid": "ReadBackendMetadata",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"{state.bucket_arn}/.pulumi/meta.yaml",
            },
            {
                "Sid": "WriteThisStacksState",
                "Effect": "Allow",
                "Action": ["s3:DeleteObject", "s3:GetObject", "s3:GetObjectVersion",
                           "s3:PutObject"],
                "Resource": state.objects(),
            },
        ]  # fmt: skip
    if secrets_key_arn:
        statements.append(
            {
                "Sid": "UseStackSecretsKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": secrets_key_arn,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def security_read_document(partition: str, bucket_names: Sequence[str]) -> dict[str, Any]:
    arns = [f"arn:{partition}:s3:::{b}" for b in bucket_names]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListAuditBuckets",
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketVersions"],
                "Resource": arns,
            },
            {
                "Sid": "ReadAuditLogs",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": [f"{a}/*" for a in arns],
            },
        ],
    }


@dataclass(frozen=True)
class ReplicationRoute:
    """One source bucket replicated into one destination bucket (names, not ARNs)."""

    source: str
    destination: str
    #: The source has S3 Object Lock: replication also reads each version's retention
    #: and legal hold, which the replica keeps.
    source_locked: bool = False
    #: The source uses an S3 Bucket Key: its objects' KMS encryption context is then the
    #: bucket's ARN, not the object's (S3 User Guide, "Replicating encrypted objects").
    source_bucket_key: bool = False


def replication_policy_document(
    *,
    partition: str,
    source_region: str,
    destination_region: str,
    routes: Sequence[ReplicationRoute],
    source_key_arn: str,
    replica_key_arn: str,
) -> dict[str, Any]:
    """Inline policy of an S3 replication role, as the S3 User Guide lists it ("Setting
    up permissions for live replication", "Replicating encrypted objects"), for exactly
    the buckets of `routes`: read the sources' replication configuration and object
    versions (and, for locked sources, retention and legal hold), replicate objects (not
    deletes) into the destinations, decrypt with `source_key_arn` and encrypt with
    `replica_key_arn` only through S3 of the bucket's region and only for those buckets'
    encryption context. Replicas are expected without an S3 Bucket Key (with one, the
    role would also need kms:Decrypt on the replica key)."""
    if not routes:
        raise ValueError("a replication role needs at least one route")
    s3 = f"arn:{partition}:s3:::"
    sources = [f"{s3}{r.source}" for r in routes]
    locked = [f"{s3}{r.source}/*" for r in routes if r.source_locked]
    source_contexts = [
        f"{s3}{r.source}" if r.source_bucket_key else f"{s3}{r.source}/*" for r in routes
    ]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadTheSourcesReplicationConfiguration",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": sources,
        },
        {
            "Sid": "ReadTheSourcesObjectVersions",
            "Effect": "Allow",
            "Action": [
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionTagging",
            ],
            "Resource": [f"{a}/*" for a in sources],
        },
    ]
    if locked:
        statements.append(
            {
                "Sid": "ReadTheLockedSourcesRetention",
                "Effect": "Allow",
                "Action": ["s3:GetObjectLegalHold", "s3:GetObjectRetention"],
                "Resource": locked,
            }
        )
    statements += [
        {
            # Objects only: s3:ReplicateDelete is not granted, deletes never reach a replica.
            "Sid": "ReplicateObjectsIntoTheReplicas",
            "Effect": "Allow",
            "Action": "s3:ReplicateObject",
            "Resource": [f"{s3}{r.destination}/*" for r in routes],
        },
        {
            "Sid": "DecryptSourceObjectsThroughS3",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": source_key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{source_region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": source_contexts},
            },
        },
        {
            "Sid": "EncryptReplicasThroughS3",
            "Effect": "Allow",
            "Action": "kms:Encrypt",
            "Resource": replica_key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{destination_region}.amazonaws.com"},
                "StringLike": {
                    "kms:EncryptionContext:aws:s3:arn": [f"{s3}{r.destination}/*" for r in routes]
                },
            },
        },
    ]
    return {"Version": "2012-10-17", "Statement": statements}
