"""Grafana on each shipped stack: the platform half (admin password from pulumi-random in a
KMS-encrypted Secrets Manager secret, exported only as a secret; the UI only on the
internal ALB) on the recorded graph, and the cluster half (admin Secret, dashboards as
ConfigMaps the sidecar picks up, datasources and their links, placement and resources).
Chart keys are checked in test_chart_values.py, Kubernetes objects in
test_cluster_layer.py."""

from __future__ import annotations

import json

import pytest

from ballast.offline.mocks import password_stand_in
from components import dashboards, slo, versions
from components.cluster.addons import grafana as addon
from components.grafana import PASSWORD_LENGTH
from components.platform import GRAFANA_DATASOURCES, GRAFANA_PORT_FORWARD_URL
from components.tags import NODE_GROUP_LABEL, SYSTEM_TAINT_KEY
from components.workloads import SYSTEM_NODE_GROUP, memory_bytes
from tests.conftest import SHIPPED_STACKS, platform_config, stack_run
from tests.tokens import HELM_RELEASE, KEY, TARGET_GROUP

GRAFANA = "ballast:components:Grafana"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
PASSWORD = "random:index/randomPassword:RandomPassword"
K8S_SECRET = "kubernetes:core/v1:Secret"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
BINDING = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"


def grafana_of(run, type_: str) -> list:
    return [r for r in run.resources if r.type == type_ and GRAFANA in r.urn]


def release_of(stack: str):
    (release,) = [
        r
        for r in stack_run(f"{stack}-cluster").of_type(HELM_RELEASE)
        if r.inputs["chart"] == versions.GRAFANA_CHART
    ]
    return release


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_admin_password_is_generated_and_kept_encrypted(stack):
    run = stack_run(stack)
    (password,) = grafana_of(run, PASSWORD)
    assert password.inputs["length"] >= PASSWORD_LENGTH
    assert password.provider.startswith(
        f"urn:pulumi:{stack}::ballast::ballast:components:Platform$ballast:components:Grafana$pulumi:providers:random::"
    )
    (key,) = grafana_of(run, KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert key.protect == (platform_config(stack).environment == "prod")
    (secret,) = grafana_of(run, SECRET)
    assert secret.inputs["kmsKeyId"] == key.outputs["arn"]
    assert secret.outputs["arn"] == run.outputs["grafanaAdminSecretArn"]
    assert secret.inputs["recoveryWindowInDays"] == (30 if key.protect else 0)
    (version,) = grafana_of(run, SECRET_VERSION)
    assert version.inputs["secretId"] == secret.id
    assert version.inputs["secretString"] == "[secret]"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_password_is_never_plain_in_the_plan(stack):
    """The output the cluster layer reads is a secret, and the generated value appears
    nowhere in the recorded inputs, outputs or stack outputs."""
    run = stack_run(stack)
    assert "grafanaAdminPassword" in run.secret_outputs
    assert run.outputs["grafanaAdminPassword"] == "[secret]"
    (password,) = grafana_of(run, PASSWORD)
    assert password.outputs["result"] == "[secret]"
    cluster = stack_run(f"{stack}-cluster")
    everything = json.dumps(
        [[r.inputs, r.outputs] for r in [*run.resources, *cluster.resources] if r.type != PASSWORD]
        + [run.outputs, cluster.outputs]
    )
    stand_in = password_stand_in(password.name, int(password.inputs["length"]))
    assert stand_in not in everything


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_ui_is_only_on_the_internal_alb(stack):
    run = stack_run(stack)
    config = platform_config(stack)
    assert config.ingress is not None
    routes = [r for r in run.outputs["ingressRoutes"] if r["name"] == "grafana"]
    bindings = [
        b
        for b in stack_run(f"{stack}-cluster").of_type(BINDING)
        if b.inputs["metadata"]["namespace"] == addon.NAMESPACE
    ]
    if not config.ingress.platform_cidrs:
        assert routes == [] and bindings == []
        assert run.outputs["grafanaUrl"] == GRAFANA_PORT_FORWARD_URL
        return
    (route,) = routes
    assert route["internal"] is True
    assert (route["namespace"], route["service"], route["port"]) == (
        addon.NAMESPACE,
        addon.SERVICE,
        addon.PORT,
    )
    assert run.outputs["grafanaUrl"] == f"https://grafana.{config.ingress.hosted_zone_name}"
    (group,) = [g for g in run.of_type(TARGET_GROUP) if g.outputs["arn"] == route["targetGroupArn"]]
    assert group.inputs["healthCheck"]["path"] == addon.HEALTH_CHECK_PATH
    (binding,) = bindings
    assert binding.inputs["spec"]["serviceRef"] == {"name": addon.SERVICE, "port": addon.PORT}
    # The chart's Service listens on the port the route sends to.
    service = release_of(stack).inputs["values"]["service"]
    assert service["port"] == addon.PORT and service["type"] == "ClusterIP"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_chart_reads_the_admin_from_the_secret_the_layer_writes(stack):
    values = release_of(stack).inputs["values"]
    (secret,) = [
        s
        for s in stack_run(f"{stack}-cluster").of_type(K8S_SECRET)
        if s.inputs["metadata"]["namespace"] == addon.NAMESPACE
        and s.inputs["metadata"]["name"] == addon.ADMIN_SECRET
    ]
    assert values["admin"] == {
        "existingSecret": secret.inputs["metadata"]["name"],
        "userKey": addon.USER_KEY,
        "passwordKey": addon.PASSWORD_KEY,
    }
    assert secret.inputs["stringData"] == "[secret]"
    assert values["image"]["tag"] == versions.GRAFANA_APP_VERSION
    assert values["ingress"]["enabled"] is False
    assert values["grafana.ini"]["server"]["root_url"] == stack_run(stack).outputs["grafanaUrl"]
    assert values["grafana.ini"]["auth.anonymous"]["enabled"] is False


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_dashboard_is_a_config_map_the_sidecar_loads(stack):
    values = release_of(stack).inputs["values"]
    sidecar = values["sidecar"]["dashboards"]
    assert sidecar["enabled"] is True
    # No searchNamespace: the sidecar looks in Grafana's own namespace only.
    assert sidecar.get("searchNamespace") is None
    maps = [
        m
        for m in stack_run(f"{stack}-cluster").of_type(CONFIG_MAP)
        if m.inputs["metadata"].get("labels", {}).get(sidecar["label"]) == sidecar["labelValue"]
    ]
    assert maps
    loaded = {}
    for config_map in maps:
        assert config_map.inputs["metadata"]["namespace"] == release_of(stack).inputs["namespace"]
        for file, text in config_map.inputs["data"].items():
            board = json.loads(text)
            assert file == f"{board['uid']}.json"
            loaded[board["uid"]] = board
    assert loaded == dashboards.dashboards(platform_config(stack).services)
    # Every alert of the stack links to one of them.
    links = slo.AlertLinks("https://example.com/repo/blob/main", "https://grafana.example.com")
    for rule in slo.alerts(slo.rule_groups(platform_config(stack).services, links)):
        uid = rule["annotations"]["dashboard_url"].split("/d/", 1)[1].split("/", 1)[0]
        assert uid in loaded


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_datasources_and_their_links(stack):
    (provisioned,) = release_of(stack).inputs["values"]["datasources"].values()
    by_uid = {d["uid"]: d for d in provisioned["datasources"]}
    assert by_uid[dashboards.PROMETHEUS_UID]["url"] == GRAFANA_DATASOURCES.prometheus_url
    assert by_uid[dashboards.LOKI_UID]["url"] == GRAFANA_DATASOURCES.loki_url
    assert by_uid[dashboards.TEMPO_UID]["url"] == GRAFANA_DATASOURCES.tempo_url
    assert [d["uid"] for d in provisioned["datasources"] if d.get("isDefault")] == [
        dashboards.PROMETHEUS_UID
    ]
    tempo = by_uid[dashboards.TEMPO_UID]["jsonData"]
    assert tempo["tracesToLogsV2"]["datasourceUid"] == dashboards.LOKI_UID
    assert tempo["tracesToLogsV2"]["filterByTraceID"] is True
    assert tempo["tracesToMetrics"]["datasourceUid"] == dashboards.PROMETHEUS_UID
    assert tempo["serviceMap"]["datasourceUid"] == dashboards.PROMETHEUS_UID
    (derived,) = by_uid[dashboards.LOKI_UID]["jsonData"]["derivedFields"]
    assert derived["datasourceUid"] == dashboards.TEMPO_UID
    # Every link names a datasource that is provisioned.
    linked = {
        tempo["tracesToLogsV2"]["datasourceUid"],
        tempo["tracesToMetrics"]["datasourceUid"],
        tempo["serviceMap"]["datasourceUid"],
        tempo["lokiSearch"]["datasourceUid"],
        derived["datasourceUid"],
    }
    assert linked <= set(by_uid)


def test_the_datasource_urls_are_the_arguments():
    urls = addon.Datasources(
        prometheus_url="http://p:1", loki_url="http://l:2", tempo_url="http://t:3"
    )
    values = addon.helm_values(urls=urls, root_url="https://g.example.com")
    (provisioned,) = values["datasources"].values()
    assert [d["url"] for d in provisioned["datasources"]] == [
        "http://p:1",
        "http://l:2",
        "http://t:3",
    ]


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_grafana_runs_on_the_system_nodes_with_requests_and_limits(stack):
    values = release_of(stack).inputs["values"]
    assert {"key": SYSTEM_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"} in values[
        "tolerations"
    ]
    (preferred,) = values["affinity"]["nodeAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    (expression,) = preferred["preference"]["matchExpressions"]
    assert expression["key"] == NODE_GROUP_LABEL and expression["values"] == [SYSTEM_NODE_GROUP]
    for resources in (values["resources"], values["sidecar"]["resources"]):
        assert set(resources) == {"requests", "limits"}
        assert memory_bytes(resources["limits"]["memory"]) == memory_bytes(
            resources["requests"]["memory"]
        )
        assert resources["limits"]["cpu"]
