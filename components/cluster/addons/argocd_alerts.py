"""Alerts on what Argo CD sees (docs/gitops.md, runbooks/gitops-drift.md): an
application that stays `OutOfSync` (drift made outside Git that nothing reverts, as in
prod, or a sync that never happens), one that stays `Degraded`, and failed syncs.

They read the application controller's metrics (`argocd_app_info`,
`argocd_app_sync_total`; the release turns them on), so they belong to the
observability stack's Prometheus: `prometheus_rule(settings, ...)` is the PrometheusRule
it installs (components/observability.py), `rule_groups(...)` the same groups as plain
data, which tests check with `promtool check rules` and `promtool test rules`.

Like every alert that ships (components/slo.py), each carries the labels `severity`
(`ticket`: the SLO alerts page for what users feel; drift is a working-hours problem),
`service` (`gitops`) and `tier`, and the annotations `summary`, `description`,
`dashboard_url` and `runbook_url`.
"""

from __future__ import annotations

import re
from typing import Any

from components.config import GitOpsSettings
from components.slo import RULE_SELECTOR_LABEL

RUNBOOK_PATH = "runbooks/gitops-drift.md"
#: How long an application may stay OutOfSync before someone is told. Long enough for a
#: prod promotion to wait for its sync window's reviewer; short enough that a kubectl
#: hotfix in prod is found the same day.
OUT_OF_SYNC_FOR = "1h"
DEGRADED_FOR = "15m"
SYNC_FAILURE_WINDOW = "30m"
#: The `service` and `tier` labels of these alerts.
SERVICE, TIER = "gitops", "tier-1"


def repository_web_url(repo_url: str) -> str:
    """https://host/org/repo for https://host/org/repo.git or git@host:org/repo.git."""
    ssh = re.fullmatch(r"git@([^:]+):(.+)", repo_url)
    url = f"https://{ssh.group(1)}/{ssh.group(2)}" if ssh else repo_url
    return url.removesuffix(".git").rstrip("/")


def runbook_url(settings: GitOpsSettings) -> str:
    """The runbook in the environment's repository, at the revision Argo CD tracks."""
    return f"{repository_web_url(settings.repo_url)}/blob/{settings.target_revision}/{RUNBOOK_PATH}"


def rule_groups(runbook: str, dashboard_url: str) -> list[dict[str, Any]]:
    """The alert rules as Prometheus rule groups, linking `runbook` and the Grafana panel
    `dashboard_url`."""
    by_app = "name, project"
    labels = {"severity": "ticket", "service": SERVICE, "tier": TIER}
    return [
        {
            "name": "gitops",
            "rules": [
                {
                    "alert": "GitOpsApplicationOutOfSync",
                    "expr": f'max by ({by_app}) (argocd_app_info{{sync_status="OutOfSync"}}) == 1',
                    "for": OUT_OF_SYNC_FOR,
                    "labels": dict(labels),
                    "annotations": {
                        "summary": "Argo CD application {{ $labels.name }} has differed from "
                        f"Git for over {OUT_OF_SYNC_FOR}",
                        "description": "The live objects of {{ $labels.name }} (project "
                        "{{ $labels.project }}) are not what Git says: a change made outside "
                        "Git, or a commit nobody synced.",
                        "dashboard_url": dashboard_url,
                        "runbook_url": runbook,
                    },
                },
                {
                    "alert": "GitOpsApplicationDegraded",
                    "expr": f'max by ({by_app}) (argocd_app_info{{health_status="Degraded"}}) == 1',
                    "for": DEGRADED_FOR,
                    "labels": dict(labels),
                    "annotations": {
                        "summary": "Argo CD application {{ $labels.name }} is Degraded",
                        "description": "A resource of {{ $labels.name }} (project "
                        "{{ $labels.project }}) failed its health check for over "
                        f"{DEGRADED_FOR}.",
                        "dashboard_url": dashboard_url,
                        "runbook_url": runbook,
                    },
                },
                {
                    "alert": "GitOpsSyncFailed",
                    "expr": f"sum by ({by_app}) (increase(argocd_app_sync_total"
                    f'{{phase=~"Error|Failed"}}[{SYNC_FAILURE_WINDOW}])) > 0',
                    "labels": dict(labels),
                    "annotations": {
                        "summary": "A sync of Argo CD application {{ $labels.name }} failed",
                        "description": "{{ $labels.name }} (project {{ $labels.project }}) "
                        f"had a failed or erroring sync in the last {SYNC_FAILURE_WINDOW}.",
                        "dashboard_url": dashboard_url,
                        "runbook_url": runbook,
                    },
                },
            ],
        }
    ]


def prometheus_rule(
    settings: GitOpsSettings,
    *,
    namespace: str,
    dashboard_url: str,
    runbook_base: str | None = None,
) -> dict[str, Any]:
    """The PrometheusRule (monitoring.coreos.com/v1) holding `rule_groups`, for the
    observability stack to install in `namespace`, labelled for its rule selector. The
    runbook is under `runbook_base` (a repository revision's web address) when given,
    else in the environment's repository (`runbook_url`)."""
    runbook = (
        f"{runbook_base.rstrip('/')}/{RUNBOOK_PATH}"
        if runbook_base is not None
        else runbook_url(settings)
    )
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "gitops",
            "namespace": namespace,
            "labels": {RULE_SELECTOR_LABEL: "true"},
        },
        "spec": {"groups": rule_groups(runbook, dashboard_url)},
    }
