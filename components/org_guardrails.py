"""`OrgGuardrails`: service control policies for the organisation (optional, off by default).

SCPs bind every principal of the member accounts they are attached to, root users
included, which no permission boundary can do. They are managed from the organisation's
*management account*, so this component runs only in an organization stack
(`ballast:stackKind: organization`, see `stacks/Pulumi.org.yaml.example`), deployed with
management-account credentials; the platform stacks never touch the organisation.

Two policies, so that each target keeps room under AWS's limit of five SCPs per target
(FullAWSAccess takes one):

- `<name>-baseline`: deny leaving the organisation; deny stopping or deleting CloudTrail,
  GuardDuty and Config (and muting GuardDuty with filters or trusted IP lists); deny
  creating IAM access keys; deny public S3 ACLs (canned ACLs and grants to everyone).
- `<name>-regions`: deny every action outside the allowed regions, except the global
  services (IAM, STS, Organizations, Route 53, CloudFront, ...), whose calls land in
  us-east-1 whatever the regions are.

SCPs do not apply to the management account itself, nor to service-linked roles.
Break-glass roles can be exempted by ARN pattern.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from components.config import OrgGuardrailsConfig
from components.iam import AUDIT_DISABLING_ACTIONS, GLOBAL_SERVICE_ACTIONS, compact_length

#: AWS's limit for one SCP document (whitespace not counted).
SCP_MAX_CHARS = 5120
#: AWS's limit of SCPs directly attached to one root, OU or account.
SCPS_PER_TARGET = 5
#: Canned ACLs that open a bucket or object to the world (or to every AWS account).
PUBLIC_CANNED_ACLS = ("authenticated-read", "public-read", "public-read-write")
#: Grantee URIs of the everyone and any-AWS-account groups.
PUBLIC_GRANTEES = (
    "*acs.amazonaws.com/groups/global/AllUsers*",
    "*acs.amazonaws.com/groups/global/AuthenticatedUsers*",
)
S3_ACL_ACTIONS = (
    "s3:CreateBucket",
    "s3:PutBucketAcl",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
)
S3_GRANT_HEADERS = ("read", "read-acp", "write", "write-acp", "full-control")


def _exempting(statement: dict[str, Any], exempt: Sequence[str]) -> dict[str, Any]:
    if exempt:
        condition = dict(statement.get("Condition", {}))
        condition["ArnNotLike"] = {"aws:PrincipalARN": list(exempt)}
        statement = {**statement, "Condition": condition}
    return statement


def baseline_scp(exempt: Sequence[str] = ()) -> dict[str, Any]:
    """Leaving the organisation, blinding the audit trail, access keys, public S3 ACLs."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyLeavingTheOrganization",
            "Effect": "Deny",
            "Action": "organizations:LeaveOrganization",
            "Resource": "*",
        },
        {
            "Sid": "DenyDisablingCloudTrailGuardDutyConfig",
            "Effect": "Deny",
            "Action": list(AUDIT_DISABLING_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "DenyIamAccessKeys",
            "Effect": "Deny",
            "Action": "iam:CreateAccessKey",
            "Resource": "*",
        },
        {
            "Sid": "DenyS3PublicCannedAcls",
            "Effect": "Deny",
            "Action": list(S3_ACL_ACTIONS),
            "Resource": "*",
            "Condition": {"StringEquals": {"s3:x-amz-acl": list(PUBLIC_CANNED_ACLS)}},
        },
    ]
    # A statement per grant header: keys within one condition block are ANDed.
    for header in S3_GRANT_HEADERS:
        statements.append(
            {
                "Sid": "DenyS3PublicGrant" + header.title().replace("-", ""),
                "Effect": "Deny",
                "Action": list(S3_ACL_ACTIONS),
                "Resource": "*",
                "Condition": {"StringLike": {f"s3:x-amz-grant-{header}": list(PUBLIC_GRANTEES)}},
            }
        )
    return {
        "Version": "2012-10-17",
        "Statement": [_exempting(s, exempt) for s in statements],
    }


def region_scp(allowed_regions: Sequence[str], exempt: Sequence[str] = ()) -> dict[str, Any]:
    """Deny regional actions outside `allowed_regions`; global services stay usable."""
    statement = {
        "Sid": "DenyRegionsOutsideTheAllowlist",
        "Effect": "Deny",
        "NotAction": list(GLOBAL_SERVICE_ACTIONS),
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": list(allowed_regions)}},
    }
    return {"Version": "2012-10-17", "Statement": [_exempting(statement, exempt)]}


@dataclass(kw_only=True)
class OrgGuardrailsArgs:
    """Inputs of `OrgGuardrails`."""

    settings: OrgGuardrailsConfig
    """The validated `ballast:orgGuardrails` section: the OUs or root to attach to, the
    allowed regions, the exempt principals. Their trade-offs are documented there
    (docs/configuration.md)."""

    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the policies (default none; provider default tags apply on top)."""


class OrgGuardrails(pulumi.ComponentResource):
    """The two SCPs and one attachment per policy and target.

    Outputs: `policy_ids` (name -> SCP ID), `target_ids`.
    """

    #: Stack outputs (export name -> attribute); `__main__.py` exports them.
    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "scpIds": "policy_ids",
        "scpTargetIds": "target_ids",
    }

    def __init__(
        self, name: str, args: OrgGuardrailsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:OrgGuardrails", name, None, opts)
        settings = args.settings
        exempt = list(settings.exempt_principal_arns)
        documents = {
            "baseline": (
                "Deny leaving the organization, disabling CloudTrail/GuardDuty/Config, "
                "IAM access keys and public S3 ACLs",
                baseline_scp(exempt),
            ),
            "regions": (
                f"Deny regional actions outside {', '.join(settings.allowed_regions)}",
                region_scp(settings.allowed_regions, exempt),
            ),
        }
        self.policy_ids: dict[str, pulumi.Output[str]] = {}
        for suffix, (description, document) in documents.items():
            size = compact_length(document)
            if size > SCP_MAX_CHARS:
                raise ValueError(
                    f"{name}-{suffix}: the SCP is {size} characters, over AWS's limit of "
                    f"{SCP_MAX_CHARS}"
                )
            policy = aws.organizations.Policy(
                f"{name}-{suffix}",
                name=f"{name}-{suffix}",
                description=description,
                type="SERVICE_CONTROL_POLICY",
                content=json.dumps(document),
                tags={**args.tags, "Name": f"{name}-{suffix}"},
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.policy_ids[suffix] = policy.id
            for target in settings.target_ids:
                aws.organizations.PolicyAttachment(
                    f"{name}-{suffix}-{target}",
                    policy_id=policy.id,
                    target_id=target,
                    opts=pulumi.ResourceOptions(parent=self),
                )
        self.target_ids = list(settings.target_ids)
        self.register_outputs({"policyIds": self.policy_ids, "targetIds": self.target_ids})
