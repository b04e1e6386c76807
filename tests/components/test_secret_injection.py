"""A service's credentials as files (components/secret_injection.py, vault_access.py):
the injector's annotations and the SecretProviderClass, validated against the pinned
Kubernetes schemas and the Secrets Store CSI CRD in the reference data; and the
releases that serve them (injector, CSI driver, Vault CSI provider) in every cluster
stack."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ballast.offline import run_component
from components import secret_injection as inject
from components import vault_access, versions
from components.cluster.addons import secrets_store_csi_driver as csi_driver
from components.cluster.addons import vault as vault_addon
from components.cluster.scope import InClusterScope
from components.tags import TIER_LABEL
from components.vault_access import SecretNeeds
from components.workloads import workload_defaults
from tests.conftest import CLUSTER_STACKS, stack_run
from tests.reference import validate_custom_resource
from tests.tokens import HELM_RELEASE

SPC = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"
NAMES = st.from_regex(r"[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,8})?", fullmatch=True)
NEEDS = st.builds(
    SecretNeeds,
    aws=st.booleans(),
    database=st.booleans(),
    kv=st.lists(NAMES, max_size=3, unique=True).map(tuple),
).filter(bool)
EVERYTHING = SecretNeeds(aws=True, database=True, kv=("config", "stripe"))


def is_own(path: str, service: str) -> bool:
    """Whether `path` is one the service may read (its policy's paths, vault_access):
    its two credential paths exactly, or a secret under its KV prefix."""
    return path in (
        vault_access.aws_credentials_path(service),
        vault_access.database_credentials_path(service),
    ) or path.startswith(vault_access.kv_prefix(service))


def deployment(service: str, pod_metadata: dict, **pod_extra: Any) -> dict:
    defaults = workload_defaults(service, namespace=service, tier="tier-1")
    containers = pod_extra.pop("containers", [{"name": "app", "image": "example/app:1.2.3"}])
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service, "namespace": service},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": defaults.selector},
            "template": {
                "metadata": {"labels": defaults.pod_labels(), **pod_metadata},
                "spec": defaults.pod_spec(containers, serviceAccountName=service, **pod_extra),
            },
        },
    }


# --- names shared with the Vault configuration -------------------------------------------


@given(NAMES, NAMES)
def test_a_services_paths_never_overlap_another_services(a, b):
    if a == b:
        return
    mine = inject.files(a, SecretNeeds(aws=True, database=True, kv=("config",)))
    for path in mine.values():
        assert is_own(path, a) and not is_own(path, b), path


def test_bad_names_are_refused_with_the_accepted_form():
    with pytest.raises(ValueError, match="DNS-1123"):
        vault_access.role_name("Checkout")
    with pytest.raises(ValueError, match="DNS-1123"):
        vault_access.kv_secret_path("checkout", "../other/config")
    with pytest.raises(ValueError, match="DNS-1123"):
        SecretNeeds(kv=("Bad_Name",))
    with pytest.raises(ValueError, match="twice"):
        SecretNeeds(kv=("a", "a"))


@dataclass
class Declared:
    aws: Any = None
    database: Any = None
    kv: Any = None


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        (None, SecretNeeds()),
        ({"aws": {"policy": "{}"}}, SecretNeeds(aws=True)),
        ({"database": True, "kv": True}, SecretNeeds(database=True, kv=("config",))),
        (Declared(kv=["a", "b"]), SecretNeeds(kv=("a", "b"))),
        (Declared(aws={"roleArn": "arn"}, database=False), SecretNeeds(aws=True)),
    ],
)
def test_needs_from_a_declared_secrets_setting(declared, expected):
    assert SecretNeeds.of(declared) == expected


def test_a_kv_setting_that_is_neither_true_nor_a_list_is_refused():
    with pytest.raises(ValueError, match="true or a list"):
        SecretNeeds.of({"kv": "config"})


# --- the Agent Injector route ------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(NAMES, NEEDS)
def test_the_annotations_ask_for_the_services_own_paths_only(service, needs):
    annotations = inject.injector_annotations(service, needs)
    prefix = inject.ANNOTATION_PREFIX
    assert annotations[f"{prefix}agent-inject"] == "true"
    assert annotations[f"{prefix}role"] == vault_access.role_name(service)
    assert annotations[f"{prefix}auth-path"] == f"auth/{vault_access.KUBERNETES_AUTH_MOUNT}"
    assert annotations[f"{prefix}agent-revoke-on-shutdown"] == "true"
    secrets = {
        k.removeprefix(f"{prefix}agent-inject-secret-"): v
        for k, v in annotations.items()
        if k.startswith(f"{prefix}agent-inject-secret-")
    }
    assert len(secrets) == needs.aws + needs.database + len(needs.kv)
    for file, path in secrets.items():
        assert is_own(path, service), path
        # Each file's template reads exactly the path it is declared for.
        template = annotations[f"{prefix}agent-inject-template-{file}"]
        assert re.findall(r'secret "([^"]+)"', template) == [path]


def test_the_aws_file_carries_the_session_token_of_sts_credentials():
    annotations = inject.injector_annotations("checkout", SecretNeeds(aws=True))
    template = annotations[f"{inject.ANNOTATION_PREFIX}agent-inject-template-aws-credentials"]
    for key in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"):
        assert re.search(rf"^{key} = {{{{ \.Data\.\w+ }}}}$", template, re.M), key


def test_nothing_to_inject_is_refused():
    with pytest.raises(ValueError, match="no secrets"):
        inject.injector_annotations("checkout", SecretNeeds())
    with pytest.raises(ValueError, match="no secrets"):
        inject.secret_provider_class("checkout", "checkout", SecretNeeds())


def test_the_agent_logs_in_with_a_short_lived_token_for_vault_only():
    annotations = inject.injector_annotations("checkout", EVERYTHING)
    volume_name = annotations[f"{inject.ANNOTATION_PREFIX}agent-service-account-token-volume-name"]
    (volume,) = inject.injector_volumes()
    assert volume["name"] == volume_name
    (source,) = volume["projected"]["sources"]
    token = source["serviceAccountToken"]
    assert token["audience"] == vault_access.TOKEN_AUDIENCE
    # The API server's minimum lifetime is 10 minutes; no longer than an hour.
    assert 600 <= token["expirationSeconds"] <= 3600


def test_an_annotated_deployment_passes_strict_validation():
    validate = kubernetes_validate.validate
    manifest = deployment(
        "checkout",
        {"annotations": inject.injector_annotations("checkout", EVERYTHING)},
        volumes=inject.injector_volumes(),
    )
    validate(manifest, versions.KUBERNETES_VERSION, strict=True)


# --- the CSI route -----------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(NAMES, NEEDS)
def test_the_secret_provider_class_validates_and_reads_only_own_paths(service, needs):
    manifest = inject.secret_provider_class(service, service, needs)
    validate_custom_resource(manifest)
    parameters = manifest["spec"]["parameters"]
    assert manifest["spec"]["provider"] == "vault"
    assert parameters["roleName"] == vault_access.role_name(service)
    assert parameters["vaultKubernetesMountPath"] == vault_access.KUBERNETES_AUTH_MOUNT
    assert parameters["audience"] == vault_access.TOKEN_AUDIENCE
    # Through the provider's caching agent, which knows the address: none set here.
    assert "vaultAddress" not in parameters
    # Nothing synced into a Kubernetes Secret.
    assert "secretObjects" not in manifest["spec"]
    objects = yaml.safe_load(parameters["objects"])
    names = [o["objectName"] for o in objects]
    assert len(names) == len(set(names)) == needs.aws + needs.database + len(needs.kv)
    for entry in objects:
        assert is_own(entry["secretPath"], service)
        # The whole response per path: one read per credential, so an access key and
        # its secret never come from two different issues.
        assert "secretKey" not in entry
    # Same file names as the injector route.
    assert set(names) == set(inject.files(service, needs))


def test_a_bad_secret_provider_class_fails_the_crd_schema():
    import jsonschema

    manifest = inject.secret_provider_class("checkout", "checkout", EVERYTHING)
    manifest["spec"]["parameters"]["objects"] = [{"objectName": "x"}]  # must be a string
    with pytest.raises(jsonschema.ValidationError):
        validate_custom_resource(manifest)


def test_a_deployment_mounting_its_class_passes_strict_validation():
    manifest = deployment(
        "checkout",
        {},
        containers=[
            {
                "name": "app",
                "image": "example/app:1.2.3",
                "volumeMounts": [inject.csi_volume_mount()],
            }
        ],
        volumes=[inject.csi_volume("checkout")],
    )
    kubernetes_validate.validate(manifest, versions.KUBERNETES_VERSION, strict=True)
    (volume,) = manifest["spec"]["template"]["spec"]["volumes"]
    assert volume["csi"]["driver"] == inject.CSI_DRIVER
    spc = inject.secret_provider_class("checkout", "checkout", EVERYTHING)
    assert volume["csi"]["volumeAttributes"]["secretProviderClass"] == spc["metadata"]["name"]


def test_one_class_per_service_that_asks_in_its_namespace_after_the_driver():
    @dataclass
    class Service:
        name: str
        namespace: str | None = None
        secrets: Any = None

    services = [
        Service("checkout", secrets={"database": True, "kv": True}),
        Service("catalog", namespace="shop", secrets={"aws": {"policy": "{}"}}),
        Service("reports"),
    ]
    wanted = csi_driver.service_secret_needs(services)
    assert [(s, n) for s, n, _ in wanted] == [("checkout", "checkout"), ("catalog", "shop")]

    def program():
        provider = k8s.Provider("k", kubeconfig="{}")
        scope = InClusterScope(name="c", parent=provider, provider=provider)
        namespaces = {
            n: k8s.core.v1.Namespace(
                f"ns-{n}", metadata={"name": n}, opts=pulumi.ResourceOptions(provider=provider)
            )
            for n in ("checkout", "shop")
        }
        driver = k8s.core.v1.ConfigMap(
            "driver", metadata={"name": "d"}, opts=pulumi.ResourceOptions(provider=provider)
        )
        csi_driver.secret_provider_classes(
            scope, services=wanted, driver=driver, namespaces=namespaces
        )

    run = run_component(program, disabled_packages=frozenset())
    classes = {r.inputs["metadata"]["namespace"]: r for r in run.of_type(SPC)}
    assert set(classes) == {"checkout", "shop"}
    for namespace, record in classes.items():
        validate_custom_resource({k: v for k, v in record.inputs.items() if k != "__defaults"})
        deps = " ".join(record.depends_on)
        assert "driver" in deps and f"ns-{namespace}" in deps
    assert classes["shop"].inputs["spec"]["parameters"]["roleName"] == "catalog"


# --- the releases in every cluster stack -------------------------------------------------


def releases(stack: str) -> dict[str, Any]:
    return {r.inputs["name"]: r for r in stack_run(stack).of_type(HELM_RELEASE)}


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_the_injector_fails_closed_for_service_namespaces_only(stack):
    run = stack_run(stack)
    injector = releases(stack)[vault_addon.RELEASE].inputs["values"]["injector"]
    assert injector["enabled"] is True
    webhook = injector["webhook"]
    assert webhook["failurePolicy"] == "Fail"
    (expression,) = webhook["namespaceSelector"]["matchExpressions"]
    assert expression["key"] == TIER_LABEL and expression["operator"] == "In"
    for namespace in run.of_type("kubernetes:core/v1:Namespace"):
        labels = namespace.inputs["metadata"]["labels"]
        seen = labels.get(TIER_LABEL) in expression["values"]
        # Exactly the service namespaces; never a platform one (the injector's own).
        assert seen == (labels[TIER_LABEL] != "platform"), namespace.inputs["metadata"]
    assert injector["authPath"] == vault_access.auth_path()
    assert injector["revokeOnShutdown"] is True
    assert injector["image"]["tag"] == versions.VAULT_K8S_VERSION
    assert injector["agentImage"]["tag"] == versions.VAULT_VERSION


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_the_injector_is_spread_with_a_budget_and_bounded_resources(stack):
    environment = stack_run(stack).outputs["environment"]
    injector = releases(stack)[vault_addon.RELEASE].inputs["values"]["injector"]
    replicas = injector["replicas"]
    assert replicas >= (1 if environment == "dev" else 2)
    assert injector["podDisruptionBudget"]["maxUnavailable"] < max(replicas, 2)
    (anti,) = injector["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert anti["topologyKey"] == "kubernetes.io/hostname"
    zone = [c for c in injector["topologySpreadConstraints"] if c["topologyKey"].endswith("/zone")]
    assert zone and zone[0]["whenUnsatisfiable"] == "DoNotSchedule"
    for resources in (injector["resources"],):
        assert resources["requests"]["memory"] == resources["limits"]["memory"]
    agent = injector["agentDefaults"]
    assert agent["memRequest"] == agent["memLimit"]


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_injected_agents_and_the_csi_provider_trust_the_listeners_ca(stack):
    run = stack_run(stack)
    (ca,) = [
        c
        for c in run.of_type("kubernetes:core/v1:ConfigMap")
        if c.inputs["metadata"]["name"] == vault_addon.CA_CONFIG_MAP
    ]
    (cert,) = [r for r in run.resources if r.type == "tls:index/selfSignedCert:SelfSignedCert"]
    assert cert.inputs["isCaCertificate"] is True
    # The CA's PEM is only known once the certificate exists (unknown in a preview):
    # both consumers are fed from that certificate.
    assert cert.urn in ca.property_dependencies["data"]
    by_name = releases(stack)
    server = by_name[vault_addon.RELEASE]
    assert cert.urn in server.property_dependencies["values"]
    csi = by_name[vault_addon.CSI_RELEASE].inputs["values"]["csi"]
    (volume,) = csi["volumes"]
    assert volume["configMap"]["name"] == vault_addon.CA_CONFIG_MAP
    (mount,) = csi["volumeMounts"]
    (ca_arg,) = [a for a in csi["agent"]["extraArgs"] if a.startswith("-ca-cert=")]
    assert ca_arg.removeprefix("-ca-cert=").startswith(mount["mountPath"] + "/")
    assert (
        ca.inputs["metadata"]["namespace"] == by_name[vault_addon.CSI_RELEASE].inputs["namespace"]
    )


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_the_csi_driver_and_the_vault_provider_fit_together(stack):
    by_name = releases(stack)
    driver = by_name[csi_driver.RELEASE].inputs
    provider = by_name[vault_addon.CSI_RELEASE].inputs
    assert driver["chart"] == versions.SECRETS_STORE_CSI_DRIVER_CHART
    assert driver["version"] == versions.SECRETS_STORE_CSI_DRIVER_CHART_VERSION
    values = driver["values"]
    csi = provider["values"]["csi"]
    # The provider's socket is where the driver looks for it.
    assert csi["daemonSet"]["providersDir"] == values["linux"]["providersDir"]
    assert values["linux"]["image"]["tag"] == versions.SECRETS_STORE_CSI_DRIVER_APP_VERSION
    # The driver hands the provider a token for Vault's audience only.
    assert values["tokenRequests"] == [{"audience": vault_access.TOKEN_AUDIENCE}]
    assert values["syncSecret"]["enabled"] is False
    assert values["enableSecretRotation"] is True and values["rotationPollInterval"]
    # Both on every node, whatever its taints, at node-critical priority.
    for tolerations, priority in (
        (values["linux"]["tolerations"], values["linux"]["priorityClassName"]),
        (csi["pod"]["tolerations"], csi["priorityClassName"]),
    ):
        assert {"operator": "Exists"} in tolerations
        assert priority == "system-node-critical"
    for resources in (
        values["linux"]["driver"]["resources"],
        values["linux"]["registrar"]["resources"],
        values["linux"]["livenessProbe"]["resources"],
        csi["resources"],
        csi["agent"]["resources"],
    ):
        assert resources["requests"]["memory"] == resources["limits"]["memory"]
        assert resources["requests"]["cpu"] and resources["limits"]["cpu"]
    # The provider release is the provider only, talking to the active server.
    assert provider["values"]["server"]["enabled"] is False
    assert provider["values"]["injector"]["enabled"] is False
    assert provider["values"]["global"]["externalVaultAddr"] == vault_addon.in_cluster_url()
    assert csi["enabled"] is True and csi["agent"]["enabled"] is True
    assert csi["image"]["tag"] == versions.VAULT_CSI_PROVIDER_VERSION
    # And the server release leaves the CSI provider to it.
    assert by_name[vault_addon.RELEASE].inputs["values"]["csi"]["enabled"] is False


def test_the_injector_hands_every_agent_the_ca_it_is_given():
    values = vault_addon.injector_values(environment="prod", ca_cert="CA-PEM")
    assert values["extraEnvironmentVars"]["AGENT_INJECT_VAULT_CACERT_BYTES"] == "CA-PEM"
    assert vault_addon.injector_values(environment="dev", ca_cert="x")["replicas"] == 1
