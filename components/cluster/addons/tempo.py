"""Tempo's cluster-layer half (docs/observability.md): the Helm release of the single-binary
`tempo` chart (`versions.TEMPO_CHART_VERSION`) storing trace blocks in the S3 bucket the
platform layer made (components/telemetry_storage.py), through that layer's IRSA role.

One server in every environment: the single-binary chart runs Tempo as one process and
has no replication between servers (that is the tempo-distributed chart's). Traces are
diagnostic data and only arrive through the OpenTelemetry Collector, which queues and
retries while Tempo restarts (components/cluster/addons/otel_collector.py), so a restart
delays traces rather than losing them; queries fail for that minute. A volume
(encrypted gp3, `ballast:observability.traces.walStorageGib`) keeps the write-ahead log
across restarts. Without replicas there is no disruption budget (one would block every
node drain). Receives OTLP only (gRPC 4317, HTTP 4318), keeps traces
`traces.retentionDays`, and answers queries on port 3200 (`query_url`); its whole
configuration is `tempo_config`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components import versions
from components.cluster.addons.loki import NAMESPACE
from components.cluster.scope import ClusterFacts, InClusterScope
from components.workloads import workload_defaults

__all__ = ["NAMESPACE", "RELEASE", "SERVICE_ACCOUNT", "helm_values", "query_url", "release"]

RELEASE = "tempo"
SERVICE_ACCOUNT = "tempo"
HTTP_PORT = 3200
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
SERVER_LABELS = {"app.kubernetes.io/name": "tempo", "app.kubernetes.io/instance": RELEASE}


def query_url() -> str:
    """Tempo's HTTP API inside the cluster: Grafana's Tempo datasource points here."""
    return f"http://{RELEASE}.{NAMESPACE}.svc.cluster.local:{HTTP_PORT}"


def otlp_endpoint() -> str:
    """Where the OpenTelemetry Collector sends traces (OTLP over gRPC, host:port)."""
    return f"{RELEASE}.{NAMESPACE}.svc.cluster.local:{OTLP_GRPC_PORT}"


def tempo_config(*, region: str, bucket: str, retention_days: int) -> dict[str, Any]:
    """Tempo's whole configuration (tempo.yaml): OTLP receivers only, trace blocks in
    `bucket` through S3's regional endpoint (credentials from IRSA), a write-ahead log on
    the volume, blocks kept `retention_days`, no usage reporting. It replaces the chart's
    templated `config` instead of being merged into it: the chart's defaults open Jaeger
    receivers and a local backend, and removing them would take null values, which
    Pulumi drops from a release's values before Helm sees them."""
    return {
        "stream_over_http_enabled": False,
        "multitenancy_enabled": False,
        "usage_report": {"reporting_enabled": False},
        "memberlist": {"cluster_label": f"{RELEASE}.{NAMESPACE}"},
        "compactor": {"compaction": {"block_retention": f"{retention_days * 24}h"}},
        "distributor": {
            "receivers": {
                "otlp": {
                    "protocols": {
                        "grpc": {"endpoint": f"0.0.0.0:{OTLP_GRPC_PORT}"},
                        "http": {"endpoint": f"0.0.0.0:{OTLP_HTTP_PORT}"},
                    }
                }
            }
        },
        "server": {"http_listen_port": HTTP_PORT},
        "storage": {
            "trace": {
                "backend": "s3",
                "s3": {
                    "bucket": bucket,
                    "endpoint": f"s3.{region}.amazonaws.com",
                    "region": region,
                },
                "wal": {"path": "/var/tempo/wal"},
            }
        },
        "overrides": {"defaults": {}, "per_tenant_override_config": "/conf/overrides.yaml"},
    }


def helm_values(
    *,
    region: str,
    bucket: str,
    role_arn: pulumi.Input[str],
    retention_days: int,
    wal_storage_gib: int,
) -> dict[str, Any]:
    """Values of the pinned tempo chart (checked against its values.yaml in the tests)."""
    defaults = workload_defaults(
        RELEASE,
        namespace=NAMESPACE,
        tier="platform",
        cpu="500m",
        memory="1Gi",
        system_nodes=True,
        selector=SERVER_LABELS,
    )
    chart = defaults.helm_values()
    config = tempo_config(region=region, bucket=bucket, retention_days=retention_days)
    return {
        "fullnameOverride": RELEASE,
        "replicas": 1,
        "tempo": {
            "tag": versions.TEMPO_VERSION,
            "resources": chart["resources"],
            "reportingEnabled": False,
        },
        # The chart renders this with `tpl`; it holds no template action.
        "config": yaml.safe_dump(config, sort_keys=False),
        "serviceAccount": {
            "create": True,
            "name": SERVICE_ACCOUNT,
            "annotations": {"eks.amazonaws.com/role-arn": role_arn},
        },
        "persistence": {"enabled": True, "size": f"{wal_storage_gib}Gi"},
        "tolerations": chart["tolerations"],
        "affinity": chart["affinity"],
        "priorityClassName": chart["priorityClassName"],
    }


def release(
    scope: InClusterScope,
    *,
    cluster: ClusterFacts,
    namespace: pulumi.Resource,
    priority_classes: Sequence[pulumi.Resource],
) -> k8s.helm.v3.Release | None:
    """The Helm release, after the namespace and the priority classes; None when the
    platform stack made no trace bucket."""
    telemetry = cluster.telemetry
    if telemetry is None:
        return None
    return scope.chart_release(
        "tempo",
        release=RELEASE,
        chart=versions.TEMPO_CHART,
        version=versions.TEMPO_CHART_VERSION,
        repository=versions.TEMPO_CHART_REPOSITORY,
        namespace=NAMESPACE,
        values=helm_values(
            region=cluster.region,
            bucket=telemetry.tempo_bucket_name,
            role_arn=telemetry.tempo_role_arn,
            retention_days=telemetry.tempo_retention_days,
            wal_storage_gib=telemetry.tempo_wal_storage_gib,
        ),
        depends_on=[namespace, *priority_classes],
    )
