"""Vault on each shipped stack: the platform half (unseal key, server role, the UI's
internal route) on the recorded graph, the role's policy and trust evaluated, and the
cluster half's release (HA Raft, spread, disruption budget, TLS, seal, volumes)."""

from __future__ import annotations

import json
import re

import pytest

from ballast.offline import load_stack_config
from ballast.offline.stack_config import load_project
from components import versions
from components.cluster.addons import vault as addon
from components.config import parse_platform_config
from components.vault import UNSEAL_ACTIONS, unseal_policy_document
from tests.conftest import ROOT, SHIPPED_STACKS, platform_boundary, stack_run
from tests.iam_eval import ALLOW, IMPLICIT_DENY, evaluate, irsa_trust_allows
from tests.tokens import HELM_RELEASE, KEY, ROLE, ROLE_POLICY, TARGET_GROUP

VAULT = "ballast:components:Vault"
SECRET = "kubernetes:core/v1:Secret"
BINDING = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"


def config_of(stack: str):
    return parse_platform_config(load_stack_config(load_project(ROOT), stack).config)


def vault_of(run, type_: str) -> list:
    return [r for r in run.resources if r.type == type_ and VAULT in r.urn]


def release_of(stack: str):
    (release,) = [
        r
        for r in stack_run(f"{stack}-cluster").of_type(HELM_RELEASE)
        if r.inputs["chart"] == versions.VAULT_CHART and r.inputs["name"] == addon.RELEASE
    ]
    return release


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_unseal_key_rotates_and_is_protected_in_prod(stack):
    run = stack_run(stack)
    (key,) = vault_of(run, KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert key.outputs["arn"] == run.outputs["vaultUnsealKeyArn"]
    assert key.protect == (config_of(stack).environment == "prod")


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_server_role_may_only_use_its_own_key_and_only_to_unseal(stack):
    run = stack_run(stack)
    (role,) = vault_of(run, ROLE)
    assert role.outputs["arn"] == run.outputs["vaultServerRoleArn"]
    (inline,) = [p for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]
    policy = json.loads(inline.inputs["policy"])
    key = run.outputs["vaultUnsealKeyArn"]
    other_key = re.sub(r"key/.*$", "key/00000000-0000-0000-0000-000000000000", key)
    for action in UNSEAL_ACTIONS:
        assert evaluate(policy, action, key) == ALLOW, action
        assert evaluate(policy, action, other_key) == IMPLICIT_DENY, action
    for action in (
        "kms:GenerateDataKey",
        "kms:ReEncryptFrom",
        "kms:CreateGrant",
        "kms:ScheduleKeyDeletion",
        "kms:PutKeyPolicy",
        "kms:DisableKey",
    ):
        assert evaluate(policy, action, key) == IMPLICIT_DENY, action
    # ... and the environment's permission boundary leaves the three usable on that key.
    boundary = platform_boundary(run)
    assert role.inputs["permissionsBoundary"] == boundary.outputs["arn"]
    for action in UNSEAL_ACTIONS:
        assert evaluate(json.loads(boundary.inputs["policy"]), action, key) == ALLOW, action


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_only_the_servers_service_account_assumes_the_role(stack):
    run = stack_run(stack)
    (role,) = vault_of(run, ROLE)
    trust = json.loads(role.inputs["assumeRolePolicy"])
    server = f"system:serviceaccount:{addon.NAMESPACE}:{addon.SERVICE_ACCOUNT}"
    assert irsa_trust_allows(trust, run.outputs, server)
    for sub in ("system:serviceaccount:vault:default", "system:serviceaccount:checkout:vault"):
        assert not irsa_trust_allows(trust, run.outputs, sub)


def test_the_unseal_policy_names_one_key():
    policy = unseal_policy_document("arn:aws:kms:eu-west-1:111122223333:key/k")
    (statement,) = policy["Statement"]
    assert statement["Resource"] == "arn:aws:kms:eu-west-1:111122223333:key/k"
    assert sorted(statement["Action"]) == sorted(UNSEAL_ACTIONS)


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_ui_is_only_on_the_internal_alb_over_https(stack):
    run = stack_run(stack)
    config = config_of(stack)
    assert config.ingress is not None
    routes = [r for r in run.outputs["ingressRoutes"] if r["namespace"] == addon.NAMESPACE]
    if not config.ingress.platform_cidrs:
        # No internal ALB: no route at all, and the URL is the in-cluster one.
        assert routes == []
        assert run.outputs["vaultUrl"] == addon.in_cluster_url()
        return
    (route,) = routes
    assert route["internal"] is True
    assert route["service"] == addon.ACTIVE_SERVICE and route["port"] == addon.PORT
    assert run.outputs["vaultUrl"] == f"https://vault.{config.ingress.hosted_zone_name}"
    (group,) = [g for g in run.of_type(TARGET_GROUP) if g.outputs["arn"] == route["targetGroupArn"]]
    assert group.inputs["protocol"] == "HTTPS"
    assert group.inputs["healthCheck"]["protocol"] == "HTTPS"
    assert group.inputs["healthCheck"]["path"] == addon.HEALTH_CHECK_PATH
    # The cluster layer binds the active Service to it, in Vault's namespace.
    bindings = [
        b
        for b in stack_run(f"{stack}-cluster").of_type(BINDING)
        if b.inputs["metadata"]["namespace"] == addon.NAMESPACE
    ]
    (binding,) = bindings
    assert binding.inputs["spec"]["serviceRef"] == {
        "name": addon.ACTIVE_SERVICE,
        "port": addon.PORT,
    }


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_release_runs_ha_raft_spread_over_zones_with_a_budget(stack):
    config = config_of(stack)
    assert config.vault is not None
    server = release_of(stack).inputs["values"]["server"]
    replicas = config.vault.replica_count(config.environment)
    assert server["ha"]["enabled"] is True and server["ha"]["replicas"] == replicas
    assert server["ha"]["raft"]["enabled"] is True
    assert server["standalone"]["enabled"] is False
    assert server["ha"]["disruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    if config.environment == "prod":
        assert replicas >= 3 and replicas % 2 == 1
    (spread,) = server["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    assert spread["whenUnsatisfiable"] == "DoNotSchedule" and spread["maxSkew"] == 1
    assert spread["labelSelector"]["matchLabels"] == addon.SERVER_LABELS
    (anti,) = server["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert anti["topologyKey"] == "kubernetes.io/hostname"
    assert anti["labelSelector"]["matchLabels"] == addon.SERVER_LABELS
    resources = server["resources"]
    assert resources["requests"]["memory"] == resources["limits"]["memory"]
    for volume in ("dataStorage", "auditStorage"):
        assert server[volume]["enabled"] is True
        assert server[volume]["size"] == f"{config.vault.storage_size_gib}Gi"
        assert server[volume]["storageClass"] == "gp3"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_default_storage_class_that_vault_uses_is_encrypted(stack):
    (storage_class,) = [
        r
        for r in stack_run(f"{stack}-cluster").of_type("kubernetes:storage.k8s.io/v1:StorageClass")
        if r.inputs["metadata"]["name"] == "gp3"
    ]
    assert storage_class.inputs["parameters"]["encrypted"] == "true"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_server_config_seals_with_the_platforms_key_and_serves_tls(stack):
    platform = stack_run(stack)
    values = release_of(stack).inputs["values"]
    assert values["global"]["tlsDisable"] is False
    hcl = values["server"]["ha"]["raft"]["config"]
    seal = re.search(r'seal "awskms" \{(.*?)\}', hcl, re.S)
    assert seal is not None
    assert f'kms_key_id = "{platform.outputs["vaultUnsealKeyId"]}"' in seal.group(1)
    assert f'region = "{platform.outputs["primaryRegion"]}"' in seal.group(1)
    listener = re.search(r'listener "tcp" \{(.*?)\n\}', hcl, re.S)
    assert listener is not None and "tls_disable = false" in listener.group(1)
    assert "tls_cert_file" in listener.group(1) and "tls_key_file" in listener.group(1)
    replicas = values["server"]["ha"]["replicas"]
    assert hcl.count("retry_join {") == replicas
    account = values["server"]["serviceAccount"]
    assert account["name"] == addon.SERVICE_ACCOUNT
    engine_role = platform.outputs["vaultAwsEngineRoleArn"]
    irsa_role = account["annotations"]["eks.amazonaws.com/role-arn"]
    if engine_role is None:
        # No AWS secrets engine: the pods' IRSA role is the server role, which the seal uses.
        assert irsa_role == platform.outputs["vaultServerRoleArn"]
        assert "role_arn" not in seal.group(1)
    else:
        # The pods' default AWS credentials are the engine's; the seal assumes the server
        # role itself with the same service account token.
        assert irsa_role == engine_role
        assert f'role_arn = "{platform.outputs["vaultServerRoleArn"]}"' in seal.group(1)
        assert f'web_identity_token_file = "{addon.WEB_IDENTITY_TOKEN_FILE}"' in seal.group(1)
    assert values["server"]["image"]["tag"] == versions.VAULT_VERSION
    assert values["server"]["ingress"]["enabled"] is False


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_listener_certificate_is_mounted_from_its_secret(stack):
    run = stack_run(f"{stack}-cluster")
    (secret,) = [s for s in run.of_type(SECRET) if s.inputs["metadata"]["name"] == addon.TLS_SECRET]
    assert secret.inputs["metadata"]["namespace"] == addon.NAMESPACE
    assert secret.inputs["type"] == "kubernetes.io/tls"
    # The keys never reach the recorded inputs in plain text.
    assert secret.inputs["stringData"] == "[secret]"
    server = release_of(stack).inputs["values"]["server"]
    (volume,) = server["volumes"]
    assert volume["secret"]["secretName"] == addon.TLS_SECRET
    (mount,) = server["volumeMounts"]
    assert mount["mountPath"] == addon.TLS_DIR and mount["readOnly"] is True
    # Every name a Raft peer joins by is on the certificate.
    request = [r for r in run.resources if r.type == "tls:index/certRequest:CertRequest"]
    (request,) = request
    names = set(request.inputs["dnsNames"])
    for i in range(server["ha"]["replicas"]):
        assert f"vault-{i}.{addon.INTERNAL_SERVICE}" in names
    assert f"{addon.ACTIVE_SERVICE}.{addon.NAMESPACE}.svc" in names


def test_the_server_certificate_renews_before_it_expires():
    assert 0 < addon.CERT_EARLY_RENEWAL_HOURS < addon.CERT_VALIDITY_HOURS < addon.CA_VALIDITY_HOURS
