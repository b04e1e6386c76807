"""Prometheus's scrape of the platform's own pieces (docs/observability.md, "What
Prometheus scrapes"): one `PodMonitor` per target, for Loki, Tempo, Alloy, the
OpenTelemetry Collector and Vault. What kube-prometheus-stack scrapes by itself
(kube-state-metrics, the kubelet and cAdvisor, node-exporter, Prometheus and
Alertmanager) is listed in components/exported_metrics.py.

**Explicit objects, not the charts' own monitors.** Every one of these charts can render
a ServiceMonitor (or PodMonitor) from its values, and none of them is used:

- a chart that renders one needs the monitoring.coreos.com CRDs when it is installed, so
  Loki's, Tempo's, Alloy's, the collector's and Vault's releases would have to wait for
  kube-prometheus-stack's, and could not be installed at all on a cluster whose platform
  stack has no `ballast:observability` (no kube-prometheus-stack, no CRDs). Here the
  monitors are their own resources, made by `Observability` after the
  kube-prometheus-stack release and only with it; the releases stay independent;
- the charts' Services and labels cannot be rendered offline (no `helm template` under
  the mock engine), while these objects are validated against the CRDs and their
  selectors are the labels the add-ons already pin (`SERVER_LABELS` of each module,
  which their anti-affinity and spread rules rely on too);
- Vault's chart monitors the `vault-active` Service in HA mode, i.e. the leader only; a
  sealed standby would never be scraped, and `VaultSealed` must see every server.

**PodMonitors, not ServiceMonitors**: a pod is scraped whether or not it is Ready. A
sealed Vault server fails its readiness probe and so leaves the Services' endpoints,
which is exactly when `VaultSealed` must read it; the same holds for a Loki or Tempo
server that is up but not Ready. Ports are selected by number (`portNumber`), which the
releases' values fix (the tests compare them), not by the charts' port names.

Every monitor lives in its target's namespace (Vault's CA Secret is read from there);
Prometheus selects every PodMonitor of every namespace
(`kube_prometheus_stack.helm_values`: empty `podMonitorSelector` and
`podMonitorNamespaceSelector`). Scrape interval and timeout are Prometheus's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.addons import alloy, loki, otel_collector, tempo
from components.cluster.addons import vault as vault_addon
from components.cluster.scope import InClusterScope

API_VERSION = "monitoring.coreos.com/v1"
KIND = "PodMonitor"
#: The label every monitor made here carries (what made it; Prometheus selects on none).
MANAGED_BY = {"app.kubernetes.io/managed-by": "ballast"}


@dataclass(frozen=True)
class Target:
    """One scrape target: the pods of a release, and how their metrics are read."""

    name: str
    """The PodMonitor's name (the `job` label is `<namespace>/<name>`)."""
    namespace: str
    """The release's namespace; the monitor is created there."""
    pod_labels: Mapping[str, str]
    """The labels the chart puts on the pods to scrape (the module's SERVER_LABELS)."""
    port: int
    """The container port serving metrics."""
    metric_prefixes: tuple[str, ...]
    """The prefixes of the metrics this target exports (what an alert may rely on)."""
    path: str = "/metrics"
    """The metrics path (default `/metrics`)."""
    params: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Query parameters of the scrape (default none)."""
    tls: Mapping[str, Any] | None = None
    """The PodMonitor's `tlsConfig` (scheme https); default None: plain HTTP."""


LOKI = Target(
    name="loki",
    namespace=loki.NAMESPACE,
    pod_labels=loki.SERVER_LABELS,
    port=loki.HTTP_PORT,
    metric_prefixes=("loki_",),
)
TEMPO = Target(
    name="tempo",
    namespace=tempo.NAMESPACE,
    pod_labels=tempo.SERVER_LABELS,
    port=tempo.HTTP_PORT,
    metric_prefixes=("tempo_", "tempodb_"),
)
ALLOY = Target(
    name="alloy",
    namespace=alloy.NAMESPACE,
    pod_labels=alloy.SERVER_LABELS,
    port=alloy.HTTP_PORT,
    metric_prefixes=("alloy_", "loki_write_"),
)
OTEL_COLLECTOR = Target(
    name="otel-collector",
    namespace=otel_collector.NAMESPACE,
    pod_labels=otel_collector.SERVER_LABELS,
    port=otel_collector.METRICS_PORT,
    metric_prefixes=("otelcol_",),
)
VAULT = Target(
    name="vault",
    namespace=vault_addon.NAMESPACE,
    pod_labels=vault_addon.SERVER_LABELS,
    port=vault_addon.PORT,
    metric_prefixes=("vault_",),
    path=vault_addon.METRICS_PATH,
    params={"format": ["prometheus"]},
    # The listener's certificate, verified with the CA the add-on made (`vault-tls`,
    # key `ca.crt`, in the vault namespace) under a name the certificate carries: pods
    # are scraped by IP, which the certificate does not name.
    tls={
        "ca": {"secret": {"name": vault_addon.TLS_SECRET, "key": "ca.crt"}},
        "serverName": f"{vault_addon.RELEASE}.{vault_addon.NAMESPACE}.svc",
    },
)
#: The log and trace pieces: scraped when the platform stack made their stores.
TELEMETRY = (LOKI, TEMPO, ALLOY, OTEL_COLLECTOR)


def pod_monitor(target: Target) -> dict[str, Any]:
    """The PodMonitor manifest scraping `target`: pods with exactly its labels in its
    namespace, on its port number and path, over HTTPS with its `tls` when given."""
    endpoint: dict[str, Any] = {"portNumber": target.port, "path": target.path}
    if target.params:
        endpoint["params"] = {k: list(v) for k, v in target.params.items()}
    if target.tls is not None:
        endpoint["scheme"] = "https"
        endpoint["tlsConfig"] = dict(target.tls)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": target.name, "namespace": target.namespace, "labels": MANAGED_BY},
        "spec": {
            "selector": {"matchLabels": dict(target.pod_labels)},
            "namespaceSelector": {"matchNames": [target.namespace]},
            "podMetricsEndpoints": [endpoint],
        },
    }


def monitors(
    scope: InClusterScope,
    scraped: Sequence[tuple[Target, pulumi.Resource]],
    *,
    crds: pulumi.Resource,
) -> dict[str, k8s.apiextensions.CustomResource]:
    """One PodMonitor per (target, release) of `scraped` (name -> resource), each after
    `crds` (the kube-prometheus-stack release, which installs the PodMonitor CRD) and its
    own target's release (its namespace, and Vault's CA Secret, exist by then); a
    failing release holds up only its own monitor."""
    made = {}
    for target, release in scraped:
        manifest = pod_monitor(target)
        made[target.name] = k8s.apiextensions.CustomResource(
            f"{scope.name}-podmonitor-{target.name}",
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=scope.opts([crds, release]),
        )
    return made
