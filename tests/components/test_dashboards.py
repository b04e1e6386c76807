"""Dashboards as code (components/dashboards.py): every dashboard builds for every shipped
stack's services; every alert's `dashboard_url` opens a panel that exists, on a dashboard
that exists; every query names only series the platform has (the recording rules of
components/slo.py, the metrics its rules read, and the kube-prometheus-stack metrics of
components/exported_metrics.py), which in turn are checked against the chart's reference
values; and the PromQL tokenizer behind that check (components/promql.py)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from components import dashboards, slo
from components.cluster.addons import argocd_alerts
from components.exported_metrics import (
    ALERTMANAGER,
    CADVISOR,
    EXPORTED,
    KSM,
    KUBELET,
    NODE_EXPORTER,
    PROMETHEUS,
)
from components.promql import metric_names
from tests.conftest import SHIPPED_STACKS, platform_config
from tests.reference import chart_values

LINKS = slo.AlertLinks(
    runbook_base="https://github.com/acme/platform/blob/main",
    grafana_url="https://grafana.internal.example.com",
)
KPS = ("kube-prometheus-stack", "88.5.3")


def _stack(stack: str) -> tuple[list[Any], list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The stack's services, every rule group the cluster stack installs for them (the SLO
    and platform rules, and the GitOps rules Argo CD's panel explains), its dashboards."""
    config = platform_config(stack)
    services = config.services
    groups = slo.rule_groups(services, LINKS)
    if config.gitops is not None:
        groups += argocd_alerts.rule_groups(
            f"{LINKS.runbook_base}/{argocd_alerts.RUNBOOK_PATH}",
            LINKS.panel(slo.PLATFORM_DASHBOARD, slo.PLATFORM_PANELS["gitops"]),
        )
    return services, groups, dashboards.dashboards(services)


def relied_on(groups: list[dict[str, Any]]) -> set[str]:
    """What a query may name: the recording rules, the metrics the rules read, and the
    exported kube-prometheus-stack metrics."""
    rules = [r for g in groups for r in g["rules"]]
    recorded = {r["record"] for r in rules if "record" in r}
    read = {name for r in rules for name in metric_names(r["expr"])}
    return recorded | read | set(EXPORTED)


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_dashboard_builds_with_unique_panel_ids(stack):
    _, _, boards = _stack(stack)
    assert set(boards) == {slo.SLO_DASHBOARD, slo.PLATFORM_DASHBOARD, slo.CAPACITY_DASHBOARD}
    for uid, board in boards.items():
        assert board["uid"] == uid and board["title"]
        ids = [p["id"] for p in dashboards.panels(board)]
        assert len(ids) == len(set(ids)), f"{uid}: duplicate panel ids {ids}"
        for panel in dashboards.panels(board):
            assert panel["datasource"]["uid"] == dashboards.PROMETHEUS_UID
            for target in panel.get("targets", []):
                assert target["datasource"]["uid"] == dashboards.PROMETHEUS_UID


def broken_link(url: str, boards: dict[str, dict[str, Any]], services: set[str]) -> str | None:
    """Why `url` does not open an existing panel (None when it does)."""
    parts = urlsplit(url)
    match = re.fullmatch(r"/d/([^/]+)/?", parts.path)
    if not match:
        return f"{parts.path} is not a dashboard path"
    board = boards.get(match.group(1))
    if board is None:
        return f"no dashboard {match.group(1)}"
    query = parse_qs(parts.query)
    panel = query.get("viewPanel", [""])[0]
    if not panel.isdigit() or int(panel) not in {p["id"] for p in dashboards.panels(board)}:
        return f"dashboard {board['uid']} has no panel {panel!r}"
    variables = {v["name"] for v in board.get("templating", {}).get("list", [])}
    for service in query.get("var-service", []):
        if "service" not in variables or service not in services:
            return f"dashboard {board['uid']} cannot select service {service}"
    return None


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_alert_links_an_existing_panel(stack):
    services, groups, boards = _stack(stack)
    names = {s.name for s in services}
    alerts = slo.alerts(groups)
    assert alerts
    for rule in alerts:
        problem = broken_link(rule["annotations"]["dashboard_url"], boards, names)
        assert problem is None, f"{rule['alert']}: {problem}"


def test_a_broken_link_is_caught():
    _, _, boards = _stack("dev")
    assert broken_link(LINKS.panel(slo.SLO_DASHBOARD, 99, "checkout"), boards, {"checkout"})
    assert broken_link(LINKS.panel("no-such", 1), boards, set())
    assert broken_link(LINKS.panel(slo.SLO_DASHBOARD, 1, "ghost"), boards, {"checkout"})
    assert broken_link(LINKS.panel(slo.CAPACITY_DASHBOARD, 1, "checkout"), boards, {"checkout"})


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_queries_name_only_series_the_platform_has(stack):
    _, groups, boards = _stack(stack)
    allowed = relied_on(groups)
    for uid, board in boards.items():
        exprs = dashboards.queries(board)
        assert exprs
        for expr in exprs:
            names = metric_names(expr)
            assert names, f"{uid}: no metric in {expr!r}"
            assert names <= allowed, f"{uid}: {sorted(names - allowed)} in {expr!r}"


def test_the_exported_list_holds_only_what_the_dashboards_use():
    """The list is what the dashboards rely on: no entry without a query reading it."""
    used = {
        name
        for stack in SHIPPED_STACKS
        for board in _stack(stack)[2].values()
        for expr in dashboards.queries(board)
        for name in metric_names(expr)
    }
    assert set(EXPORTED) - used == set()


def test_a_platform_panel_without_queries_fails_the_build_naming_it(monkeypatch):
    monkeypatch.setattr(slo, "PLATFORM_PANELS", {**slo.PLATFORM_PANELS, "unbuilt": 99})
    with pytest.raises(ValueError, match="'unbuilt' \\(id 99\\)"):
        dashboards.platform_overview()


def test_an_unknown_metric_is_caught():
    _, groups, _ = _stack("dev")
    assert metric_names("rate(made_up_requests_total[5m])") - relied_on(groups)


def test_service_metric_names_come_from_the_objectives():
    """A service with its own histogram and queue gauge gets queries for them."""
    from components.config import ServiceConfig

    service = ServiceConfig.model_validate(
        {
            "name": "api",
            "tier": "tier-1",
            "slo": {
                "availability": 99.9,
                "latencyP95Ms": 300,
                "latencyMetric": "api_duration_seconds",
                "queueLagSeconds": 10,
                "queueLagMetric": "api_queue_lag_seconds",
            },
        }
    )
    names = {
        n for q in dashboards.queries(dashboards.service_slo([service])) for n in metric_names(q)
    }
    assert {"api_duration_seconds_bucket", "api_queue_lag_seconds"} <= names
    assert "http_request_duration_seconds_bucket" not in names


def test_every_budget_panel_divides_by_a_recorded_budget():
    """`slo:error_budget:ratio` holds each objective's budget, for every service."""
    service = platform_config("prod").services[0]
    assert service.slo is not None
    budgets = {
        r["labels"]["slo"]: r["expr"]
        for r in slo.recording_rules(service)
        if r["record"] == slo.BUDGET_RECORD
    }
    assert budgets == {
        "availability": f"vector({slo.number(slo.error_budget(service.slo.availability))})",
        "latency": f"vector({slo.number(slo.LATENCY_BUDGET)})",
    }


# --- the exported-metrics list against the chart's reference values ---------------------


def _dropped(relabelings: list[dict[str, Any]], metric: str) -> bool:
    return any(
        r.get("action") == "drop"
        and r.get("sourceLabels") == ["__name__"]
        and re.fullmatch(r["regex"], metric)
        for r in relabelings or []
    )


def test_exported_metrics_are_scraped_by_the_pinned_chart():
    values = chart_values(*KPS)
    kubelet = values["kubelet"]
    ksm = values["kube-state-metrics"]
    collectors = set(ksm["collectors"]) - set(ksm.get("collectorsExclude") or [])
    exporter_args = " ".join(values["prometheus-node-exporter"].get("extraArgs") or [])
    for metric, source in EXPORTED.items():
        if source.exporter == KSM:
            assert values["kubeStateMetrics"]["enabled"]
            assert source.collector in collectors, f"{metric}: collector {source.collector} off"
            assert metric.startswith(f"kube_{source.collector.removesuffix('s')}"), metric
        elif source.exporter == CADVISOR:
            assert kubelet["enabled"] and kubelet["serviceMonitor"]["cAdvisor"]
            assert metric.startswith("container_")
            relabel = kubelet["serviceMonitor"]["cAdvisorMetricRelabelings"]
            assert not _dropped(relabel, metric), f"{metric} is dropped by the chart"
        elif source.exporter == KUBELET:
            assert kubelet["enabled"] and metric.startswith("kubelet_")
            relabel = kubelet["serviceMonitor"]["metricRelabelings"]
            assert not _dropped(relabel, metric), f"{metric} is dropped by the chart"
        elif source.exporter == NODE_EXPORTER:
            assert values["nodeExporter"]["enabled"]
            assert values["prometheus-node-exporter"]["prometheus"]["monitor"]["enabled"]
            assert f"--no-collector.{source.collector}" not in exporter_args
            assert metric.startswith("node_")
        elif source.exporter == PROMETHEUS:
            assert values["prometheus"]["serviceMonitor"]["selfMonitor"]
        elif source.exporter == ALERTMANAGER:
            assert values["alertmanager"]["serviceMonitor"]["selfMonitor"]
            assert metric.startswith("alertmanager_")
        else:
            pytest.fail(f"{metric}: unknown exporter {source.exporter}")


def test_a_dropped_cadvisor_metric_is_caught():
    relabel = chart_values(*KPS)["kubelet"]["serviceMonitor"]["cAdvisorMetricRelabelings"]
    assert _dropped(relabel, "container_cpu_load_average_10s")
    assert not _dropped(relabel, "container_cpu_usage_seconds_total")


# --- the tokenizer ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        (
            'sum by (le) (rate(h_bucket{service="$service", le=~"1|1\\\\.0"}[$__rate_interval]))',
            {"h_bucket"},
        ),
        ("sum(rate(a_total[5m])) by (job, instance)", {"a_total"}),
        ("a:b:c{x='y'} / on (service, slo) group_left (tier) d:e", {"a:b:c", "d:e"}),
        ("predict_linear(v[6h], 4 * 24 * 3600) < 0 and w offset 1h", {"v", "w"}),
        ("x > 1e3 or y == bool 0x1f unless z != Inf", {"x", "y", "z"}),
        ("vector(1)", set()),
        ('label_replace(m, "dst", "$1", "src", "(.*)")', {"m"}),
        ("max_over_time(m[1h:5m]) # comment naming fake_metric", {"m"}),
        ("count without (pod) (kube_pod_info) > ${threshold}", {"kube_pod_info"}),
    ],
)
def test_metric_names(expr, names):
    assert metric_names(expr) == names
