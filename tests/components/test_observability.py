"""Observability in the cluster layer: kube-prometheus-stack as `ballast:observability`
says (HA Prometheus and Alertmanager spread over the zones, budgets, encrypted volumes,
retention, everything on the system nodes with requests and limits), the receivers'
webhooks only in a Secret, and the rules that ship: each passes `promtool check rules`,
links an existing runbook and a Grafana panel, and every tier-1 service pages and
tickets on both objectives."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from ballast.offline import load_stack_config, run_stack
from ballast.offline.stack_config import load_project
from components import alertmanager, slo, versions
from components.cluster.addons import kube_prometheus_stack as kps
from components.config import ServiceConfig
from components.observability import PORT_FORWARD_GRAFANA_URL
from components.platform import GRAFANA_ROUTE
from components.workloads import SYSTEM_NODES_TOLERATION, ZONE_KEY, memory_bytes
from tests.components.test_alertmanager import for_amtool_025
from tests.conftest import CLUSTER_STACKS, ROOT, platform_config, require_tool, stack_run
from tests.tokens import HELM_RELEASE

RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
SECRET = "kubernetes:core/v1:Secret"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
#: Webhooks as a fork would set them (`pulumi config set --secret --path ...`).
RECEIVERS = {
    "pageWebhookUrl": "https://events.pager.example/integration/0123456789abcdef/enqueue",
    "ticketWebhookUrl": "https://tickets.example/hooks/platform-0123456789",
    "slackWebhookUrl": "https://hooks.slack.example/services/T000/B000/abcdefabcdef",
}


@pytest.fixture(params=CLUSTER_STACKS)
def layer(request):
    """(cluster stack run, its platform stack run, the platform's config)."""
    run = stack_run(request.param)
    platform = run.outputs["platformStack"]
    return run, stack_run(platform), platform_config(platform)


def release(run):
    (found,) = [
        r
        for r in run.of_type(HELM_RELEASE)
        if r.inputs["chart"] == versions.KUBE_PROMETHEUS_STACK_CHART
    ]
    return found


def rules(run) -> dict[str, dict]:
    return {r.inputs["metadata"]["name"]: r.inputs for r in run.of_type(RULE)}


# --- the release -------------------------------------------------------------------------


def test_the_release_is_pinned_in_the_observability_namespace(layer):
    run, _, _ = layer
    found = release(run)
    assert found.inputs["version"] == versions.KUBE_PROMETHEUS_STACK_CHART_VERSION
    assert found.inputs["repositoryOpts"]["repo"] == versions.KUBE_PROMETHEUS_STACK_CHART_REPOSITORY
    assert found.inputs["namespace"] == kps.NAMESPACE
    values = found.inputs["values"]
    assert values["grafana"]["enabled"] is False
    assert values["defaultRules"]["create"] is False


def test_replicas_retention_and_volumes_follow_the_config(layer):
    run, _, config = layer
    section = config.observability
    values = release(run).inputs["values"]
    spec = values["prometheus"]["prometheusSpec"]
    am = values["alertmanager"]["alertmanagerSpec"]
    assert spec["replicas"] == section.prometheus_replica_count(config.environment)
    assert am["replicas"] == section.alertmanager_replica_count(config.environment)
    assert spec["retention"] == f"{section.retention_days}d"
    assert spec["retentionSize"] == f"{section.retention_size()}GiB"
    assert section.retention_size() < section.prometheus_storage_gib
    (storage_class,) = run.of_type(STORAGE_CLASS)
    assert storage_class.inputs["parameters"]["encrypted"] == "true"
    assert storage_class.inputs["parameters"]["type"] == "gp3"
    for volume, size in (
        (spec["storageSpec"], section.prometheus_storage_gib),
        (am["storage"], section.alertmanager_storage_gib),
    ):
        claim = volume["volumeClaimTemplate"]["spec"]
        assert claim["storageClassName"] == storage_class.inputs["metadata"]["name"]
        assert claim["resources"]["requests"]["storage"] == f"{size}Gi"


def test_prod_runs_two_prometheus_and_an_odd_alertmanager_cluster_of_three():
    values = release(stack_run("prod-cluster")).inputs["values"]
    assert values["prometheus"]["prometheusSpec"]["replicas"] >= 2
    replicas = values["alertmanager"]["alertmanagerSpec"]["replicas"]
    assert replicas >= 3 and replicas % 2 == 1


def test_ha_members_spread_over_zones_and_keep_all_but_one_through_a_drain(layer):
    run, _, _ = layer
    values = release(run).inputs["values"]
    for part, spec_key, labels in (
        ("prometheus", "prometheusSpec", kps.PROMETHEUS_LABELS),
        ("alertmanager", "alertmanagerSpec", kps.ALERTMANAGER_LABELS),
    ):
        spec = values[part][spec_key]
        (zone,) = [c for c in spec["topologySpreadConstraints"] if c["topologyKey"] == ZONE_KEY]
        assert zone["whenUnsatisfiable"] == "DoNotSchedule"
        assert zone["maxSkew"] == 1
        assert zone["labelSelector"] == {"matchLabels": labels}
        budget = values[part]["podDisruptionBudget"]
        if spec["replicas"] > 1:
            assert budget == {"enabled": True, "minAvailable": spec["replicas"] - 1}
        else:
            assert budget["enabled"] is False


def test_every_platform_piece_runs_on_the_system_nodes_with_requests_and_limits(layer):
    run, _, _ = layer
    values = release(run).inputs["values"]
    pieces = {
        "operator": values["prometheusOperator"],
        "webhook job": values["prometheusOperator"]["admissionWebhooks"]["patch"],
        "kube-state-metrics": values["kube-state-metrics"],
        "prometheus": values["prometheus"]["prometheusSpec"],
        "alertmanager": values["alertmanager"]["alertmanagerSpec"],
    }
    for name, piece in pieces.items():
        assert SYSTEM_NODES_TOLERATION.manifest() in piece["tolerations"], name
        assert piece["affinity"]["nodeAffinity"], name
        assert piece["priorityClassName"], name
        resources = piece["resources"]
        assert set(resources) == {"requests", "limits"}, name
        assert memory_bytes(resources["limits"]["memory"]) == memory_bytes(
            resources["requests"]["memory"]
        ), name
    exporter = values["prometheus-node-exporter"]
    assert exporter["tolerations"] == [{"operator": "Exists"}]
    assert set(exporter["resources"]) == {"requests", "limits"}


def test_kubelet_cadvisor_node_exporter_and_kube_state_metrics_are_scraped(layer):
    run, _, _ = layer
    values = release(run).inputs["values"]
    assert values["kubelet"]["enabled"] is True
    assert values["kubelet"]["serviceMonitor"]["cAdvisor"] is True
    assert values["nodeExporter"]["enabled"] is True
    assert values["kubeStateMetrics"]["enabled"] is True
    for unreachable in kps.EKS_UNREACHABLE:
        assert values[unreachable] == {"enabled": False}


def test_prometheus_evaluates_exactly_the_labelled_rules(layer):
    run, _, _ = layer
    spec = release(run).inputs["values"]["prometheus"]["prometheusSpec"]
    assert spec["ruleSelector"] == {"matchLabels": {slo.RULE_SELECTOR_LABEL: "true"}}
    for rule in rules(run).values():
        assert rule["metadata"]["labels"][slo.RULE_SELECTOR_LABEL] == "true"
        assert rule["metadata"]["namespace"] == kps.NAMESPACE


#: prometheusSpec keys the chart reads itself rather than copying into the Prometheus
#: object (it renders `storageSpec` as `spec.storage`).
CHART_ONLY = {
    "ruleSelectorNilUsesHelmValues",
    "serviceMonitorSelectorNilUsesHelmValues",
    "podMonitorSelectorNilUsesHelmValues",
    "storageSpec",
}


def test_prometheus_and_alertmanager_specs_validate_against_the_operators_crds(layer):
    """The chart copies prometheusSpec and alertmanagerSpec into the Prometheus and
    Alertmanager objects: what Ballast sets there must fit the operator's CRDs (the
    retention and size patterns, the spread, the volume claim templates)."""
    from tests.reference import validate_custom_resource

    run, _, _ = layer
    values = release(run).inputs["values"]
    spec = values["prometheus"]["prometheusSpec"]
    prometheus = {k: v for k, v in spec.items() if k not in CHART_ONLY}
    prometheus["storage"] = spec["storageSpec"]
    for kind, body in (
        ("Prometheus", prometheus),
        ("Alertmanager", values["alertmanager"]["alertmanagerSpec"]),
    ):
        validate_custom_resource(
            {
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": kind,
                "metadata": {"name": kind.lower(), "namespace": kps.NAMESPACE},
                "spec": body,
            }
        )


# --- receivers ---------------------------------------------------------------------------


def with_receivers(cluster_stack: str, receivers: dict[str, str]):
    """(cluster run, platform run) with `receivers` set in the platform stack as the CLI
    hands them over once decrypted: the value known, the whole section flagged secret."""
    project = load_project(ROOT)
    cluster = load_stack_config(project, cluster_stack)
    platform_stack = cluster_stack.removesuffix("-cluster")
    base = load_stack_config(project, platform_stack)
    section = json.loads(base.config["ballast:observability"])
    config = {
        **base.config,
        "ballast:observability": json.dumps({**section, "receivers": receivers}),
    }
    keys = tuple(sorted({*base.secret_keys, "ballast:observability"}))
    platform = run_stack(dataclasses.replace(base, config=config, secret_keys=keys))
    return run_stack(cluster, references={platform_stack: platform}), platform


def test_webhooks_are_only_in_the_receivers_secret_and_never_in_clear():
    run, platform = with_receivers("prod-cluster", RECEIVERS)
    assert "observabilityReceivers" in platform.secret_outputs
    (secret,) = [
        s for s in run.of_type(SECRET) if s.inputs["metadata"]["name"] == kps.RECEIVERS_SECRET
    ]
    assert secret.inputs["metadata"]["namespace"] == kps.NAMESPACE
    assert secret.inputs["stringData"] == "[secret]"
    dumped = json.dumps([r.inputs for r in run.resources], default=str)
    dumped += json.dumps(platform.outputs, default=str)
    for url in RECEIVERS.values():
        assert url not in dumped
    values = release(run).inputs["values"]
    assert values["alertmanager"]["alertmanagerSpec"]["secrets"] == [kps.RECEIVERS_SECRET]
    config = values["alertmanager"]["config"]
    by_name = {r["name"]: r for r in config["receivers"]}
    assert by_name[alertmanager.PAGE]["webhook_configs"] == [
        {
            "url_file": alertmanager.secret_file(kps.RECEIVERS_SECRET, alertmanager.PAGE_KEY),
            "send_resolved": True,
        }
    ]
    assert "slack_configs" in by_name[alertmanager.TICKET]
    # No heartbeat URL was given: the Watchdog's receiver has no integration.
    assert "webhook_configs" not in by_name[alertmanager.HEARTBEAT]


def test_without_receivers_no_receiver_has_an_integration(layer):
    run, _, config = layer
    assert config.observability.receivers is None
    receivers = release(run).inputs["values"]["alertmanager"]["config"]["receivers"]
    assert all(set(r) == {"name"} for r in receivers)


def amtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("amtool"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.tool
@pytest.mark.parametrize("receivers", [RECEIVERS, None], ids=["receivers", "none"])
def test_the_config_alertmanager_loads_passes_amtool_and_routes_page_and_ticket(
    receivers, tmp_path
):
    """The chart deep-merges `alertmanager.config` into its default (lists replace,
    maps merge): that merged file is what Alertmanager reads, so that is what amtool
    checks."""
    from tests.reference import chart_values

    if receivers is None:
        run = stack_run("prod-cluster")
    else:
        run, _ = with_receivers("prod-cluster", receivers)
    ours = release(run).inputs["values"]["alertmanager"]["config"]
    default = chart_values(
        versions.KUBE_PROMETHEUS_STACK_CHART, versions.KUBE_PROMETHEUS_STACK_CHART_VERSION
    )["alertmanager"]["config"]

    def merge(base, extra):
        if isinstance(base, dict) and isinstance(extra, dict):
            return {**base, **{k: merge(base.get(k), v) for k, v in extra.items()}}
        return extra

    path = tmp_path / "alertmanager.yaml"
    # Debian's amtool 0.25 predates the webhook's url_file (tests/components/test_alertmanager.py).
    path.write_text(yaml.safe_dump(for_amtool_025(merge(default, ours))))
    checked = amtool("check-config", path.name, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for labels, receiver in (
        (["severity=page", "service=checkout"], alertmanager.PAGE),
        (["severity=ticket", "service=checkout"], alertmanager.TICKET),
        (["alertname=Watchdog", "severity=heartbeat"], alertmanager.HEARTBEAT),
    ):
        routed = amtool(
            "config", "routes", "test", f"--config.file={path.name}", *labels, cwd=tmp_path
        )
        assert routed.returncode == 0, routed.stdout + routed.stderr
        assert routed.stdout.strip() == receiver


# --- the rules ---------------------------------------------------------------------------


def test_a_rule_per_service_with_objectives_the_platform_alerts_and_gitops(layer):
    run, _, config = layer
    expected = {f"slo-{s.name}" for s in config.services if s.slo is not None}
    expected.add("platform-alerts")
    if config.gitops is not None:
        expected.add("gitops")
    assert set(rules(run)) == expected


@pytest.mark.tool
def test_every_installed_rule_group_passes_promtool(layer, tmp_path):
    run, _, _ = layer
    promtool = require_tool("promtool")
    for name, rule in rules(run).items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(rule["spec"]))
        result = subprocess.run(
            [promtool, "check", "rules", path.name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, name + result.stdout + result.stderr


def test_alerts_link_the_repositorys_runbooks_and_grafana(layer):
    run, platform, _ = layer
    exported = platform.outputs["observability"]
    gitops = platform.outputs["gitops"]
    repo = gitops["repoUrl"].removesuffix(".git")
    assert exported["runbookBaseUrl"] == f"{repo}/blob/{gitops['targetRevision']}"
    routes = platform.outputs.get("ingressRoutes") or []
    grafana = [r for r in routes if r["name"] == GRAFANA_ROUTE and r["internal"]]
    grafana_url = f"https://{grafana[0]['host']}" if grafana else PORT_FORWARD_GRAFANA_URL
    runbooks = f"{exported['runbookBaseUrl']}/{slo.RUNBOOKS_DIR}/"
    for rule in rules(run).values():
        for alert in slo.alerts(rule["spec"]["groups"]):
            annotations = alert["annotations"]
            assert annotations["runbook_url"].startswith(runbooks), alert["alert"]
            assert annotations["dashboard_url"].startswith(grafana_url + "/d/"), alert["alert"]


def test_every_shipped_alert_has_a_runbook_and_every_tier1_service_its_slo_alerts(layer):
    """The blueprint's step-4 signal metrics over what is installed, printed."""
    run, platform, config = layer
    base = platform.outputs["observability"]["runbookBaseUrl"]
    groups = [g for rule in rules(run).values() for g in rule["spec"]["groups"]]
    links = slo.AlertLinks(runbook_base=base, grafana_url="")
    services = [ServiceConfig.model_validate(s) for s in platform.outputs["services"]]
    covered = slo.coverage(
        services, groups, links, lambda file: (ROOT / slo.RUNBOOKS_DIR / file).is_file()
    )
    print(
        f"{run.stack}: alerts with a runbook and a dashboard link "
        f"{covered.alerts_with_runbook:.0%}, tier-1 services with SLO alerts "
        f"{covered.tier1_services_with_slo_alerts:.0%}"
    )
    assert covered.alerts_with_runbook == 1.0
    assert covered.tier1_services_with_slo_alerts == 1.0
    assert any(s.tier == "tier-1" for s in config.services)
