"""The OpenTelemetry Collector (docs/observability.md): the one address services send
traces to over OTLP (`otlp_grpc_endpoint`, `otlp_http_endpoint`), forwarding them to
Tempo (components/cluster/addons/tempo.py). Services never talk to Tempo directly, so
the backend can change without touching a service.

A Deployment (`mode: deployment`), not a DaemonSet: services reach it through its
Service, so it scales with the trace volume rather than the node count. One replica in
dev, two elsewhere, spread over the zones, with a disruption budget of one unavailable
replica; on the system node group at the platform priority. The pipeline is the
collector's recommended minimum: `memory_limiter` (refuses data at 80 % of the memory
limit, so the pod sheds load instead of being OOM-killed), `batch`, and an OTLP exporter
to Tempo whose sending queue and retries carry traces over a Tempo restart (up to
`QUEUE_SIZE` batches, retried for `RETRY_MAX_ELAPSED`). Traces only: none of the chart's
example logs and metrics pipelines, nor its Jaeger, Zipkin and Prometheus receivers
(`collector_config`; logs go through Alloy, metrics through Prometheus). Its own
metrics are served on `METRICS_PORT` for Prometheus (scrape_targets.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import versions
from components.cluster.addons import tempo
from components.cluster.addons.loki import NAMESPACE
from components.cluster.scope import ClusterFacts, InClusterScope
from components.workloads import workload_defaults

__all__ = ["NAMESPACE", "RELEASE", "helm_values", "otlp_grpc_endpoint", "release"]

RELEASE = "otel-collector"
IMAGE = "otel/opentelemetry-collector-k8s"
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
#: Batches the exporter queues while Tempo is unreachable, and how long it retries one.
QUEUE_SIZE = 5000
RETRY_MAX_ELAPSED = "10m"
#: The health check extension's port, which the chart's probes call.
HEALTH_PORT = 13133
#: The collector's own metrics (`otelcol_*`, Prometheus format), on the pod's address.
METRICS_PORT = 8888
SERVER_LABELS = {
    "app.kubernetes.io/name": "opentelemetry-collector",
    "app.kubernetes.io/instance": RELEASE,
}
#: Replicas per environment: one in dev, two (in two zones) elsewhere.
REPLICAS = {"dev": 1, "staging": 2, "prod": 2}


def otlp_grpc_endpoint() -> str:
    """Where services send traces over OTLP/gRPC (`OTEL_EXPORTER_OTLP_ENDPOINT`)."""
    return f"http://{RELEASE}.{NAMESPACE}.svc.cluster.local:{OTLP_GRPC_PORT}"


def otlp_http_endpoint() -> str:
    """Where services send traces over OTLP/HTTP."""
    return f"http://{RELEASE}.{NAMESPACE}.svc.cluster.local:{OTLP_HTTP_PORT}"


def collector_config() -> dict[str, Any]:
    """The collector's whole configuration: OTLP in, `memory_limiter` and `batch`, OTLP to
    Tempo out, the health check the chart's probes call, and the collector's own metrics
    (`otelcol_*`) served on the pod's address at `METRICS_PORT`. It goes into the chart's
    `alternateConfig`, which replaces the chart's example configuration instead of being
    merged into it: removing the example's receivers and its logs and metrics pipelines
    would take null values, and Pulumi drops nulls from a release's values before Helm
    sees them."""
    return {
        "extensions": {"health_check": {"endpoint": f"${{env:MY_POD_IP}}:{HEALTH_PORT}"}},
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"${{env:MY_POD_IP}}:{OTLP_GRPC_PORT}"},
                    "http": {"endpoint": f"${{env:MY_POD_IP}}:{OTLP_HTTP_PORT}"},
                }
            },
        },
        "processors": {
            "memory_limiter": {
                "check_interval": "5s",
                "limit_percentage": 80,
                "spike_limit_percentage": 25,
            },
            "batch": {},
        },
        "exporters": {
            "otlp": {
                "endpoint": tempo.otlp_endpoint(),
                # In-cluster plaintext gRPC to Tempo's receiver.
                "tls": {"insecure": True},
                "sending_queue": {"enabled": True, "queue_size": QUEUE_SIZE},
                "retry_on_failure": {"enabled": True, "max_elapsed_time": RETRY_MAX_ELAPSED},
            },
        },
        "service": {
            # The collector's own metrics, scraped by Prometheus (scrape_targets.py).
            "telemetry": {
                "metrics": {
                    "readers": [
                        {
                            "pull": {
                                "exporter": {
                                    "prometheus": {
                                        "host": "${env:MY_POD_IP}",
                                        "port": METRICS_PORT,
                                    }
                                }
                            }
                        }
                    ]
                }
            },
            "extensions": ["health_check"],
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["memory_limiter", "batch"],
                    "exporters": ["otlp"],
                },
            },
        },
    }


def helm_values(*, replicas: int) -> dict[str, Any]:
    """Values of the pinned opentelemetry-collector chart (checked against its
    values.yaml and values.schema.json in the tests)."""
    defaults = workload_defaults(
        RELEASE,
        namespace=NAMESPACE,
        tier="platform",
        cpu="200m",
        memory="512Mi",
        system_nodes=True,
        selector=SERVER_LABELS,
    )
    chart = defaults.helm_values()
    disabled = {"enabled": False}
    return {
        "mode": "deployment",
        "fullnameOverride": RELEASE,
        "image": {"repository": IMAGE, "tag": versions.OTEL_COLLECTOR_VERSION},
        "replicaCount": replicas,
        "alternateConfig": collector_config(),
        "ports": {
            "jaeger-compact": disabled,
            "jaeger-thrift": disabled,
            "jaeger-grpc": disabled,
            "zipkin": disabled,
            # The container port Prometheus scrapes the collector's own metrics on.
            "metrics": {
                "enabled": True,
                "containerPort": METRICS_PORT,
                "servicePort": METRICS_PORT,
            },
        },
        "resources": chart["resources"],
        "tolerations": chart["tolerations"],
        "affinity": chart["affinity"],
        "topologySpreadConstraints": chart["topologySpreadConstraints"],
        "priorityClassName": chart["priorityClassName"],
        "podDisruptionBudget": {"enabled": replicas > 1, "maxUnavailable": 1},
    }


def release(
    scope: InClusterScope,
    *,
    cluster: ClusterFacts,
    namespace: pulumi.Resource,
    priority_classes: Sequence[pulumi.Resource],
    after: Sequence[pulumi.Resource] = (),
) -> k8s.helm.v3.Release | None:
    """The Helm release, after the namespace, the priority classes and `after` (Tempo's
    release); None without a trace store."""
    if cluster.telemetry is None:
        return None
    return scope.chart_release(
        "otel-collector",
        release=RELEASE,
        chart=versions.OTEL_CHART,
        version=versions.OTEL_CHART_VERSION,
        repository=versions.OTEL_CHART_REPOSITORY,
        namespace=NAMESPACE,
        values=helm_values(replicas=REPLICAS[cluster.environment]),
        depends_on=[namespace, *priority_classes, *after],
    )
