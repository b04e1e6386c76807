"""Vault's configuration as code on each shipped stack's recorded plan: one explicit
provider without a token, the AWS engine's roles and their IAM side (evaluated), the
database engine's roles, Kubernetes auth bound per service, the stack outputs. The
policies, auth roles and database engine meet a real server in tests/vault."""

from __future__ import annotations

import json
import re

import pytest

from components.cluster.addons import vault as addon
from components.cluster.addons import vault_config as vc
from components.config import IN_CLUSTER_ADDRESS
from tests.conftest import CLUSTER_STACKS, platform_boundary, platform_config, stack_run
from tests.iam_eval import ALLOW, IMPLICIT_DENY, evaluate, irsa_trust_allows, trust_allows
from tests.tokens import ROLE, ROLE_POLICY

VAULT_PROVIDER = "pulumi:providers:vault"
AWS_ROLE = "vault:aws/secretBackendRole:SecretBackendRole"
AWS_BACKEND = "vault:aws/secretBackend:SecretBackend"
DB_ROLE = "vault:database/secretBackendRole:SecretBackendRole"
DB_CONNECTION = "vault:database/secretBackendConnection:SecretBackendConnection"
ENDPOINT = "vault:generic/endpoint:Endpoint"
K8S_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
POLICY = "vault:index/policy:Policy"
ENGINE_ROLES = "ballast:components:AwsSecretsEngineRoles"


@pytest.fixture(params=CLUSTER_STACKS)
def layer(request):
    """(cluster stack run, its platform stack run, the platform's validated config)."""
    run = stack_run(request.param)
    stack = run.outputs["platformStack"]
    return run, stack_run(stack), platform_config(stack)


def with_secrets(config):
    return [s for s in config.services if s.secrets is not None]


def test_the_shipped_stacks_configure_vault_for_their_services(layer):
    run, _, config = layer
    assert with_secrets(config), "the shipped environments declare service secrets"
    assert [r for r in run.resources if r.type.startswith("vault:")]


def test_one_explicit_provider_with_no_token_in_the_plan(layer):
    run, _, config = layer
    (provider,) = run.of_type(VAULT_PROVIDER)
    assert config.vault is not None
    assert provider.inputs["address"] == config.vault.address
    # The runner's short-lived VAULT_TOKEN is read by the provider at run time; no token,
    # no login secret and no environment-derived input reaches the plan.
    assert not {"token", "authLogin", "skipTlsVerify"} & set(provider.inputs)
    assert provider.inputs["skipChildToken"] in ("false", False)
    assert int(provider.inputs["maxLeaseTtlSeconds"]) <= 3600
    for record in run.resources:
        if record.type.startswith("vault:"):
            assert record.provider is not None and record.provider.startswith(provider.urn), (
                record.urn
            )


def test_the_default_address_is_the_active_server_in_the_cluster():
    assert addon.in_cluster_url() == IN_CLUSTER_ADDRESS


def test_the_database_bootstrap_password_is_never_plain(layer):
    run, _, _ = layer
    (connection,) = run.of_type(DB_CONNECTION)
    assert connection.inputs["postgresql"] == "[secret]"
    assert run.outputs["vaultDatabaseBootstrapPassword"] == "[secret]"


def test_the_aws_engine_issues_assumed_roles_of_exactly_each_services_role(layer):
    run, platform, config = layer
    (backend,) = run.of_type(AWS_BACKEND)
    assert not {"accessKey", "secretKey"} & set(backend.inputs), "no static keys"
    assert backend.inputs["region"] == config.primary_region
    assert backend.inputs["defaultLeaseTtlSeconds"] == 15 * 60
    assert backend.inputs["maxLeaseTtlSeconds"] <= 3600
    service_roles = platform.outputs["vaultServiceRoleArns"]
    declared = {s.name for s in config.services if s.secrets and s.secrets.aws}
    assert set(service_roles) == declared
    roles = {r.inputs["name"]: r.inputs for r in run.of_type(AWS_ROLE)}
    assert set(roles) == declared
    for name, role in roles.items():
        assert role["credentialType"] == "assumed_role"
        assert role["roleArns"] == [service_roles[name]]
        assert role["defaultStsTtl"] == 15 * 60
        assert role["defaultStsTtl"] <= role["maxStsTtl"] <= 3600


def test_the_engine_role_may_only_assume_the_service_roles(layer):
    _, platform, _ = layer
    engine_arn = platform.outputs["vaultAwsEngineRoleArn"]
    service_arns = list(platform.outputs["vaultServiceRoleArns"].values())
    roles = {r.outputs["arn"]: r for r in platform.of_type(ROLE)}
    engine = roles[engine_arn]
    assert ENGINE_ROLES in engine.urn
    (inline,) = [p for p in platform.of_type(ROLE_POLICY) if p.inputs["role"] == engine.id]
    policy = json.loads(inline.inputs["policy"])
    for arn in service_arns:
        assert evaluate(policy, "sts:AssumeRole", arn) == ALLOW
    others = [
        platform.outputs["vaultServerRoleArn"],
        re.sub(r"role/.*$", "role/anything-else", engine_arn),
        engine_arn,
    ]
    for arn in others:
        assert evaluate(policy, "sts:AssumeRole", arn) == IMPLICIT_DENY, arn
    for action in ("sts:AssumeRoleWithWebIdentity", "iam:PassRole", "s3:GetObject"):
        assert evaluate(policy, action, service_arns[0]) == IMPLICIT_DENY, action
    # IRSA for the Vault servers' service account only.
    trust = json.loads(engine.inputs["assumeRolePolicy"])
    server = f"system:serviceaccount:{addon.NAMESPACE}:{addon.SERVICE_ACCOUNT}"
    assert irsa_trust_allows(trust, platform.outputs, server)
    assert not irsa_trust_allows(trust, platform.outputs, "system:serviceaccount:checkout:checkout")


def test_each_service_role_trusts_only_the_engine_and_carries_the_boundary(layer):
    _, platform, config = layer
    engine_arn = platform.outputs["vaultAwsEngineRoleArn"]
    boundary = platform_boundary(platform).outputs["arn"]
    roles = {r.outputs["arn"]: r for r in platform.of_type(ROLE)}
    declared = {s.name: s for s in config.services if s.secrets and s.secrets.aws}
    for name, arn in platform.outputs["vaultServiceRoleArns"].items():
        role = roles[arn]
        # IAM refuses a trust naming a role that does not exist yet.
        assert role.waits_for(roles[engine_arn].urn)
        assert role.inputs["permissionsBoundary"] == boundary
        assert role.inputs["maxSessionDuration"] <= 3600
        trust = json.loads(role.inputs["assumeRolePolicy"])
        assert trust_allows(trust, principal=("AWS", engine_arn), action="sts:AssumeRole")
        for other in (platform.outputs["vaultServerRoleArn"], arn):
            assert not trust_allows(trust, principal=("AWS", other), action="sts:AssumeRole")
        (inline,) = [p for p in platform.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]
        assert json.loads(inline.inputs["policy"]) == declared[name].secrets.aws.policy


def test_database_roles_last_at_most_an_hour_and_touch_only_their_schema(layer):
    run, _, config = layer
    declared = {s.name for s in config.services if s.secrets and s.secrets.database}
    roles = {r.inputs["name"]: r.inputs for r in run.of_type(DB_ROLE)}
    assert set(roles) == declared
    (connection,) = run.of_type(DB_CONNECTION)
    assert sorted(connection.inputs["allowedRoles"]) == sorted(declared)
    assert connection.inputs["verifyConnection"] is True
    for name, role in roles.items():
        assert role["dbName"] == connection.inputs["name"]
        assert role["defaultTtl"] <= role["maxTtl"] <= 3600
        schema = vc.schema_name(name)
        quoted = re.findall(r'SCHEMA "([^"]+)"', " ".join(role["creationStatements"]))
        assert quoted and set(quoted) == {schema}
        assert any("DROP ROLE" in s for s in role["revocationStatements"])


def test_root_rotation_runs_once_right_after_the_connection(layer):
    run, _, _ = layer
    (connection,) = run.of_type(DB_CONNECTION)
    (rotate,) = [e for e in run.of_type(ENDPOINT) if "/rotate-root/" in e.inputs["path"]]
    assert rotate.inputs["path"] == f"{vc.DATABASE_MOUNT}/rotate-root/{connection.inputs['name']}"
    assert rotate.inputs["disableRead"] is True and rotate.inputs["disableDelete"] is True
    assert rotate.waits_for(connection.urn)


def test_kubernetes_auth_binds_each_service_to_its_namespace_and_account(layer):
    run, _, config = layer
    roles = {r.inputs["roleName"]: r.inputs for r in run.of_type(K8S_ROLE)}
    services = {s.name: s for s in with_secrets(config)}
    assert set(roles) == set(services)
    for name, role in roles.items():
        service = services[name]
        assert role["boundServiceAccountNames"] == [service.service_account]
        assert role["boundServiceAccountNamespaces"] == [service.namespace or service.name]
        assert role["audience"] == vc.AUDIENCE
        assert role["tokenTtl"] <= role["tokenMaxTtl"] <= 3600
        assert role["tokenPolicies"] == [vc.policy_name(name)]


def test_one_policy_per_service_and_only_the_admin_one_is_broad(layer):
    run, _, config = layer
    policies = {p.inputs["name"] for p in run.of_type(POLICY)}
    expected = {vc.policy_name(s.name) for s in with_secrets(config)}
    assert config.vault is not None
    if config.vault.admin_jwt is not None:
        expected.add(vc.ADMIN_POLICY)
    assert policies == expected


def test_the_admin_policy_is_issued_only_through_jwt(layer):
    run, _, config = layer
    assert config.vault is not None
    granting = [
        r for r in run.resources if vc.ADMIN_POLICY in (r.inputs.get("tokenPolicies") or [])
    ]
    if config.vault.admin_jwt is None:
        assert granting == []
        return
    (role,) = granting
    assert role.type == "vault:jwt/authBackendRole:AuthBackendRole"
    assert role.inputs["boundClaims"] and role.inputs["boundAudiences"]
    assert role.inputs["tokenMaxTtl"] <= 3600


def test_the_cluster_stack_exports_where_services_find_vault(layer):
    run, platform, config = layer
    assert run.outputs["vaultUrl"] == platform.outputs["vaultUrl"]
    assert run.outputs["vaultAuthMounts"]["kubernetes"] == vc.KUBERNETES_AUTH_MOUNT
    roles = run.outputs["vaultServiceRoles"]
    for service in with_secrets(config):
        entry = roles[service.name]
        assert entry["policy"] == vc.policy_name(service.name)
        assert entry["kubernetesRole"] == service.name
        assert ("awsRole" in entry) == (service.secrets.aws is not None)
        assert ("databaseRole" in entry) == service.secrets.database


def test_service_paths_name_only_the_service():
    for path, _ in vc.service_paths("orders", aws=True, database=True, kv=True):
        assert "orders" in path.split("/")
    assert vc.service_paths("orders", aws=False, database=False, kv=False) == []


def test_schema_names_are_postgres_identifiers():
    assert vc.schema_name("order-history") == "order_history"
    with pytest.raises(ValueError, match="PostgreSQL schema"):
        vc.schema_name("x" * 64)
