"""The image registry (`ballast:registry`): repositories that keep a tag on one image,
scan and encrypt it, expire old images, and push roles that only the configured GitHub
environment of the repository can assume and that reach their own repository only
(evaluated with tests/iam_eval.py against the role's policy and the boundary)."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest
from pydantic import ValidationError

from ballast.offline import ProgramRun, run_component
from components.config import RegistryConfig
from components.iam import RoleFactory
from components.iam.actions import GITHUB_OIDC_HOST
from components.registry import LOGIN_ACTION, PUSH_ACTIONS, Registry, RegistryArgs
from tests.conftest import SHIPPED_STACKS, aws_context, platform_config, stack_run
from tests.iam_eval import ALLOW, IMPLICIT_DENY, evaluate, trust_allows
from tests.tokens import ECR_LIFECYCLE_POLICY, ECR_REPOSITORY, KEY, ROLE, ROLE_POLICY

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ENVIRONMENT = "prod"
REPOSITORY = "example-org/platform"
PUSH_ENVIRONMENT = "images"
SERVICES = ("checkout", "catalog")
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_OIDC_HOST}"
SETTINGS = RegistryConfig(keep_images=50, untagged_expire_days=7)


def program() -> None:
    provider = aws.Provider("aws", region=REGION, allowed_account_ids=[ACCOUNT])
    context = aws_context(provider, REGION, environment=ENVIRONMENT, protect=True)
    registry = Registry(
        f"ballast-{ENVIRONMENT}-images",
        RegistryArgs(
            context=context.with_tags({"service": "ci", "tier": "tier-2"}),
            roles=RoleFactory(
                role_prefix=context.names.role_prefix,
                boundary_arn=f"arn:aws:iam::{ACCOUNT}:policy/boundary",
            ),
            settings=SETTINGS,
            services=SERVICES,
            repository=REPOSITORY,
            push_environment=PUSH_ENVIRONMENT,
            github_oidc_provider_arn=PROVIDER_ARN,
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    for export, attribute in Registry.STACK_OUTPUTS.items():
        pulumi.export(export, getattr(registry, attribute))


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_component(program, stack=ENVIRONMENT)


def repositories(run: ProgramRun) -> dict[str, object]:
    return {r.inputs["tags"]["service"]: r for r in run.of_type(ECR_REPOSITORY)}


def test_one_repository_per_service_that_keeps_scans_and_encrypts(run):
    repos = repositories(run)
    assert sorted(repos) == sorted(SERVICES)
    (key,) = run.of_type(KEY)
    assert key.inputs["enableKeyRotation"] is True
    for service, repo in repos.items():
        assert repo.inputs["name"].endswith(f"/{service}")
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo.inputs["encryptionConfigurations"] == [
            {"encryptionType": "KMS", "kmsKey": key.outputs["arn"]}
        ]
        assert repo.inputs.get("forceDelete") is False
        # Stateful: protected where the context protects (prod), with its key.
        assert repo.protect and key.protect


def test_the_lifecycle_expires_untagged_images_then_keeps_the_newest(run):
    policies = run.of_type(ECR_LIFECYCLE_POLICY)
    assert len(policies) == len(SERVICES)
    names = {r.inputs["name"] for r in run.of_type(ECR_REPOSITORY)}
    for policy in policies:
        assert policy.inputs["repository"] in names
        untagged, newest = json.loads(policy.inputs["policy"])["rules"]
        assert untagged["selection"]["tagStatus"] == "untagged"
        assert untagged["selection"]["countNumber"] == SETTINGS.untagged_expire_days
        assert newest["selection"] == {
            "tagStatus": "any",
            "countType": "imageCountMoreThan",
            "countNumber": SETTINGS.keep_images,
        }
        assert untagged["rulePriority"] < newest["rulePriority"]


def _push_roles(run: ProgramRun) -> dict[str, tuple[object, dict]]:
    roles = {}
    for role in run.of_type(ROLE):
        service = role.inputs["tags"]["service"]
        (policy,) = [p for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]
        roles[service] = (role, json.loads(policy.inputs["policy"]))
    return roles


@pytest.mark.parametrize(
    ("subject", "accepted"),
    [
        (f"repo:{REPOSITORY}:environment:{PUSH_ENVIRONMENT}", True),
        (f"repo:{REPOSITORY}:environment:prod", False),
        (f"repo:{REPOSITORY}:ref:refs/heads/main", False),
        (f"repo:{REPOSITORY}:pull_request", False),
        (f"repo:example-org/other:environment:{PUSH_ENVIRONMENT}", False),
    ],
)
def test_only_the_push_environment_assumes_a_push_role(run, subject, accepted):
    claims = {f"{GITHUB_OIDC_HOST}:sub": subject, f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com"}
    for role, _ in _push_roles(run).values():
        trust = json.loads(role.inputs["assumeRolePolicy"])
        assert (
            trust_allows(
                trust,
                principal=("Federated", PROVIDER_ARN),
                action="sts:AssumeRoleWithWebIdentity",
                context=claims,
            )
            is accepted
        )


def test_a_push_role_pushes_to_its_own_repository_only(run):
    arns = {service: repo.outputs["arn"] for service, repo in repositories(run).items()}
    roles = _push_roles(run)
    assert sorted(roles) == sorted(SERVICES)
    for service, (role, policy) in roles.items():
        assert role.inputs["permissionsBoundary"]
        assert evaluate(policy, LOGIN_ACTION) == ALLOW
        for action in PUSH_ACTIONS:
            assert evaluate(policy, action, arns[service]) == ALLOW
            for other, arn in arns.items():
                if other != service:
                    assert evaluate(policy, action, arn) == IMPLICIT_DENY
        for action in ("ecr:DeleteRepository", "ecr:BatchDeleteImage", "ecr:SetRepositoryPolicy"):
            assert evaluate(policy, action, arns[service]) == IMPLICIT_DENY


def test_a_registry_needs_a_service():
    def empty() -> None:
        provider = aws.Provider("aws", region=REGION)
        context = aws_context(provider, REGION)
        Registry(
            "empty",
            RegistryArgs(
                context=context,
                roles=RoleFactory(role_prefix="x-", boundary_arn="arn:aws:iam::1:policy/b"),
                settings=SETTINGS,
                services=(),
                repository=REPOSITORY,
                push_environment="dev",
                github_oidc_provider_arn=PROVIDER_ARN,
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    from ballast.offline import ProgramError

    with pytest.raises(ProgramError, match="at least one service"):
        run_component(empty)


@pytest.mark.parametrize(
    "settings",
    [
        {"repositories": []},
        {"repositories": ["Checkout"]},
        {"repositories": ["a", "a"]},
        {"keepImages": 0},
        {"untaggedExpireDays": 0},
        {"pushEnvironment": "prod/*"},
    ],
)
def test_bad_registry_settings_are_refused(settings):
    with pytest.raises(ValidationError):
        RegistryConfig.model_validate(settings)


# --- the shipped stacks ---------------------------------------------------------------


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_a_shipped_registry_serves_its_services_from_its_environment(stack):
    config = platform_config(stack)
    run = stack_run(stack)
    if config.registry is None:
        assert run.outputs.get("registryRepositoryUrls") is None
        assert not run.of_type(ECR_REPOSITORY)
        return
    expected = config.registry.repositories or [s.name for s in config.services]
    assert sorted(run.outputs["registryRepositoryUrls"]) == sorted(expected)
    assert sorted(run.outputs["registryPushRoleArns"]) == sorted(expected)
    environment = config.registry.push_environment or config.ci.environment or config.environment
    (provider,) = [
        p
        for p in run.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
        if p.inputs["url"] == f"https://{GITHUB_OIDC_HOST}"
    ]
    subject = f"repo:{config.ci.repository}:environment:{environment}"
    claims = {f"{GITHUB_OIDC_HOST}:sub": subject, f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com"}
    for arn in run.outputs["registryPushRoleArns"].values():
        (role,) = [r for r in run.of_type(ROLE) if r.outputs.get("arn") == arn]
        trust = json.loads(role.inputs["assumeRolePolicy"])
        assert trust_allows(
            trust,
            principal=("Federated", provider.outputs["arn"]),
            action="sts:AssumeRoleWithWebIdentity",
            context=claims,
        )
