"""The organisation's service control policies, and the management account's own stack."""

from __future__ import annotations

import json
import shutil

import pulumi
import pulumi_aws as aws
import pytest

from ballast.offline import list_stacks, load_stack_config, run_component, run_stack
from ballast.offline.stack_config import load_project
from components.config import OrgGuardrailsConfig
from components.iam import AUDIT_DISABLING_ACTIONS, compact_length
from components.org_guardrails import (
    SCP_MAX_CHARS,
    SCPS_PER_TARGET,
    OrgGuardrails,
    OrgGuardrailsArgs,
    baseline_scp,
    region_scp,
)
from tests.conftest import ROOT
from tests.iam_eval import DENY, IMPLICIT_DENY, evaluate
from tests.tokens import SCP, SCP_ATTACHMENT

REGIONS = ["us-east-1", "us-west-2"]
BREAK_GLASS = "arn:aws:iam::*:role/BreakGlassAdmin"
ALL_USERS = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'


def test_every_statement_is_a_deny_and_each_scp_fits():
    for document in (baseline_scp([BREAK_GLASS]), region_scp(REGIONS, [BREAK_GLASS])):
        assert {s["Effect"] for s in document["Statement"]} == {"Deny"}
        assert compact_length(document) <= SCP_MAX_CHARS
    # The longest allowlist AWS could need still fits.
    many = [f"xx-region-{i}" for i in range(40)]
    assert compact_length(region_scp(many, [BREAK_GLASS] * 3)) <= SCP_MAX_CHARS


BASELINE_CASES = [
    # (action, context, expected)
    ("organizations:LeaveOrganization", {}, DENY),
    ("cloudtrail:StopLogging", {}, DENY),
    ("cloudtrail:DeleteTrail", {}, DENY),
    ("guardduty:DeleteDetector", {}, DENY),
    ("guardduty:DisassociateFromAdministratorAccount", {}, DENY),
    ("config:StopConfigurationRecorder", {}, DENY),
    ("config:DeleteDeliveryChannel", {}, DENY),
    ("iam:CreateAccessKey", {}, DENY),
    ("s3:PutBucketAcl", {"s3:x-amz-acl": "public-read"}, DENY),
    ("s3:PutObject", {"s3:x-amz-acl": "public-read-write"}, DENY),
    ("s3:PutObjectAcl", {"s3:x-amz-acl": "authenticated-read"}, DENY),
    ("s3:PutObjectAcl", {"s3:x-amz-grant-read": ALL_USERS}, DENY),
    ("s3:PutBucketAcl", {"s3:x-amz-grant-full-control": ALL_USERS}, DENY),
    ("s3:PutObject", {"s3:x-amz-acl": "bucket-owner-full-control"}, IMPLICIT_DENY),
    ("s3:PutBucketAcl", {"s3:x-amz-acl": "private"}, IMPLICIT_DENY),
    ("s3:PutObject", {}, IMPLICIT_DENY),
    ("cloudtrail:CreateTrail", {}, IMPLICIT_DENY),
    ("iam:CreateRole", {}, IMPLICIT_DENY),
]


@pytest.mark.parametrize(("action", "context", "expected"), BASELINE_CASES)
def test_what_the_baseline_scp_denies(action, context, expected):
    assert evaluate(baseline_scp(), action, "*", context) == expected


def test_the_baseline_covers_the_same_audit_actions_as_the_boundary():
    (statement,) = [
        s
        for s in baseline_scp()["Statement"]
        if s["Sid"] == "DenyDisablingCloudTrailGuardDutyConfig"
    ]
    assert statement["Action"] == list(AUDIT_DISABLING_ACTIONS)


REGION_CASES = [
    ("ec2:RunInstances", {"aws:RequestedRegion": "us-east-1"}, IMPLICIT_DENY),
    ("ec2:RunInstances", {"aws:RequestedRegion": "us-west-2"}, IMPLICIT_DENY),
    ("ec2:RunInstances", {"aws:RequestedRegion": "ap-southeast-2"}, DENY),
    ("rds:CreateDBInstance", {"aws:RequestedRegion": "eu-west-1"}, DENY),
    # Global services answer from us-east-1 whatever the allowlist says.
    ("iam:CreateRole", {"aws:RequestedRegion": "ap-southeast-2"}, IMPLICIT_DENY),
    ("sts:AssumeRole", {"aws:RequestedRegion": "eu-west-1"}, IMPLICIT_DENY),
    ("route53:ChangeResourceRecordSets", {"aws:RequestedRegion": "eu-west-1"}, IMPLICIT_DENY),
    ("organizations:DescribeOrganization", {"aws:RequestedRegion": "eu-west-1"}, IMPLICIT_DENY),
    ("s3:ListAllMyBuckets", {"aws:RequestedRegion": "eu-west-1"}, IMPLICIT_DENY),
    ("s3:CreateBucket", {"aws:RequestedRegion": "eu-west-1"}, DENY),
]


@pytest.mark.parametrize(("action", "context", "expected"), REGION_CASES)
def test_what_the_region_scp_denies(action, context, expected):
    assert evaluate(region_scp(REGIONS), action, "*", context) == expected


def test_break_glass_roles_are_exempt_and_nobody_else():
    break_glass = {"aws:PrincipalARN": "arn:aws:iam::111111111111:role/BreakGlassAdmin"}
    someone = {"aws:PrincipalARN": "arn:aws:iam::111111111111:role/Developer"}
    baseline = baseline_scp([BREAK_GLASS])
    regions = region_scp(REGIONS, [BREAK_GLASS])
    assert evaluate(baseline, "cloudtrail:StopLogging", "*", break_glass) == IMPLICIT_DENY
    assert evaluate(baseline, "cloudtrail:StopLogging", "*", someone) == DENY
    far = {"aws:RequestedRegion": "eu-west-1"}
    assert evaluate(regions, "ec2:RunInstances", "*", {**far, **break_glass}) == IMPLICIT_DENY
    assert evaluate(regions, "ec2:RunInstances", "*", {**far, **someone}) == DENY
    assert all(
        "Condition" not in s or "ArnNotLike" not in s["Condition"]
        for s in baseline_scp()["Statement"]
    )


def test_the_component_attaches_both_scps_to_every_target():
    targets = ["ou-ab12-workload1", "ou-ab12-sandbox01"]

    def program():
        provider = aws.Provider("management", region="us-east-1")
        OrgGuardrails(
            "org-scp",
            OrgGuardrailsArgs(
                settings=OrgGuardrailsConfig(target_ids=targets, allowed_regions=REGIONS),
                tags={"service": "org-guardrails", "tier": "tier-1"},
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    run = run_component(program)
    policies = run.of_type(SCP)
    assert sorted(p.inputs["name"] for p in policies) == ["org-scp-baseline", "org-scp-regions"]
    assert {p.inputs["type"] for p in policies} == {"SERVICE_CONTROL_POLICY"}
    # Two of ours plus FullAWSAccess stay under AWS's five SCPs per target.
    assert len(policies) + 1 <= SCPS_PER_TARGET
    attachments = {
        (a.inputs["policyId"], a.inputs["targetId"]) for a in run.of_type(SCP_ATTACHMENT)
    }
    assert attachments == {(p.id, t) for p in policies for t in targets}
    regions = next(p for p in policies if p.inputs["name"].endswith("-regions"))
    (statement,) = json.loads(regions.inputs["content"])["Statement"]
    assert statement["Condition"]["StringNotEquals"] == {"aws:RequestedRegion": REGIONS}


@pytest.fixture(scope="module")
def organization_run(tmp_path_factory):
    """The shipped example, copied to a project as stacks/Pulumi.org.yaml and run."""
    root = tmp_path_factory.mktemp("org-project")
    shutil.copy(ROOT / "Pulumi.yaml", root)
    shutil.copy(ROOT / "__main__.py", root)
    shutil.copytree(
        ROOT / "components", root / "components", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "stacks").mkdir()
    shutil.copy(ROOT / "stacks" / "Pulumi.org.yaml.example", root / "stacks" / "Pulumi.org.yaml")
    return run_stack(load_stack_config(load_project(root), "org"))


def test_the_organization_stack_manages_only_the_scps(organization_run):
    run = organization_run
    custom = {r.type for r in run.resources if r.custom and not r.is_provider}
    assert custom == {SCP, SCP_ATTACHMENT}
    assert run.outputs["stackKind"] == "organization"
    policies = run.of_type(SCP)
    assert run.outputs["scpIds"] == {p.inputs["name"].rsplit("-", 1)[1]: p.id for p in policies}
    assert run.outputs["scpTargetIds"] == ["ou-ab12-workload1"]
    for policy in policies:
        for statement in json.loads(policy.inputs["content"])["Statement"]:
            assert statement["Condition"]["ArnNotLike"] == {"aws:PrincipalARN": [BREAK_GLASS]}
        assert policy.inputs["tags"] == {
            "service": "org-guardrails",
            "tier": "tier-1",
            "Name": policy.inputs["name"],
        }
    (provider,) = [r for r in run.resources if r.is_provider]
    tags = provider.inputs["defaultTags"]
    tags = json.loads(tags) if isinstance(tags, str) else tags
    assert tags["tags"]["environment"] == "prod"


def test_guardrails_are_off_in_the_shipped_platform_stacks():
    assert "org" not in list_stacks(load_project(ROOT))
    for stack in ("dev", "staging", "prod"):
        config = load_stack_config(load_project(ROOT), stack).config
        assert "ballast:orgGuardrails" not in config
        assert config.get("ballast:stackKind", "platform") == "platform"
