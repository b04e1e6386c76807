"""SLOs as code (components/slo.py), proven with the real `promtool`: every generated rule
group passes `promtool check rules`, and per objective of every shipped service
`promtool test rules` shows a fast burn pages, a slow burn under the ticket threshold and a
healthy series stay silent, a burn between the two thresholds opens a ticket and no page,
a latency breach fires the latency alert, a queue above its lag objective fires, and a
restart during a rollout fires the restart alert (one without a rollout does not).

The objectives come from the shipped stacks' config (`ballast:services[].slo`), so a fork
that changes them keeps these properties proven for its own numbers."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from components import slo
from components.config import ServiceConfig
from tests.conftest import ROOT, SHIPPED_STACKS, platform_config, require_tool
from tests.reference import validate_custom_resource

LINKS = slo.AlertLinks(
    runbook_base="https://github.com/acme/platform/blob/main",
    grafana_url="https://grafana.internal.example.com",
)
#: Requests per minute of the synthetic series.
RATE = 100


def services_with_slo(stack: str) -> list[ServiceConfig]:
    return [s for s in platform_config(stack).services if s.slo is not None]


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def write_rules(folder: Path, groups: list[dict[str, Any]]) -> Path:
    """A rule file as promtool reads it: the `spec` of the PrometheusRule."""
    path = folder / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return path


def _alert(rules: list[dict[str, Any]], name: str, severity: str) -> dict[str, Any]:
    (rule,) = [r for r in rules if r.get("alert") == name and r["labels"]["severity"] == severity]
    return rule


def expected(rule: dict[str, Any], **series_labels: str) -> dict[str, Any]:
    """What promtool must see firing for `rule`: its labels over the series' labels, and
    its annotations exactly (they hold no template)."""
    return {
        "exp_labels": {**series_labels, **rule["labels"]},
        "exp_annotations": rule["annotations"],
    }


def request_series(service: ServiceConfig, error_ratio: float, minutes: int) -> list[dict]:
    ns = service.namespace or service.name
    assert service.slo is not None
    metric = service.slo.requests_metric
    errors = RATE * error_ratio
    sel = f'namespace="{ns}", service="{service.name}"'
    return [
        {
            "series": f'{metric}{{{sel}, code="200"}}',
            "values": f"0+{slo.number(RATE - errors)}x{minutes}",
        },
        {"series": f'{metric}{{{sel}, code="503"}}', "values": f"0+{slo.number(errors)}x{minutes}"},
    ]


def latency_series(service: ServiceConfig, slow_ratio: float, minutes: int) -> list[dict]:
    ns = service.namespace or service.name
    assert service.slo is not None
    metric = service.slo.latency_metric
    sel = f'namespace="{ns}", service="{service.name}"'
    le = slo.number(service.slo.latency_p95_ms / 1000)
    le = le if "." in le else f"{le}.0"  # as Python's client writes a whole number
    fast = RATE * (1 - slow_ratio)
    return [
        {
            "series": f'{metric}_bucket{{{sel}, le="{le}"}}',
            "values": f"0+{slo.number(fast)}x{minutes}",
        },
        {"series": f"{metric}_count{{{sel}}}", "values": f"0+{RATE}x{minutes}"},
    ]


def case(series: list[dict], at: str, alert: str, firing: list[dict]) -> dict[str, Any]:
    return {
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [{"eval_time": at, "alertname": alert, "exp_alerts": firing}],
    }


def unit_tests(service: ServiceConfig, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The promtool test cases of one service, generated from its objectives."""
    objective = service.slo
    assert objective is not None
    ns = service.namespace or service.name
    series_labels = {"namespace": ns, "service": service.name}
    tests = []
    for name, budget, series in (
        ("availability", slo.error_budget(objective.availability), request_series),
        ("latency", slo.LATENCY_BUDGET, latency_series),
    ):
        alert = "SloAvailabilityBudgetBurn" if name == "availability" else "SloLatencyBudgetBurn"
        page, ticket = _alert(rules, alert, "page"), _alert(rules, alert, "ticket")
        # Above the fastest pair's 14.4x: 20x, or halfway to all requests failing.
        assert 14.4 * budget < 1, f"{service.name}: a {name} budget of {budget} cannot burn 14.4x"
        fast = min(20 * budget, (1 + 14.4 * budget) / 2)
        firing = [expected(page, **series_labels, slo=name)]
        tests += [
            # A fast burn pages within the 5-minute window plus the rule's `for`.
            case(series(service, fast, 30), "10m", alert, firing),
            # 2x: over the 3d/6h ticket pair (1x), under every page pair (6x): a ticket.
            case(
                series(service, 2 * budget, 90),
                "1h",
                alert,
                [expected(ticket, **series_labels, slo=name)],
            ),
            # 0.9x: under the lowest threshold: silent for hours.
            case(series(service, 0.9 * budget, 200), "3h", alert, []),
            # Healthy: no errors at all.
            case(series(service, 0, 90), "1h", alert, []),
        ]
    if objective.queue_lag_seconds is not None and objective.queue_lag_metric is not None:
        lag = objective.queue_lag_metric
        sel = f'namespace="{ns}", service="{service.name}"'
        rule = next(r for r in rules if r.get("alert") == "SloQueueLag")
        over, under = 2 * objective.queue_lag_seconds, 0.5 * objective.queue_lag_seconds
        tests += [
            case(
                [{"series": f"{lag}{{{sel}}}", "values": f"{slo.number(over)}x20"}],
                "15m",
                "SloQueueLag",
                [expected(rule, **series_labels)],
            ),
            case(
                [{"series": f"{lag}{{{sel}}}", "values": f"{slo.number(under)}x20"}],
                "15m",
                "SloQueueLag",
                [],
            ),
        ]
    if objective.max_restarts_per_rollout is not None:
        rule = next(r for r in rules if r.get("alert") == "SloRolloutRestarts")
        allowed = objective.max_restarts_per_rollout
        restarts = {
            "series": f'kube_pod_container_status_restarts_total{{namespace="{ns}", '
            f'pod="{service.name}-1", container="app"}}',
            "values": f"0x5 {allowed + 1}x25",
        }

        def generation(values: str) -> dict[str, str]:
            return {
                "series": f'kube_deployment_status_observed_generation{{namespace="{ns}", '
                f'deployment="{service.name}"}}',
                "values": values,
            }

        tests += [
            # One more restart than allowed while the Deployment rolls out (generation 1->2).
            case(
                [restarts, generation("1x3 2x27")],
                "15m",
                "SloRolloutRestarts",
                [expected(rule, namespace=ns)],
            ),
            # The same restarts with no rollout: not this alert's business.
            case([restarts, generation("1x30")], "15m", "SloRolloutRestarts", []),
        ]
    return tests


@pytest.fixture(params=SHIPPED_STACKS)
def stack(request) -> str:
    return request.param


@pytest.mark.tool
def test_every_rule_group_passes_promtool_check(stack, tmp_path):
    groups = slo.rule_groups(platform_config(stack).services, LINKS)
    result = promtool("check", "rules", str(write_rules(tmp_path, groups)), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {sum(len(g['rules']) for g in groups)} rules found" in result.stdout


def distinct_service_sets() -> list[list[ServiceConfig]]:
    """The shipped stacks' services with objectives, each distinct set once (the stacks
    mostly repeat theirs, and promtool's 3-day windows are slow to evaluate)."""
    found: dict[tuple, list[ServiceConfig]] = {}
    for stack in SHIPPED_STACKS:
        services = services_with_slo(stack)
        found.setdefault(tuple((s.name, s.namespace, s.tier, s.slo) for s in services), services)
    return list(found.values())


@pytest.mark.tool
def test_each_objective_pages_on_a_fast_burn_and_stays_quiet_when_healthy(tmp_path):
    sets = distinct_service_sets()
    assert any(s.tier == "tier-1" for services in sets for s in services), (
        "no shipped tier-1 service has an SLO"
    )
    for services in sets:
        tests = []
        for service in services:
            groups = slo.service_rule_groups(service, LINKS)
            tests += unit_tests(service, slo.alerts(groups))
        write_rules(tmp_path, slo.rule_groups(services, LINKS))
        (tmp_path / "tests.yaml").write_text(
            yaml.safe_dump(
                {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests},
                sort_keys=False,
            )
        )
        result = promtool("test", "rules", "tests.yaml", cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SUCCESS" in result.stdout


@pytest.mark.tool
def test_promtool_reports_an_alert_that_does_not_fire(tmp_path):
    """The harness can fail: a healthy series stated as paging is a promtool failure."""
    service = services_with_slo("prod")[0]
    groups = slo.service_rule_groups(service, LINKS)
    page = _alert(slo.alerts(groups), "SloAvailabilityBudgetBurn", "page")
    write_rules(tmp_path, groups)
    wrong = case(
        request_series(service, 0, 30), "10m", "SloAvailabilityBudgetBurn", [expected(page)]
    )
    (tmp_path / "tests.yaml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": [wrong]}, sort_keys=False)
    )
    result = promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr


def test_burn_rate_windows_follow_the_sre_workbook():
    """Page on 2 % of a 30-day budget in 1h or 5 % in 6h; ticket on 10 % in 1d or 3d;
    each long window paired with a short one a twelfth of it."""
    hours = {"5m": 5 / 60, "30m": 0.5, "1h": 1, "2h": 2, "6h": 6, "1d": 24, "3d": 72}
    spent = {(r.severity, r.long): r.factor * hours[r.long] / (30 * 24) for r in slo.BURN_RATES}
    assert spent == pytest.approx(
        {("page", "1h"): 0.02, ("page", "6h"): 0.05, ("ticket", "1d"): 0.1, ("ticket", "3d"): 0.1}
    )
    for rate in slo.BURN_RATES:
        assert hours[rate.short] == pytest.approx(hours[rate.long] / 12)
        assert rate.long in slo.WINDOWS and rate.short in slo.WINDOWS


def test_thresholds_are_the_budget_times_the_factor():
    service = ServiceConfig.model_validate(
        {"name": "api", "tier": "tier-1", "slo": {"availability": 99.9, "latencyP95Ms": 300}}
    )
    rules = slo.alerts(slo.service_rule_groups(service, LINKS))
    page = _alert(rules, "SloAvailabilityBudgetBurn", "page")["expr"]
    assert "> 0.0144" in page and "> 0.006" in page
    ticket = _alert(rules, "SloLatencyBudgetBurn", "ticket")["expr"]
    assert "> 0.15" in ticket and "> 0.05" in ticket
    assert 'le="0.3"' in slo.recording_rules(service)[1]["expr"]


def test_every_alert_has_labels_annotations_and_an_existing_runbook():
    """Whatever the services: severity, service and tier labels; summary, description,
    a dashboard panel and a runbook under runbooks/ that exists."""
    services = [s for stack in SHIPPED_STACKS for s in platform_config(stack).services]
    for rule in slo.alerts(slo.rule_groups(services, LINKS)):
        assert rule["labels"]["severity"] in {"page", "ticket", "heartbeat"}
        assert {"service", "tier"} <= set(rule["labels"])
        notes = rule["annotations"]
        assert {"summary", "description", "dashboard_url", "runbook_url"} <= set(notes)
        assert notes["dashboard_url"].startswith(LINKS.grafana_url + "/d/")
        prefix = LINKS.runbook_base + "/"
        assert notes["runbook_url"].startswith(prefix)
        path = ROOT / notes["runbook_url"].removeprefix(prefix)
        assert path.parent == ROOT / slo.RUNBOOKS_DIR and path.is_file(), rule["alert"]


def test_a_service_without_objectives_gets_no_rules():
    service = ServiceConfig.model_validate({"name": "batch", "tier": "tier-3"})
    assert slo.service_rule_groups(service, LINKS) == []


def test_runbook_file_is_the_alert_in_kebab_case():
    assert slo.runbook_file("SloAvailabilityBudgetBurn") == "slo-availability-budget-burn.md"
    assert slo.runbook_file("Watchdog") == "watchdog.md"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_prometheus_rule_validates_against_the_operators_crd(stack):
    groups = slo.rule_groups(platform_config(stack).services, LINKS)
    manifest = slo.prometheus_rule("slo-rules", "observability", groups)
    validate_custom_resource(manifest)


def test_the_crd_check_can_fail():
    manifest = slo.prometheus_rule("slo-rules", "observability", [{"name": "g", "rules": []}])
    manifest["spec"]["groups"][0]["rules"] = [{"alert": "X", "expr": "up", "for": 5}]
    with pytest.raises(jsonschema.ValidationError):
        validate_custom_resource(manifest)


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_signal_metrics_are_100_percent(stack, capsys):
    """The blueprint's step-4 metrics on what ships: % of alerts with a linked, existing
    runbook and a dashboard link; % of tier-1 services with page and ticket burn-rate
    alerts for availability and latency. Printed, and both must be 100 %."""
    services = platform_config(stack).services
    groups = slo.rule_groups(services, LINKS)
    result = slo.coverage(
        services, groups, LINKS, lambda name: (ROOT / slo.RUNBOOKS_DIR / name).is_file()
    )
    with capsys.disabled():
        print(
            f"\n{stack}: alerts with runbooks {result.alerts_with_runbook:.0%}, "
            f"tier-1 services with SLO alerts {result.tier1_services_with_slo_alerts:.0%}"
        )
    assert result == slo.Coverage(1.0, 1.0)


def test_coverage_counts_what_is_missing():
    tier1 = ServiceConfig.model_validate({"name": "bare", "tier": "tier-1"})
    covered = ServiceConfig.model_validate(
        {"name": "api", "tier": "tier-1", "slo": {"availability": 99.9, "latencyP95Ms": 300}}
    )
    groups = slo.rule_groups([tier1, covered], LINKS)
    half = slo.coverage([tier1, covered], groups, LINKS, lambda name: name != "watchdog.md")
    assert half.tier1_services_with_slo_alerts == 0.5
    assert half.alerts_with_runbook == pytest.approx(1 - 1 / len(slo.alerts(groups)))
