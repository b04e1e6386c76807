"""SLOs as code: Prometheus recording and alerting rules generated from each service's
objectives (`ballast:services[].slo`), and the platform's own alerts. Pure functions:
nothing here needs Pulumi, so `promtool` can check and unit-test exactly what ships.

Error budgets, per the Google SRE workbook ("Alerting on SLOs", multiwindow,
multi-burn-rate alerts): a service with availability objective A has a budget of
`1 - A/100` of its requests over 30 days; its latency objective (95 % of requests within
`latencyP95Ms`) has a budget of 5 % of requests. The burn rate is the error ratio over a
window divided by the budget. An alert fires when both a long and a short window burn
faster than a factor (`BURN_RATES`):

| severity | long window | short window | factor | budget spent when it fires |
| --- | --- | --- | --- | --- |
| page | 1h | 5m | 14.4 | 2 % in an hour |
| page | 6h | 30m | 6 | 5 % in six hours |
| ticket | 1d | 2h | 3 | 10 % in a day |
| ticket | 3d | 6h | 1 | 10 % in three days |

The short window makes an alert stop soon after the burn stops. Recording rules
(`slo:sli_error:ratio_rate<window>`) compute each error ratio once per window, and
`slo:error_budget:ratio` holds each objective's budget for the dashboards.

Rules are written in syntax both Debian's promtool 2.42 (tests) and the Prometheus 3.x that
kube-prometheus-stack deploys accept: no 3.x-only functions or duration arithmetic, and the
histogram's `le` is matched as both `1` and `1.0` (3.x normalises it, 2.x does not).

Annotations of service alerts are plain text (no `$value`), so a `promtool test rules`
case can state them exactly. Every alert carries the labels `severity` (`page`, `ticket`; the Watchdog `heartbeat`),
`service` and `tier`, and the annotations `summary`, `description`, `dashboard_url` (a
panel of a dashboard in `components/dashboards.py`) and `runbook_url` (a file in
`runbooks/`, named after the alert: `runbook_file`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from components.config import ServiceConfig

#: Where the runbooks live in the repository; every alert's runbook_url ends in a file here.
RUNBOOKS_DIR = "runbooks"
#: Rules are evaluated over these windows; each one gets a recording rule per objective.
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
#: The latency objective is a 95th percentile: 5 % of requests may be slower.
LATENCY_BUDGET = 0.05
#: `service` and `tier` of the platform's own alerts.
PLATFORM_SERVICE = "platform"
PLATFORM_TIER = "tier-1"

#: The dashboards the alerts link to (built by components/dashboards.py with these UIDs
#: and panel ids; a test checks that every linked panel exists).
SLO_DASHBOARD = "service-slo"
PLATFORM_DASHBOARD = "platform-overview"
CAPACITY_DASHBOARD = "cluster-capacity"
SLO_PANELS = {
    "budget": 1,
    "availability_burn": 2,
    "latency_burn": 3,
    "error_ratio": 4,
    "latency": 5,
    "queue_lag": 6,
    "restarts": 7,
}
PLATFORM_PANELS = {
    "nodes": 1,
    "volumes": 2,
    "vault": 3,
    "rule_failures": 4,
    "notifications": 5,
    "loki": 6,
    "watchdog": 7,
    "gitops": 8,
}


@dataclass(frozen=True)
class BurnRate:
    """One window pair of a multi-window, multi-burn-rate alert."""

    severity: str
    long: str
    short: str
    factor: float


BURN_RATES = (
    BurnRate("page", "1h", "5m", 14.4),
    BurnRate("page", "6h", "30m", 6),
    BurnRate("ticket", "1d", "2h", 3),
    BurnRate("ticket", "3d", "6h", 1),
)
#: How long each severity's condition must hold before the alert fires (the workbook's
#: page condition is instant; two minutes absorb one bad scrape).
FOR = {"page": "2m", "ticket": "15m"}


@dataclass(frozen=True)
class AlertLinks:
    """Where alerts point: `runbook_base` is the repository's web address that
    `runbooks/<file>` is appended to (for GitHub, `https://github.com/<org>/<repo>/blob/main`);
    `grafana_url` is Grafana's address behind the internal ALB."""

    runbook_base: str
    grafana_url: str

    def runbook(self, alert: str) -> str:
        return f"{self.runbook_base.rstrip('/')}/{RUNBOOKS_DIR}/{runbook_file(alert)}"

    def panel(self, dashboard: str, panel: int, service: str | None = None) -> str:
        query = f"var-service={service}&" if service else ""
        return f"{self.grafana_url.rstrip('/')}/d/{dashboard}/?{query}viewPanel={panel}"


def runbook_file(alert: str) -> str:
    """The runbook of an alert: its name in kebab case (`SloAvailabilityBudgetBurn` ->
    `slo-availability-budget-burn.md`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", alert).lower() + ".md"


def number(value: float) -> str:
    """A PromQL literal for `value`, free of binary floating-point noise
    (14.4 * 0.0005 -> `0.0072`)."""
    return format(round(value, 12), ".10g")


def _selector(**labels: str) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _le_matcher(seconds: float) -> str:
    text = number(seconds)
    if "." not in text and "e" not in text:
        return f'le=~"{text}|{text}\\\\.0"'
    return f'le="{text}"'


def error_budget(availability_percent: float) -> float:
    """The fraction of requests an availability objective allows to fail."""
    return round(1 - availability_percent / 100, 12)


def _namespace(service: ServiceConfig) -> str:
    return service.namespace or service.name


def _sli_expressions(service: ServiceConfig, window: str) -> dict[str, str]:
    """The error ratio of each request objective over `window`: the share of 5xx
    responses, and the share of requests slower than the latency objective."""
    slo = service.slo
    assert slo is not None
    sel = f'namespace="{_namespace(service)}", service="{service.name}"'
    requests = slo.requests_metric
    latency = slo.latency_metric
    seconds = slo.latency_p95_ms / 1000
    return {
        "availability": (
            f'sum(rate({requests}{{{sel}, code=~"5.."}}[{window}]))'
            f" / sum(rate({requests}{{{sel}}}[{window}]))"
        ),
        "latency": (
            f"1 - (sum(rate({latency}_bucket{{{sel}, {_le_matcher(seconds)}}}[{window}]))"
            f" / sum(rate({latency}_count{{{sel}}}[{window}])))"
        ),
    }


def recorded(window: str) -> str:
    """The recording rule holding the error ratios over a window (one series per service
    and objective, told apart by the `service` and `slo` labels)."""
    return f"slo:sli_error:ratio_rate{window}"


#: The recording rule holding each objective's error budget (a constant per service and
#: `slo`), so a dashboard templated by service divides by the right budget.
BUDGET_RECORD = "slo:error_budget:ratio"


def recording_rules(service: ServiceConfig) -> list[dict[str, Any]]:
    """One recording rule per objective and window, labelled with the service and the
    objective (`slo`), then each objective's error budget (`BUDGET_RECORD`)."""
    rules = []
    for window in WINDOWS:
        for slo, expr in _sli_expressions(service, window).items():
            rules.append(
                {
                    "record": recorded(window),
                    "expr": expr,
                    "labels": {
                        "service": service.name,
                        "namespace": _namespace(service),
                        "slo": slo,
                    },
                }
            )
    objectives = service.slo
    assert objectives is not None
    for name, budget in (
        ("availability", error_budget(objectives.availability)),
        ("latency", LATENCY_BUDGET),
    ):
        rules.append(
            {
                "record": BUDGET_RECORD,
                "expr": f"vector({number(budget)})",
                "labels": {"service": service.name, "namespace": _namespace(service), "slo": name},
            }
        )
    return rules


def _burn_condition(service: ServiceConfig, slo: str, budget: float, severity: str) -> str:
    sel = _selector(service=service.name, slo=slo)
    clauses = []
    for rate in (r for r in BURN_RATES if r.severity == severity):
        threshold = number(rate.factor * budget)
        clauses.append(
            f"(\n  {recorded(rate.long)}{sel} > {threshold}\n"
            f"and\n  {recorded(rate.short)}{sel} > {threshold}\n)"
        )
    return "\nor\n".join(clauses)


def _labels(severity: str, service: str, tier: str, **extra: str) -> dict[str, str]:
    return {"severity": severity, "service": service, "tier": tier, **extra}


def burn_rate_alerts(service: ServiceConfig, links: AlertLinks) -> list[dict[str, Any]]:
    """The page and ticket burn-rate alerts of each request objective of a service."""
    slo = service.slo
    assert slo is not None
    objectives = {
        "availability": (
            "SloAvailabilityBudgetBurn",
            error_budget(slo.availability),
            f"{slo.availability} % of requests succeed",
            "availability_burn",
        ),
        "latency": (
            "SloLatencyBudgetBurn",
            LATENCY_BUDGET,
            f"95 % of requests finish within {slo.latency_p95_ms} ms",
            "latency_burn",
        ),
    }
    alerts = []
    for name, (alert, budget, objective, panel) in objectives.items():
        for severity in ("page", "ticket"):
            windows = ", ".join(
                f"{r.long}/{r.short} at {number(r.factor)}x"
                for r in BURN_RATES
                if r.severity == severity
            )
            alerts.append(
                {
                    "alert": alert,
                    "expr": _burn_condition(service, name, budget, severity),
                    "for": FOR[severity],
                    "labels": _labels(severity, service.name, service.tier, slo=name),
                    "annotations": {
                        "summary": f"{service.name} is burning its {name} error budget "
                        f"({severity})",
                        "description": (
                            f"Objective: {objective} over 30 days. The error budget burns "
                            f"faster than allowed on both windows of one pair ({windows})."
                        ),
                        "dashboard_url": links.panel(
                            SLO_DASHBOARD, SLO_PANELS[panel], service.name
                        ),
                        "runbook_url": links.runbook(alert),
                    },
                }
            )
    return alerts


def threshold_alerts(service: ServiceConfig, links: AlertLinks) -> list[dict[str, Any]]:
    """The queue-lag and rollout-restart alerts of a service, where its objectives set
    them: queue lag averaged over 5 minutes above the objective (page on tier-1, ticket
    otherwise); more container restarts in 30 minutes than allowed while a Deployment of
    the service's namespace rolled out (ticket)."""
    slo = service.slo
    assert slo is not None
    namespace = _namespace(service)
    alerts = []
    if slo.queue_lag_seconds is not None and slo.queue_lag_metric is not None:
        alert = "SloQueueLag"
        severity = "page" if service.tier == "tier-1" else "ticket"
        sel = _selector(namespace=namespace, service=service.name)
        alerts.append(
            {
                "alert": alert,
                "expr": (
                    f"avg_over_time({slo.queue_lag_metric}{sel}[5m])"
                    f" > {number(slo.queue_lag_seconds)}"
                ),
                "for": "5m",
                "labels": _labels(severity, service.name, service.tier, slo="queue_lag"),
                "annotations": {
                    "summary": f"{service.name}'s queue lags more than "
                    f"{number(slo.queue_lag_seconds)} s",
                    "description": (
                        f"{slo.queue_lag_metric} averaged over 5 minutes has stayed above "
                        f"the objective of {number(slo.queue_lag_seconds)} s for 5 minutes."
                    ),
                    "dashboard_url": links.panel(
                        SLO_DASHBOARD, SLO_PANELS["queue_lag"], service.name
                    ),
                    "runbook_url": links.runbook(alert),
                },
            }
        )
    if slo.max_restarts_per_rollout is not None:
        alert = "SloRolloutRestarts"
        ns = _selector(namespace=namespace)
        alerts.append(
            {
                "alert": alert,
                "expr": (
                    "round(sum by (namespace) (increase("
                    f"kube_pod_container_status_restarts_total{ns}[30m])))"
                    f" > {slo.max_restarts_per_rollout}\n"
                    "and on (namespace)\n"
                    "sum by (namespace) (changes("
                    f"kube_deployment_status_observed_generation{ns}[30m])) > 0"
                ),
                "labels": _labels("ticket", service.name, service.tier, slo="restarts"),
                "annotations": {
                    "summary": f"{service.name}'s containers restarted during a rollout",
                    "description": (
                        f"Containers in namespace {namespace} restarted more than "
                        f"{slo.max_restarts_per_rollout} times in the last 30 minutes while a "
                        "Deployment there rolled out."
                    ),
                    "dashboard_url": links.panel(
                        SLO_DASHBOARD, SLO_PANELS["restarts"], service.name
                    ),
                    "runbook_url": links.runbook(alert),
                },
            }
        )
    return alerts


def service_rule_groups(service: ServiceConfig, links: AlertLinks) -> list[dict[str, Any]]:
    """A service's rule groups: its recording rules, then its alerts (empty without
    `slo`)."""
    if service.slo is None:
        return []
    return [
        {"name": f"slo-{service.name}-sli", "rules": recording_rules(service)},
        {
            "name": f"slo-{service.name}-alerts",
            "rules": burn_rate_alerts(service, links) + threshold_alerts(service, links),
        },
    ]


@dataclass(frozen=True)
class _PlatformAlert:
    name: str
    expr: str
    duration: str
    severity: str
    summary: str
    description: str
    panel: str


#: The platform's own alerts: what breaks under every service, and the signal system
#: watching itself. kube-prometheus-stack's default alerts are off (docs/observability.md),
#: so these and the SLO alerts are every alert that ships.
PLATFORM_ALERTS = (
    _PlatformAlert(
        "KubeNodeNotReady",
        'kube_node_status_condition{condition="Ready", status="true"} == 0',
        "15m",
        "ticket",
        "Node {{ $labels.node }} has not been Ready for 15 minutes",
        "The kubelet of {{ $labels.node }} reports NotReady; its pods are rescheduled "
        "elsewhere only after the taint-based eviction delay.",
        "nodes",
    ),
    _PlatformAlert(
        "PersistentVolumeFilling",
        "kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes < 0.15\n"
        "and\npredict_linear(kubelet_volume_stats_available_bytes[6h], 4 * 24 * 3600) < 0",
        "1h",
        "ticket",
        "Volume {{ $labels.persistentvolumeclaim }} in {{ $labels.namespace }} is filling up",
        "Less than 15 % free and, at the rate of the last 6 hours, full within 4 days.",
        "volumes",
    ),
    _PlatformAlert(
        "VaultSealed",
        "vault_core_unsealed == 0",
        "5m",
        "page",
        "Vault instance {{ $labels.pod }} is sealed",
        "A sealed Vault serves no secrets: workloads that start now cannot read theirs.",
        "vault",
    ),
    _PlatformAlert(
        "PrometheusRuleFailures",
        "increase(prometheus_rule_evaluation_failures_total[10m]) > 0",
        "15m",
        "ticket",
        "Prometheus {{ $labels.pod }} fails to evaluate rules",
        "Rule group {{ $labels.rule_group }} failed {{ $value }} times in 10 minutes: SLO "
        "alerts built on it may not fire.",
        "rule_failures",
    ),
    _PlatformAlert(
        "PrometheusNotificationsFailing",
        "rate(prometheus_notifications_errors_total[5m])\n"
        "/ rate(prometheus_notifications_sent_total[5m]) > 0.01",
        "10m",
        "page",
        "Prometheus {{ $labels.pod }} cannot deliver alerts to Alertmanager",
        "More than 1 % of notifications to {{ $labels.alertmanager }} fail: pages may be lost.",
        "notifications",
    ),
    _PlatformAlert(
        "AlertmanagerNotificationsFailing",
        "rate(alertmanager_notifications_failed_total[5m]) > 0",
        "15m",
        "page",
        "Alertmanager {{ $labels.pod }} fails to notify {{ $labels.integration }}",
        "Notifications to the {{ $labels.integration }} receiver fail: pages and tickets "
        "may not arrive.",
        "notifications",
    ),
    _PlatformAlert(
        "LokiRequestErrors",
        'sum by (namespace, job, route) (rate(loki_request_duration_seconds_count{status_code=~"5.."}[5m]))\n'
        "/ sum by (namespace, job, route) (rate(loki_request_duration_seconds_count[5m])) > 0.05",
        "15m",
        "ticket",
        "Loki {{ $labels.job }} fails more than 5 % of {{ $labels.route }} requests",
        "Logs may not be written or read; the error ratio is {{ $value }}.",
        "loki",
    ),
    _PlatformAlert(
        "Watchdog",
        "vector(1)",
        "0m",
        "heartbeat",
        "The alerting pipeline is alive",
        "Always firing: the dead-man's switch at the other end pages when it stops.",
        "watchdog",
    ),
)


def platform_rule_groups(links: AlertLinks) -> list[dict[str, Any]]:
    """The platform's alerts as one rule group."""
    rules = []
    for a in PLATFORM_ALERTS:
        rule: dict[str, Any] = {
            "alert": a.name,
            "expr": a.expr,
            "labels": _labels(a.severity, PLATFORM_SERVICE, PLATFORM_TIER),
            "annotations": {
                "summary": a.summary,
                "description": a.description,
                "dashboard_url": links.panel(PLATFORM_DASHBOARD, PLATFORM_PANELS[a.panel]),
                "runbook_url": links.runbook(a.name),
            },
        }
        if a.duration != "0m":
            rule["for"] = a.duration
        rules.append(rule)
    return [{"name": "platform-alerts", "rules": rules}]


def rule_groups(services: Iterable[ServiceConfig], links: AlertLinks) -> list[dict[str, Any]]:
    """Every rule group that ships: each service's, then the platform's."""
    groups = [g for s in services for g in service_rule_groups(s, links)]
    return groups + platform_rule_groups(links)


def alerts(groups: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The alerting rules of some rule groups."""
    return [r for g in groups for r in g["rules"] if "alert" in r]


#: The label kube-prometheus-stack's Prometheus selects PrometheusRule objects by
#: (`prometheus.prometheusSpec.ruleSelector`, set to match it where the chart is released).
RULE_SELECTOR_LABEL = "ballast.dev/rules"


def prometheus_rule(name: str, namespace: str, groups: list[dict[str, Any]]) -> dict[str, Any]:
    """A `PrometheusRule` (monitoring.coreos.com/v1) holding `groups`, labelled for the
    platform's Prometheus to select. Its `spec` is exactly the rule file promtool checks."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {RULE_SELECTOR_LABEL: "true"},
        },
        "spec": {"groups": groups},
    }


@dataclass(frozen=True)
class Coverage:
    """The blueprint's step-4 signal metrics over what ships, as fractions (1.0 is 100 %)."""

    alerts_with_runbook: float
    tier1_services_with_slo_alerts: float


def coverage(
    services: Sequence[ServiceConfig],
    groups: Sequence[dict[str, Any]],
    links: AlertLinks,
    runbook_exists: Any,
) -> Coverage:
    """Of all alerts in `groups`, the share whose runbook_url names a runbook for which
    `runbook_exists(file name)` holds and which link a dashboard panel; of the tier-1
    services, the share with both a page and a ticket burn-rate alert for availability and
    for latency (a tier-1 service without objectives counts as uncovered)."""
    rules = alerts(groups)
    prefix = f"{links.runbook_base.rstrip('/')}/{RUNBOOKS_DIR}/"
    linked = [
        r
        for r in rules
        if r["annotations"].get("runbook_url", "").startswith(prefix)
        and runbook_exists(r["annotations"]["runbook_url"].removeprefix(prefix))
        and r["annotations"].get("dashboard_url", "").startswith(links.grafana_url)
    ]
    tier1 = [s for s in services if s.tier == "tier-1"]
    needed = {
        (alert, severity)
        for alert in ("SloAvailabilityBudgetBurn", "SloLatencyBudgetBurn")
        for severity in ("page", "ticket")
    }
    covered = [
        s
        for s in tier1
        if needed
        <= {
            (r["alert"], r["labels"]["severity"])
            for r in rules
            if r["labels"].get("service") == s.name
        }
    ]
    return Coverage(
        alerts_with_runbook=len(linked) / len(rules) if rules else 1.0,
        tier1_services_with_slo_alerts=len(covered) / len(tier1) if tier1 else 1.0,
    )
