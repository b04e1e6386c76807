"""The cluster layer of each shipped environment (`<env>-cluster`): every Kubernetes
object, built on its platform stack's outputs, and the split between the two layers."""

from __future__ import annotations

import ast
import inspect
import json
from dataclasses import replace

import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest

from ballast.offline import run_component
from components import versions
from components.cluster.addons import grafana as grafana_addon
from components.cluster.addons import load_balancer_controller as lb_controller
from components.cluster.addons.autoscaler import NAMESPACE as AUTOSCALER_NAMESPACE
from components.cluster.baseline import ClusterBaseline, ClusterBaselineArgs
from components.cluster.scope import ClusterFacts, InClusterScope
from components.config import PLATFORM_NAMESPACES, ServiceConfig
from components.platform import ClusterLayer
from components.tags import SYSTEM_TAINT_KEY
from components.workloads import PRIORITY_CLASSES, ZONE_KEY
from tests.conftest import CLUSTER_STACKS, SHIPPED_STACKS, stack_run
from tests.reference import validate_custom_resource
from tests.tokens import HELM_RELEASE

K8S_PROVIDER = "pulumi:providers:kubernetes"
TLS_PROVIDER = "pulumi:providers:tls"
#: Vault's API (its configuration as code, reached inside the VPC) and the random
#: provider (the database management user's bootstrap password; no API call).
VAULT_PROVIDER = "pulumi:providers:vault"
RANDOM_PROVIDER = "pulumi:providers:random"
#: API groups of custom resources the cluster layer creates (validated against the CRDs
#: in the reference data, not kubernetes-validate's built-in schemas).
CUSTOM_RESOURCE_GROUPS = (
    "elbv2.k8s.aws",
    "argoproj.io",
    "policy.sigstore.dev",
    "secrets-store.csi.x-k8s.io",
    "monitoring.coreos.com",
)
TARGET_GROUP_BINDING = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"


@pytest.fixture(params=CLUSTER_STACKS)
def layer(request):
    """(cluster stack run, its platform stack run)."""
    run = stack_run(request.param)
    return run, stack_run(run.outputs["platformStack"])


def of_type(run, type_: str) -> list:
    return [r for r in run.resources if r.type == type_]


def manifest(record) -> dict:
    return {k: v for k, v in record.inputs.items() if not k.startswith("__")}


# --- the split ---------------------------------------------------------------------------


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_platform_stacks_hold_nothing_in_kubernetes(stack):
    run = stack_run(stack)
    assert [r.urn for r in run.resources if r.type.startswith("kubernetes:")] == []
    assert not [r for r in run.resources if r.type == K8S_PROVIDER]


def test_cluster_stacks_hold_nothing_in_aws(layer):
    run, _ = layer
    assert [r.urn for r in run.resources if r.package == "aws"] == []
    # Besides Kubernetes, only the TLS and random providers (Vault's certificate, the
    # database bootstrap password), which make no call to any API, and Vault's own API.
    assert {r.type for r in run.resources if r.is_provider} == {
        K8S_PROVIDER,
        TLS_PROVIDER,
        VAULT_PROVIDER,
        RANDOM_PROVIDER,
    }


def test_every_output_the_cluster_layer_reads_is_exported(layer):
    _, platform = layer
    assert set(ClusterLayer.READS) <= set(platform.outputs)


def test_the_cluster_layer_reads_nothing_it_does_not_declare():
    """Every output name `ClusterLayer` passes to `known(...)` or `require_output(...)` is
    in `READS` (which the test above checks against the platform's exports)."""
    tree = ast.parse(inspect.getsource(ClusterLayer))
    read = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", None))
        in ("known", "require_output", "get_output")
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    assert read and read <= set(ClusterLayer.READS)
    assert set(ClusterLayer.READS) <= read, "READS lists an output nothing reads"


def test_the_layer_names_its_platform_and_environment(layer):
    run, platform = layer
    assert run.outputs["platformStack"] == platform.stack
    assert run.outputs["environment"] == platform.outputs["environment"]
    assert run.outputs["clusterName"] == platform.outputs["clusterName"]


# --- the Kubernetes provider -------------------------------------------------------------


def test_every_object_goes_through_the_clusters_provider(layer):
    run, platform = layer
    (provider,) = of_type(run, K8S_PROVIDER)
    in_cluster = [r for r in run.resources if r.type.startswith("kubernetes:")]
    assert in_cluster and {r.provider for r in in_cluster} == {provider.urn}
    kubeconfig = json.loads(provider.inputs["kubeconfig"])
    (user,) = kubeconfig["users"]
    assert user["user"]["exec"]["command"] == "aws"
    assert user["user"]["exec"]["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        platform.outputs["clusterName"],
        "--region",
        platform.outputs["primaryRegion"],
        "--output",
        "json",
    ]
    (entry,) = kubeconfig["clusters"]
    assert entry["cluster"]["server"] == platform.outputs["clusterEndpoint"]
    assert (
        entry["cluster"]["certificate-authority-data"]
        == (platform.outputs["clusterCertificateAuthority"])
    )


def test_every_kubernetes_object_passes_strict_validation(layer):
    run, _ = layer
    objects = [
        r for r in run.resources if r.type.startswith("kubernetes:") and r.type != HELM_RELEASE
    ]
    assert len(objects) >= 20
    for record in objects:
        group = str(record.inputs["apiVersion"]).partition("/")[0]
        if record.inputs.get("stringData") == "[secret]":
            # A map with secret values is recorded as one secret (the Vault TLS Secret):
            # its keys are checked in test_vault.py; the rest of the object here.
            record = replace(record, inputs={**record.inputs, "stringData": {}})
        if group in CUSTOM_RESOURCE_GROUPS:
            # Against the controller's own CRD at the pinned version (tests/reference.py).
            validate_custom_resource(manifest(record))
        else:
            kubernetes_validate.validate(manifest(record), versions.KUBERNETES_VERSION, strict=True)


#: Charts first installed after the split (nothing of theirs to move).
CHARTS_AFTER_THE_SPLIT = (
    versions.LOAD_BALANCER_CONTROLLER_CHART,
    versions.VAULT_CHART,
    versions.ARGO_CD_CHART,
    versions.POLICY_CONTROLLER_CHART,
    versions.LOKI_CHART,
    versions.ALLOY_CHART,
    versions.TEMPO_CHART,
    versions.OTEL_CHART,
    versions.SECRETS_STORE_CSI_DRIVER_CHART,
    versions.GRAFANA_CHART,
)


def is_newer_than_the_split(record) -> bool:
    return (
        record.type in (TARGET_GROUP_BINDING, TLS_PROVIDER, VAULT_PROVIDER, RANDOM_PROVIDER)
        or record.type.startswith(("kubernetes:argoproj.io/", "kubernetes:policy.sigstore.dev/"))
        or (record.type == HELM_RELEASE and record.inputs["chart"] in CHARTS_AFTER_THE_SPLIT)
        or (record.type == "kubernetes:core/v1:Secret" and "-vault-" in record.name)
        or (record.type == "kubernetes:core/v1:ConfigMap" and record.name.endswith("-vault-ca"))
        or record.type.startswith("kubernetes:secrets-store.csi.x-k8s.io/")
        or (
            record.type in ("kubernetes:core/v1:Secret", "kubernetes:core/v1:ConfigMap")
            and record.inputs["metadata"]["namespace"] == grafana_addon.NAMESPACE
        )
        # Observability arrived after the split, as a component of its own.
        or "$ballast:components:Observability$" in record.urn
    )


def test_objects_moved_from_the_platform_stack_keep_their_names_and_an_alias(layer):
    """The objects the platform stack held before the two layers keep their names, and an
    alias to the root of this stack (where `pulumi state move` puts them), so an existing
    deployment adopts them instead of recreating its namespaces (docs/layers.md)."""
    run, platform = layer
    prefix = platform.outputs["clusterName"]
    in_cluster = [r for r in run.resources if r.type.startswith("kubernetes:") or r.is_provider]
    for record in in_cluster:
        assert record.name.startswith(prefix), record.urn
    # The load balancer controller, its bindings, Vault, Argo CD and Grafana came after the split:
    # nothing to move.
    moved = [r for r in in_cluster if not is_newer_than_the_split(r)]
    assert len(moved) < len(in_cluster)
    for record in moved:
        assert record.name.startswith(prefix), record.urn
        assert "noParent" in record.aliases, record.urn


# --- the baseline ------------------------------------------------------------------------


def test_priority_classes(layer):
    run, _ = layer
    classes = {
        r.inputs["metadata"]["name"]: r.inputs["value"]
        for r in of_type(run, "kubernetes:scheduling.k8s.io/v1:PriorityClass")
    }
    assert classes == {spec.name: spec.value for spec in PRIORITY_CLASSES}


def test_a_namespace_with_limits_and_a_quota_per_addon_and_service(layer):
    run, platform = layer
    namespaces = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]
        for r in of_type(run, "kubernetes:core/v1:Namespace")
    }
    services = {s["namespace"]: s["tier"] for s in platform.outputs["services"]}
    assert services, "the shipped environments host services"
    assert set(namespaces) == set(PLATFORM_NAMESPACES) | set(services)
    for name, tier in services.items():
        assert namespaces[name]["ballast.io/tier"] == tier
        assert namespaces[name]["pod-security.kubernetes.io/enforce"] == "restricted"
    for name in PLATFORM_NAMESPACES:
        assert namespaces[name]["ballast.io/tier"] == "platform"
    limit_ranges = {
        r.inputs["metadata"]["namespace"] for r in of_type(run, "kubernetes:core/v1:LimitRange")
    }
    assert limit_ranges == set(namespaces)
    quotas = [r.inputs for r in of_type(run, "kubernetes:core/v1:ResourceQuota")]
    budgets = {
        q["metadata"]["namespace"]: q["spec"]["hard"]
        for q in quotas
        if q["metadata"]["name"] == "budget"
    }
    assert set(budgets) == set(namespaces)
    for name, hard in budgets.items():
        assert {"requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "pods"} <= set(
            hard
        )
        # Entry points are Pulumi's ALBs: no namespace may own a LoadBalancer Service.
        assert hard["services.loadbalancers"] == "0", name
    guarded = {
        q["metadata"]["namespace"]
        for q in quotas
        if q["metadata"]["name"] == "no-platform-priority"
    }
    assert guarded == set(services)


def test_the_default_storage_class_tags_volumes_as_the_platform_says(layer):
    run, platform = layer
    (storage,) = of_type(run, "kubernetes:storage.k8s.io/v1:StorageClass")
    assert storage.inputs["provisioner"] == "ebs.csi.aws.com"
    assert storage.inputs["parameters"]["type"] == "gp3"
    assert storage.inputs["parameters"]["encrypted"] == "true"
    assert storage.inputs["volumeBindingMode"] == "WaitForFirstConsumer"
    tags = sorted(v for k, v in storage.inputs["parameters"].items() if k.startswith("tagSpec"))
    assert tags == sorted(f"{k}={v}" for k, v in platform.outputs["clusterVolumeTags"].items())
    assert f"ballast.io/cluster={platform.outputs['clusterName']}" in tags
    assert f"environment={platform.outputs['environment']}" in tags


# --- the autoscaler ----------------------------------------------------------------------


def release_of(run, chart: str):
    (release,) = [r for r in of_type(run, HELM_RELEASE) if r.inputs["chart"] == chart]
    return release


def test_the_autoscaler_release_uses_the_platforms_role(layer):
    run, platform = layer
    release = release_of(run, versions.CLUSTER_AUTOSCALER_CHART)
    assert release.inputs["chart"] == versions.CLUSTER_AUTOSCALER_CHART
    assert release.inputs["version"] == versions.CLUSTER_AUTOSCALER_CHART_VERSION
    assert release.inputs["repositoryOpts"] == {
        "repo": versions.CLUSTER_AUTOSCALER_CHART_REPOSITORY
    }
    assert release.inputs["namespace"] == AUTOSCALER_NAMESPACE
    values = release.inputs["values"]
    assert values["autoDiscovery"] == {"clusterName": platform.outputs["clusterName"]}
    assert values["awsRegion"] == platform.outputs["primaryRegion"]
    assert values["image"]["tag"].startswith(f"v{platform.outputs['clusterKubernetesVersion']}.")
    assert values["rbac"]["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": platform.outputs["clusterAutoscalerRoleArn"]
    }
    zones = len(platform.outputs["availabilityZones"])
    prod = platform.outputs["environment"] == "prod"
    assert values["replicaCount"] == (2 if prod or zones > 2 else 1)
    # After its namespace and the priority classes it uses.
    (namespace,) = [
        r
        for r in of_type(run, "kubernetes:core/v1:Namespace")
        if r.inputs["metadata"]["name"] == AUTOSCALER_NAMESPACE
    ]
    assert namespace.urn in release.depends_on
    classes = {r.urn for r in of_type(run, "kubernetes:scheduling.k8s.io/v1:PriorityClass")}
    assert classes <= set(release.depends_on)


# --- the load balancer controller and its bindings ----------------------------------------


def test_the_controller_release_is_pinned_and_uses_the_platforms_role(layer):
    run, platform = layer
    release = release_of(run, versions.LOAD_BALANCER_CONTROLLER_CHART)
    assert release.inputs["version"] == versions.LOAD_BALANCER_CONTROLLER_CHART_VERSION
    assert release.inputs["repositoryOpts"] == {
        "repo": versions.LOAD_BALANCER_CONTROLLER_CHART_REPOSITORY
    }
    assert release.inputs["namespace"] == lb_controller.NAMESPACE
    values = release.inputs["values"]
    assert values["clusterName"] == platform.outputs["clusterName"]
    assert values["region"] == platform.outputs["primaryRegion"]
    assert values["vpcId"] == platform.outputs["vpcId"]
    assert values["serviceAccount"]["name"] == lb_controller.SERVICE_ACCOUNT
    assert values["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": platform.outputs["ingressControllerRoleArn"]
    }
    # Nothing that lets an Ingress or a Service make a load balancer.
    assert values["createIngressClassResource"] is False
    assert values["enableServiceMutatorWebhook"] is False
    # Two replicas on the system nodes, spread over zones, with a budget and limits.
    assert values["replicaCount"] == 2
    assert {"key": SYSTEM_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"} in values[
        "tolerations"
    ] or any(t["key"] == SYSTEM_TAINT_KEY for t in values["tolerations"])
    zone_spread = [c for c in values["topologySpreadConstraints"] if c["topologyKey"] == ZONE_KEY]
    assert zone_spread and zone_spread[0]["whenUnsatisfiable"] == "DoNotSchedule"
    assert zone_spread[0]["labelSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": lb_controller.RELEASE
    }
    assert values["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert set(values["resources"]) == {"requests", "limits"}
    # The chart's webhook is on (its default), since values never turn it off.
    assert "webhookConfig" not in values or values["webhookConfig"].get(
        "disableIngressValidation"
    ) in (None, False)


def test_a_binding_per_route_after_the_controller(layer):
    run, platform = layer
    release = release_of(run, versions.LOAD_BALANCER_CONTROLLER_CHART)
    routes = platform.outputs["ingressRoutes"]
    assert routes, "the shipped stacks route services"
    bindings = {
        (b.inputs["metadata"]["namespace"], b.inputs["spec"]["targetGroupARN"]): b
        for b in of_type(run, TARGET_GROUP_BINDING)
    }
    assert len(bindings) == len(routes)
    namespaces = {
        r.inputs["metadata"]["name"]: r.urn for r in of_type(run, "kubernetes:core/v1:Namespace")
    }
    for route in routes:
        binding = bindings[(route["namespace"], route["targetGroupArn"])]
        spec = binding.inputs["spec"]
        assert binding.inputs["apiVersion"] == lb_controller.BINDING_API_VERSION
        assert spec["serviceRef"] == {"name": route["service"], "port": route["port"]}
        assert spec["targetType"] == "ip"
        assert "networking" not in spec  # the rule is Pulumi's
        # Made after (so destroyed before) the controller and the service's namespace.
        assert release.urn in binding.depends_on
        assert namespaces[route["namespace"]] in binding.depends_on


def test_without_an_ingress_there_is_no_controller_and_no_binding():
    scope = InClusterScope(name="c", parent=None, provider=None)  # type: ignore[arg-type]
    assert (
        lb_controller.release(scope, cluster=facts(), namespace=None, priority_classes=[]) is None
    )  # type: ignore[arg-type]


# --- the baseline on its own ---------------------------------------------------------------


def facts(services=()) -> ClusterFacts:
    return ClusterFacts(
        name="c",
        region="eu-west-1",
        environment="dev",
        kubernetes_version=versions.KUBERNETES_VERSION,
        zone_count=2,
        endpoint=pulumi.Output.from_input("https://example.eks.amazonaws.com"),
        certificate_authority=pulumi.Output.from_input("Q0E="),
        autoscaler_role_arn=pulumi.Output.from_input("arn:aws:iam::1:role/x"),
        volume_tags={"ballast.io/cluster": "c", "environment": "dev"},
        services=services,
    )


def baseline_program(services):
    def program():
        provider = k8s.Provider("k", kubeconfig="{}")
        ClusterBaseline(
            "c", ClusterBaselineArgs(provider=provider, cluster=facts(services)), opts=None
        )

    return program


def test_a_service_namespace_takes_the_services_tier():
    run = run_component(
        baseline_program([ServiceConfig(name="payments", tier="tier-1")]),
        disabled_packages=frozenset(),
    )
    (payments,) = [
        n
        for n in run.of_type("kubernetes:core/v1:Namespace")
        if n.inputs["metadata"]["name"] == "payments"
    ]
    assert payments.inputs["metadata"]["labels"]["ballast.io/tier"] == "tier-1"


def test_a_service_in_a_platform_namespace_is_refused():
    from ballast.offline import ProgramError

    with pytest.raises(ProgramError, match="c: namespaces are declared twice: vault"):
        run_component(
            baseline_program([ServiceConfig(name="vault", tier="tier-1")]),
            disabled_packages=frozenset(),
        )
