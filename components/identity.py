"""`Identity`: the permission boundary, the role factory, and the roles people and CI use.

Every IAM role Ballast creates is made by one `RoleFactory`, which always attaches the
environment's permission boundary (`ballast-<env>-permission-boundary`) and names the
role `ballast-<env>-...`. The boundary is the ceiling of what any platform role can ever
do, whatever policies are attached to it later:

- it allows only the AWS services the platform uses (`BOUNDARY_SERVICES`, widened per
  stack with `ballast:boundary.extraServices`, a reviewed change);
- it denies IAM user and access-key management, disabling or blinding CloudTrail,
  GuardDuty and Config, deleting the audit trail's evidence, leaving the organisation,
  acting on (or tagging into) another environment's resources, creating a role without
  this boundary, removing or editing the boundary (only the CI apply role may edit it,
  i.e. only through the reviewed pipeline), passing roles that are not this
  environment's platform roles, and any regional action outside the platform's regions.

Trust policies are built only from `Trust` statements, which refuse `*` principals, scope
every service principal to this account (confused-deputy guard) and give every web
identity trust exact `sub` and `aud` conditions.

Keyless CI: a GitHub Actions OIDC provider and two roles per environment, trusted only for
`repo:<org>/<repo>:environment:<env>`: `ci-plan` (read-only, plus this stack's state and
lock) and `ci-apply` (the platform's services, IAM only under this environment's names).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

ROLE_NAME_MAX = 64
#: IAM's limit for a managed policy document, counted without whitespace.
MANAGED_POLICY_MAX_CHARS = 6144
#: IAM's limit for all inline policies of one role together, without whitespace.
INLINE_POLICY_MAX_CHARS = 10240

#: Services the platform's deployment creates and manages, granted service-wide to the CI
#: apply role (their resources have no names known in advance).
DEPLOY_SERVICES: tuple[str, ...] = (
    "acm",
    "autoscaling",
    "backup",
    "backup-storage",
    "cloudtrail",
    "cloudwatch",
    "ec2",
    "ecr",
    "eks",
    "elasticloadbalancing",
    "events",
    "fis",
    "guardduty",
    "kms",
    "logs",
    "rds",
    "route53",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "tag",
    "wafv2",
)
#: Services only workloads and nodes call at run time: token exchange for pods, IAM
#: database auth, SSM sessions to nodes, Karpenter's price lookups, Vault and app storage.
RUNTIME_SERVICES: tuple[str, ...] = (
    "dynamodb",
    "ec2messages",
    "eks-auth",
    "pricing",
    "rds-db",
    "shield",
    "ssmmessages",
    "sts",
)
#: Services the apply role reaches only by name: IAM roles, policies and instance profiles,
#: and S3 buckets, named with the environment's prefix (`ballast-<env>-`).
NAME_SCOPED_SERVICES: tuple[str, ...] = ("iam", "s3")
#: Everything a platform role may ever use (IAM fenced further by the Deny statements).
BOUNDARY_SERVICES: tuple[str, ...] = tuple(
    sorted({*DEPLOY_SERVICES, *RUNTIME_SERVICES, *NAME_SCOPED_SERVICES})
)

#: Actions of global services, or global reads, that a region allowlist must not block
#: (their calls land in us-east-1 whatever the platform's regions are). Shared with the
#: organisation's region SCP.
GLOBAL_SERVICE_ACTIONS: tuple[str, ...] = (
    "account:*",
    "acm:*",
    "aws-portal:*",
    "budgets:*",
    "ce:*",
    "cloudfront:*",
    "config:*",
    "cur:*",
    "directconnect:*",
    "ec2:DescribeRegions",
    "ec2:DescribeTransitGateways",
    "ec2:DescribeVpnGateways",
    "ecr-public:*",
    "fms:*",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "kms:*",
    "networkmanager:*",
    "organizations:*",
    "pricing:*",
    "route53:*",
    "route53domains:*",
    "route53-recovery-cluster:*",
    "route53-recovery-control-config:*",
    "route53-recovery-readiness:*",
    "s3:GetAccountPublic*",
    "s3:ListAllMyBuckets",
    "s3:ListMultiRegionAccessPoints",
    "s3:PutAccountPublic*",
    "shield:*",
    "sts:*",
    "support:*",
    "trustedadvisor:*",
    "waf:*",
    "waf-regional:*",
    "wafv2:*",
)

#: IAM user and credential management: denied outright; people sign in through SSO and
#: pipelines through OIDC, so nothing the platform runs needs a user or an access key.
IAM_USER_ACTIONS: tuple[str, ...] = (
    "iam:AddUserToGroup",
    "iam:AttachUserPolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:CreateUser",
    "iam:DeleteAccessKey",
    "iam:DeleteLoginProfile",
    "iam:DeleteUser",
    "iam:DeleteUserPermissionsBoundary",
    "iam:DeleteUserPolicy",
    "iam:DetachUserPolicy",
    "iam:PutUserPermissionsBoundary",
    "iam:PutUserPolicy",
    "iam:RemoveUserFromGroup",
    "iam:ResetServiceSpecificCredential",
    "iam:UpdateAccessKey",
    "iam:UpdateLoginProfile",
    "iam:UpdateServiceSpecificCredential",
    "iam:UpdateUser",
    "iam:UploadSSHPublicKey",
    "iam:UploadSigningCertificate",
)
#: Turning off (or blinding) the record and the alarms. `guardduty:UpdateDetector` is
#: not here: the DetectorFeature resources need it, and IAM cannot tell an update that
#: disables a detector from one that tunes it (the findings rule still sees the call).
AUDIT_DISABLING_ACTIONS: tuple[str, ...] = (
    "cloudtrail:DeleteTrail",
    "cloudtrail:StopLogging",
    "config:DeleteConfigurationRecorder",
    "config:DeleteDeliveryChannel",
    "config:StopConfigurationRecorder",
    "guardduty:CreateFilter",
    "guardduty:CreateIPSet",
    "guardduty:DeleteDetector",
    "guardduty:DeleteMembers",
    "guardduty:DisassociateFromAdministratorAccount",
    "guardduty:DisassociateFromMasterAccount",
    "guardduty:StopMonitoringMembers",
    "guardduty:UpdateFilter",
    "guardduty:UpdateIPSet",
)
#: Tag carried by the audit trail's keys, log groups and buckets; the boundary denies
#: deleting, disabling or untagging what carries it.
AUDIT_EVIDENCE_TAG = "ballast.io/audit-evidence"
#: The environment tag the provider default tags put on every resource.
ENVIRONMENT_TAG = "environment"

#: Services that assume a role without putting `aws:SourceAccount`/`aws:SourceArn` in the
#: request context, so a trust conditioned on them could never be used: EKS assuming a
#: cluster role (AWS Support, quoted in prowler-cloud/prowler#4745: "EKS services does
#: not support these conditions") and EC2 assuming a node's instance role (the trust the
#: EKS User Guide gives for the node role has no condition). Neither can act for another
#: account: each only assumes a role a principal of this account handed it with
#: iam:PassRole, and the boundary denies passing any role but this environment's. So for
#: these two the guard is PassRole, and `Trust.passed_role` trusts them unconditioned.
PASSED_ROLE_SERVICES: tuple[str, ...] = ("ec2.amazonaws.com", "eks.amazonaws.com")

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE = "sts.amazonaws.com"

#: Service-linked roles the apply role may create on first use of a service.
SERVICE_LINKED_ROLE_SERVICES: tuple[str, ...] = (
    "autoscaling.amazonaws.com",
    "backup.amazonaws.com",
    "eks-nodegroup.amazonaws.com",
    "eks.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "guardduty.amazonaws.com",
    "malware-protection.guardduty.amazonaws.com",
    "rds.amazonaws.com",
    "spot.amazonaws.com",
)
#: What the apply role may do to this environment's roles, policies and instance profiles.
IAM_MANAGEMENT_ACTIONS: tuple[str, ...] = (
    "iam:AddRoleToInstanceProfile",
    "iam:AttachRolePolicy",
    "iam:CreateInstanceProfile",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:CreateRole",
    "iam:DeleteInstanceProfile",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:GetInstanceProfile",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:ListPolicyTags",
    "iam:ListPolicyVersions",
    "iam:ListRolePolicies",
    "iam:ListRoleTags",
    "iam:PassRole",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:SetDefaultPolicyVersion",
    "iam:TagInstanceProfile",
    "iam:TagPolicy",
    "iam:TagRole",
    "iam:UntagInstanceProfile",
    "iam:UntagPolicy",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)
#: Bucket configuration, as the provider creates, reads, updates and deletes it (object
#: data is not included: deploying never reads or writes objects).
S3_BUCKET_MANAGEMENT_ACTIONS: tuple[str, ...] = (
    "s3:CreateBucket",
    "s3:DeleteBucket*",
    "s3:Get*Configuration",
    "s3:GetBucket*",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:Put*Configuration",
    "s3:PutBucket*",
)
OIDC_PROVIDER_ACTIONS: tuple[str, ...] = (
    "iam:AddClientIDToOpenIDConnectProvider",
    "iam:CreateOpenIDConnectProvider",
    "iam:DeleteOpenIDConnectProvider",
    "iam:GetOpenIDConnectProvider",
    "iam:ListOpenIDConnectProviderTags",
    "iam:RemoveClientIDFromOpenIDConnectProvider",
    "iam:TagOpenIDConnectProvider",
    "iam:UntagOpenIDConnectProvider",
    "iam:UpdateOpenIDConnectProviderThumbprint",
)

_WILDCARD = re.compile(r"[*?]")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


# --- names -------------------------------------------------------------------------------


def role_name_prefix(environment: str) -> str:
    """Every platform role's name starts with this; PassRole and IAM reach are scoped to it."""
    return f"ballast-{environment}-"


def boundary_policy_name(environment: str) -> str:
    return f"ballast-{environment}-permission-boundary"


def audit_bucket_prefix(environment: str) -> str:
    """The audit trail's buckets are named with this prefix (the boundary protects them)."""
    return f"ballast-{environment}-audit-"


def physical_role_name(environment: str, resource_name: str) -> str:
    """The IAM name of the role registered as `resource_name`.

    The environment prefix is added unless the resource name has it already; names past
    IAM's 64 characters keep their start and end in a stable hash, so two long names
    never collide and the same program always yields the same name.
    """
    prefix = role_name_prefix(environment)
    name = resource_name if resource_name.startswith(prefix) else prefix + resource_name
    if len(name) <= ROLE_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: ROLE_NAME_MAX - len(digest) - 1]}-{digest}"


def compact_length(document: Mapping[str, Any]) -> int:
    """Characters IAM counts against a policy's size limit (whitespace is not counted)."""
    return len(re.sub(r"\s", "", json.dumps(document, separators=(",", ":"))))


# --- trust ---------------------------------------------------------------------------


def _scoped_principal(value: Any, what: str) -> str:
    text = str(value)
    if _WILDCARD.search(text):
        raise ValueError(f"{what} {text!r} is a wildcard: trust must name one principal")
    return text


def _check_statement(statement: dict[str, Any]) -> dict[str, Any]:
    """Refuse an unscoped trust statement (this runs at deployment, on resolved values)."""
    principal = statement.get("Principal")
    if not isinstance(principal, dict) or not principal:
        raise ValueError(f"a trust statement needs a named principal, not {principal!r}")
    conditions = statement.get("Condition") or {}
    for kind, values in principal.items():
        for value in values if isinstance(values, list) else [values]:
            text = _scoped_principal(value, f"{kind} principal")
            if kind == "AWS" and not text.startswith("arn:"):
                raise ValueError(f"AWS principal {text!r} must be an ARN")
            if kind == "Federated" and ":oidc-provider/" not in text:
                raise ValueError(f"federated principal {text!r} must be an OIDC provider ARN")
    if "Federated" in principal:
        exact = conditions.get("StringEquals", {})
        for claim in ("sub", "aud"):
            keys = [k for k in exact if k.endswith(f":{claim}")]
            if not keys:
                raise ValueError(f"a web identity trust needs an exact {claim!r} condition")
            for key in keys:
                _scoped_principal(exact[key], f"{claim} condition")
    if "Service" in principal and "aws:SourceAccount" not in conditions.get("StringEquals", {}):
        services = principal["Service"]
        services = services if isinstance(services, list) else [services]
        if conditions or not set(services) <= set(PASSED_ROLE_SERVICES):
            raise ValueError("a service trust needs an aws:SourceAccount condition")
    return statement


@dataclass(frozen=True)
class Trust:
    """One statement of a role's trust policy. Build it with a constructor below; the
    role factory accepts nothing else, so no role can trust `*` or an unconditioned
    identity provider."""

    statement: pulumi.Output[dict[str, Any]]

    @classmethod
    def service(
        cls,
        service: str,
        *,
        source_account: pulumi.Input[str],
        source_arn: pulumi.Input[str] | Sequence[pulumi.Input[str]] | None = None,
        source_arn_like: pulumi.Input[str] | None = None,
        actions: Sequence[str] = ("sts:AssumeRole",),
        string_equals: Mapping[str, pulumi.Input[str]] | None = None,
    ) -> Trust:
        """An AWS service acting for this account only (and, given, for the named
        resources: `source_arn` takes one ARN or a list)."""
        if _WILDCARD.search(service) or not service.endswith((".amazonaws.com", ".com.cn")):
            raise ValueError(f"service principal {service!r} must be one AWS service")
        condition: dict[str, Any] = {
            "StringEquals": {"aws:SourceAccount": source_account, **(string_equals or {})}
        }
        if source_arn is not None:
            condition["ArnEquals"] = {"aws:SourceArn": source_arn}
        if source_arn_like is not None:
            condition["ArnLike"] = {"aws:SourceArn": source_arn_like}
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": list(actions) if len(actions) > 1 else actions[0],
            "Condition": condition,
        }
        return cls(pulumi.Output.from_input(statement).apply(_check_statement))

    @classmethod
    def passed_role(cls, service: str) -> Trust:
        """One of `PASSED_ROLE_SERVICES` (EKS for a cluster role, EC2 for a node role),
        which send no source context to condition on: the role is only ever assumed after
        a principal of this account passed it (iam:PassRole)."""
        if service not in PASSED_ROLE_SERVICES:
            raise ValueError(
                f"{service!r} sends aws:SourceAccount; use Trust.service with a condition"
            )
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
        }
        return cls(pulumi.Output.from_input(statement).apply(_check_statement))

    @classmethod
    def web_identity(
        cls,
        *,
        provider_arn: pulumi.Input[str],
        issuer: pulumi.Input[str],
        subject: pulumi.Input[str],
        audience: pulumi.Input[str] = STS_AUDIENCE,
    ) -> Trust:
        """Tokens of one OIDC issuer whose `sub` and `aud` equal these values exactly."""

        def build(values: list[Any]) -> dict[str, Any]:
            arn, url, sub, aud = values
            host = re.sub(r"^https://", "", str(url)).rstrip("/")
            return {
                "Effect": "Allow",
                "Principal": {"Federated": arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{host}:sub": sub, f"{host}:aud": aud}},
            }

        statement = pulumi.Output.all(provider_arn, issuer, subject, audience).apply(build)
        return cls(statement.apply(_check_statement))

    @classmethod
    def principals(cls, arns: Sequence[pulumi.Input[str]], *, require_mfa: bool = False) -> Trust:
        """Named IAM principals (roles, users, or an account root with `require_mfa`)."""
        if not arns:
            raise ValueError("a principal trust needs at least one ARN")
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": list(arns)},
            "Action": "sts:AssumeRole",
        }
        if require_mfa:
            statement["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        return cls(pulumi.Output.from_input(statement).apply(_check_statement))


def trust_policy(trusts: Sequence[Trust]) -> pulumi.Output[str]:
    if not trusts or not all(isinstance(t, Trust) for t in trusts):
        raise TypeError("a role's trust must be a non-empty list of Trust statements")
    return pulumi.Output.json_dumps(
        {"Version": "2012-10-17", "Statement": [t.statement for t in trusts]}
    )


def irsa_subject(namespace: str, service_account: str) -> str:
    """The `sub` claim of a Kubernetes service account token."""
    for what, value in (("namespace", namespace), ("service account", service_account)):
        if not _K8S_NAME.fullmatch(value):
            raise ValueError(
                f"{what} {value!r} must be a Kubernetes name: lowercase letters, digits, "
                "'-' and '.', no wildcards"
            )
    return f"system:serviceaccount:{namespace}:{service_account}"


def github_subject(repository: str, environment: str) -> str:
    """The `sub` claim GitHub issues to a job that runs in `environment`."""
    return f"repo:{repository}:environment:{environment}"


# --- the factory ---------------------------------------------------------------------


class RoleFactory:
    """Creates every Ballast role, always with the environment's permission boundary.

    Components take a `RoleFactory` argument instead of creating `aws.iam.Role`
    themselves; the factory names the role `ballast-<env>-...`, attaches the boundary,
    and accepts trust only as `Trust` statements.
    """

    def __init__(
        self,
        *,
        environment: str,
        boundary_arn: pulumi.Input[str],
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self.environment = environment
        self.boundary_arn = boundary_arn
        self._tags = dict(tags or {})

    @property
    def name_prefix(self) -> str:
        return role_name_prefix(self.environment)

    def role_name(self, resource_name: str) -> str:
        return physical_role_name(self.environment, resource_name)

    def role(
        self,
        resource_name: str,
        *,
        parent: pulumi.Resource,
        trust: Sequence[Trust],
        description: str,
        inline_policies: Mapping[str, pulumi.Input[str]] | None = None,
        managed_policy_arns: Sequence[pulumi.Input[str]] = (),
        max_session_duration: int = 3600,
        tags: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> aws.iam.Role:
        """A role named from `resource_name`, with the boundary, `trust`, the given inline
        policies (one `RolePolicy` each) and managed policy attachments."""
        child = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=parent), opts)
        role = aws.iam.Role(
            resource_name,
            name=self.role_name(resource_name),
            description=description,
            assume_role_policy=trust_policy(trust),
            permissions_boundary=self.boundary_arn,
            max_session_duration=max_session_duration,
            # Policies attached outside Pulumi would block a delete or replacement.
            force_detach_policies=True,
            tags={**self._tags, **(tags or {}), "Name": self.role_name(resource_name)},
            opts=child,
        )
        for policy_name, document in (inline_policies or {}).items():
            aws.iam.RolePolicy(
                f"{resource_name}-{policy_name}",
                name=policy_name,
                role=role.id,
                policy=document,
                opts=pulumi.ResourceOptions(parent=parent),
            )
        for index, policy_arn in enumerate(managed_policy_arns):
            aws.iam.RolePolicyAttachment(
                f"{resource_name}-managed-{index}",
                role=role.name,
                policy_arn=policy_arn,
                opts=pulumi.ResourceOptions(parent=parent),
            )
        return role

    def irsa_role(
        self,
        resource_name: str,
        *,
        parent: pulumi.Resource,
        oidc_provider_arn: pulumi.Input[str],
        oidc_issuer_url: pulumi.Input[str],
        namespace: str,
        service_account: str,
        description: str,
        **kwargs: Any,
    ) -> aws.iam.Role:
        """A role for one Kubernetes service account through IRSA: the cluster's OIDC
        provider may issue it only for `system:serviceaccount:<namespace>:<name>` tokens
        addressed to STS."""
        trust = Trust.web_identity(
            provider_arn=oidc_provider_arn,
            issuer=oidc_issuer_url,
            subject=irsa_subject(namespace, service_account),
        )
        return self.role(
            resource_name, parent=parent, trust=[trust], description=description, **kwargs
        )

    def pod_identity_role(
        self,
        resource_name: str,
        *,
        parent: pulumi.Resource,
        account_id: pulumi.Input[str],
        cluster_name: pulumi.Input[str],
        cluster_arn: pulumi.Input[str],
        namespace: str,
        service_account: str,
        description: str,
        **kwargs: Any,
    ) -> tuple[aws.iam.Role, aws.eks.PodIdentityAssociation]:
        """A role for one service account through EKS Pod Identity, and its association.

        The trust takes the EKS Pod Identity service of this account, and requires the
        session tags EKS sets on every assumption (`eks-cluster-arn`,
        `kubernetes-namespace`, `kubernetes-service-account`) to name this cluster and
        service account, so no other association can use the role (the EKS user guide's
        "Create IAM role with trust policy required by EKS Pod Identity").
        """
        irsa_subject(namespace, service_account)  # the same name rules
        trust = Trust.service(
            "pods.eks.amazonaws.com",
            source_account=account_id,
            actions=("sts:AssumeRole", "sts:TagSession"),
            string_equals={
                "aws:RequestTag/eks-cluster-arn": cluster_arn,
                "aws:RequestTag/kubernetes-namespace": namespace,
                "aws:RequestTag/kubernetes-service-account": service_account,
            },
        )
        role = self.role(
            resource_name, parent=parent, trust=[trust], description=description, **kwargs
        )
        association = aws.eks.PodIdentityAssociation(
            resource_name,
            cluster_name=cluster_name,
            namespace=namespace,
            service_account=service_account,
            role_arn=role.arn,
            disable_session_tags=False,
            tags={**self._tags, **(kwargs.get("tags") or {})},
            opts=pulumi.ResourceOptions(parent=parent),
        )
        return role, association


# --- policy documents (pure functions of plain values, so tests can read them) ---------


@dataclass(frozen=True)
class BoundaryInputs:
    environment: str
    partition: str
    account_id: str
    regions: tuple[str, ...]
    services: tuple[str, ...]
    boundary_arn: str
    apply_role_arn: str | None
    security_role_arn: str
    audit_bucket_prefix: str


def boundary_document(b: BoundaryInputs) -> dict[str, Any]:
    """The permission boundary: one Allow for the platform's services, then the Denies."""
    iam = f"arn:{b.partition}:iam::{b.account_id}"
    platform_roles = f"{iam}:role/{role_name_prefix(b.environment)}*"
    editing: dict[str, Any] = {
        "Sid": "DenyEditingTheBoundaryOutsideThePipeline",
        "Effect": "Deny",
        "Action": [
            "iam:CreatePolicyVersion",
            "iam:DeletePolicy",
            "iam:DeletePolicyVersion",
            "iam:SetDefaultPolicyVersion",
        ],
        "Resource": b.boundary_arn,
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
                "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": b.boundary_arn}},
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
                # The security-audit role is exempt: it must see what happens in every
                # region (an intruder's instances in an unused region, for one).
                "Sid": "DenyRegionsOutsideThePlatform",
                "Effect": "Deny",
                "NotAction": list(GLOBAL_SERVICE_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:RequestedRegion": list(b.regions)},
                    "ArnNotEquals": {"aws:PrincipalArn": b.security_role_arn},
                },
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


def plan_policy_document(
    *, partition: str, state: StateAccess | None, secrets_key_arn: str | None
) -> dict[str, Any]:
    """Inline policy of the plan role, on top of AWS's ReadOnlyAccess: this stack's state
    and lock, the secrets key, and no reading of data (object contents, secret values)."""
    statements: list[dict[str, Any]] = []
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
        {
            "Sid": "DenyReadingSecretValues",
            "Effect": "Deny",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": "*",
        },
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
    environment: str,
    partition: str,
    account_id: str,
    services: Sequence[str],
    state: StateAccess | None,
    secrets_key_arn: str | None,
) -> dict[str, Any]:
    """Inline policy of the apply role: the deploy-time services (`DEPLOY_SERVICES` plus
    the stack's extra services) service-wide, and IAM and S3 only for this environment's
    names. The boundary caps it further."""
    iam = f"arn:{partition}:iam::{account_id}"
    prefix = role_name_prefix(environment)
    statements: list[dict[str, Any]] = [
        {
            # Service-wide: the platform manages hundreds of resource types whose ARNs
            # are not known before they exist. The boundary's Denies and region fence
            # apply on top; the reviewed pipeline is the only caller.
            "Sid": "DeployThePlatformServices",
            "Effect": "Allow",
            "Action": [f"{s}:*" for s in services if s not in NAME_SCOPED_SERVICES],
            "Resource": "*",
        },
        {
            # Platform buckets are named ballast-<env>-...; the apply role manages their
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


# --- the component -----------------------------------------------------------------------


@dataclass(kw_only=True)
class GitHubCiArgs:
    """Keyless CI from one GitHub repository."""

    repository: str
    """'org/repo' whose workflows may deploy (required)."""

    environment: str
    """GitHub environment trusted by the apply role (required); protect it with
    required reviewers where deploys need approval."""

    plan_environment: str
    """GitHub environment trusted by the plan role (required; often the same as
    `environment`, or an ungated `<env>-preview` so pull-request previews need no
    approval: the plan role cannot change anything)."""

    oidc_provider_arn: str | None = None
    """An existing GitHub OIDC provider (default None: create one). One account holds
    one provider per issuer, so stacks sharing an account share it."""

    state_bucket: str | None = None
    """S3 bucket of the DIY state backend (default None: e.g. Pulumi Cloud, no AWS access
    needed). The roles reach only this stack's state paths."""

    state_project: str = "ballast"
    """Pulumi project name in the state paths (default 'ballast')."""

    state_stack: str = ""
    """Stack name in the state paths (default: the environment)."""

    secrets_key_arn: str | None = None
    """KMS key of an awskms:// secrets provider (default None)."""


@dataclass(kw_only=True)
class IdentityArgs:
    """Inputs of `Identity`."""

    environment: str
    """Environment name (required): prefixes every role and names the boundary."""

    regions: Sequence[str]
    """The platform's regions (required): the boundary denies regional actions elsewhere.
    A region added later must be added here first, or its deployment is refused."""

    extra_services: Sequence[str] = ()
    """Service prefixes allowed on top of `BOUNDARY_SERVICES` (default none). Each one
    widens what every platform role could ever do; it is a reviewed change."""

    github: GitHubCiArgs | None = None
    """Keyless CI (default None: no OIDC provider and no CI roles; pipelines would then
    need other credentials, which the boundary's user/key deny makes awkward on purpose)."""

    security_principal_arns: Sequence[str] = ()
    """Who may assume the security-audit role, the only role that can decrypt the audit
    trail (default: principals of this account signed in with MFA)."""

    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every resource of the component (default none; the provider's default tags
    apply on top)."""


class Identity(pulumi.ComponentResource):
    """The boundary, the role factory, the security-audit role and the CI roles.

    Outputs: `boundary_arn`, `boundary_name`, `roles` (the `RoleFactory` every later
    component takes), `security_role_arn`, `security_role_name`, `github_oidc_provider_arn`,
    `ci_plan_role_arn`, `ci_apply_role_arn` (None without `github`), `audit_bucket_prefix`,
    `account_id`, `partition`.
    """

    def __init__(
        self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Identity", name, None, opts)
        self._name = name
        env = args.environment
        tags = dict(args.tags)
        invoke = pulumi.InvokeOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=invoke)
        part = aws.get_partition_output(opts=invoke)
        self.account_id: pulumi.Output[str] = caller.account_id
        self.partition: pulumi.Output[str] = part.partition
        self.audit_bucket_prefix = audit_bucket_prefix(env)
        self.boundary_name = boundary_policy_name(env)

        apply_name = f"{name}-ci-apply"
        security_name = f"{name}-security-audit"
        services = tuple(sorted({*BOUNDARY_SERVICES, *args.extra_services}))

        def arn_of(path: str) -> pulumi.Output[str]:
            return pulumi.Output.format(
                "arn:{0}:iam::{1}:{2}", self.partition, self.account_id, path
            )

        boundary_arn = arn_of(f"policy/{self.boundary_name}")
        apply_arn = arn_of(f"role/{physical_role_name(env, apply_name)}") if args.github else None
        security_arn = arn_of(f"role/{physical_role_name(env, security_name)}")

        def render_boundary(values: list[Any]) -> str:
            partition, account, own_arn, apply_role, security_role = values
            document = boundary_document(
                BoundaryInputs(
                    environment=env,
                    partition=partition,
                    account_id=account,
                    regions=tuple(args.regions),
                    services=services,
                    boundary_arn=own_arn,
                    apply_role_arn=apply_role,
                    security_role_arn=security_role,
                    audit_bucket_prefix=self.audit_bucket_prefix,
                )
            )
            _fits(document, MANAGED_POLICY_MAX_CHARS, self.boundary_name)
            return json.dumps(document)

        boundary = aws.iam.Policy(
            f"{name}-permission-boundary",
            name=self.boundary_name,
            description=(
                f"Ballast {env}: the most any platform role may do. Widen it only through "
                "a reviewed change to ballast:boundary."
            ),
            policy=pulumi.Output.all(
                self.partition, self.account_id, boundary_arn, apply_arn, security_arn
            ).apply(render_boundary),
            tags={**tags, "Name": self.boundary_name},
            opts=pulumi.ResourceOptions(parent=self),
        )  # fmt: skip
        self.boundary_arn: pulumi.Output[str] = boundary.arn
        self.roles = RoleFactory(environment=env, boundary_arn=boundary.arn, tags=tags)

        # The only principal the audit trail's key lets decrypt.
        root = arn_of("root")
        trusted = list(args.security_principal_arns)
        security = self.roles.role(
            security_name,
            parent=self,
            trust=[
                Trust.principals(trusted) if trusted else Trust.principals([root], require_mfa=True)
            ],
            description=f"Ballast {env}: security team's read-only audit role; decrypts the trail",
            managed_policy_arns=[
                pulumi.Output.format("arn:{0}:iam::aws:policy/SecurityAudit", self.partition)
            ],
        )  # fmt: skip
        self.security_role_arn: pulumi.Output[str] = security.arn
        self.security_role_name: pulumi.Output[str] = security.name

        self.github_oidc_provider_arn: pulumi.Output[str] | None = None
        self.ci_plan_role_arn: pulumi.Output[str] | None = None
        self.ci_apply_role_arn: pulumi.Output[str] | None = None
        if args.github:
            deploy = tuple(sorted({*DEPLOY_SERVICES, *NAME_SCOPED_SERVICES, *args.extra_services}))
            self._ci(args, args.github, deploy, apply_name)

        self.register_outputs(
            {
                "boundaryArn": self.boundary_arn,
                "securityRoleArn": self.security_role_arn,
                "githubOidcProviderArn": self.github_oidc_provider_arn,
                "ciPlanRoleArn": self.ci_plan_role_arn,
                "ciApplyRoleArn": self.ci_apply_role_arn,
            }
        )

    def _ci(
        self,
        args: IdentityArgs,
        github: GitHubCiArgs,
        services: Sequence[str],
        apply_name: str,
    ) -> None:
        name, env = self._name, args.environment
        if github.oidc_provider_arn:
            provider_arn: pulumi.Output[str] = pulumi.Output.from_input(github.oidc_provider_arn)
        else:
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-github",
                url=GITHUB_OIDC_URL,
                # AWS trusts GitHub's certificate through its own CA store: no thumbprint.
                client_id_lists=[STS_AUDIENCE],
                tags={**args.tags, "Name": f"{name}-github"},
                opts=pulumi.ResourceOptions(parent=self),
            )
            provider_arn = provider.arn
        self.github_oidc_provider_arn = provider_arn

        def state_of(partition: str) -> StateAccess | None:
            if not github.state_bucket:
                return None
            return StateAccess(
                partition, github.state_bucket, github.state_project, github.state_stack or env
            )

        def render(build: Callable[[str, str], dict[str, Any]], label: str):
            def run(values: list[Any]) -> str:
                document = build(*values)
                _fits(document, INLINE_POLICY_MAX_CHARS, label)
                return json.dumps(document)

            return pulumi.Output.all(self.partition, self.account_id).apply(run)

        plan = self.roles.role(
            f"{name}-ci-plan",
            parent=self,
            trust=[
                Trust.web_identity(
                    provider_arn=provider_arn,
                    issuer=GITHUB_OIDC_URL,
                    subject=github_subject(github.repository, github.plan_environment),
                )
            ],
            description=f"Ballast {env}: pulumi preview and drift checks from GitHub Actions",
            managed_policy_arns=[
                pulumi.Output.format("arn:{0}:iam::aws:policy/ReadOnlyAccess", self.partition)
            ],
            inline_policies={
                "state-and-no-data": render(
                    lambda p, _a: plan_policy_document(
                        partition=p, state=state_of(p), secrets_key_arn=github.secrets_key_arn
                    ),
                    f"{name}-ci-plan",
                )
            },
        )
        apply = self.roles.role(
            apply_name,
            parent=self,
            trust=[
                Trust.web_identity(
                    provider_arn=provider_arn,
                    issuer=GITHUB_OIDC_URL,
                    subject=github_subject(github.repository, github.environment),
                )
            ],
            description=f"Ballast {env}: pulumi up from GitHub Actions (the reviewed pipeline)",
            # Creating a cluster and a database in one run can pass an hour.
            max_session_duration=7200,
            inline_policies={
                "deploy": render(
                    lambda p, a: apply_policy_document(
                        environment=env,
                        partition=p,
                        account_id=a,
                        services=services,
                        state=state_of(p),
                        secrets_key_arn=github.secrets_key_arn,
                    ),
                    apply_name,
                )
            },
        )
        self.ci_plan_role_arn = plan.arn
        self.ci_apply_role_arn = apply.arn


def _fits(document: Mapping[str, Any], limit: int, label: str) -> None:
    size = compact_length(document)
    if size > limit:
        raise ValueError(
            f"{label}: the policy is {size} characters, over IAM's limit of {limit}; "
            "shorten it before deploying"
        )
