"""The GitOps alerts, checked and exercised by the real promtool: a long OutOfSync, a
Degraded application and a failed sync fire; a synced, healthy application stays
silent."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from components.cluster.addons import argocd_alerts
from components.config import GitOpsSettings
from components.slo import RULE_SELECTOR_LABEL
from tests.conftest import ROOT, require_tool

RUNBOOK = "https://github.com/org/repo/blob/main/runbooks/gitops-drift.md"
DASHBOARD = "https://grafana.example.com/d/platform-overview/?viewPanel=8"


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": argocd_alerts.rule_groups(RUNBOOK, DASHBOARD)}))
    return path


def test_the_rules_pass_promtool_check(rules):
    result = promtool("check", "rules", rules.name, cwd=rules.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 3 rules found" in result.stdout


def app_info(name: str, sync: str, health: str) -> str:
    return (
        f'argocd_app_info{{name="{name}",project="prod",sync_status="{sync}",'
        f'health_status="{health}"}}'
    )


def test_drift_degradation_and_failed_syncs_fire_and_a_healthy_app_stays_silent(rules):
    tests = {
        "rule_files": [rules.name],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": app_info("drifted", "OutOfSync", "Healthy"), "values": "1x120"},
                    {"series": app_info("checkout", "Synced", "Healthy"), "values": "1x120"},
                    {"series": app_info("broken", "Synced", "Degraded"), "values": "1x120"},
                    {
                        "series": 'argocd_app_sync_total{name="failing",project="prod",phase="Failed"}',
                        "values": "0 0 0 1 1 1 1 1 1 1",
                    },
                    {
                        "series": 'argocd_app_sync_total{name="checkout",project="prod",phase="Succeeded"}',
                        "values": "0 1 2 3 4 5 6 7 8 9",
                    },
                ],
                "alert_rule_test": [
                    # OutOfSync for 50 minutes is not yet an alert; for 70 it is.
                    {
                        "eval_time": "50m",
                        "alertname": "GitOpsApplicationOutOfSync",
                        "exp_alerts": [],
                    },
                    {
                        "eval_time": "70m",
                        "alertname": "GitOpsApplicationOutOfSync",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "ticket",
                                    "service": "gitops",
                                    "tier": "tier-1",
                                    "name": "drifted",
                                    "project": "prod",
                                },
                                "exp_annotations": {
                                    "summary": "Argo CD application drifted has differed from Git for over 1h",
                                    "description": "The live objects of drifted (project prod) are not what Git says: a change made outside Git, or a commit nobody synced.",
                                    "dashboard_url": DASHBOARD,
                                    "runbook_url": RUNBOOK,
                                },
                            }
                        ],
                    },
                    {
                        "eval_time": "20m",
                        "alertname": "GitOpsApplicationDegraded",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "ticket",
                                    "service": "gitops",
                                    "tier": "tier-1",
                                    "name": "broken",
                                    "project": "prod",
                                },
                                "exp_annotations": {
                                    "summary": "Argo CD application broken is Degraded",
                                    "description": "A resource of broken (project prod) failed its health check for over 15m.",
                                    "dashboard_url": DASHBOARD,
                                    "runbook_url": RUNBOOK,
                                },
                            }
                        ],
                    },
                    {
                        "eval_time": "5m",
                        "alertname": "GitOpsSyncFailed",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "ticket",
                                    "service": "gitops",
                                    "tier": "tier-1",
                                    "name": "failing",
                                    "project": "prod",
                                },
                                "exp_annotations": {
                                    "summary": "A sync of Argo CD application failing failed",
                                    "description": "failing (project prod) had a failed or erroring sync in the last 30m.",
                                    "dashboard_url": DASHBOARD,
                                    "runbook_url": RUNBOOK,
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }
    test_file = rules.parent / "tests.yaml"
    test_file.write_text(yaml.safe_dump(tests, sort_keys=False))
    result = promtool("test", "rules", test_file.name, cwd=rules.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rule_links_its_runbook_in_the_environments_repository():
    settings = GitOpsSettings(
        environment="prod",
        repo_url="git@github.com:org/repo.git",
        path="gitops/envs/prod",
        target_revision="main",
        sync_group="release",
        signing_subject="https://github.com/org/repo/.github/workflows/image.yml@refs/heads/main",
    )
    rule = argocd_alerts.prometheus_rule(
        settings, namespace="observability", dashboard_url=DASHBOARD
    )
    urls = {r["annotations"]["runbook_url"] for g in rule["spec"]["groups"] for r in g["rules"]}
    assert urls == {f"https://github.com/org/repo/blob/main/{argocd_alerts.RUNBOOK_PATH}"}
    assert (ROOT / argocd_alerts.RUNBOOK_PATH).is_file()
    # A fork's runbook base (ballast:observability.runbookBaseUrl) wins over the repository.
    forked = argocd_alerts.prometheus_rule(
        settings,
        namespace="observability",
        dashboard_url=DASHBOARD,
        runbook_base="https://git.example.com/ops/platform/src/branch/main/",
    )
    urls = {r["annotations"]["runbook_url"] for g in forked["spec"]["groups"] for r in g["rules"]}
    assert urls == {
        f"https://git.example.com/ops/platform/src/branch/main/{argocd_alerts.RUNBOOK_PATH}"
    }
    assert forked["metadata"]["labels"] == {RULE_SELECTOR_LABEL: "true"}
