"""Grafana's cluster-layer half (docs/observability.md, "Grafana"): the admin Secret, one
ConfigMap per dashboard, and the Helm release of the standalone `grafana` chart
(`versions.GRAFANA_CHART_VERSION`) in namespace `observability`.

- **Dashboards** (components/dashboards.py) are ConfigMaps labelled `grafana_dashboard:
  "1"` (`DASHBOARD_LABEL`) in Grafana's namespace; the chart's dashboard sidecar watches
  that label there and loads each one, read-only in the UI (`allowUiUpdates: false`):
  a dashboard changes through a pull request, never by hand.
- **Datasources**: Prometheus (the default), Loki and Tempo, with fixed UIDs
  (`dashboards.PROMETHEUS_UID`, `LOKI_UID`, `TEMPO_UID`) that the dashboards and the
  links between datasources name. Tempo links each span to its logs in Loki (by trace
  ID, over the span's time +-5 minutes) and to the request rate and latency of its
  service in Prometheus, and draws the service graph from Prometheus; Loki turns a
  `trace_id`/`traceID` field of a log line into a link to the trace in Tempo. The three
  URLs are arguments (`Datasources`): the cluster layer passes the in-cluster
  addresses of the releases that serve them.
- **Admin**: the chart reads the user and password from the Secret `grafana-admin`
  (`admin.existingSecret`), which this module writes from the platform stack's
  `grafanaAdminPassword` (a Pulumi secret; components/grafana.py). Sign-up, anonymous
  access, Gravatar and update checks are off; cookies are Secure (TLS ends at the ALB).
- **Where it runs**: one replica on the system nodes (tolerating their taint, preferring
  them), requests and limits on Grafana and its sidecar. No priority class: the chart
  takes `priorityClassName` but its values.yaml only mentions it in a comment, which the
  key check (tests/reference.py) cannot tell from a typo; Grafana is not on any
  service's request path, so default priority is acceptable. No volume: dashboards and
  datasources are code, so a restarted pod comes back the same; what a user saves
  in the UI (preferences, ad-hoc dashboards) lives in the pod's SQLite and is lost on
  restart. One replica: several would each keep their own SQLite (sessions would not
  carry over), which needs an external database first.
- **The UI** is served on port 3000 through the internal ALB only: the platform stack's
  route sends it to the Service `grafana` port 3000 (`Platform`), and
  `load_balancer_controller.bindings` binds it. The chart makes no Ingress and no
  LoadBalancer Service.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import dashboards, versions
from components.cluster.scope import ClusterFacts, InClusterScope
from components.workloads import workload_defaults

NAMESPACE = "observability"
RELEASE = "grafana"
#: The chart's Service (its full name for a release named `grafana`): the route's target.
SERVICE = "grafana"
#: Grafana's HTTP port, used as the Service port too (every TargetGroupBinding here
#: expects the Service port to equal the container port).
PORT = 3000
#: Grafana answers 200 here when its database is reachable (no login needed).
HEALTH_CHECK_PATH = "/api/health"
#: The Secret the chart reads the admin user and password from, and its keys (the
#: chart's `admin.userKey` and `admin.passwordKey` defaults).
ADMIN_SECRET = "grafana-admin"
USER_KEY = "admin-user"
PASSWORD_KEY = "admin-password"
#: Grafana's local administrator (the chart's `adminUser` default).
ADMIN_USER = "admin"
#: The label (and value) the dashboard sidecar watches.
DASHBOARD_LABEL = "grafana_dashboard"
DASHBOARD_LABEL_VALUE = "1"
#: Grafana's own pod labels (the chart's selector).
SELECTOR = {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": RELEASE}
#: How far around a span Tempo looks for its logs.
TRACE_LOG_WINDOW = "5m"


@dataclass(frozen=True, kw_only=True)
class Datasources:
    """Where Grafana reads from: each an in-cluster HTTP base URL."""

    prometheus_url: str
    """Prometheus's query API (the default datasource)."""
    loki_url: str
    """Loki's read path (the gateway)."""
    tempo_url: str
    """Tempo's query frontend."""


def datasources(urls: Datasources) -> dict[str, Any]:
    """Grafana's datasource provisioning file (`datasources.yaml`): Prometheus, Loki and
    Tempo with their fixed UIDs, and the links between them (see the module docstring)."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "type": "prometheus",
                "uid": dashboards.PROMETHEUS_UID,
                "url": urls.prometheus_url,
                "access": "proxy",
                "isDefault": True,
                "editable": False,
                "jsonData": {"httpMethod": "POST", "timeInterval": "30s"},
            },
            {
                "name": "Loki",
                "type": "loki",
                "uid": dashboards.LOKI_UID,
                "url": urls.loki_url,
                "access": "proxy",
                "editable": False,
                "jsonData": {
                    "derivedFields": [
                        {
                            "name": "TraceID",
                            "matcherRegex": r"(?:trace_id|traceID)[=:]\"?(\w+)",
                            "datasourceUid": dashboards.TEMPO_UID,
                            "url": "$${__value.raw}",
                        }
                    ]
                },
            },
            {
                "name": "Tempo",
                "type": "tempo",
                "uid": dashboards.TEMPO_UID,
                "url": urls.tempo_url,
                "access": "proxy",
                "editable": False,
                "jsonData": {
                    "tracesToLogsV2": {
                        "datasourceUid": dashboards.LOKI_UID,
                        "spanStartTimeShift": f"-{TRACE_LOG_WINDOW}",
                        "spanEndTimeShift": TRACE_LOG_WINDOW,
                        "filterByTraceID": True,
                        "filterBySpanID": False,
                        "tags": [{"key": "service.name", "value": "app"}],
                    },
                    "tracesToMetrics": {
                        "datasourceUid": dashboards.PROMETHEUS_UID,
                        "spanStartTimeShift": f"-{TRACE_LOG_WINDOW}",
                        "spanEndTimeShift": TRACE_LOG_WINDOW,
                        "tags": [{"key": "service.name", "value": "service"}],
                        "queries": [
                            {
                                "name": "Request rate",
                                "query": "sum(rate(http_requests_total{$$__tags}[5m]))",
                            },
                            {
                                "name": "Latency p95",
                                "query": "histogram_quantile(0.95, sum by (le) (rate("
                                "http_request_duration_seconds_bucket{$$__tags}[5m])))",
                            },
                        ],
                    },
                    "serviceMap": {"datasourceUid": dashboards.PROMETHEUS_UID},
                    "nodeGraph": {"enabled": True},
                    "lokiSearch": {"datasourceUid": dashboards.LOKI_UID},
                },
            },
        ],
    }


def grafana_ini(root_url: str) -> dict[str, Any]:
    """`grafana.ini` sections Ballast sets on top of the chart's: the public address
    (`root_url`, for links and redirects), no sign-up, no anonymous access, no calls
    home, Secure cookies."""
    return {
        "server": {"root_url": root_url},
        "analytics": {"check_for_updates": False, "reporting_enabled": False},
        "users": {"allow_sign_up": False},
        "auth.anonymous": {"enabled": False},
        "security": {"cookie_secure": True, "disable_gravatar": True},
        "log": {"mode": "console"},
    }


def helm_values(*, urls: Datasources, root_url: str) -> dict[str, Any]:
    """Values of the pinned grafana chart (checked against its values.yaml in the
    tests)."""
    defaults = workload_defaults(
        RELEASE,
        namespace=NAMESPACE,
        tier="platform",
        cpu="100m",
        memory="256Mi",
        system_nodes=True,
        selector=SELECTOR,
    )
    sidecar = workload_defaults(
        f"{RELEASE}-sidecar",
        namespace=NAMESPACE,
        tier="platform",
        cpu="50m",
        memory="96Mi",
        system_nodes=True,
    )
    return {
        "replicas": 1,
        "image": {"tag": versions.GRAFANA_APP_VERSION},
        "admin": {
            "existingSecret": ADMIN_SECRET,
            "userKey": USER_KEY,
            "passwordKey": PASSWORD_KEY,
        },
        "resources": defaults.resources,
        "tolerations": defaults.tolerations,
        "affinity": defaults.affinity,
        "service": {"enabled": True, "type": "ClusterIP", "port": PORT, "targetPort": PORT},
        "ingress": {"enabled": False},
        "persistence": {"enabled": False},
        "testFramework": {"enabled": False},
        "grafana.ini": grafana_ini(root_url),
        "datasources": {"datasources.yaml": datasources(urls)},
        "sidecar": {
            "resources": sidecar.resources,
            "dashboards": {
                "enabled": True,
                "label": DASHBOARD_LABEL,
                "labelValue": DASHBOARD_LABEL_VALUE,
                # searchNamespace stays unset (the chart's default): Grafana's own
                # namespace only, no cluster-wide read of ConfigMaps.
                "resource": "configmap",
                "provider": {"allowUiUpdates": False, "disableDelete": False},
            },
        },
    }


def dashboard_config_map(uid: str, board: Mapping[str, Any]) -> dict[str, Any]:
    """The ConfigMap holding one dashboard (`<uid>.json`), labelled for the sidecar."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"dashboard-{uid}",
            "namespace": NAMESPACE,
            "labels": {
                DASHBOARD_LABEL: DASHBOARD_LABEL_VALUE,
                "app.kubernetes.io/part-of": "grafana",
            },
        },
        "data": {f"{uid}.json": json.dumps(board, sort_keys=True)},
    }


def admin_secret(password: pulumi.Input[str]) -> dict[str, Any]:
    """The Secret `admin.existingSecret` names (the password stays a Pulumi secret)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": ADMIN_SECRET, "namespace": NAMESPACE},
        "type": "Opaque",
        "stringData": {USER_KEY: ADMIN_USER, PASSWORD_KEY: pulumi.Output.secret(password)},
    }


def release(
    scope: InClusterScope,
    *,
    cluster: ClusterFacts,
    namespace: pulumi.Resource,
    urls: Datasources,
) -> k8s.helm.v3.Release | None:
    """The admin Secret, the dashboards' ConfigMaps and the Helm release, after the
    namespace; None when the platform stack made no Grafana (no cluster there)."""
    grafana = cluster.grafana
    if grafana is None:
        return None
    secret_manifest = admin_secret(grafana.admin_password)
    secret = k8s.core.v1.Secret(
        f"{scope.name}-grafana-admin",
        metadata=secret_manifest["metadata"],
        type=secret_manifest["type"],
        string_data=secret_manifest["stringData"],
        opts=scope.opts([namespace]),
    )
    maps = []
    for uid, board in dashboards.dashboards(cluster.services).items():
        manifest = dashboard_config_map(uid, board)
        maps.append(
            k8s.core.v1.ConfigMap(
                f"{scope.name}-{manifest['metadata']['name']}",
                metadata=manifest["metadata"],
                data=manifest["data"],
                opts=scope.opts([namespace]),
            )
        )
    return k8s.helm.v3.Release(
        f"{scope.name}-grafana",
        name=RELEASE,
        chart=versions.GRAFANA_CHART,
        version=versions.GRAFANA_CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=versions.GRAFANA_CHART_REPOSITORY),
        namespace=NAMESPACE,
        values=helm_values(urls=urls, root_url=grafana.url),
        opts=scope.opts([namespace, secret, *maps]),
    )
