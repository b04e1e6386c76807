"""Alertmanager routing as code (components/alertmanager.py), checked with the real `amtool`:
the configuration passes `amtool check-config`, and `amtool config routes test` sends a
page, a ticket, the Watchdog and an alert of no known severity where they belong.

Debian's amtool is 0.25; the Alertmanager kube-prometheus-stack 88.5.3 deploys (0.34)
reads a webhook's URL from a file (`url_file`, Alertmanager 0.26 and later). For amtool
only, each `url_file` becomes a loopback `url` of the same receiver; everything else is
checked as it ships."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import alertmanager, slo
from tests.conftest import SHIPPED_STACKS, platform_config, require_tool

SECRET = "alertmanager-receivers"


def for_amtool_025(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration with each webhook's `url_file` as a loopback `url`."""
    config = copy.deepcopy(config)
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook.pop("url_file")
            hook["url"] = f"http://127.0.0.1:9/{receiver['name']}"
    return config


@pytest.fixture(params=[False, True], ids=["webhooks", "with-slack"])
def config_file(request, tmp_path) -> Path:
    path = tmp_path / "alertmanager.yaml"
    config = alertmanager.alertmanager_config(secret=SECRET, slack=request.param)
    path.write_text(yaml.safe_dump(for_amtool_025(config)))
    return path


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("amtool"), *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.tool
def test_the_configuration_passes_amtool_check_config(config_file):
    result = amtool("check-config", str(config_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.tool
@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=page", "service=checkout", "alertname=SloAvailabilityBudgetBurn"], "page"),
        (["severity=ticket", "service=checkout", "alertname=SloLatencyBudgetBurn"], "ticket"),
        (["severity=heartbeat", "service=platform", "alertname=Watchdog"], "heartbeat"),
        (["severity=unknown", "service=checkout", "alertname=Other"], "ticket"),
    ],
)
def test_routes_send_each_severity_to_its_receiver(config_file, labels, receiver):
    result = amtool(
        "config", "routes", "test", f"--config.file={config_file}",
        f"--verify.receivers={receiver}", *labels,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.tool
def test_amtool_reports_a_wrong_route(config_file):
    """The check can fail: a ticket does not reach the paging receiver."""
    result = amtool(
        "config", "routes", "test", f"--config.file={config_file}",
        "--verify.receivers=page", "severity=ticket", "service=checkout",
    )  # fmt: skip
    assert result.returncode != 0


def test_every_url_comes_from_the_mounted_secret():
    """No receiver carries a URL in the configuration: each reads its file from the
    receivers Secret."""
    config = alertmanager.alertmanager_config(secret=SECRET, slack=True)
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            assert "url" not in hook
            assert hook["url_file"].startswith(f"{alertmanager.SECRETS_DIR}/{SECRET}/")
        for slack in receiver.get("slack_configs", []):
            assert "api_url" not in slack
            assert slack["api_url_file"].startswith(f"{alertmanager.SECRETS_DIR}/{SECRET}/")


def test_a_page_inhibits_the_same_services_tickets():
    (rule,) = alertmanager.alertmanager_config(secret=SECRET)["inhibit_rules"]
    assert rule["source_matchers"] == ['severity="page"']
    assert rule["target_matchers"] == ['severity="ticket"']
    assert rule["equal"] == ["service"]


def test_every_severity_the_rules_use_has_a_route():
    """Each severity an alert ships with is matched by a route of its own."""
    services = [s for stack in SHIPPED_STACKS for s in platform_config(stack).services]
    links = slo.AlertLinks("https://example.com/repo", "https://grafana.example.com")
    severities = {r["labels"]["severity"] for r in slo.alerts(slo.rule_groups(services, links))}
    routes = alertmanager.alertmanager_config(secret=SECRET)["route"]["routes"]
    matched = {m.split("=")[1].strip('"') for r in routes for m in r["matchers"]}
    assert severities - {"heartbeat"} <= matched
    assert 'alertname="Watchdog"' in routes[0]["matchers"]
