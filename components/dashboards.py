"""Grafana dashboards as code, built with `grafana-foundation-sdk` (docs/observability.md,
"Dashboards"). Pure functions: each returns a dashboard's JSON model (a dict), which the
cluster layer puts in a ConfigMap that Grafana's dashboard sidecar loads
(components/cluster/addons/grafana.py).

Three dashboards, with the UIDs and panel ids the alerts of `components/slo.py` link to:

- **Service SLO** (`slo.SLO_DASHBOARD`), templated by `service` (and its `namespace`):
  error budget remaining over 30 days, availability and latency burn rates per window
  (with the burn-rate factors of `slo.BURN_RATES` as thresholds), error ratio, p95
  latency, queue lag, container restarts and rollouts (`slo.SLO_PANELS`).
- **Platform overview** (`slo.PLATFORM_DASHBOARD`): nodes, volumes, Vault, rule
  failures, notifications, Loki, the Watchdog, GitOps (`slo.PLATFORM_PANELS`), and every
  service's fastest burn.
- **Cluster capacity** (`slo.CAPACITY_DASHBOARD`): requests against allocatable CPU and
  memory, node and namespace usage, pods per node, filesystems, quota use.

Queries name only the recording rules and metrics of `components/slo.py` and the
kube-prometheus-stack metrics listed in `components/exported_metrics.py` (a test checks
each query with `components/promql.py`). Every panel reads the Prometheus datasource
with the fixed UID `PROMETHEUS_UID`, which the Grafana release provisions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model

from components import slo
from components.cluster.addons import argocd_alerts
from components.config import ServiceConfig
from components.config.services import SloConfig

#: Datasource UIDs the Grafana release provisions and the dashboards reference.
PROMETHEUS_UID = "prometheus"
LOKI_UID = "loki"
TEMPO_UID = "tempo"
#: Tag of every Ballast dashboard (Grafana's dashboard list filters on it).
TAG = "ballast"
#: The default objective's metric names, for the panels when no service declares one.
DEFAULT_REQUESTS_METRIC = SloConfig.model_fields["requests_metric"].default
DEFAULT_LATENCY_METRIC = SloConfig.model_fields["latency_metric"].default

_PROMETHEUS = model.DataSourceRef(type_val="prometheus", uid=PROMETHEUS_UID)
_SERVICE = 'service="$service"'


def _query(expr: str, legend: str, ref: str = "A") -> prometheus.Dataquery:
    return (
        prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref).datasource(_PROMETHEUS)
    )


def _refs() -> Iterable[str]:
    return (chr(ord("A") + i) for i in range(26))


def _thresholds(*steps: tuple[float | None, str]) -> db.ThresholdsConfig:
    return (
        db.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=v, color=c) for v, c in steps])
    )


def _series(
    panel_id: int,
    title: str,
    description: str,
    queries: Sequence[tuple[str, str]],
    *,
    unit: str = "short",
    width: int = 12,
    thresholds: db.ThresholdsConfig | None = None,
) -> timeseries.Panel:
    """A time-series panel of `queries` (expression, legend)."""
    panel = (
        timeseries.Panel()
        .id(panel_id)
        .title(title)
        .description(description)
        .datasource(_PROMETHEUS)
        .unit(unit)
        .height(8)
        .span(width)
    )
    for ref, (expr, legend) in zip(_refs(), queries, strict=False):
        panel = panel.with_target(_query(expr, legend, ref))
    if thresholds is not None:
        panel = panel.thresholds(thresholds)
    return panel


def _to_json(builder: db.Dashboard) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    return result


def _dashboard(uid: str, title: str, description: str) -> db.Dashboard:
    return (
        db.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG])
        .refresh("1m")
        .time("now-6h", "now")
        .timezone("utc")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .readonly()
    )


def _burn(objective: str) -> list[tuple[str, str]]:
    """The burn rate of one objective of `$service` over every recorded window."""
    return [
        (
            f'{slo.recorded(w)}{{{_SERVICE}, slo="{objective}"}}'
            f" / on (service, slo) group_left {slo.BUDGET_RECORD}{{{_SERVICE}}}",
            w,
        )
        for w in slo.WINDOWS
    ]


def _burn_thresholds() -> db.ThresholdsConfig:
    """Green below 1x (within budget), then the ticket and page factors."""
    factors = sorted({r.factor for r in slo.BURN_RATES})
    colors = ["yellow", "orange", "red", "dark-red"]
    return _thresholds((None, "green"), *zip(factors, colors, strict=False))


def _metrics(values: Iterable[str | None], default: str | None) -> list[str]:
    """The distinct metric names services declare, in order; `default` when none does."""
    names = list(dict.fromkeys(v for v in values if v))
    return names or ([default] if default else [])


def service_slo(services: Sequence[ServiceConfig]) -> dict[str, Any]:
    """The per-service SLO dashboard (`slo.SLO_DASHBOARD`), templated by `service`. The
    services' own metric names (latency histogram, queue-lag gauge) come from their
    objectives: one query per distinct name, each filtered by `$service`, so whichever
    service is selected shows its own series."""
    objectives = [s.slo for s in services if s.slo is not None]
    latency_metrics = _metrics((o.latency_metric for o in objectives), DEFAULT_LATENCY_METRIC)
    queue_metrics = _metrics((o.queue_lag_metric for o in objectives), None)
    panels = slo.SLO_PANELS
    service_var = (
        db.QueryVariable("service")
        .label("Service")
        .datasource(_PROMETHEUS)
        .query(f"label_values({slo.BUDGET_RECORD}, service)")
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )
    namespace_var = (
        db.QueryVariable("namespace")
        .label("Namespace")
        .datasource(_PROMETHEUS)
        .query(f"label_values({slo.BUDGET_RECORD}{{{_SERVICE}}}, namespace)")
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .hide(model.VariableHide.HIDE_VARIABLE)
    )
    budget = (
        stat.Panel()
        .id(panels["budget"])
        .title("Error budget remaining (30 days)")
        .description(
            "1 - (mean of the hourly error ratio over 30 days) / budget, per objective. "
            "Under 0: the objective is missed for this period."
        )
        .datasource(_PROMETHEUS)
        .unit("percentunit")
        .height(8)
        .span(6)
        .thresholds(_thresholds((None, "red"), (0.25, "orange"), (0.5, "green")))
        .with_target(
            _query(
                f"1 - (avg_over_time({slo.recorded('1h')}{{{_SERVICE}}}[30d])"
                f" / on (service, slo) group_left {slo.BUDGET_RECORD}{{{_SERVICE}}})",
                "{{slo}}",
            )
        )
    )
    board = (
        _dashboard(
            slo.SLO_DASHBOARD,
            "Service SLO",
            "Error budgets, burn rates and the signals behind one service's objectives "
            "(ballast:services[].slo).",
        )
        .with_variable(service_var)
        .with_variable(namespace_var)
        .with_panel(budget)
        .with_panel(
            _series(
                panels["availability_burn"],
                "Availability burn rate",
                "Error ratio / availability budget per window. The page alerts fire when "
                "1h and 5m exceed 14.4, or 6h and 30m exceed 6; tickets at 3 (1d, 2h) and "
                "1 (3d, 6h).",
                _burn("availability"),
                width=9,
                thresholds=_burn_thresholds(),
            )
        )
        .with_panel(
            _series(
                panels["latency_burn"],
                "Latency burn rate",
                "Share of requests slower than the objective / 5 % per window; the same "
                "factors as availability.",
                _burn("latency"),
                width=9,
                thresholds=_burn_thresholds(),
            )
        )
        .with_panel(
            _series(
                panels["error_ratio"],
                "Error ratio",
                "Share of 5xx responses (availability) and of requests slower than the "
                "objective (latency), over 5 minutes.",
                [
                    (f"{slo.recorded('5m')}{{{_SERVICE}}}", "{{slo}}"),
                ],
                unit="percentunit",
            )
        )
        .with_panel(
            _series(
                panels["latency"],
                "Latency p95",
                "95th percentile of request duration over 5 minutes, from the service's histogram.",
                [
                    (
                        "histogram_quantile(0.95, sum by (le) (rate("
                        f"{metric}_bucket{{{_SERVICE}}}[5m])))",
                        f"p95 ({metric})",
                    )
                    for metric in latency_metrics
                ],
                unit="s",
            )
        )
        .with_panel(
            _series(
                panels["queue_lag"],
                "Queue lag (5-minute mean)",
                "The service's queue-lag gauge averaged over 5 minutes, as SloQueueLag "
                "reads it." + ("" if queue_metrics else " No service declares queueLagMetric."),
                [
                    (f"avg_over_time({metric}{{{_SERVICE}}}[5m])", metric)
                    for metric in queue_metrics
                ],
                unit="s",
            )
        )
        .with_panel(
            _series(
                panels["restarts"],
                "Container restarts and rollouts",
                "Container restarts in the service's namespace per 30 minutes, and "
                "Deployment generations observed (a rollout), as SloRolloutRestarts "
                "reads them.",
                [
                    (
                        "sum by (pod, container) (increase("
                        'kube_pod_container_status_restarts_total{namespace="$namespace"}[30m]))',
                        "{{pod}}/{{container}}",
                    ),
                    (
                        "sum by (deployment) (changes("
                        'kube_deployment_status_observed_generation{namespace="$namespace"}[30m]))',
                        "rollouts {{deployment}}",
                    ),
                ],
            )
        )
    )
    return _to_json(board)


@dataclass(frozen=True)
class _PanelSpec:
    title: str
    description: str
    queries: tuple[tuple[str, str], ...]
    unit: str = "short"
    thresholds: tuple[tuple[float | None, str], ...] = ()


#: The platform overview's panel per `slo.PLATFORM_PANELS` name: what the alerts linking
#: there read. A name there without an entry here fails the build, naming it.
PLATFORM_PANEL_SPECS: dict[str, _PanelSpec] = {
    "nodes": _PanelSpec(
        "Nodes",
        "Nodes, and those not Ready (KubeNodeNotReady).",
        (
            ("count(kube_node_info)", "nodes"),
            (
                'count(kube_node_status_condition{condition="Ready", status="true"} == 0)'
                " or vector(0)",
                "not ready",
            ),
        ),
    ),
    "volumes": _PanelSpec(
        "Volume free space",
        "Free share of each PersistentVolumeClaim (PersistentVolumeFilling at 15 % with a "
        "full volume predicted within 4 days).",
        (
            (
                "kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes",
                "{{namespace}}/{{persistentvolumeclaim}}",
            ),
        ),
        unit="percentunit",
        thresholds=((None, "red"), (0.15, "green")),
    ),
    "vault": _PanelSpec(
        "Vault unsealed",
        "1 when a Vault server is unsealed (VaultSealed at 0).",
        (("vault_core_unsealed", "{{pod}}"),),
    ),
    "rule_failures": _PanelSpec(
        "Rule evaluation failures",
        "Failed rule evaluations per 10 minutes (PrometheusRuleFailures).",
        (
            (
                "sum by (rule_group) (increase(prometheus_rule_evaluation_failures_total[10m]))",
                "{{rule_group}}",
            ),
        ),
    ),
    "notifications": _PanelSpec(
        "Alert notifications",
        "Prometheus to Alertmanager error ratio (PrometheusNotificationsFailing) and failed "
        "notifications per receiver integration (AlertmanagerNotificationsFailing).",
        (
            (
                "sum by (pod) (rate(prometheus_notifications_errors_total[5m]))"
                " / sum by (pod) (rate(prometheus_notifications_sent_total[5m]))",
                "prometheus {{pod}}",
            ),
            (
                "sum by (integration) (rate(alertmanager_notifications_failed_total[5m]))"
                " / sum by (integration) (rate(alertmanager_notifications_total[5m]))",
                "alertmanager {{integration}}",
            ),
        ),
        unit="percentunit",
    ),
    "loki": _PanelSpec(
        "Loki request errors",
        "Share of 5xx answers per Loki route (LokiRequestErrors at 5 %).",
        (
            (
                "sum by (job, route) (rate(loki_request_duration_seconds_count"
                '{status_code=~"5.."}[5m]))'
                " / sum by (job, route) (rate(loki_request_duration_seconds_count[5m]))",
                "{{job}} {{route}}",
            ),
        ),
        unit="percentunit",
    ),
    "gitops": _PanelSpec(
        "GitOps applications",
        "Argo CD applications out of sync or degraded (GitOpsApplicationOutOfSync, "
        "GitOpsApplicationDegraded) and failed syncs per 30 minutes (GitOpsSyncFailed); the "
        "series come from Argo CD's own metrics.",
        (
            (
                'count by (sync_status) (argocd_app_info{sync_status!="Synced"})',
                "{{sync_status}}",
            ),
            (
                'count by (health_status) (argocd_app_info{health_status!="Healthy"})',
                "{{health_status}}",
            ),
            (
                "sum by (name) (increase(argocd_app_sync_total"
                '{phase=~"Error|Failed"}'
                f"[{argocd_alerts.SYNC_FAILURE_WINDOW}]))",
                "failed syncs {{name}}",
            ),
        ),
    ),
    "watchdog": _PanelSpec(
        "Watchdog",
        "The always-firing Watchdog alert: a gap means the alerting pipeline is down (the "
        "dead-man's switch pages).",
        (('ALERTS{alertname="Watchdog", alertstate="firing"}', "watchdog"),),
    ),
}


def platform_overview() -> dict[str, Any]:
    """The platform overview (`slo.PLATFORM_DASHBOARD`): one panel per platform alert's
    signal (`slo.PLATFORM_PANELS`, from `PLATFORM_PANEL_SPECS`), then every service's
    fastest burn (the next free id). ValueError naming the panel when
    `slo.PLATFORM_PANELS` has a name `PLATFORM_PANEL_SPECS` lacks."""
    board = _dashboard(
        slo.PLATFORM_DASHBOARD,
        "Platform overview",
        "What breaks under every service, and the signal system watching itself.",
    )
    for name, panel_id in sorted(slo.PLATFORM_PANELS.items(), key=lambda item: item[1]):
        spec = PLATFORM_PANEL_SPECS.get(name)
        if spec is None:
            raise ValueError(
                f"slo.PLATFORM_PANELS names panel {name!r} (id {panel_id}), which "
                "components/dashboards.py does not define: add it to PLATFORM_PANEL_SPECS"
            )
        board = board.with_panel(
            _series(
                panel_id,
                spec.title,
                spec.description,
                spec.queries,
                unit=spec.unit,
                thresholds=_thresholds(*spec.thresholds) if spec.thresholds else None,
            )
        )
    board = board.with_panel(
        _series(
            max(slo.PLATFORM_PANELS.values()) + 1,
            "Fastest burn per service",
            "The highest 1-hour burn rate of each service's objectives (1 spends the 30-day "
            "budget exactly).",
            [
                (
                    f"max by (service) ({slo.recorded('1h')}"
                    f" / on (service, slo) group_left {slo.BUDGET_RECORD})",
                    "{{service}}",
                )
            ],
            thresholds=_burn_thresholds(),
        )
    )
    return _to_json(board)


def cluster_capacity() -> dict[str, Any]:
    """Cluster capacity (`slo.CAPACITY_DASHBOARD`): what is requested against what the
    nodes offer, and what is used."""
    board = (
        _dashboard(
            slo.CAPACITY_DASHBOARD,
            "Cluster capacity",
            "Requests against allocatable capacity, and real use, per node and namespace.",
        )
        .with_panel(
            _series(
                1,
                "CPU requested / allocatable",
                "Above about 0.8 the autoscaler adds nodes; pending pods follow above 1.",
                [
                    (
                        'sum(kube_pod_container_resource_requests{resource="cpu"})'
                        ' / sum(kube_node_status_allocatable{resource="cpu"})',
                        "requests",
                    ),
                    (
                        'sum(kube_pod_container_resource_limits{resource="cpu"})'
                        ' / sum(kube_node_status_allocatable{resource="cpu"})',
                        "limits",
                    ),
                ],
                unit="percentunit",
            )
        )
        .with_panel(
            _series(
                2,
                "Memory requested / allocatable",
                "Memory is not compressible: limits above allocatable risk OOM kills.",
                [
                    (
                        'sum(kube_pod_container_resource_requests{resource="memory"})'
                        ' / sum(kube_node_status_allocatable{resource="memory"})',
                        "requests",
                    ),
                    (
                        'sum(kube_pod_container_resource_limits{resource="memory"})'
                        ' / sum(kube_node_status_allocatable{resource="memory"})',
                        "limits",
                    ),
                ],
                unit="percentunit",
            )
        )
        .with_panel(
            _series(
                3,
                "Node CPU busy",
                "Share of CPU time not idle, per node (node-exporter).",
                [
                    (
                        '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))',
                        "{{instance}}",
                    )
                ],
                unit="percentunit",
            )
        )
        .with_panel(
            _series(
                4,
                "Node memory available",
                "Available memory share per node (node-exporter).",
                [
                    (
                        "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
                        "{{instance}}",
                    )
                ],
                unit="percentunit",
            )
        )
        .with_panel(
            _series(
                5,
                "CPU used per namespace",
                "Cores used by the containers of each namespace (cAdvisor).",
                [
                    (
                        "sum by (namespace) (rate("
                        'container_cpu_usage_seconds_total{container!=""}[5m]))',
                        "{{namespace}}",
                    )
                ],
            )
        )
        .with_panel(
            _series(
                6,
                "Memory used per namespace",
                "Working set of the containers of each namespace (cAdvisor).",
                [
                    (
                        'sum by (namespace) (container_memory_working_set_bytes{container!=""})',
                        "{{namespace}}",
                    )
                ],
                unit="bytes",
            )
        )
        .with_panel(
            _series(
                7,
                "Pods per node / capacity",
                "Pods scheduled on each node against its pod capacity (the VPC CNI's "
                "per-instance limit).",
                [
                    (
                        "sum by (node) (kube_pod_info)"
                        ' / sum by (node) (kube_node_status_capacity{resource="pods"})',
                        "{{node}}",
                    )
                ],
                unit="percentunit",
            )
        )
        .with_panel(
            _series(
                8,
                "Node filesystem free",
                "Free share of each node filesystem (node-exporter).",
                [
                    (
                        "node_filesystem_avail_bytes / node_filesystem_size_bytes",
                        "{{instance}} {{mountpoint}}",
                    )
                ],
                unit="percentunit",
            )
        )
        .with_panel(
            _series(
                9,
                "Namespace quota used",
                "Used / hard of every ResourceQuota (the per-service budgets).",
                [
                    (
                        'kube_resourcequota{type="used"}'
                        ' / ignoring (type) kube_resourcequota{type="hard"}',
                        "{{namespace}} {{resource}}",
                    )
                ],
                unit="percentunit",
                width=24,
            )
        )
    )
    return _to_json(board)


def dashboards(services: Sequence[ServiceConfig]) -> dict[str, dict[str, Any]]:
    """Every dashboard that ships, by UID."""
    boards = [service_slo(services), platform_overview(), cluster_capacity()]
    return {board["uid"]: board for board in boards}


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    """The panels of a dashboard's JSON model, those inside rows included."""
    found = []
    for panel in board.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def queries(board: dict[str, Any]) -> list[str]:
    """Every PromQL expression of a dashboard: its panels' targets and its query
    variables (`label_values(<selector>, <label>)` gives its selector)."""
    exprs = [t["expr"] for p in panels(board) for t in p.get("targets", []) if "expr" in t]
    for variable in board.get("templating", {}).get("list", []):
        query = variable.get("query")
        if variable.get("type") == "query" and isinstance(query, str):
            if query.startswith("label_values(") and query.endswith(")"):
                query = query.removeprefix("label_values(").removesuffix(")").rsplit(",", 1)[0]
            exprs.append(query)
    return exprs
