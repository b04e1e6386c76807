"""Prometheus scrapes the platform's own pieces (components/cluster/addons/scrape_targets.py):
on each shipped cluster stack, a PodMonitor per piece that validates against the
operator's CRD, is selected by kube-prometheus-stack's Prometheus, selects the pods and
port the piece's release runs, and waits for the kube-prometheus-stack release; none
without `ballast:observability`; and every metric a platform alert reads is scraped by
some target."""

from __future__ import annotations

import dataclasses
import re

import pytest
import yaml

from ballast.offline import load_stack_config, run_stack
from ballast.offline.stack_config import load_project
from components import exported_metrics, promql, slo, versions
from components.cluster.addons import alloy, loki, otel_collector, scrape_targets, tempo
from components.cluster.addons import kube_prometheus_stack as kps
from components.cluster.addons import vault as vault_addon
from tests.conftest import CLUSTER_STACKS, ROOT, stack_run
from tests.reference import chart_dir, chart_values, validate_custom_resource
from tests.tokens import HELM_RELEASE

POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
SECRET = "kubernetes:core/v1:Secret"
#: Each target -> the chart of the release whose pods it scrapes.
CHARTS = {
    scrape_targets.LOKI.name: versions.LOKI_CHART,
    scrape_targets.TEMPO.name: versions.TEMPO_CHART,
    scrape_targets.ALLOY.name: versions.ALLOY_CHART,
    scrape_targets.OTEL_COLLECTOR.name: versions.OTEL_CHART,
    scrape_targets.VAULT.name: versions.VAULT_CHART,
}
CHART_VERSIONS = {
    versions.LOKI_CHART: versions.LOKI_CHART_VERSION,
    versions.TEMPO_CHART: versions.TEMPO_CHART_VERSION,
    versions.ALLOY_CHART: versions.ALLOY_CHART_VERSION,
    versions.OTEL_CHART: versions.OTEL_CHART_VERSION,
    versions.VAULT_CHART: versions.VAULT_CHART_VERSION,
}


@pytest.fixture(params=CLUSTER_STACKS)
def run(request):
    return stack_run(request.param)


def monitors(run) -> dict[str, object]:
    return {r.inputs["metadata"]["name"]: r for r in run.of_type(POD_MONITOR)}


def release_of(run, chart: str, namespace: str):
    (found,) = [
        r
        for r in run.of_type(HELM_RELEASE)
        if r.inputs["chart"] == chart and r.inputs["namespace"] == namespace
    ]
    return found


def endpoint(record) -> dict:
    (only,) = record.inputs["spec"]["podMetricsEndpoints"]
    return only


def test_every_platform_piece_the_layer_runs_is_monitored_and_the_monitors_validate(run):
    found = monitors(run)
    charts = {r.inputs["chart"] for r in run.of_type(HELM_RELEASE)}
    expected = {name for name, chart in CHARTS.items() if chart in charts}
    assert expected, "the shipped cluster stacks run the telemetry pieces and Vault"
    assert set(found) == expected
    for record in found.values():
        validate_custom_resource({k: v for k, v in record.inputs.items() if not k.startswith("__")})


def test_each_monitor_waits_for_kube_prometheus_stack_and_its_own_release_only(run):
    stack = release_of(run, versions.KUBE_PROMETHEUS_STACK_CHART, kps.NAMESPACE)
    for name, record in monitors(run).items():
        scraped = release_of(run, CHARTS[name], record.inputs["metadata"]["namespace"])
        # Only these two: one piece's failing release holds up no other monitor.
        assert set(record.depends_on) == {stack.urn, scraped.urn}, name


def test_prometheus_selects_every_monitor(run):
    stack = release_of(run, versions.KUBE_PROMETHEUS_STACK_CHART, kps.NAMESPACE)
    spec = stack.inputs["values"]["prometheus"]["prometheusSpec"]
    assert spec["podMonitorSelectorNilUsesHelmValues"] is False
    selector, namespaces = spec["podMonitorSelector"], spec["podMonitorNamespaceSelector"]
    # Only label equality is used; an expression would need evaluating here.
    assert set(selector) <= {"matchLabels"} and set(namespaces) <= {"matchLabels"}
    for record in monitors(run).values():
        labels = record.inputs["metadata"].get("labels", {})
        assert selector.get("matchLabels", {}).items() <= labels.items()
        # An empty namespace selector selects every namespace; a non-empty one would
        # need the namespace's labels, which this layer's baseline sets.
        assert namespaces == {} or namespaces["matchLabels"] == {}


def test_each_monitor_selects_the_pods_of_its_release_in_its_namespace(run):
    """The chart labels its pods `app.kubernetes.io/name` = the chart's name (no
    nameOverride is set) and `app.kubernetes.io/instance` = the release's name."""
    for name, record in monitors(run).items():
        namespace = record.inputs["metadata"]["namespace"]
        spec = record.inputs["spec"]
        assert spec["namespaceSelector"] == {"matchNames": [namespace]}
        chart = CHARTS[name]
        release = release_of(run, chart, namespace)
        values = release.inputs["values"]
        assert "nameOverride" not in values
        chart_name = yaml.safe_load(
            (chart_dir(chart, CHART_VERSIONS[chart]) / "Chart.yaml").read_text(encoding="utf-8")
        )["name"]
        labels = spec["selector"]["matchLabels"]
        assert labels["app.kubernetes.io/name"] == chart_name, name
        assert labels["app.kubernetes.io/instance"] == release.inputs["name"], name


def test_loki_is_scraped_on_its_http_port_as_a_single_binary(run):
    monitor = monitors(run)[scrape_targets.LOKI.name]
    values = release_of(run, versions.LOKI_CHART, loki.NAMESPACE).inputs["values"]
    defaults = chart_values(versions.LOKI_CHART, versions.LOKI_CHART_VERSION)
    port = (
        values["loki"]
        .get("server", {})
        .get("http_listen_port", defaults["loki"]["server"]["http_listen_port"])
    )
    assert endpoint(monitor)["portNumber"] == port
    assert values["deploymentMode"] == "Monolithic"
    labels = monitor.inputs["spec"]["selector"]["matchLabels"]
    assert labels["app.kubernetes.io/component"] == "single-binary"


def test_tempo_is_scraped_on_the_port_its_config_serves(run):
    monitor = monitors(run)[scrape_targets.TEMPO.name]
    values = release_of(run, versions.TEMPO_CHART, tempo.NAMESPACE).inputs["values"]
    config = yaml.safe_load(values["config"])
    assert endpoint(monitor)["portNumber"] == config["server"]["http_listen_port"]


def test_alloy_is_scraped_on_its_listen_port(run):
    monitor = monitors(run)[scrape_targets.ALLOY.name]
    values = release_of(run, versions.ALLOY_CHART, alloy.NAMESPACE).inputs["values"]
    assert endpoint(monitor)["portNumber"] == values["alloy"]["listenPort"]


def test_the_collector_serves_its_metrics_on_the_port_that_is_scraped(run):
    monitor = monitors(run)[scrape_targets.OTEL_COLLECTOR.name]
    values = release_of(run, versions.OTEL_CHART, otel_collector.NAMESPACE).inputs["values"]
    (reader,) = values["alternateConfig"]["service"]["telemetry"]["metrics"]["readers"]
    served = reader["pull"]["exporter"]["prometheus"]
    port = endpoint(monitor)["portNumber"]
    assert served["port"] == port
    # On the pod's address, not localhost (the collector's default), and declared as a
    # container port, without which the pod has no target on it.
    assert served["host"] == "${env:MY_POD_IP}"
    assert values["ports"]["metrics"] == {
        "enabled": True,
        "containerPort": port,
        "servicePort": port,
    }


def test_vault_serves_unauthenticated_prometheus_metrics_scraped_over_verified_tls(run):
    monitor = monitors(run)[scrape_targets.VAULT.name]
    release = release_of(run, versions.VAULT_CHART, vault_addon.NAMESPACE)
    hcl = release.inputs["values"]["server"]["ha"]["raft"]["config"]
    listener = re.search(r'listener "tcp" \{(.*?)\n\}', hcl, re.S)
    assert listener is not None
    address = re.search(r'\baddress = "\[::\]:(\d+)"', listener.group(1))
    assert address is not None
    assert re.search(
        r"telemetry \{\s*unauthenticated_metrics_access = true\s*\}", listener.group(1)
    )
    telemetry = re.search(r"^telemetry \{(.*?)\n\}", hcl, re.S | re.M)
    assert telemetry is not None
    assert "disable_hostname = true" in telemetry.group(1)
    retention = re.search(r'prometheus_retention_time = "(\d+)h"', telemetry.group(1))
    assert retention is not None and int(retention.group(1)) > 0

    scrape = endpoint(monitor)
    assert scrape["portNumber"] == int(address.group(1))
    assert scrape["path"] == "/v1/sys/metrics"
    assert scrape["params"] == {"format": ["prometheus"]}
    assert scrape["scheme"] == "https"
    tls = scrape["tlsConfig"]
    assert "insecureSkipVerify" not in tls
    # The CA is the add-on's own, from the Secret in the monitor's namespace.
    (secret,) = [
        s
        for s in run.of_type(SECRET)
        if s.inputs["metadata"]["name"] == tls["ca"]["secret"]["name"]
        and s.inputs["metadata"]["namespace"] == monitor.inputs["metadata"]["namespace"]
    ]
    # The key is the file the servers themselves verify the CA with (the Secret is
    # mounted at TLS_DIR; its data is secret in the recorded inputs).
    server = release.inputs["values"]["server"]
    (volume,) = server["volumes"]
    assert volume["secret"]["secretName"] == secret.inputs["metadata"]["name"]
    (mount,) = server["volumeMounts"]
    ca_file = server["extraEnvironmentVars"]["VAULT_CACERT"]
    assert ca_file == f"{mount['mountPath']}/{tls['ca']['secret']['key']}"
    # The release waits for the Secret, and the monitor for the release.
    assert secret.urn in release.depends_on and release.urn in monitor.depends_on
    # Pods are scraped by IP: the name verified must be one the certificate carries.
    (request,) = run.of_type("tls:index/certRequest:CertRequest")
    assert tls["serverName"] in request.inputs["dnsNames"]


@pytest.mark.parametrize("alert", slo.PLATFORM_ALERTS, ids=[a.name for a in slo.PLATFORM_ALERTS])
def test_every_metric_a_platform_alert_reads_is_scraped(alert):
    """Each metric is exported by a kube-prometheus-stack target
    (`exported_metrics.EXPORTED`) or matches a prefix of one of our PodMonitors' targets,
    and that PodMonitor is on every shipped cluster stack."""
    targets = (*scrape_targets.TELEMETRY, scrape_targets.VAULT)
    for metric in sorted(promql.metric_names(alert.expr)):
        if metric in exported_metrics.EXPORTED:
            continue
        sources = [t for t in targets if metric.startswith(t.metric_prefixes)]
        assert sources, f"{alert.name} reads {metric}, which no target scrapes"
        for stack in CLUSTER_STACKS:
            assert {t.name for t in sources} <= set(monitors(stack_run(stack))), (stack, metric)


def test_the_alerts_that_needed_new_targets_map_to_them():
    """VaultSealed and LokiRequestErrors were the alerts without series (issue 16)."""
    by_name = {a.name: a for a in slo.PLATFORM_ALERTS}
    for alert, target in (
        ("VaultSealed", scrape_targets.VAULT),
        ("LokiRequestErrors", scrape_targets.LOKI),
    ):
        metrics = promql.metric_names(by_name[alert].expr)
        assert metrics and all(m.startswith(target.metric_prefixes) for m in metrics)


def test_without_observability_no_monitor_and_no_monitoring_object_is_made():
    """A platform stack without `ballast:observability`: no kube-prometheus-stack, so no
    monitoring.coreos.com CRDs and no object of theirs; the pieces still run."""
    cluster = CLUSTER_STACKS[0]
    platform = stack_run(cluster).outputs["platformStack"]
    reference = stack_run(platform)
    bare = dataclasses.replace(reference, outputs={**reference.outputs, "observability": None})
    run = run_stack(load_stack_config(load_project(ROOT), cluster), references={platform: bare})
    assert not [r for r in run.resources if "monitoring.coreos.com" in r.type]
    charts = {r.inputs["chart"] for r in run.of_type(HELM_RELEASE)}
    assert versions.KUBE_PROMETHEUS_STACK_CHART not in charts
    assert versions.LOKI_CHART in charts and versions.VAULT_CHART in charts
