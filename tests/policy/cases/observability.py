"""PrometheusRules and tier-1 namespaces declared with the Pulumi Kubernetes provider,
through the analyzer protocol: the rules components/slo.py generates pass; an alert
without a severity, dashboard or runbook under runbooks/ fails, and so does a tier-1
namespace whose services have no page or no ticket burn-rate alert."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import slo
from components.config import ServiceConfig
from tests.policy.casebook import Case

LINKS = slo.AlertLinks(
    runbook_base="https://github.com/acme/platform/blob/main",
    grafana_url="https://grafana.example.com",
)
RUNBOOKS = "alerts-link-runbooks"
TIER1 = "tier1-slo-burn-alerts"


def _service(name: str, tier: str = "tier-1") -> ServiceConfig:
    return ServiceConfig.model_validate(
        {"name": name, "tier": tier, "slo": {"availability": 99.9, "latencyP95Ms": 250}}
    )


def _namespace(env, name: str, tier: str) -> None:
    k8s.core.v1.Namespace(
        f"{name}-ns",
        metadata={"name": name, "labels": {"ballast.io/tier": tier}},
        opts=pulumi.ResourceOptions(provider=env.k8s),
    )


def _rule(env, name: str, groups: list[dict[str, Any]]) -> None:
    manifest = slo.prometheus_rule(name, "observability", groups)
    k8s.apiextensions.CustomResource(
        name,
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=manifest["metadata"],
        spec=manifest["spec"],
        opts=pulumi.ResourceOptions(provider=env.k8s),
    )


def slo_rules(tier: str = "tier-1", *, severities: tuple[str, ...] = ("page", "ticket")):
    """A namespace of `tier` and its service's rules as components/slo.py makes them,
    keeping only the burn-rate alerts of `severities`."""

    def build(env, name):
        service = _service(name, tier)
        groups = slo.service_rule_groups(service, LINKS)
        for group in groups:
            group["rules"] = [
                r
                for r in group["rules"]
                if "alert" not in r or r["labels"]["severity"] in severities
            ]
        _namespace(env, name, tier)
        _rule(env, name, groups)

    return build


def tier_namespace(tier: str):
    def build(env, name):
        _namespace(env, name, tier)

    return build


def alert(**changes: Any):
    """One platform alert as components/slo.py makes it, with `changes` applied
    (`labels`/`annotations` entries set to None are removed)."""

    def build(env, name):
        (group,) = slo.platform_rule_groups(LINKS)
        rule = dict(group["rules"][0])
        for part in ("labels", "annotations"):
            merged = {**rule[part], **changes.get(part, {})}
            rule[part] = {k: v for k, v in merged.items() if v is not None}
        _rule(env, name, [{"name": name, "rules": [rule]}])

    return build


CASES = [
    Case("checkout", slo_rules(), passes=(RUNBOOKS, TIER1)),
    Case("platform-alerts", alert(), passes=(RUNBOOKS,)),
    Case("no-severity", alert(labels={"severity": None}), fails=RUNBOOKS),
    Case("warning-severity", alert(labels={"severity": "warning"}), fails=RUNBOOKS),
    Case("no-dashboard", alert(annotations={"dashboard_url": None}), fails=RUNBOOKS),
    Case("no-summary", alert(annotations={"summary": " "}), fails=RUNBOOKS),
    Case("no-runbook", alert(annotations={"runbook_url": None}), fails=RUNBOOKS),
    Case(
        "wiki-runbook",
        alert(annotations={"runbook_url": "https://wiki.example.com/display/OPS/Nodes"}),
        fails=RUNBOOKS,
    ),
    Case("tier1-without-slo", tier_namespace("tier-1"), fails=TIER1),
    Case("tier1-page-only", slo_rules(severities=("page",)), fails=TIER1),
    Case("tier1-ticket-only", slo_rules(severities=("ticket",)), fails=TIER1),
    Case("tier2-without-slo", tier_namespace("tier-2"), passes=(TIER1,)),
    Case("tier2-page-only", slo_rules("tier-2", severities=("page",)), passes=(TIER1,)),
]
