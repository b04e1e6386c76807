"""The metrics half of observability (docs/observability.md): the Helm release of
kube-prometheus-stack (`versions.KUBE_PROMETHEUS_STACK_CHART_VERSION`) in the
`observability` namespace, and the Secret holding the on-call receivers' webhooks.

What the release runs:

- the Prometheus operator (and the monitoring.coreos.com CRDs of its release);
- Prometheus: `prometheusReplicas` servers (2 in prod), spread over the zones with a
  maximum skew of one (`DoNotSchedule`), a disruption budget keeping all but one, each
  with an encrypted gp3 volume from the default StorageClass (`baseline.storage_class`),
  samples kept `retentionDays` or until `retentionSizeGib`; it selects every
  ServiceMonitor and PodMonitor of the cluster and the PrometheusRules labelled
  `slo.RULE_SELECTOR_LABEL` (the chart's own defaultRules are off: their alerts link to
  upstream runbooks, not to runbooks/; components/slo.py's platform alerts replace them);
- Alertmanager: `alertmanagerReplicas` members (3 in prod) gossiping as one cluster,
  spread and budgeted the same way, routed by `alertmanager.alertmanager_config`, which
  reads every webhook from the mounted Secret `RECEIVERS_SECRET` (`url_file`): no URL is
  in the chart's values;
- node-exporter on every node (it tolerates every taint: a node it misses is a node
  nobody sees), kube-state-metrics, and the kubelet/cAdvisor scrape; the control-plane
  scrapes EKS does not expose (controller manager, scheduler, etcd, kube-proxy's
  localhost-bound metrics) are off;
- no Grafana: Grafana is deployed on its own (`grafana.enabled: false`).

Every Deployment and StatefulSet runs on the system node group at the platform priority
with requests and limits (`workloads.workload_defaults`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import alertmanager, slo, versions
from components.cluster.baseline import DEFAULT_STORAGE_CLASS
from components.cluster.scope import InClusterScope
from components.config import ObservabilitySettings
from components.workloads import WorkloadDefaults, workload_defaults

NAMESPACE = "observability"
RELEASE = "kube-prometheus-stack"
#: The Secret (in NAMESPACE) with one key per configured receiver
#: (`alertmanager.PAGE_KEY`, ...), mounted by Alertmanager under /etc/alertmanager/secrets.
RECEIVERS_SECRET = "alertmanager-receivers"
#: `ReceiversConfig` keys (camelCase) -> keys of RECEIVERS_SECRET.
RECEIVER_KEYS = {
    "pageWebhookUrl": alertmanager.PAGE_KEY,
    "ticketWebhookUrl": alertmanager.TICKET_KEY,
    "heartbeatWebhookUrl": alertmanager.HEARTBEAT_KEY,
    "slackWebhookUrl": alertmanager.SLACK_KEY,
}
#: Labels the operator puts on every Prometheus and Alertmanager pod.
PROMETHEUS_LABELS = {"app.kubernetes.io/name": "prometheus"}
ALERTMANAGER_LABELS = {"app.kubernetes.io/name": "alertmanager"}
#: Control-plane scrapes EKS does not expose (the chart enables them by default).
EKS_UNREACHABLE = ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy")


def query_url() -> str:
    """Prometheus's HTTP API inside the cluster (the chart's `<release>-prometheus`
    Service on port 9090): Grafana's Prometheus datasource points here."""
    return f"http://{RELEASE}-prometheus.{NAMESPACE}.svc.cluster.local:9090"


def _platform(name: str, *, cpu: str, memory: str, selector: Mapping[str, str] | None = None):
    return workload_defaults(
        name,
        namespace=NAMESPACE,
        tier="platform",
        cpu=cpu,
        memory=memory,
        system_nodes=True,
        selector=selector,
    )


def _placement(defaults: WorkloadDefaults, *, spread: bool = False) -> dict[str, Any]:
    """requests/limits, the system-node toleration and affinity, the platform priority,
    and (with `spread`) the zone spread."""
    values: dict[str, Any] = {
        "resources": defaults.resources,
        "tolerations": defaults.tolerations,
        "affinity": defaults.affinity,
        "priorityClassName": defaults.priority_class_name,
    }
    if spread:
        values["topologySpreadConstraints"] = [
            {k: v for k, v in c.items() if k != "matchLabelKeys"}
            for c in defaults.topology_spread_constraints
        ]
    return values


def _budget(replicas: int) -> dict[str, Any]:
    """A disruption budget keeping all members but one; none for a single member (a
    budget of one would block every node drain)."""
    if replicas < 2:
        return {"enabled": False}
    return {"enabled": True, "minAvailable": replicas - 1}


def _volume(size_gib: int) -> dict[str, Any]:
    return {
        "volumeClaimTemplate": {
            "spec": {
                "storageClassName": DEFAULT_STORAGE_CLASS,
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": f"{size_gib}Gi"}},
            }
        }
    }


def helm_values(settings: ObservabilitySettings) -> dict[str, Any]:
    """Values of the pinned kube-prometheus-stack chart (checked against its values.yaml
    and subchart values in the tests)."""
    prometheus = _platform("prometheus", cpu="500m", memory="2Gi", selector=PROMETHEUS_LABELS)
    alertmanager_pods = _platform(
        "alertmanager", cpu="50m", memory="128Mi", selector=ALERTMANAGER_LABELS
    )
    operator = _platform("prometheus-operator", cpu="100m", memory="256Mi")
    state_metrics = _platform("kube-state-metrics", cpu="50m", memory="256Mi")
    webhook_job = _platform("prometheus-operator-webhook", cpu="50m", memory="64Mi")
    node_exporter = workload_defaults(
        "prometheus-node-exporter",
        namespace=NAMESPACE,
        tier="platform",
        cpu="50m",
        memory="64Mi",
        cpu_limit="250m",
    )
    slack = "slackWebhookUrl" in settings.receivers
    configured = {RECEIVER_KEYS[r] for r in settings.receivers}
    return {
        "crds": {"enabled": True},
        # Upstream alerts link to upstream runbooks; slo.PLATFORM_ALERTS replace them.
        "defaultRules": {"create": False},
        # Grafana is its own release (docs/observability.md).
        "grafana": {"enabled": False},
        "windowsMonitoring": {"enabled": False},
        **{key: {"enabled": False} for key in EKS_UNREACHABLE},
        "kubelet": {"enabled": True, "serviceMonitor": {"cAdvisor": True, "probes": True}},
        "kubeStateMetrics": {"enabled": True},
        "kube-state-metrics": _placement(state_metrics),
        "nodeExporter": {"enabled": True},
        "prometheus-node-exporter": {
            "resources": node_exporter.resources,
            # Every node, whatever its taints: a node without node-exporter is unseen.
            "tolerations": [{"operator": "Exists"}],
        },
        "prometheusOperator": {
            **_placement(operator),
            "admissionWebhooks": {"patch": _placement(webhook_job)},
        },
        "prometheus": {
            "podDisruptionBudget": _budget(settings.prometheus_replicas),
            "prometheusSpec": {
                **_placement(prometheus, spread=True),
                "replicas": settings.prometheus_replicas,
                "retention": f"{settings.retention_days}d",
                "retentionSize": f"{settings.retention_size_gib}GiB",
                "storageSpec": _volume(settings.prometheus_storage_gib),
                # The SLO, platform and GitOps rules carry this label; nothing else is
                # evaluated (a team's own rules join by carrying it too).
                "ruleSelectorNilUsesHelmValues": False,
                "ruleSelector": {"matchLabels": {slo.RULE_SELECTOR_LABEL: "true"}},
                "ruleNamespaceSelector": {},
                # Every ServiceMonitor and PodMonitor of the cluster, not only the chart's.
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "serviceMonitorSelector": {},
                "serviceMonitorNamespaceSelector": {},
                "podMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelector": {},
                "podMonitorNamespaceSelector": {},
            },
        },
        "alertmanager": {
            "enabled": True,
            "podDisruptionBudget": _budget(settings.alertmanager_replicas),
            "config": alertmanager.alertmanager_config(
                secret=RECEIVERS_SECRET, slack=slack, configured=configured
            ),
            "alertmanagerSpec": {
                **_placement(alertmanager_pods, spread=True),
                "replicas": settings.alertmanager_replicas,
                "storage": _volume(settings.alertmanager_storage_gib),
                "secrets": [RECEIVERS_SECRET],
            },
        },
    }


def receivers_secret(
    scope: InClusterScope,
    *,
    receivers: Sequence[str],
    urls: pulumi.Input[Mapping[str, str]] | None,
    namespace: pulumi.Resource,
) -> k8s.core.v1.Secret:
    """The Secret Alertmanager reads every webhook URL from: one key
    (`RECEIVER_KEYS[r]`) per configured receiver `r` of `receivers`, its value taken from
    `urls` (the platform stack's secret output, keyed like `ReceiversConfig`); empty
    without receivers. A value the engine withholds (an offline preview shows a
    referenced stack's secret as a placeholder) is passed on as it is."""

    def url(receiver: str) -> pulumi.Output[str]:
        def pick(given: Any) -> str:
            return str(given[receiver]) if isinstance(given, Mapping) else str(given)

        return pulumi.Output.secret(urls).apply(pick)

    return k8s.core.v1.Secret(
        f"{scope.name}-alertmanager-receivers",
        metadata={"name": RECEIVERS_SECRET, "namespace": NAMESPACE},
        type="Opaque",
        string_data={RECEIVER_KEYS[r]: url(r) for r in receivers} if urls is not None else {},
        opts=scope.opts([namespace]),
    )


def release(
    scope: InClusterScope,
    *,
    settings: ObservabilitySettings,
    namespace: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
) -> k8s.helm.v3.Release:
    """The Helm release, after the namespace and `depends_on` (the receivers' Secret, the
    priority classes and the StorageClass)."""
    return k8s.helm.v3.Release(
        f"{scope.name}-kube-prometheus-stack",
        name=RELEASE,
        chart=versions.KUBE_PROMETHEUS_STACK_CHART,
        version=versions.KUBE_PROMETHEUS_STACK_CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(
            repo=versions.KUBE_PROMETHEUS_STACK_CHART_REPOSITORY
        ),
        namespace=NAMESPACE,
        values=helm_values(settings),
        opts=scope.opts([namespace, *depends_on]),
    )
