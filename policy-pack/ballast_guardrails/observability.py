"""Alerts that lead somewhere (docs/observability.md): every alert of a `PrometheusRule`
says how bad it is and links a summary, a dashboard panel and a runbook in the
repository; every tier-1 service pages and tickets when its error budgets burn.

A tier-1 service is known to the cluster stack by its namespace, which carries the
`ballast.io/tier: tier-1` label (the cluster baseline's), and by the SLO recording rules
that name that namespace (components/slo.py): a tier-1 namespace whose services have no
objectives at all is reported too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, StackValidationArgs

from ballast_guardrails.contract import SERVICE_TAG, TIER_LABEL, TIERS
from ballast_guardrails.graph import of_type
from ballast_guardrails.spec import (
    HIGH,
    HYGIENE,
    MEDIUM,
    Report,
    Settings,
    resource_policy,
    stack_policy,
)
from ballast_guardrails.values import as_list, get, string_map

PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
NAMESPACE = "kubernetes:core/v1:Namespace"
#: The alert label naming a service: the same word as the tag contract's service tag.
SERVICE_LABEL = SERVICE_TAG
#: The tier whose services must page and ticket.
TIER_1 = TIERS[0]
#: What each objective needs: a page and a ticket burn-rate alert.
OBJECTIVES = ("availability", "latency")
SEVERITIES = ("page", "ticket")


def alert_rules(props: Any) -> Iterator[Mapping[str, Any]]:
    """The alerting rules (those with `alert`) of a PrometheusRule's inputs."""
    for group in as_list(get(props, "spec", "groups")):
        for rule in as_list(get(group, "rules")):
            if isinstance(rule, Mapping) and get(rule, "alert") is not None:
                yield rule


def recording_rules(props: Any) -> Iterator[Mapping[str, Any]]:
    for group in as_list(get(props, "spec", "groups")):
        for rule in as_list(get(group, "rules")):
            if isinstance(rule, Mapping) and get(rule, "record") is not None:
                yield rule


def _link_problems(rule: Mapping[str, Any], settings: Settings) -> list[str]:
    name = get(rule, "alert")
    labels = string_map(get(rule, "labels"))
    annotations = string_map(get(rule, "annotations"))
    problems = []
    severity = labels.get("severity")
    if severity not in settings["severities"]:
        problems.append(
            f"alert {name} has severity {severity or '(none)'}; one of "
            f"{', '.join(settings['severities'])} is needed for routing"
        )
    for key in ("summary", "dashboard_url"):
        if not annotations.get(key, "").strip():
            problems.append(f"alert {name} has no {key} annotation")
    runbook = annotations.get("runbook_url", "")
    path = "/" + settings["runbooksPath"].strip("/") + "/"
    if path not in runbook or not runbook.endswith(".md"):
        problems.append(
            f"alert {name} has runbook_url {runbook or '(none)'}, not a Markdown file under "
            f"the repository's {path.strip('/')}/ folder"
        )
    return problems


@resource_policy(
    name="alerts-link-runbooks",
    types={PROMETHEUS_RULE},
    description="Every alert of a PrometheusRule carries a severity label Alertmanager "
    "routes, a summary, a dashboard_url and a runbook_url into the repository's runbooks.",
    severity=MEDIUM,
    profile=HYGIENE,
    remediation="Generate the rule with components/slo.py (or give it labels.severity, "
    "annotations.summary, annotations.dashboard_url and a runbook_url ending in "
    "runbooks/<alert>.md) and write that runbook.",
    config={
        "severities": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["page", "ticket", "heartbeat"],
            "description": "Severities Alertmanager routes (components/alertmanager.py).",
        },
        "runbooksPath": {
            "type": "string",
            "default": "runbooks",
            "description": "The repository folder every runbook_url points into.",
        },
    },
)
def _alerts_link_runbooks(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    for rule in alert_rules(args.props):
        for problem in _link_problems(rule, settings):
            report(problem)


@stack_policy(
    name="tier1-slo-burn-alerts",
    description="Every tier-1 namespace's services have objectives, and each of them a "
    "page and a ticket burn-rate alert for availability and for latency.",
    severity=HIGH,
    profile=HYGIENE,
    remediation="Give each tier-1 service of ballast:services an slo (availability, "
    "latencyP95Ms) and ballast:observability: the cluster stack then installs its "
    "burn-rate alerts (components/slo.py).",
)
def _tier1_burn_alerts(args: StackValidationArgs, report: Report, settings: Settings) -> None:
    rules = of_type(args.resources, PROMETHEUS_RULE)
    services_of: dict[str, set[str]] = {}
    alerted: set[tuple[str, str, str]] = set()
    for resource in rules:
        for rule in recording_rules(resource.props):
            labels = string_map(get(rule, "labels"))
            if "namespace" in labels and SERVICE_LABEL in labels:
                services_of.setdefault(labels["namespace"], set()).add(labels[SERVICE_LABEL])
        for rule in alert_rules(resource.props):
            labels = string_map(get(rule, "labels"))
            if {SERVICE_LABEL, "slo", "severity"} <= set(labels):
                alerted.add((labels[SERVICE_LABEL], labels["slo"], labels["severity"]))
    for namespace in of_type(args.resources, NAMESPACE):
        labels = string_map(get(namespace.props, "metadata", "labels"))
        if labels.get(TIER_LABEL) != TIER_1:
            continue
        name = str(get(namespace.props, "metadata", "name") or namespace.name)
        services = services_of.get(name)
        if not services:
            report(
                f"tier-1 namespace {name} has no SLO rules: none of its services has objectives",
                namespace.urn,
            )
            continue
        for service in sorted(services):
            missing = [
                f"{objective} {severity}"
                for objective in OBJECTIVES
                for severity in SEVERITIES
                if (service, objective, severity) not in alerted
            ]
            if missing:
                report(
                    f"tier-1 service {service} (namespace {name}) has no "
                    f"{', '.join(missing)} burn-rate alert",
                    namespace.urn,
                )
