"""Loki's cluster-layer half (docs/observability.md): the Helm release of the `loki` chart
(`versions.LOKI_CHART_VERSION`) storing logs in the S3 bucket the platform layer made
(components/telemetry_storage.py), through that layer's IRSA role.

**Deployment mode: Monolithic (single binary) in every environment**, one server in dev
and three in staging and prod (`ballast:observability.logs.replicas`). Why not
SimpleScalable (separate read, write and backend targets) in prod: the chart marks it
deprecated and Loki 4 removes it, so adopting it now buys a forced migration; and its
reason to exist, scaling reads apart from writes, pays off from hundreds of GB a day,
while the chart rates Monolithic for up to a few tens of GB a day, more than the
platforms Ballast is the baseline for write, and three such servers with a replication
factor of 3 carry it. Three monolithic servers already survive the loss
of one server or zone (every stream is written to three, a write needs two). Past a few
tens of GB a day the next step is the Distributed mode, not SimpleScalable.

Each server: on the system node group at the platform priority, requests equal to limits
for memory, never two on one node (the chart's required anti-affinity) and spread over
the zones (`DoNotSchedule`), a disruption budget of one unavailable server, a volume
(encrypted gp3, `logs.walStorageGib`) for the write-ahead log. Logs are kept
`logs.retentionDays` (the compactor deletes older chunks; the bucket's lifecycle expires
them as a backstop). Single tenant (`auth_enabled: false`): every query sees every log.
No gateway (nginx), caches (memcached), canary or ruler (alerting is Prometheus's):
queries go straight to the Service `loki` on port 3100 (`query_url`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import versions
from components.cluster.baseline import DEFAULT_STORAGE_CLASS
from components.cluster.scope import ClusterFacts, InClusterScope
from components.config import LOKI_REPLICATION_FACTOR
from components.workloads import workload_defaults

NAMESPACE = "telemetry"
RELEASE = "loki"
SERVICE_ACCOUNT = "loki"
HTTP_PORT = 3100
#: The labels the chart puts on every server pod in Monolithic mode.
SERVER_LABELS = {
    "app.kubernetes.io/name": "loki",
    "app.kubernetes.io/instance": RELEASE,
    "app.kubernetes.io/component": "single-binary",
}
#: The schema every log is written with (TSDB index, schema v13, a daily index table),
#: from the first day any Ballast Loki existed: changing it needs a new entry, never an
#: edit.
SCHEMA = {
    "from": "2024-04-01",
    "store": "tsdb",
    "object_store": "s3",
    "schema": "v13",
    "index": {"prefix": "index_", "period": "24h"},
}


def query_url() -> str:
    """Loki's HTTP API inside the cluster: Grafana's Loki datasource points here."""
    return f"http://{RELEASE}.{NAMESPACE}.svc.cluster.local:{HTTP_PORT}"


def push_url() -> str:
    """Where the log agent pushes (Loki's push API)."""
    return f"{query_url()}/loki/api/v1/push"


def helm_values(
    *,
    region: str,
    bucket: pulumi.Input[str],
    role_arn: pulumi.Input[str],
    replicas: int,
    retention_days: int,
    wal_storage_gib: int,
) -> dict[str, Any]:
    """Values of the pinned loki chart (checked against its values.yaml and
    values.schema.json in the tests)."""
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
    retention = f"{retention_days * 24}h"
    return {
        "deploymentMode": "Monolithic",
        "fullnameOverride": RELEASE,
        "loki": {
            "image": {"tag": versions.LOKI_VERSION},
            "auth_enabled": False,
            "commonConfig": {"replication_factor": 1 if replicas == 1 else LOKI_REPLICATION_FACTOR},
            "storage": {
                "type": "s3",
                "bucketNames": {"chunks": bucket},
                "s3": {"region": region},
            },
            "schemaConfig": {"configs": [dict(SCHEMA)]},
            "limits_config": {"retention_period": retention},
            "compactor": {
                "retention_enabled": True,
                "delete_request_store": "s3",
                "working_directory": "/var/loki/compactor",
            },
        },
        "serviceAccount": {
            "create": True,
            "name": SERVICE_ACCOUNT,
            "annotations": {"eks.amazonaws.com/role-arn": role_arn},
        },
        "singleBinary": {
            "replicas": replicas,
            "resources": chart["resources"],
            "tolerations": chart["tolerations"],
            "priorityClassName": chart["priorityClassName"],
            "affinity": {
                **chart["affinity"],
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "labelSelector": {"matchLabels": dict(SERVER_LABELS)},
                            "topologyKey": "kubernetes.io/hostname",
                        }
                    ]
                },
            },
            "topologySpreadConstraints": chart["topologySpreadConstraints"],
            "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
            "persistence": {
                "enabled": True,
                "size": f"{wal_storage_gib}Gi",
                "storageClass": DEFAULT_STORAGE_CLASS,
            },
        },
        # Monolithic: none of the scalable or distributed targets run.
        "write": {"replicas": 0},
        "read": {"replicas": 0},
        "backend": {"replicas": 0},
        "gateway": {"enabled": False},
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
        "lokiCanary": {"enabled": False},
        "test": {"enabled": False},
        "ruler": {"enabled": False},
        "minio": {"enabled": False},
    }


def release(
    scope: InClusterScope,
    *,
    cluster: ClusterFacts,
    namespace: pulumi.Resource,
    priority_classes: Sequence[pulumi.Resource],
) -> k8s.helm.v3.Release | None:
    """The Helm release, after the namespace and the priority classes; None when the
    platform stack made no log bucket (no cluster there, or an older platform stack)."""
    telemetry = cluster.telemetry
    if telemetry is None:
        return None
    return scope.chart_release(
        "loki",
        release=RELEASE,
        chart=versions.LOKI_CHART,
        version=versions.LOKI_CHART_VERSION,
        repository=versions.LOKI_CHART_REPOSITORY,
        namespace=NAMESPACE,
        values=helm_values(
            region=cluster.region,
            bucket=telemetry.loki_bucket_name,
            role_arn=telemetry.loki_role_arn,
            replicas=telemetry.loki_replicas,
            retention_days=telemetry.loki_retention_days,
            wal_storage_gib=telemetry.loki_wal_storage_gib,
        ),
        depends_on=[namespace, *priority_classes],
    )
