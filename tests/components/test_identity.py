"""The permission boundary, the role factory and the keyless CI roles, asserted on the
recorded resource graph and evaluated with a small IAM evaluator (tests/iam_eval.py)."""

from __future__ import annotations

import functools
import json

import pulumi
import pulumi_aws as aws
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ballast import iam_catalogue
from ballast.offline import ProgramError, run_component
from ballast.offline.mocks import DEFAULT_ACCOUNT_ID
from components.config import BoundaryConfig, CiConfig
from components.iam import (
    BOUNDARY_SERVICES,
    DATA_EXPOSURE_ACTIONS,
    DEPLOY_SERVICES,
    GITHUB_OIDC_HOST,
    GLOBAL_SERVICE_ACTIONS,
    INLINE_POLICY_MAX_CHARS,
    MANAGED_POLICY_MAX_CHARS,
    PASSED_ROLE_SERVICES,
    RoleFactory,
    Trust,
    compact_length,
    irsa_subject,
    physical_role_name,
)
from components.iam.actions import ACTION_SCOPED_SERVICES, AUDIT_READ_SERVICES, KEY_USE_ACTIONS
from components.iam.read_actions import AUDIT_READ_ACTIONS
from components.identity import Identity, IdentityArgs
from components.platform import BoundaryGuard
from components.tags import AUDIT_EVIDENCE_TAG
from tests.conftest import (
    SHIPPED_STACKS,
    account_of,
    aws_context,
    name_prefix,
    platform_boundary,
    platform_config,
    region_outside,
    regions_of,
    source_offenders,
    stack_run,
)
from tests.iam_eval import ALLOW, DENY, IMPLICIT_DENY, evaluate, trust_allows
from tests.tokens import ATTACHMENT, IAM_POLICY, OIDC, ROLE, ROLE_POLICY

#: The offline engine's account, for the stand-alone component runs below (their
#: providers name no account).
ACCOUNT = DEFAULT_ACCOUNT_ID
#: stack: (GitHub environment of the apply role, of the plan role)
CI_ENVIRONMENTS = {
    "dev": ("dev", "dev"),
    "staging": ("staging", "staging"),
    "prod": ("prod", "prod-preview"),
}
FAKE_ISSUER = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
FAKE_BOUNDARY = "arn:aws:iam::{account}:policy/ballast-test-permission-boundary"
#: The case tables below hold placeholders that `filled` replaces with what the prod
#: stack's config and run say ({account}, {region}, {prefix}, ...), so the cases hold
#: for any fork's values, not only the shipped ones.
PROD_APPLY = "arn:aws:iam::{account}:role/{prefix}iam-ci-apply"
PROD_BOUNDARY = "arn:aws:iam::{account}:policy/{prefix}permission-boundary"
IN_REGION = {"aws:RequestedRegion": "{region}"}
EVIDENCE_TAG = {f"aws:ResourceTag/{AUDIT_EVIDENCE_TAG}": "true"}


@functools.cache
def prod_values() -> dict[str, str]:
    """What the placeholders of the prod case tables stand for."""
    run = stack_run("prod")
    config = platform_config("prod")
    (trail,) = run.of_type("aws:cloudtrail/trail:Trail")
    return {
        "account": account_of("prod"),
        "region": config.primary_region,
        "dr_region": config.dr_region or config.primary_region,
        "outside": region_outside(),
        "prefix": name_prefix(run),
        "dev_prefix": name_prefix(stack_run("dev")),
        "trail_bucket": trail.inputs["s3BucketName"],
    }


def filled(value, values: dict[str, str] | None = None):
    """`value` (a string, or a dict/list of them) with its placeholders filled in."""
    values = values if values is not None else prod_values()
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, dict):
        return {filled(k, values): filled(v, values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(filled(v, values) for v in value)
    return value


def boundary_of(run):
    return platform_boundary(run)


def audit_boundary_of(run):
    (policy,) = [
        p
        for p in run.of_type(IAM_POLICY)
        if p.inputs["name"].endswith("-audit-permission-boundary")
    ]
    return policy


def role_named(run, suffix: str):
    (role,) = [r for r in run.of_type(ROLE) if r.inputs["name"].endswith(suffix)]
    return role


def inline_policy(run, role) -> dict:
    (policy,) = [p for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]
    return json.loads(policy.inputs["policy"])


def trust_of(role) -> dict:
    return json.loads(role.inputs["assumeRolePolicy"])


# --- every shipped stack ---------------------------------------------------------------


def test_every_role_carries_the_boundary(shipped):
    prefix = name_prefix(shipped)
    boundary = boundary_of(shipped)
    assert boundary.inputs["name"] == f"{prefix}permission-boundary"
    audit = audit_boundary_of(shipped)
    assert audit.inputs["name"] == f"{prefix}audit-permission-boundary"
    roles = shipped.of_type(ROLE)
    assert len(roles) >= 3  # security audit, CloudTrail delivery, flow logs (+ CI roles)
    for role in roles:
        expected = audit if role.inputs["name"].endswith("-security-audit") else boundary
        assert role.inputs["permissionsBoundary"] == expected.outputs["arn"], role.urn
    assert shipped.outputs["permissionBoundaryArn"] == boundary.outputs["arn"]


def test_roles_are_named_for_their_environment(shipped):
    prefix = name_prefix(shipped)
    for role in shipped.of_type(ROLE):
        name = role.inputs["name"]
        assert name.startswith(prefix) and len(name) <= 64, name


def test_every_trust_policy_is_scoped(shipped):
    for role in shipped.of_type(ROLE):
        for statement in trust_of(role)["Statement"]:
            assert statement["Effect"] == "Allow"
            principal = statement["Principal"]
            assert isinstance(principal, dict) and principal, role.urn
            values = [
                v for vs in principal.values() for v in (vs if isinstance(vs, list) else [vs])
            ]
            assert not any("*" in v for v in values), role.urn
            condition = statement.get("Condition", {})
            if "Federated" in principal:
                exact = condition["StringEquals"]
                assert {k.rsplit(":", 1)[1] for k in exact} == {"sub", "aud"}, role.urn
                assert not any("*" in v for v in exact.values())
            if principal.get("Service") in PASSED_ROLE_SERVICES:
                # EKS, EC2, CloudTrail send no source context; only a passed role reaches them.
                assert condition == {}, role.urn
            elif "Service" in principal:
                account = account_of(shipped.stack)
                assert condition["StringEquals"]["aws:SourceAccount"] == account, role.urn


def github_provider(run):
    """The GitHub Actions OIDC provider (a stack with a cluster has its IRSA issuer too)."""
    (provider,) = [p for p in run.of_type(OIDC) if p.inputs["url"] == f"https://{GITHUB_OIDC_HOST}"]
    return provider


@pytest.mark.parametrize("stack", CI_ENVIRONMENTS)
def test_github_trust_names_the_repository_and_environment_exactly(stack):
    run = stack_run(stack)
    provider = github_provider(run)
    assert provider.inputs["url"] == f"https://{GITHUB_OIDC_HOST}"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    repository = platform_config(stack).ci.repository
    apply_env, plan_env = CI_ENVIRONMENTS[stack]
    for suffix, environment in (("-ci-apply", apply_env), ("-ci-plan", plan_env)):
        role = role_named(run, suffix)
        (statement,) = trust_of(role)["Statement"]
        assert statement["Principal"] == {"Federated": provider.outputs["arn"]}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {
                f"{GITHUB_OIDC_HOST}:sub": f"repo:{repository}:environment:{environment}",
                f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
            }
        }
    assert run.outputs["ciApplyRoleArn"] == role_named(run, "-ci-apply").outputs["arn"]
    assert run.outputs["ciPlanRoleArn"] == role_named(run, "-ci-plan").outputs["arn"]
    assert run.outputs["githubOidcProviderArn"] == provider.outputs["arn"]


@pytest.mark.parametrize(
    ("subject", "audience", "accepted"),
    [
        ("repo:{repository}:environment:prod", "sts.amazonaws.com", True),
        ("repo:{repository}:environment:prod", "https://github.com/{owner}", False),
        ("repo:{repository}:environment:staging", "sts.amazonaws.com", False),
        ("repo:{repository}:ref:refs/heads/main", "sts.amazonaws.com", False),
        ("repo:{repository}:pull_request", "sts.amazonaws.com", False),
        ("repo:{repository}-fork:environment:prod", "sts.amazonaws.com", False),
        ("repo:other-org/{name}:environment:prod", "sts.amazonaws.com", False),
    ],
)
def test_only_the_environments_jobs_can_assume_the_apply_role(subject, audience, accepted):
    run = stack_run("prod")
    provider = github_provider(run)
    repository = platform_config("prod").ci.repository
    owner, name = repository.split("/")
    names = {"repository": repository, "owner": owner, "name": name}
    subject, audience = subject.format(**names), audience.format(**names)
    claims = {f"{GITHUB_OIDC_HOST}:sub": subject, f"{GITHUB_OIDC_HOST}:aud": audience}
    assert (
        trust_allows(
            trust_of(role_named(run, "-ci-apply")),
            principal=("Federated", provider.outputs["arn"]),
            action="sts:AssumeRoleWithWebIdentity",
            context=claims,
        )
        is accepted
    )


def test_the_boundary_has_one_allow_and_its_other_statements_are_denies(shipped):
    document = json.loads(boundary_of(shipped).inputs["policy"])
    allow, *denies = document["Statement"]
    assert allow["Effect"] == "Allow" and allow["Resource"] == "*"
    assert "NotAction" not in allow and "NotResource" not in allow
    assert allow["Action"] == [f"{s}:*" for s in BOUNDARY_SERVICES]
    assert len(denies) >= 10
    assert all(s["Effect"] == "Deny" for s in denies), [s["Sid"] for s in denies]
    assert compact_length(document) <= MANAGED_POLICY_MAX_CHARS


def test_the_boundary_fences_the_platforms_regions(shipped):
    regions = regions_of(shipped.stack)
    document = json.loads(boundary_of(shipped).inputs["policy"])
    (fence,) = [s for s in document["Statement"] if s["Sid"] == "DenyRegionsOutsideThePlatform"]
    assert fence["Condition"]["StringNotEquals"] == {"aws:RequestedRegion": regions}


def test_the_main_boundary_fences_every_platform_role_without_exception(shipped):
    """No principal is exempt from the region fence any more: the security-audit role,
    which must see every region, carries the audit boundary instead."""
    document = json.loads(boundary_of(shipped).inputs["policy"])
    far = {"aws:RequestedRegion": region_outside()}
    for role in shipped.of_type(ROLE):
        context = {**far, "aws:PrincipalArn": role.outputs["arn"]}
        assert evaluate(document, "ec2:DescribeInstances", "*", context) == DENY, role.urn
        assert evaluate(document, "lambda:ListFunctions", "*", context) != ALLOW, role.urn


AUDIT_TRAIL_OBJECT = "arn:aws:s3:::{trail_bucket}/AWSLogs/x"
FAR = {"aws:RequestedRegion": "{outside}"}
AUDIT_BOUNDARY_CASES = [
    # (action, resource, context, expected)
    # SecurityAudit's reads beyond the 33 platform services, in a region the platform
    # does not use: an intruder's Lambda is what the role must see.
    ("lambda:ListFunctions", "*", FAR, ALLOW),
    ("lambda:GetFunction", "*", FAR, ALLOW),
    ("config:DescribeConfigRules", "*", FAR, ALLOW),
    ("organizations:ListAccounts", "*", IN_REGION, ALLOW),
    ("securityhub:GetFindings", "*", FAR, ALLOW),
    ("cloudfront:ListDistributions", "*", IN_REGION, ALLOW),
    ("ecs:DescribeClusters", "*", FAR, ALLOW),
    ("ec2:DescribeInstances", "*", FAR, ALLOW),
    ("iam:GetAccountAuthorizationDetails", "*", IN_REGION, ALLOW),
    ("s3:GetBucketPolicy", "arn:aws:s3:::some-app-bucket", IN_REGION, ALLOW),
    # Nothing that changes anything.
    ("lambda:CreateFunction", "*", FAR, IMPLICIT_DENY),
    ("lambda:InvokeFunction", "*", IN_REGION, IMPLICIT_DENY),
    ("iam:CreateUser", "*", IN_REGION, IMPLICIT_DENY),
    ("iam:PassRole", "*", IN_REGION, IMPLICIT_DENY),
    ("ec2:RunInstances", "*", IN_REGION, IMPLICIT_DENY),
    ("sts:AssumeRole", "*", IN_REGION, IMPLICIT_DENY),
    ("redshift:GetClusterCredentials", "*", IN_REGION, IMPLICIT_DENY),  # a Write "Get"
    ("kms:CreateGrant", "*", {**IN_REGION, **EVIDENCE_TAG}, IMPLICIT_DENY),
    # No secret values, no data, no decryption but the audit trail's.
    ("secretsmanager:GetSecretValue", "*", IN_REGION, DENY),
    ("secretsmanager:DescribeSecret", "*", IN_REGION, ALLOW),
    ("ssm:GetParameter", "arn:aws:ssm:{region}:{account}:parameter/app/db-password", IN_REGION, DENY),
    ("ssm:GetParametersByPath", "arn:aws:ssm:{region}:{account}:parameter/app", IN_REGION, DENY),
    ("ssm:GetParameter", "arn:aws:ssm:{region}::parameter/aws/service/eks/optimized-ami/x", IN_REGION, ALLOW),
    ("ssm:DescribeParameters", "*", IN_REGION, ALLOW),
    ("dynamodb:GetItem", "*", IN_REGION, DENY),
    ("s3:GetObject", "arn:aws:s3:::some-app-bucket/customers.csv", IN_REGION, DENY),
    ("s3:GetObject", AUDIT_TRAIL_OBJECT, IN_REGION, ALLOW),
    ("s3:GetObjectVersion", AUDIT_TRAIL_OBJECT, IN_REGION, ALLOW),
    ("kms:Decrypt", "*", {**IN_REGION, **EVIDENCE_TAG}, ALLOW),
    ("kms:Decrypt", "*", IN_REGION, IMPLICIT_DENY),
    ("kms:Decrypt", "*", {**IN_REGION, f"aws:ResourceTag/{AUDIT_EVIDENCE_TAG}": "false"}, IMPLICIT_DENY),
]  # fmt: skip


@pytest.mark.parametrize(("action", "resource", "context", "expected"), AUDIT_BOUNDARY_CASES)
def test_what_the_audit_boundary_allows_and_denies(action, resource, context, expected):
    document = json.loads(audit_boundary_of(stack_run("prod")).inputs["policy"])
    assert evaluate(document, action, filled(resource), filled(context)) == expected


def test_the_audit_boundary_allows_only_read_and_list_actions():
    """Every action the audit boundary's Allow matches is Read or List in the pinned IAM
    catalogue (its patterns are generated, so this checks the generator, not a copy)."""
    document = json.loads(audit_boundary_of(stack_run("prod")).inputs["policy"])
    table = iam_catalogue.catalogue()
    in_region = filled(IN_REGION)
    checked = 0
    for service in AUDIT_READ_SERVICES:
        for action, (level, _) in table[service].items():
            name = f"{service}:{action}"
            decision = evaluate(document, name, "*", in_region)
            if decision == ALLOW and name != "kms:Decrypt":
                assert level in iam_catalogue.READ_LEVELS, name
                checked += 1
    assert checked > 1000
    assert compact_length(document) <= MANAGED_POLICY_MAX_CHARS


def test_the_read_action_table_is_fresh():
    """components/iam/read_actions.py is what the pinned catalogue gives today."""
    committed = iam_catalogue.TABLE.read_text(encoding="utf-8")
    assert committed == iam_catalogue.rendered(), f"regenerate with: {iam_catalogue.COMMAND}"
    assert AUDIT_READ_ACTIONS and all(":" in a for a in AUDIT_READ_ACTIONS)


def test_the_generator_leaves_out_a_pattern_that_matches_a_write():
    table = {
        "svc": {
            "GetThing": ("R", False),
            "GetCredentials": ("W", False),
            "ListThings": ("L", True),
        }
    }
    assert iam_catalogue.read_patterns(["svc"], table) == ["svc:List*"]
    with pytest.raises(ValueError, match="not a service prefix"):
        iam_catalogue.read_patterns(["nope"], table)


@pytest.mark.parametrize(
    ("role", "boundary", "expected"),
    [
        ("security-audit", "audit", ALLOW),
        ("ci-plan", "audit", DENY),  # the read-everywhere boundary is one role's
        ("ci-plan", "main", ALLOW),
        ("security-audit", "main", ALLOW),  # narrower, never wider
        ("ci-plan", "other", DENY),
    ],
)
def test_only_the_security_role_may_carry_the_audit_boundary(role, boundary, expected):
    run = stack_run("prod")
    document = json.loads(boundary_of(run).inputs["policy"])
    arns = {
        "audit": audit_boundary_of(run).outputs["arn"],
        "main": boundary_of(run).outputs["arn"],
        "other": filled(FAKE_BOUNDARY),
    }
    resource = role_named(run, f"-{role}").outputs["arn"]
    for action in ("iam:CreateRole", "iam:PutRolePermissionsBoundary"):
        context = {**filled(IN_REGION), "iam:PermissionsBoundary": arns[boundary]}
        assert evaluate(document, action, resource, context) == expected, action


def test_neither_boundary_can_be_edited_outside_the_pipeline():
    run = stack_run("prod")
    document = json.loads(boundary_of(run).inputs["policy"])
    plan = role_named(run, "-ci-plan").outputs["arn"]
    apply = role_named(run, "-ci-apply").outputs["arn"]
    for policy in (boundary_of(run), audit_boundary_of(run)):
        arn = policy.outputs["arn"]
        for who, expected in ((plan, DENY), (apply, ALLOW)):
            context = {**filled(IN_REGION), "aws:PrincipalArn": who}
            assert evaluate(document, "iam:CreatePolicyVersion", arn, context) == expected


BOUNDARY_CASES = [
    # (action, resource, context, expected)
    ("ec2:RunInstances", "*", IN_REGION, ALLOW),
    ("eks:CreateCluster", "*", {"aws:RequestedRegion": "{dr_region}"}, ALLOW),
    ("ec2:RunInstances", "*", {"aws:RequestedRegion": "{outside}"}, DENY),
    ("iam:CreateRole", "*", {**IN_REGION, "iam:PermissionsBoundary": PROD_BOUNDARY}, ALLOW),
    ("iam:GetRole", "*", {"aws:RequestedRegion": "{outside}"}, ALLOW),  # IAM is global
    ("lambda:CreateFunction", "*", IN_REGION, IMPLICIT_DENY),  # not a platform service
    # The in-VPC runner: its project and webhook, and its connection's token at run time.
    ("codebuild:CreateWebhook", "*", IN_REGION, ALLOW),
    ("codeconnections:GetConnectionToken", "*", IN_REGION, ALLOW),
    ("codestar-connections:GetConnectionToken", "*", IN_REGION, ALLOW),
    ("codebuild:StartBuild", "*", {"aws:RequestedRegion": "{outside}"}, DENY),
    ("iam:CreateUser", "*", IN_REGION, DENY),
    ("iam:CreateAccessKey", "*", IN_REGION, DENY),
    ("iam:CreateLoginProfile", "*", IN_REGION, DENY),
    ("cloudtrail:StopLogging", "*", IN_REGION, DENY),
    ("cloudtrail:DeleteTrail", "*", IN_REGION, DENY),
    ("guardduty:DeleteDetector", "*", IN_REGION, DENY),
    ("guardduty:CreateIPSet", "*", IN_REGION, DENY),
    ("config:StopConfigurationRecorder", "*", IN_REGION, DENY),
    ("organizations:LeaveOrganization", "*", IN_REGION, DENY),
    # Another environment's resources (tagged), untagged ones, this environment's.
    ("ec2:TerminateInstances", "*", {**IN_REGION, "aws:ResourceTag/environment": "dev"}, DENY),
    ("ec2:TerminateInstances", "*", {**IN_REGION, "aws:ResourceTag/environment": "prod"}, ALLOW),
    ("ec2:TerminateInstances", "*", IN_REGION, ALLOW),
    ("ec2:CreateTags", "*", {**IN_REGION, "aws:RequestTag/environment": "staging"}, DENY),
    # The boundary cannot be dropped or bypassed.
    ("iam:CreateRole", "*", IN_REGION, DENY),
    ("iam:CreateRole", "*", {**IN_REGION, "iam:PermissionsBoundary": FAKE_BOUNDARY}, DENY),
    ("iam:PutRolePermissionsBoundary", "*", {**IN_REGION, "iam:PermissionsBoundary": PROD_BOUNDARY}, ALLOW),
    ("iam:DeleteRolePermissionsBoundary", "*", IN_REGION, DENY),
    ("iam:CreatePolicyVersion", PROD_BOUNDARY, {**IN_REGION, "aws:PrincipalArn": PROD_APPLY}, ALLOW),
    ("iam:CreatePolicyVersion", PROD_BOUNDARY, {**IN_REGION, "aws:PrincipalArn": "arn:aws:iam::{account}:role/{prefix}iam-ci-plan"}, DENY),
    ("iam:PassRole", "arn:aws:iam::{account}:role/{prefix}net-flow-logs", IN_REGION, ALLOW),
    ("iam:PassRole", "arn:aws:iam::{account}:role/{dev_prefix}net-flow-logs", IN_REGION, DENY),
    ("iam:PassRole", "arn:aws:iam::{account}:role/OrganizationAccountAccessRole", IN_REGION, DENY),
    # The audit trail's evidence.
    ("s3:DeleteObject", AUDIT_TRAIL_OBJECT, IN_REGION, DENY),
    ("s3:DeleteObject", "arn:aws:s3:::some-app-bucket/x", IN_REGION, ALLOW),
    ("s3:BypassGovernanceRetention", "arn:aws:s3:::some-app-bucket/x", IN_REGION, DENY),
    ("kms:ScheduleKeyDeletion", "*", {**IN_REGION, f"aws:ResourceTag/{AUDIT_EVIDENCE_TAG}": "true"}, DENY),
    ("kms:ScheduleKeyDeletion", "*", IN_REGION, ALLOW),
    ("logs:DeleteLogGroup", "*", {**IN_REGION, f"aws:ResourceTag/{AUDIT_EVIDENCE_TAG}": "true"}, DENY),
    ("logs:UntagResource", "*", {**IN_REGION, "aws:TagKeys": [AUDIT_EVIDENCE_TAG]}, DENY),
    ("logs:UntagResource", "*", {**IN_REGION, "aws:TagKeys": ["cost-center"]}, ALLOW),
]  # fmt: skip


@pytest.mark.parametrize(("action", "resource", "context", "expected"), BOUNDARY_CASES)
def test_what_the_prod_boundary_allows_and_denies(action, resource, context, expected):
    document = json.loads(boundary_of(stack_run("prod")).inputs["policy"])
    assert evaluate(document, filled(action), filled(resource), filled(context)) == expected


EVIDENCE = {f"aws:ResourceTag/{AUDIT_EVIDENCE_TAG}": "true"}


@pytest.mark.parametrize(
    ("action", "tagged", "request_tags", "expected"),
    [
        # The pipeline can neither grant itself Decrypt nor rewrite an evidence key's policy,
        ("kms:CreateGrant", True, None, DENY),
        ("kms:PutKeyPolicy", True, None, DENY),
        # nor lift the tag that protects it (value "false"), nor strip it;
        ("kms:TagResource", True, [AUDIT_EVIDENCE_TAG], DENY),
        ("kms:UntagResource", True, [AUDIT_EVIDENCE_TAG], DENY),
        # it still creates evidence keys with the tag, and manages other keys' policies.
        ("kms:TagResource", False, [AUDIT_EVIDENCE_TAG], ALLOW),
        ("kms:CreateGrant", False, None, ALLOW),
        ("kms:PutKeyPolicy", False, None, ALLOW),
        ("kms:TagResource", True, ["cost-center"], ALLOW),
    ],
)
def test_the_apply_role_cannot_open_an_audit_evidence_key(action, tagged, request_tags, expected):
    """The apply role's own policy allows these KMS actions (a grant only when a service
    asks for it); what it may do to the audit key is what the boundary leaves of that
    (both must allow)."""
    run = stack_run("prod")
    boundary = json.loads(boundary_of(run).inputs["policy"])
    apply = role_named(run, "-ci-apply")
    own = inline_policy(run, apply)
    key = filled("arn:aws:kms:{region}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    context: dict = {
        **filled(IN_REGION),
        "aws:PrincipalArn": apply.outputs["arn"],
        "kms:ViaService": filled("rds.{region}.amazonaws.com"),
    }
    if tagged:
        context.update(EVIDENCE)
    if request_tags:
        context["aws:TagKeys"] = request_tags
    assert evaluate(own, action, key, context) == ALLOW
    assert evaluate(boundary, action, key, context) == expected


@pytest.mark.parametrize(
    ("action", "via", "expected"),
    [
        # Creating and administering keys: directly.
        ("kms:CreateKey", None, ALLOW),
        ("kms:ScheduleKeyDeletion", None, ALLOW),
        ("kms:PutKeyPolicy", None, ALLOW),
        # Using a key: only when a service that builds encrypted resources asks for it,
        *[(action, "rds", ALLOW) for action in KEY_USE_ACTIONS],
        *[(action, "eks", ALLOW) for action in KEY_USE_ACTIONS],
        # never directly, nor through a service the platform does not encrypt with.
        *[(action, None, IMPLICIT_DENY) for action in KEY_USE_ACTIONS],
        ("kms:Decrypt", "lambda", IMPLICIT_DENY),
        # Nothing else of KMS.
        ("kms:Sign", None, IMPLICIT_DENY),
        ("kms:GenerateMac", "rds", IMPLICIT_DENY),
    ],
)
def test_the_apply_role_uses_keys_only_through_aws_services(action, via, expected):
    run = stack_run("prod")
    own = inline_policy(run, role_named(run, "-ci-apply"))
    region = filled(IN_REGION)["aws:RequestedRegion"]
    context = {"kms:ViaService": f"{via}.{region}.amazonaws.com"} if via else {}
    assert evaluate(own, action, "*", context) == expected


@pytest.mark.parametrize("service", DEPLOY_SERVICES)
def test_every_deploy_service_is_within_the_boundary_and_the_apply_role(service):
    """What the apply role deploys (the in-VPC runner's CodeBuild project and connection
    included), the boundary lets every platform role use in the platform's regions."""
    run = stack_run("prod")
    ceiling = json.loads(boundary_of(run).inputs["policy"])
    apply = inline_policy(run, role_named(run, "-ci-apply"))
    action = f"{service}:SomeAction"
    assert evaluate(ceiling, action, "*", filled(IN_REGION)) == ALLOW
    assert evaluate(ceiling, action, "*", {"aws:RequestedRegion": region_outside()}) == (
        ALLOW if f"{service}:*" in GLOBAL_SERVICE_ACTIONS else DENY
    )
    # KMS is granted action by action (see the test above), every other service whole.
    assert evaluate(apply, action, "*") == (
        IMPLICIT_DENY if service in ACTION_SCOPED_SERVICES else ALLOW
    )


def test_dev_roles_cannot_touch_prod_resources():
    document = json.loads(boundary_of(stack_run("dev")).inputs["policy"])
    region = platform_config("dev").primary_region
    tagged_prod = {"aws:RequestedRegion": region, "aws:ResourceTag/environment": "prod"}
    assert evaluate(document, "rds:DeleteDBInstance", "*", tagged_prod) == DENY
    assert evaluate(document, "s3:GetObject", "*", tagged_prod) == DENY


# --- the CI roles ------------------------------------------------------------------------


APPLY_CASES = [
    ("ec2:CreateVpc", "*", ALLOW),
    ("eks:CreateCluster", "*", ALLOW),
    ("iam:CreateRole", "arn:aws:iam::{account}:role/{prefix}cluster-nodes", ALLOW),
    ("iam:PutRolePolicy", "arn:aws:iam::{account}:role/{prefix}cluster-nodes", ALLOW),
    ("iam:PassRole", "arn:aws:iam::{account}:role/{prefix}cluster-nodes", ALLOW),
    ("iam:CreatePolicyVersion", PROD_BOUNDARY, ALLOW),
    ("iam:CreateRole", "arn:aws:iam::{account}:role/{dev_prefix}cluster-nodes", IMPLICIT_DENY),
    ("iam:PassRole", "arn:aws:iam::{account}:role/admin", IMPLICIT_DENY),
    ("iam:CreateUser", "arn:aws:iam::{account}:user/ci", IMPLICIT_DENY),
    ("iam:CreateOpenIDConnectProvider", "arn:aws:iam::{account}:oidc-provider/x", ALLOW),
    ("lambda:CreateFunction", "*", IMPLICIT_DENY),
    ("organizations:LeaveOrganization", "*", IMPLICIT_DENY),
    ("codebuild:CreateProject", "*", ALLOW),
    ("codeconnections:CreateConnection", "*", ALLOW),
    # Buckets: this environment's, configuration only.
    ("s3:CreateBucket", "arn:aws:s3:::{prefix}loki-chunks", ALLOW),
    ("s3:PutBucketPolicy", "arn:aws:s3:::{prefix}loki-chunks", ALLOW),
    ("s3:PutEncryptionConfiguration", "arn:aws:s3:::{prefix}loki-chunks", ALLOW),
    ("s3:GetBucketObjectLockConfiguration", "arn:aws:s3:::{prefix}loki-chunks", ALLOW),
    ("s3:GetObject", "arn:aws:s3:::{prefix}loki-chunks/index/x", IMPLICIT_DENY),
    ("s3:PutObject", "arn:aws:s3:::{prefix}loki-chunks/index/x", IMPLICIT_DENY),
    ("s3:PutBucketPolicy", "arn:aws:s3:::{dev_prefix}loki-chunks", IMPLICIT_DENY),
    ("s3:PutBucketPolicy", "arn:aws:s3:::customer-data", IMPLICIT_DENY),
]


@pytest.mark.parametrize(("action", "resource", "expected"), APPLY_CASES)
def test_the_apply_role_reaches_the_platforms_services_and_this_environments_iam(
    action, resource, expected
):
    run = stack_run("prod")
    document = inline_policy(run, role_named(run, "-ci-apply"))
    assert evaluate(document, action, filled(resource)) == expected


def test_the_apply_role_may_create_only_known_service_linked_roles():
    run = stack_run("prod")
    document = inline_policy(run, role_named(run, "-ci-apply"))
    slr = filled(
        "arn:aws:iam::{account}:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS"
    )
    eks = {"iam:AWSServiceName": "eks.amazonaws.com"}
    other = {"iam:AWSServiceName": "lambda.amazonaws.com"}
    assert evaluate(document, "iam:CreateServiceLinkedRole", slr, eks) == ALLOW
    assert evaluate(document, "iam:CreateServiceLinkedRole", slr, other) == IMPLICIT_DENY


#: What `pulumi up` does in the services whose data-exposure actions are denied: the
#: Deny must take nothing of it away.
DEPLOY_ACTIONS_NEAR_THE_DENY = (
    "ec2:CreateSnapshot",
    "ec2:DescribeSnapshotAttribute",
    "ec2:CreateLaunchTemplate",
    "rds:CreateDBInstance",
    "rds:CreateDBInstanceReadReplica",
    "rds:ModifyDBInstance",
    "rds:DescribeDBSnapshotAttributes",
    "secretsmanager:CreateSecret",
    "secretsmanager:DescribeSecret",
    "secretsmanager:TagResource",
    "ssm:PutParameter",
    "ssm:DescribeParameters",
    "ssm:AddTagsToResource",
)


@pytest.mark.parametrize("action", DATA_EXPOSURE_ACTIONS)
def test_the_apply_role_cannot_read_or_share_data(shipped, action):
    """Reading every secret and parameter, sharing snapshots with other accounts and
    commands on nodes: denied to the deploy job in every stack, whatever the resource."""
    document = inline_policy(shipped, role_named(shipped, "-ci-apply"))
    for resource in (
        "*",
        f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!db-1234",
        f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/db-password",
        f"arn:aws:rds:us-east-1:{ACCOUNT}:snapshot:ballast-prod-db-final",
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0123456789abcdef0",
    ):
        assert evaluate(document, action, resource) == DENY


@pytest.mark.parametrize("action", DEPLOY_ACTIONS_NEAR_THE_DENY)
def test_the_apply_role_still_deploys_next_to_the_deny(action):
    run = stack_run("prod")
    document = inline_policy(run, role_named(run, "-ci-apply"))
    assert evaluate(document, action, "*") == ALLOW


def test_the_program_reads_no_secret_or_parameter(shipped):
    """No data source of the program reads Secrets Manager or SSM (previews and ups make
    the same invokes), and its only Secrets Manager resources are Grafana's admin secret
    and its version. The provider reads a secret version back with GetSecretValue after
    creating it, which the CI roles may do for the program's own secrets only
    (docs/observability.md, "Grafana's secret and the deploy roles")."""
    tokens = {invoke.token for invoke in shipped.invokes}
    assert tokens, "the run records its invokes"
    assert not [t for t in tokens if t.startswith(("aws:ssm/", "aws:secretsmanager/"))]
    stored = [
        r for r in shipped.resources if r.type.startswith(("aws:ssm/", "aws:secretsmanager/"))
    ]
    assert sorted(r.type for r in stored) == [
        "aws:secretsmanager/secret:Secret",
        "aws:secretsmanager/secretVersion:SecretVersion",
    ]
    assert all("ballast:components:Grafana" in r.urn for r in stored)


def test_the_apply_policy_fits_the_inline_limit(shipped):
    document = inline_policy(shipped, role_named(shipped, "-ci-apply"))
    assert compact_length(document) <= INLINE_POLICY_MAX_CHARS


def test_the_plan_role_is_read_only_and_reads_no_data(shipped):
    plan = role_named(shipped, "-ci-plan")
    (attachment,) = [
        a for a in shipped.of_type(ATTACHMENT) if a.inputs["role"] == plan.outputs["name"]
    ]
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    document = inline_policy(shipped, plan)
    # No state backend: its only Allows are reading back the program's own secrets.
    assert {s["Sid"] for s in document["Statement"] if s["Effect"] == "Allow"} == {
        "ReadBackTheProgramsSecrets",
        "DecryptTheProgramsSecretsThroughSecretsManager",
    }
    assert evaluate(document, "s3:GetObject", "arn:aws:s3:::customer-data/x.csv") == DENY
    assert evaluate(document, "secretsmanager:GetSecretValue", "*") == DENY
    assert evaluate(document, "ssm:GetParameter", "arn:aws:ssm:us-east-1:1:parameter/db") == DENY
    public = "arn:aws:ssm:us-east-1::parameter/aws/service/eks/optimized-ami/1.31/x"
    assert evaluate(document, "ssm:GetParameter", public) == IMPLICIT_DENY  # ReadOnlyAccess grants
    assert plan.inputs["maxSessionDuration"] == 3600
    assert role_named(shipped, "-ci-apply").inputs["maxSessionDuration"] == 7200


# --- the CI roles read back the program's own secrets, and no other -------------------

SECRET = "aws:secretsmanager/secret:Secret"
GET_SECRET = "secretsmanager:GetSecretValue"
#: Secrets Manager appends a hyphen and six random characters to a secret's ARN.
ARN_SUFFIX = "-Ab12Cd"


def secret_arn(stack: str, name: str, *, region: str | None = None, account: str | None = None):
    region = region or regions_of(stack)[0]
    account = account or account_of(stack)
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}{ARN_SUFFIX}"


@functools.cache
def ci_documents(stack: str) -> dict[str, dict]:
    """The CI roles' inline policies and the boundary of a shipped stack, parsed once."""
    run = stack_run(stack)
    return {
        "apply": inline_policy(run, role_named(run, "-ci-apply")),
        "plan": inline_policy(run, role_named(run, "-ci-plan")),
        "boundary": json.loads(boundary_of(run).inputs["policy"]),
    }


def in_stack(stack: str) -> dict[str, str]:
    """The request context of a call on one of the stack's own (tagged) resources."""
    return {
        "aws:RequestedRegion": regions_of(stack)[0],
        "aws:ResourceTag/environment": platform_config(stack).environment,
    }


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_ci_roles_read_back_the_secrets_the_program_writes(stack):
    """Grafana's admin secret (the program's only one) is named under the stack's secret
    prefix, and both CI roles may read its value back and (the plan role, which has no
    service-wide KMS use) decrypt it, but only through Secrets Manager for that secret."""
    run = stack_run(stack)
    base = name_prefix(run).removesuffix("-")
    names = [r.inputs["name"] for r in run.of_type(SECRET)]
    assert names == [f"{base}/grafana/admin"]
    documents = ci_documents(stack)
    for name in names:
        arn = secret_arn(stack, name)
        context = in_stack(stack)
        for role in ("apply", "plan"):
            assert evaluate(documents[role], GET_SECRET, arn, context) == ALLOW, role
        assert evaluate(documents["boundary"], GET_SECRET, arn, context) == ALLOW
        via = {
            **context,
            "kms:ViaService": f"secretsmanager.{context['aws:RequestedRegion']}.amazonaws.com",
        }
        key = f"arn:aws:kms:{context['aws:RequestedRegion']}:{account_of(stack)}:key/k-1"
        own = {**via, "kms:EncryptionContext:SecretARN": arn}
        other = {**via, "kms:EncryptionContext:SecretARN": secret_arn(stack, "rds!db-1")}
        for role in ("apply", "plan"):
            assert evaluate(documents[role], "kms:Decrypt", key, own) == ALLOW, role
        assert evaluate(documents["plan"], "kms:Decrypt", key, other) == IMPLICIT_DENY
        assert evaluate(documents["plan"], "kms:Decrypt", key, context) == IMPLICIT_DENY


#: Secret names: anything Secrets Manager accepts, another stack's secrets, and names that
#: only start like this stack's prefix (no slash right after the base).
_SECRET_CHARS = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789/_+=.@-!")
OTHER_SECRET_NAMES = st.one_of(
    st.text(_SECRET_CHARS, min_size=1, max_size=40),
    st.builds(
        lambda base, tail: f"{base}{tail}",
        st.sampled_from(["ballast-dev", "ballast-staging", "ballast-prod", "other-prod"]),
        st.text(_SECRET_CHARS, min_size=0, max_size=20),
    ),
)


@given(stack=st.sampled_from(SHIPPED_STACKS), name=OTHER_SECRET_NAMES)
def test_the_ci_roles_read_no_other_secret(stack, name):
    base = name_prefix(stack_run(stack)).removesuffix("-")
    own = name.startswith(f"{base}/")
    arn = secret_arn(stack, name)
    context = in_stack(stack)
    for role, document in ci_documents(stack).items():
        if role == "boundary":
            continue
        assert evaluate(document, GET_SECRET, arn, context) == (ALLOW if own else DENY), role
        # The stack's own names in another account are someone else's secrets.
        foreign = secret_arn(stack, f"{base}/{name}", account="210987654321")
        assert evaluate(document, GET_SECRET, foreign, context) == DENY, role
        assert evaluate(document, "secretsmanager:BatchGetSecretValue", arn, context) != ALLOW


def _before(document: dict) -> dict:
    """The same document as it was before the carve-out: the secret-value Deny on every
    resource and no read-back Allows."""
    statements = []
    for statement in document["Statement"]:
        if statement["Sid"] in (
            "ReadBackTheProgramsSecrets",
            "DecryptTheProgramsSecretsThroughSecretsManager",
        ):
            continue
        if statement["Sid"] == "DenyReadingSecretsTheProgramDoesNotWrite":
            statement = {k: v for k, v in statement.items() if k != "NotResource"}
            statement["Resource"] = "*"
        statements.append(statement)
    return {**document, "Statement": statements}


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_carve_out_allows_nothing_else_that_was_refused(stack):
    """Every Secrets Manager and KMS action of the IAM catalogue and the data-exposure
    actions (SSM's among them), on the stack's own secret, another secret, every resource, a key and a
    parameter, with and without Secrets Manager decrypting for one of them: the only
    requests the roles gain over the documents without the carve-out are reading back the
    program's own secrets and (the plan role) decrypting them through Secrets Manager."""
    run = stack_run(stack)
    base = name_prefix(run).removesuffix("-")
    region, account = regions_of(stack)[0], account_of(stack)
    own = secret_arn(stack, f"{base}/grafana/admin")
    others = [secret_arn(stack, n) for n in ("rds!db-1", f"{base}-x/y", "app/db")]
    resources = [
        own,
        *others,
        "*",
        f"arn:aws:kms:{region}:{account}:key/k-1",
        f"arn:aws:ssm:{region}:{account}:parameter/app/db-password",
    ]
    context = in_stack(stack)
    via = {**context, "kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
    contexts = [
        context,
        {**via, "kms:EncryptionContext:SecretARN": own},
        *({**via, "kms:EncryptionContext:SecretARN": other} for other in others),
    ]
    table = iam_catalogue.catalogue()
    actions = sorted(
        {
            *(f"{service}:{a}" for service in ("secretsmanager", "kms") for a in table[service]),
            *DATA_EXPOSURE_ACTIONS,
        }
    )
    for role in ("apply", "plan"):
        after = ci_documents(stack)[role]
        before = _before(after)
        gained = set()
        for action in actions:
            for resource in resources:
                for ctx in contexts:
                    now = evaluate(after, action, resource, ctx)
                    was = evaluate(before, action, resource, ctx)
                    if was != ALLOW and now != was:
                        gained.add((action, resource, ctx.get("kms:EncryptionContext:SecretARN")))
        expected = {(GET_SECRET, own, secret) for secret in (None, own, *others)}
        if role == "plan":
            expected |= {("kms:Decrypt", r, own) for r in resources if ":kms:" in r}
        assert gained == expected, role


def _identity_program(**ci_changes):
    ci = CiConfig(
        repository="acme/platform",
        environment="dev",
        plan_environment="dev",
        state_bucket="acme-pulumi-state",
        secrets_key_arn=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ).model_copy(update=ci_changes)

    def program():
        provider = aws.Provider("p", region="us-east-1")
        Identity(
            "ballast-dev-iam",
            IdentityArgs(
                context=aws_context(provider, "us-east-1", environment="dev").with_tags(
                    {"service": "security", "tier": "tier-1"}
                ),
                regions=["us-east-1"],
                boundary=BoundaryConfig(extra_services=("elasticfilesystem",)),
                ci=ci,
                state_project="ballast",
                state_stack="dev",
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    return program


STATE = "arn:aws:s3:::acme-pulumi-state"
STATE_CASES = [
    # (role, action, key, expected)
    ("plan", "s3:GetObject", ".pulumi/meta.yaml", ALLOW),
    ("plan", "s3:GetObject", ".pulumi/stacks/ballast/dev.json", ALLOW),
    ("plan", "s3:GetObject", ".pulumi/stacks/ballast/prod.json", DENY),
    ("plan", "s3:PutObject", ".pulumi/locks/organization/ballast/dev/0f1e.json", ALLOW),
    ("plan", "s3:PutObject", ".pulumi/stacks/ballast/dev.json", IMPLICIT_DENY),
    ("plan", "s3:PutObject", ".pulumi/locks/organization/ballast/prod/0f1e.json", IMPLICIT_DENY),
    ("apply", "s3:PutObject", ".pulumi/stacks/ballast/dev.json", ALLOW),
    ("apply", "s3:PutObject", ".pulumi/history/ballast/dev/dev-1700000000.history.json", ALLOW),
    ("apply", "s3:PutObject", ".pulumi/backups/ballast/dev/dev.1700000000.json", ALLOW),
    ("apply", "s3:DeleteObject", ".pulumi/locks/organization/ballast/dev/0f1e.json", ALLOW),
    ("apply", "s3:PutObject", ".pulumi/stacks/ballast/prod.json", IMPLICIT_DENY),
    ("apply", "s3:PutObject", ".pulumi/stacks/ballast/dev2.json", IMPLICIT_DENY),
    ("apply", "s3:PutObject", ".pulumi/stacks/other/dev.json", IMPLICIT_DENY),
]


@pytest.fixture(scope="module")
def identity_run():
    return run_component(_identity_program())


@pytest.mark.parametrize(("role", "action", "key", "expected"), STATE_CASES)
def test_ci_roles_reach_only_this_stacks_state(identity_run, role, action, key, expected):
    document = inline_policy(identity_run, role_named(identity_run, f"-ci-{role}"))
    assert evaluate(document, action, f"{STATE}/{key}") == expected


def test_ci_roles_use_the_secrets_key(identity_run):
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    plan = inline_policy(identity_run, role_named(identity_run, "-ci-plan"))
    apply = inline_policy(identity_run, role_named(identity_run, "-ci-apply"))
    assert evaluate(plan, "kms:Decrypt", key) == ALLOW
    assert evaluate(plan, "kms:Encrypt", key) == IMPLICIT_DENY
    assert evaluate(apply, "kms:Encrypt", key) == ALLOW


def test_extra_services_widen_the_boundary(identity_run):
    document = json.loads(boundary_of(identity_run).inputs["policy"])
    region = {"aws:RequestedRegion": "us-east-1"}
    assert evaluate(document, "elasticfilesystem:CreateFileSystem", "*", region) == ALLOW
    assert evaluate(document, "lambda:CreateFunction", "*", region) == IMPLICIT_DENY


def test_an_existing_oidc_provider_is_reused():
    existing = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_OIDC_HOST}"
    run = run_component(_identity_program(oidc_provider_arn=existing))
    assert run.of_type(OIDC) == []
    for suffix in ("-ci-plan", "-ci-apply"):
        (statement,) = trust_of(role_named(run, suffix))["Statement"]
        assert statement["Principal"] == {"Federated": existing}


def test_security_audit_role_needs_mfa_by_default(shipped):
    role = role_named(shipped, "-security-audit")
    (statement,) = trust_of(role)["Statement"]
    account = account_of(shipped.stack)
    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{account}:root"]}
    assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    attached = [
        a.inputs["policyArn"]
        for a in shipped.of_type(ATTACHMENT)
        if a.inputs["role"] == role.outputs["name"]
    ]
    assert attached == ["arn:aws:iam::aws:policy/SecurityAudit"]
    assert shipped.outputs["securityAuditRoleArn"] == role.outputs["arn"]


# --- the role factory --------------------------------------------------------------------


def _factory_program(build):
    def program():
        provider = aws.Provider("p", region="us-east-1")
        parent = pulumi.ComponentResource(
            "test:index:Parent", "parent", None, pulumi.ResourceOptions(provider=provider)
        )
        factory = RoleFactory(role_prefix="ballast-test-", boundary_arn=FAKE_BOUNDARY)
        build(factory, parent)

    return program


def test_irsa_role_against_a_fake_oidc_issuer():
    def build(factory, parent):
        issuer = aws.iam.OpenIdConnectProvider(
            "fake-issuer",
            url=FAKE_ISSUER,
            client_id_lists=["sts.amazonaws.com"],
            opts=pulumi.ResourceOptions(parent=parent),
        )
        factory.irsa_role(
            "lb-controller",
            parent=parent,
            oidc_provider_arn=issuer.arn,
            oidc_issuer_url=issuer.url,
            namespace="kube-system",
            service_account="aws-load-balancer-controller",
            description="AWS Load Balancer Controller",
        )

    run = run_component(_factory_program(build))
    (issuer,) = run.of_type(OIDC)
    (role,) = run.of_type(ROLE)
    assert role.inputs["permissionsBoundary"] == FAKE_BOUNDARY
    assert role.inputs["name"] == "ballast-test-lb-controller"
    host = FAKE_ISSUER.removeprefix("https://")
    (statement,) = trust_of(role)["Statement"]
    assert statement["Principal"] == {"Federated": issuer.outputs["arn"]}
    assert statement["Condition"] == {
        "StringEquals": {
            f"{host}:sub": "system:serviceaccount:kube-system:aws-load-balancer-controller",
            f"{host}:aud": "sts.amazonaws.com",
        }
    }

    def token(sub: str, aud: str = "sts.amazonaws.com") -> bool:
        return trust_allows(
            trust_of(role),
            principal=("Federated", issuer.outputs["arn"]),
            action="sts:AssumeRoleWithWebIdentity",
            context={f"{host}:sub": sub, f"{host}:aud": aud},
        )

    assert token("system:serviceaccount:kube-system:aws-load-balancer-controller")
    assert not token("system:serviceaccount:kube-system:aws-load-balancer-controller", "other")
    assert not token("system:serviceaccount:default:aws-load-balancer-controller")
    assert not token("system:serviceaccount:kube-system:external-dns")
    other_issuer = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/OTHER"
    assert not trust_allows(
        trust_of(role),
        principal=("Federated", other_issuer),
        action="sts:AssumeRoleWithWebIdentity",
        context={f"{host}:sub": "system:serviceaccount:kube-system:aws-load-balancer-controller"},
    )


def test_pod_identity_role_is_bound_to_its_cluster_and_service_account():
    cluster_arn = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/ballast-test"

    def build(factory, parent):
        factory.pod_identity_role(
            "external-dns",
            parent=parent,
            account_id=ACCOUNT,
            cluster_name="ballast-test",
            cluster_arn=cluster_arn,
            namespace="external-dns",
            service_account="external-dns",
            description="external-dns",
        )

    run = run_component(_factory_program(build))
    (role,) = run.of_type(ROLE)
    (association,) = run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.inputs["roleArn"] == role.outputs["arn"]
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "external-dns",
        "external-dns",
    )
    context = {
        "aws:SourceAccount": ACCOUNT,
        "aws:RequestTag/eks-cluster-arn": cluster_arn,
        "aws:RequestTag/kubernetes-namespace": "external-dns",
        "aws:RequestTag/kubernetes-service-account": "external-dns",
    }
    pods = ("Service", "pods.eks.amazonaws.com")
    assert trust_allows(trust_of(role), principal=pods, context=context)
    assert trust_allows(trust_of(role), principal=pods, action="sts:TagSession", context=context)
    for key, value in (
        ("aws:RequestTag/eks-cluster-arn", f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/other"),
        ("aws:SourceAccount", "999999999999"),
        ("aws:RequestTag/kubernetes-service-account", "default"),
    ):
        assert not trust_allows(trust_of(role), principal=pods, context={**context, key: value})


@pytest.mark.parametrize(
    ("namespace", "service_account"),
    [("*", "controller"), ("kube-system", "*"), ("kube-system", "ctrl-?"), ("Kube", "x")],
)
def test_irsa_refuses_wildcards_and_invalid_names(namespace, service_account):
    with pytest.raises(ValueError, match="must be a Kubernetes name"):
        irsa_subject(namespace, service_account)


def test_trust_refuses_open_principals():
    with pytest.raises(ValueError, match="must be one AWS service"):
        Trust.service("*", source_account=ACCOUNT)
    with pytest.raises(ValueError, match="at least one ARN"):
        Trust.principals([])

    def wildcard_principal(factory, parent):
        factory.role("open", parent=parent, trust=[Trust.principals(["*"])], description="x")

    with pytest.raises(ProgramError, match="is a wildcard: trust must name one principal"):
        run_component(_factory_program(wildcard_principal))

    def raw_statement(factory, parent):
        factory.role("raw", parent=parent, trust=[{"Principal": "*"}], description="x")

    with pytest.raises(ProgramError, match="must be a non-empty list of Trust statements"):
        run_component(_factory_program(raw_statement))


def test_web_identity_trust_refuses_a_wildcard_subject():
    def build(factory, parent):
        trust = Trust.web_identity(
            provider_arn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_OIDC_HOST}",
            issuer=f"https://{GITHUB_OIDC_HOST}",
            subject="repo:acme/platform:*",
        )
        factory.role("ci", parent=parent, trust=[trust], description="x")

    with pytest.raises(ProgramError, match="sub condition 'repo:acme/platform:\\*' is a wildcard"):
        run_component(_factory_program(build))


NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789-"


@given(st.text(alphabet=NAME_CHARACTERS, min_size=1, max_size=120))
def test_role_names_always_fit_and_keep_the_prefix(resource_name):
    name = physical_role_name("ballast-staging-", resource_name)
    assert name.startswith("ballast-staging-") and len(name) <= 64
    assert name == physical_role_name("ballast-staging-", resource_name)
    if len("ballast-staging-" + resource_name) <= 64:
        assert name == "ballast-staging-" + resource_name


@given(
    st.lists(
        st.text(alphabet=NAME_CHARACTERS, min_size=40, max_size=80),
        min_size=2,
        max_size=5,
        unique=True,
    )
)
def test_long_role_names_never_collide(resource_names):
    names = [physical_role_name("ballast-prod-", n) for n in resource_names]
    assert len(set(names)) == len(names)


# --- no role escapes the factory -----------------------------------------------------------


def test_the_guard_gives_a_role_created_outside_the_factory_the_boundary():
    guard = BoundaryGuard()
    guard.boundary_arn = FAKE_BOUNDARY

    def program():
        provider = aws.Provider("p", region="us-east-1")
        parent = pulumi.ComponentResource(
            "test:index:Parent",
            "parent",
            None,
            pulumi.ResourceOptions(provider=provider, transformations=[guard]),
        )
        aws.iam.Role(
            "stray",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": []}),
            opts=pulumi.ResourceOptions(parent=parent),
        )

    (role,) = run_component(program).of_type(ROLE)
    assert role.inputs["permissionsBoundary"] == FAKE_BOUNDARY


def test_the_guard_refuses_a_role_before_the_boundary_exists():
    guard = BoundaryGuard()

    def program():
        provider = aws.Provider("p", region="us-east-1")
        aws.iam.Role(
            "early",
            assume_role_policy="{}",
            opts=pulumi.ResourceOptions(provider=provider, transformations=[guard]),
        )

    with pytest.raises(ProgramError, match="created before the permission boundary exists"):
        run_component(program)


def test_components_create_roles_only_through_the_factory():
    """A source check: `aws.iam.Role(` appears in components/iam/roles.py only, in any subpackage."""
    offenders = source_offenders(r"\biam\.Role\(", allowed="iam/roles.py")
    assert offenders == []
