"""The in-VPC CI runner, as stand-alone programs: where its jobs run, what starts them,
and what its role can and cannot do (evaluated with tests/iam_eval.py against its own
policy, the permission boundary and the CI apply role's policy)."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest
from pydantic import ValidationError

from ballast.offline import ProgramError, ProgramRun, run_component
from ballast.policy.config import load_policy_config
from ballast.policy.harness import PolicyPackProcess
from ballast.policy.inputs import analyzer_inputs
from components.config import RunnerConfig
from components.iam import (
    BOUNDARY_SERVICES,
    DEPLOY_SERVICES,
    NAME_SCOPED_SERVICES,
    BoundaryInputs,
    RoleFactory,
    apply_policy_document,
    boundary_document,
)
from components.runner import CiRunner, CiRunnerArgs, connection_service, runner_label
from components.versions import RUNNER_IMAGE
from tests.conftest import aws_context
from tests.iam_eval import ALLOW, DENY, IMPLICIT_DENY, evaluate, trust_allows
from tests.policy.conftest import PACK_DIR, stack_config_file
from tests.tokens import (
    CODEBUILD_PROJECT,
    CODEBUILD_WEBHOOK,
    CONNECTION,
    EGRESS_RULE,
    INGRESS_RULE,
    KEY,
    LOG_GROUP,
    ROLE,
    ROLE_POLICY,
    SECURITY_GROUP,
)

ACCOUNT = "123456789012"
REGION = "us-east-1"
ENVIRONMENT = "prod"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/ballast-{ENVIRONMENT}-permission-boundary"
REPOSITORY = "example-org/platform"
VPC = "vpc-0runner"
SUBNETS = ["subnet-0private1", "subnet-0private2", "subnet-0private3"]
OTHER_SUBNET = "subnet-0isolated1"
NAME = f"ballast-{ENVIRONMENT}-runner"
EXISTING = (
    f"arn:aws:codestar-connections:{REGION}:{ACCOUNT}:connection/"
    "7d2469ff-514a-4e4f-9003-5ca4a43cdc41"
)
EC2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
IN_REGION = {"aws:RequestedRegion": REGION}


def runner_program(settings: RunnerConfig, *, protect: bool = True):
    def program() -> None:
        provider = aws.Provider(
            "aws",
            region=REGION,
            allowed_account_ids=[ACCOUNT],
            default_tags=aws.ProviderDefaultTagsArgs(
                tags={"environment": ENVIRONMENT, "owner": "platform-team", "project": "ballast"}
            ),
        )
        context = aws_context(provider, REGION, environment=ENVIRONMENT, protect=protect)
        runner = CiRunner(
            NAME,
            CiRunnerArgs(
                context=context.with_tags({"service": "ci", "tier": "tier-2"}),
                roles=RoleFactory(role_prefix=context.names.role_prefix, boundary_arn=BOUNDARY),
                settings=settings,
                repository=REPOSITORY,
                vpc_id=VPC,
                subnet_ids=SUBNETS,
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        for export, attribute in CiRunner.STACK_OUTPUTS.items():
            pulumi.export(export, getattr(runner, attribute))

    return program


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_component(runner_program(RunnerConfig()), stack=ENVIRONMENT)


@pytest.fixture(scope="module")
def existing_run() -> ProgramRun:
    settings = RunnerConfig(connection_arn=EXISTING, compute_type="BUILD_GENERAL1_MEDIUM")
    return run_component(runner_program(settings), stack=ENVIRONMENT)


def job_policy(run: ProgramRun) -> dict:
    (policy,) = run.of_type(ROLE_POLICY)
    return json.loads(policy.inputs["policy"])


def apply_role_policy() -> dict:
    """The CI apply role's policy, as Identity builds it for this environment."""
    return apply_policy_document(
        role_prefix=f"ballast-{ENVIRONMENT}-",
        secret_prefix=f"ballast-{ENVIRONMENT}/",
        partition="aws",
        account_id=ACCOUNT,
        services=tuple(sorted({*DEPLOY_SERVICES, *NAME_SCOPED_SERVICES})),
        state=None,
        secrets_key_arn=None,
    )


def boundary() -> dict:
    return boundary_document(
        BoundaryInputs(
            environment=ENVIRONMENT,
            role_prefix=f"ballast-{ENVIRONMENT}-",
            partition="aws",
            account_id=ACCOUNT,
            regions=(REGION,),
            services=BOUNDARY_SERVICES,
            boundary_arn=BOUNDARY,
            apply_role_arn=f"arn:aws:iam::{ACCOUNT}:role/ballast-{ENVIRONMENT}-iam-ci-apply",
            security_role_arn=f"arn:aws:iam::{ACCOUNT}:role/ballast-{ENVIRONMENT}-iam-security",
            audit_bucket_prefix=f"ballast-{ENVIRONMENT}-audit-",
            audit_boundary_arn=(
                f"arn:aws:iam::{ACCOUNT}:policy/ballast-{ENVIRONMENT}-audit-permission-boundary"
            ),
        )
    )


# --- where the jobs run and what starts them ----------------------------------------------


def test_the_project_runs_in_the_given_private_subnets_with_its_own_group(run):
    (project,) = run.of_type(CODEBUILD_PROJECT)
    (group,) = run.of_type(SECURITY_GROUP)
    vpc = project.inputs["vpcConfig"]
    assert vpc == {"vpcId": VPC, "subnets": SUBNETS, "securityGroupIds": [group.id]}
    assert group.inputs["vpcId"] == VPC
    assert group.inputs["tags"]["Name"] == NAME


def test_the_group_admits_nothing_and_lets_only_https_out(run):
    (group,) = run.of_type(SECURITY_GROUP)
    assert "ingress" not in group.inputs and "egress" not in group.inputs
    assert run.of_type(INGRESS_RULE) == []
    (egress,) = run.of_type(EGRESS_RULE)
    assert egress.inputs["securityGroupId"] == group.id
    assert (egress.inputs["ipProtocol"], egress.inputs["fromPort"], egress.inputs["toPort"]) == (
        "tcp",
        443,
        443,
    )


def test_the_project_builds_the_repository_through_the_connection(run):
    (project,) = run.of_type(CODEBUILD_PROJECT)
    (connection,) = run.of_type(CONNECTION)
    assert connection.inputs["providerType"] == "GitHub"
    source = project.inputs["source"]
    assert source["type"] == "GITHUB"
    assert source["location"] == f"https://github.com/{REPOSITORY}.git"
    assert source["auth"] == {"type": "CODECONNECTIONS", "resource": connection.outputs["arn"]}
    assert project.inputs["artifacts"] == {"type": "NO_ARTIFACTS"}
    environment = project.inputs["environment"]
    assert environment["image"] == RUNNER_IMAGE
    assert environment["computeType"] == "BUILD_GENERAL1_SMALL"
    assert environment["privilegedMode"] is False
    assert project.inputs["buildTimeout"] == RunnerConfig().build_timeout_minutes
    assert not run.of_type("aws:codebuild/sourceCredential:SourceCredential")


def test_the_webhook_starts_a_build_for_each_queued_workflow_job(run):
    (project,) = run.of_type(CODEBUILD_PROJECT)
    (webhook,) = run.of_type(CODEBUILD_WEBHOOK)
    assert webhook.inputs["projectName"] == project.outputs["name"] == NAME
    assert webhook.inputs["buildType"] == "BUILD"
    assert webhook.inputs["filterGroups"] == [
        {"filters": [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}]}
    ]


def test_the_stack_outputs_name_the_runs_on_label_the_role_and_the_connection(run):
    (role,) = run.of_type(ROLE)
    (connection,) = run.of_type(CONNECTION)
    (group,) = run.of_type(SECURITY_GROUP)
    assert run.outputs == {
        "runnerProjectName": NAME,
        "runnerLabel": runner_label(NAME),
        "runnerRoleArn": role.outputs["arn"],
        "runnerConnectionArn": connection.outputs["arn"],
        "runnerSecurityGroupId": group.id,
    }
    assert runner_label(NAME) == f"codebuild-{NAME}"


def test_the_job_logs_go_to_a_kms_encrypted_log_group(run):
    (project,) = run.of_type(CODEBUILD_PROJECT)
    (group,) = run.of_type(LOG_GROUP)
    (key,) = run.of_type(KEY)
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    logs = project.inputs["logsConfig"]
    assert logs["cloudwatchLogs"] == {"status": "ENABLED", "groupName": group.outputs["name"]}
    assert logs["s3Logs"]["status"] == "DISABLED"
    statement = json.loads(key.inputs["policy"])["Statement"][1]
    assert statement["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert (
        statement["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
        == (group.outputs["arn"])
    )
    assert group.protect and key.protect


def test_an_existing_connection_is_used_and_none_is_created(existing_run):
    assert existing_run.of_type(CONNECTION) == []
    (project,) = existing_run.of_type(CODEBUILD_PROJECT)
    assert project.inputs["source"]["auth"]["resource"] == EXISTING
    assert project.inputs["environment"]["computeType"] == "BUILD_GENERAL1_MEDIUM"
    # IAM matches the action prefix to the ARN's: an older connection keeps its prefix.
    document = job_policy(existing_run)
    assert evaluate(document, "codestar-connections:GetConnectionToken", EXISTING) == ALLOW
    assert evaluate(document, "codeconnections:GetConnectionToken", EXISTING) == IMPLICIT_DENY


# --- the job role ----------------------------------------------------------------------


def test_the_role_carries_the_boundary_and_is_named_for_the_environment(run):
    (role,) = run.of_type(ROLE)
    assert role.inputs["permissionsBoundary"] == BOUNDARY
    assert role.inputs["name"].startswith(f"ballast-{ENVIRONMENT}-")
    (project,) = run.of_type(CODEBUILD_PROJECT)
    assert project.inputs["serviceRole"] == role.outputs["arn"]


def test_only_codebuild_for_this_project_of_this_account_can_assume_the_role(run):
    (role,) = run.of_type(ROLE)
    trust = json.loads(role.inputs["assumeRolePolicy"])
    project = f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/{NAME}"
    codebuild = ("Service", "codebuild.amazonaws.com")
    ours = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": project}
    assert trust_allows(trust, principal=codebuild, context=ours)
    assert not trust_allows(
        trust, principal=codebuild, context={**ours, "aws:SourceAccount": "1" * 12}
    )
    assert not trust_allows(
        trust, principal=codebuild, context={**ours, "aws:SourceArn": f"{project}-other"}
    )
    assert not trust_allows(trust, principal=("Service", "ec2.amazonaws.com"), context=ours)
    assert not trust_allows(trust, principal=("AWS", f"arn:aws:iam::{ACCOUNT}:root"), context=ours)


IAM_ACTIONS = [
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:PassRole",
    "iam:CreatePolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRolePermissionsBoundary",
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
]


@pytest.mark.parametrize("action", IAM_ACTIONS)
def test_the_role_can_neither_change_iam_nor_assume_a_role(run, action):
    document = job_policy(run)
    for resource in ("*", f"arn:aws:iam::{ACCOUNT}:role/ballast-{ENVIRONMENT}-iam-ci-apply"):
        assert evaluate(document, action, resource, IN_REGION) == IMPLICIT_DENY


def test_the_role_grants_no_iam_or_sts_action_at_all(run):
    for statement in job_policy(run)["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert not [a for a in actions if a.split(":")[0] in ("iam", "sts", "*")], statement["Sid"]


def allowed_requests(document: dict) -> list[tuple[str, str]]:
    """Every (action, resource) pair an Allow statement of `document` names literally."""
    pairs = []
    for statement in document["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        resources = statement["Resource"]
        for action in actions:
            for resource in resources if isinstance(resources, list) else [resources]:
                pairs.append((action, resource))
    return pairs


def test_what_the_role_may_do_the_apply_role_and_the_boundary_allow_too(run):
    """The runner's role is no way around the apply role: each of its grants is one the
    apply role has already, and the boundary allows it in the platform's region."""
    document, apply, ceiling = job_policy(run), apply_role_policy(), boundary()
    pairs = allowed_requests(document)
    assert pairs
    for action, resource in pairs:
        assert evaluate(apply, action, resource) == ALLOW, (action, resource)
        assert evaluate(ceiling, action, resource, IN_REGION) == ALLOW, (action, resource)


def test_the_role_writes_its_own_log_group_and_no_other(run):
    document = job_policy(run)
    (group,) = run.of_type(LOG_GROUP)
    own = f"{group.outputs['arn']}:log-stream:job-1"
    other = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ballast/{NAME}-other/jobs:log-stream:x"
    assert evaluate(document, "logs:PutLogEvents", own) == ALLOW
    assert evaluate(document, "logs:CreateLogStream", group.outputs["arn"]) == ALLOW
    assert evaluate(document, "logs:PutLogEvents", other) == IMPLICIT_DENY
    assert evaluate(document, "logs:DeleteLogGroup", group.outputs["arn"]) == IMPLICIT_DENY


def test_the_role_creates_interfaces_only_in_the_runner_subnets_for_codebuild(run):
    document = job_policy(run)
    (group,) = run.of_type(SECURITY_GROUP)
    interface = f"{EC2}:network-interface/eni-0123"
    for subnet in SUBNETS:
        assert evaluate(document, "ec2:CreateNetworkInterface", f"{EC2}:subnet/{subnet}") == ALLOW
    other = f"{EC2}:subnet/{OTHER_SUBNET}"
    assert evaluate(document, "ec2:CreateNetworkInterface", other) == IMPLICIT_DENY
    assert (
        evaluate(document, "ec2:CreateNetworkInterface", f"{EC2}:security-group/{group.id}")
        == ALLOW
    )
    assert (
        evaluate(document, "ec2:CreateNetworkInterface", f"{EC2}:security-group/sg-0other")
        == IMPLICIT_DENY
    )
    codebuild = {"ec2:AuthorizedService": "codebuild.amazonaws.com"}
    in_subnet = {**codebuild, "ec2:Subnet": f"{EC2}:subnet/{SUBNETS[0]}"}
    permission = "ec2:CreateNetworkInterfacePermission"
    assert evaluate(document, permission, interface, in_subnet) == ALLOW
    assert evaluate(document, permission, interface, {**in_subnet, "ec2:Subnet": other}) == (
        IMPLICIT_DENY
    )
    elsewhere = {**in_subnet, "ec2:AuthorizedService": "lambda.amazonaws.com"}
    assert evaluate(document, permission, interface, elsewhere) == IMPLICIT_DENY
    assert evaluate(document, "ec2:RunInstances", "*") == IMPLICIT_DENY
    assert evaluate(document, "ec2:AuthorizeSecurityGroupIngress", "*") == IMPLICIT_DENY


def test_the_role_reads_only_its_connection(run):
    document = job_policy(run)
    (connection,) = run.of_type(CONNECTION)
    arn = connection.outputs["arn"]
    assert connection_service(arn) == "codeconnections"
    assert evaluate(document, "codeconnections:GetConnectionToken", arn) == ALLOW
    other = f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/other"
    assert evaluate(document, "codeconnections:GetConnectionToken", other) == IMPLICIT_DENY
    assert evaluate(document, "codeconnections:DeleteConnection", arn) == IMPLICIT_DENY


def test_the_boundary_still_denies_the_role_iam_escape_hatches():
    ceiling = boundary()
    assert evaluate(ceiling, "iam:CreateUser", "*", IN_REGION) == DENY
    assert evaluate(ceiling, "iam:DeleteRolePermissionsBoundary", "*", IN_REGION) == DENY
    far = {"aws:RequestedRegion": "eu-west-1"}
    assert evaluate(ceiling, "codebuild:StartBuild", "*", far) == DENY


# --- the policy pack -------------------------------------------------------------------


@pytest.fixture(scope="module")
def policy_pack():
    """The policy pack, started as the CLI starts it (tests/policy/conftest.py) for a
    stack named like this test's names (`aws_context`: the environment as the stack)."""
    with PolicyPackProcess(PACK_DIR, project="ballast", stack=ENVIRONMENT) as process:
        yield process


def test_the_runner_passes_the_prod_policy_pack(policy_pack, run):
    policy_pack.configure(load_policy_config(stack_config_file("prod")), source="prod")
    diagnostics = policy_pack.evaluate(analyzer_inputs(run))
    assert not [d for d in diagnostics if d.skipped], "a fully resolved run has no unknowns"
    mandatory = [
        f"{d.policy} on {d.urn.rsplit('::', 1)[-1]}: {d.message}"
        for d in diagnostics
        if d.level == "mandatory"
    ]
    assert not mandatory, "\n".join(mandatory)


# --- the settings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"computeType": "BUILD_GENERAL1_2XLARGE"}, "BUILD_GENERAL1_SMALL"),
        ({"buildTimeoutMinutes": 4}, "greater than or equal to 5"),
        ({"buildTimeoutMinutes": 2161}, "less than or equal to 2160"),
        ({"concurrentBuildLimit": 0}, "greater than or equal to 1"),
        ({"connectionArn": "arn:aws:iam::123456789012:role/x"}, "CodeConnections connection ARN"),
        ({"connectionArn": EXISTING.replace(ACCOUNT, "1234")}, "CodeConnections connection ARN"),
        ({"imagePullCredentials": "SERVICE_ROLE"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_runner_settings_are_refused(values, fragment):
    with pytest.raises(ValidationError, match=fragment):
        RunnerConfig.model_validate(values)


def test_a_name_codeconnections_cannot_hold_is_refused():
    def program() -> None:
        provider = aws.Provider("aws", region=REGION)
        CiRunner(
            "ballast-staging-runner-for-the-cluster-layer",
            CiRunnerArgs(
                context=aws_context(provider, REGION),
                roles=RoleFactory(role_prefix="ballast-staging-", boundary_arn=BOUNDARY),
                settings=RunnerConfig(),
                repository=REPOSITORY,
                vpc_id=VPC,
                subnet_ids=SUBNETS,
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    with pytest.raises(ProgramError, match="at most 32 characters"):
        run_component(program)
