"""The metrics the dashboards rely on that kube-prometheus-stack's scrape targets export,
each with where it comes from. This is the one list of such names in the project: a
dashboard query may name only these, the recording rules and the metrics the rules of
`components/slo.py` read (tests/components/test_dashboards.py).

Sources (chart kube-prometheus-stack 88.5.3, reference data
`charts/kube-prometheus-stack-88.5.3/`; the test checks each entry against it):

- `kube-state-metrics` (subchart 8.4.0, app 2.20.0): a metric `kube_<resource>_...` exists
  when its collector (the plural resource, e.g. `pods`) is in the subchart's `collectors`
  list; names as in kube-state-metrics' docs/metrics/ for that release.
- `cadvisor`: the kubelet's /metrics/cadvisor endpoint, scraped when
  `kubelet.serviceMonitor.cAdvisor` is true; an entry must not be dropped by the chart's
  `cAdvisorMetricRelabelings`.
- `kubelet`: the kubelet's own /metrics (volume statistics), scraped when
  `kubelet.enabled`; not dropped by `kubelet.serviceMonitor.metricRelabelings`.
- `node-exporter` (subchart prometheus-node-exporter 4.56.1, app 1.12.1): collectors
  enabled by default in node_exporter (`cpu`, `meminfo`, `filesystem`), none disabled
  by the chart's `extraArgs`.
- `prometheus`, `alertmanager`: their self-monitoring ServiceMonitors
  (`prometheus.serviceMonitor.selfMonitor`, `alertmanager.serviceMonitor.selfMonitor`);
  `ALERTS` is the series Prometheus itself writes for every pending or firing alert.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Exported(NamedTuple):
    """Who exports a metric (`exporter`: one of the sources above) and, for
    kube-state-metrics and node-exporter, the collector that makes it (`collector`)."""

    exporter: str
    collector: str = ""


KSM = "kube-state-metrics"
CADVISOR = "cadvisor"
KUBELET = "kubelet"
NODE_EXPORTER = "node-exporter"
PROMETHEUS = "prometheus"
ALERTMANAGER = "alertmanager"

EXPORTED: Final[dict[str, Exported]] = {
    "kube_node_info": Exported(KSM, "nodes"),
    "kube_node_status_condition": Exported(KSM, "nodes"),
    "kube_node_status_allocatable": Exported(KSM, "nodes"),
    "kube_node_status_capacity": Exported(KSM, "nodes"),
    "kube_pod_info": Exported(KSM, "pods"),
    "kube_pod_container_status_restarts_total": Exported(KSM, "pods"),
    "kube_pod_container_resource_requests": Exported(KSM, "pods"),
    "kube_pod_container_resource_limits": Exported(KSM, "pods"),
    "kube_deployment_status_observed_generation": Exported(KSM, "deployments"),
    "kube_resourcequota": Exported(KSM, "resourcequotas"),
    "container_cpu_usage_seconds_total": Exported(CADVISOR),
    "container_memory_working_set_bytes": Exported(CADVISOR),
    "kubelet_volume_stats_available_bytes": Exported(KUBELET),
    "kubelet_volume_stats_capacity_bytes": Exported(KUBELET),
    "node_cpu_seconds_total": Exported(NODE_EXPORTER, "cpu"),
    "node_memory_MemAvailable_bytes": Exported(NODE_EXPORTER, "meminfo"),
    "node_memory_MemTotal_bytes": Exported(NODE_EXPORTER, "meminfo"),
    "node_filesystem_avail_bytes": Exported(NODE_EXPORTER, "filesystem"),
    "node_filesystem_size_bytes": Exported(NODE_EXPORTER, "filesystem"),
    "prometheus_rule_evaluation_failures_total": Exported(PROMETHEUS),
    "prometheus_notifications_errors_total": Exported(PROMETHEUS),
    "prometheus_notifications_sent_total": Exported(PROMETHEUS),
    "ALERTS": Exported(PROMETHEUS),
    "alertmanager_notifications_failed_total": Exported(ALERTMANAGER),
    "alertmanager_notifications_total": Exported(ALERTMANAGER),
}
