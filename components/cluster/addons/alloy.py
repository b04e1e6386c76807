"""Grafana Alloy, the log agent (docs/observability.md): a DaemonSet that ships every
container's log lines on its node to Loki (components/cluster/addons/loki.py). Promtail,
the agent Loki used to ship with, is end-of-life.

**Labels: `app`, `env`, `region`, `deployment_id` and nothing else** (`LOG_LABELS`).
A Loki label makes a stream; a label with many values (pod name, pod UID, node, trace
ID, file path) multiplies the streams, the index and the cost of every query, so those
stay out of labels and inside the line, where LogQL filters find them.

- `app`: the pod's `app.kubernetes.io/name` label, else its `app` label, else the
  container's name;
- `deployment_id`: the rollout the pod belongs to: its `pod-template-hash` (a
  Deployment's ReplicaSet) or `controller-revision-hash` (a StatefulSet's or
  DaemonSet's revision). One value per rollout, so errors line up with the deploy that
  brought them, and old values age out with the retention;
- `env` and `region`: the environment and the AWS region, the same for every line of
  this cluster (external labels of the Loki writer).

Each agent reads the logs of the pods on its own node through the Kubernetes API
(`loki.source.kubernetes`), not from the node's `/var/log`: the agent needs no hostPath
volume and no root, so it runs under the `baseline` Pod Security level of the platform
namespaces. The cost is that log bytes pass through the API server (kubelet log
streams); a cluster writing much more than a few MB/s of logs should switch to
file tailing in a namespace admitting hostPath. It tolerates every taint, so the system
and GPU nodes' logs are shipped too, at the platform priority with requests equal to
limits for memory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import versions
from components.cluster.addons import loki
from components.cluster.addons.loki import NAMESPACE
from components.cluster.scope import ClusterFacts, InClusterScope
from components.workloads import workload_defaults

__all__ = ["LOG_LABELS", "NAMESPACE", "RELEASE", "alloy_config", "helm_values", "release"]

RELEASE = "alloy"
#: Every label a log stream has in Loki: all low-cardinality (module docstring).
LOG_LABELS = ("app", "deployment_id", "env", "region")
#: Labels set per pod by the relabelling rules; `env` and `region` are external labels.
POD_LABELS = ("app", "deployment_id")
NODE_NAME_ENV = "NODE_NAME"
SERVER_LABELS = {"app.kubernetes.io/name": "alloy", "app.kubernetes.io/instance": RELEASE}
#: Alloy's HTTP server (UI, health and its own /metrics), on every address of the pod.
HTTP_PORT = 12345


@dataclass(frozen=True)
class Ref:
    """An Alloy expression written as is (a component export, a function call)."""

    expression: str


@dataclass(frozen=True)
class Block:
    """An Alloy block: `name "label" { attributes and blocks }`."""

    name: str
    label: str | None = None
    body: Sequence[tuple[str, Any] | Block] = field(default_factory=tuple)


def _value(value: Any) -> str:
    if isinstance(value, Ref):
        return value.expression
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # Alloy strings take the same escapes as JSON's
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Alloy syntax for {value!r}")


def render(blocks: Sequence[Block], indent: int = 0) -> str:
    """Alloy configuration text for `blocks`."""
    pad = "  " * indent
    out: list[str] = []
    for block in blocks:
        label = f" {json.dumps(block.label)}" if block.label is not None else ""
        out.append(f"{pad}{block.name}{label} {{")
        for item in block.body:
            if isinstance(item, Block):
                out.append(render([item], indent + 1).rstrip("\n"))
            else:
                key, value = item
                out.append(f"{pad}  {key} = {_value(value)}")
        out.append(f"{pad}}}")
    return "\n".join(out) + "\n"


def relabel_rules() -> list[Block]:
    """The rules that turn a discovered pod's metadata into its stream labels: later
    rules win, so `app` is the name label, else the app label, else the container; the
    last rule keeps only `POD_LABELS` (and the internal `__` labels the log source
    needs to find the pod, which never reach Loki)."""

    def copy(source: str, target: str) -> Block:
        return Block(
            "rule",
            body=(
                ("source_labels", [source]),
                ("regex", "(.+)"),
                ("target_label", target),
            ),
        )

    meta = "__meta_kubernetes_pod_"
    return [
        copy(f"{meta}container_name", "app"),
        copy(f"{meta}label_app", "app"),
        copy(f"{meta}label_app_kubernetes_io_name", "app"),
        copy(f"{meta}label_controller_revision_hash", "deployment_id"),
        copy(f"{meta}label_pod_template_hash", "deployment_id"),
        Block(
            "rule",
            body=(("action", "labelkeep"), ("regex", "__.+|" + "|".join(POD_LABELS))),
        ),
    ]


def alloy_config(*, environment: str, region: str, push_url: str) -> str:
    """The agent's configuration (Alloy syntax): discover the pods of this node, label
    them (`relabel_rules`), read their logs through the API, keep only the pod labels,
    and write to Loki at `push_url` with `env` and `region` as external labels."""
    blocks = [
        Block(
            "discovery.kubernetes",
            "pods",
            (
                ("role", "pod"),
                Block(
                    "selectors",
                    body=(
                        ("role", "pod"),
                        ("field", Ref(f'"spec.nodeName=" + sys.env("{NODE_NAME_ENV}")')),
                    ),
                ),
            ),
        ),
        Block(
            "discovery.relabel",
            "pods",
            (("targets", Ref("discovery.kubernetes.pods.targets")), *relabel_rules()),
        ),
        Block(
            "loki.source.kubernetes",
            "pods",
            (
                ("targets", Ref("discovery.relabel.pods.output")),
                ("forward_to", [Ref("loki.process.labels.receiver")]),
            ),
        ),
        Block(
            "loki.process",
            "labels",
            (
                Block("stage.label_keep", body=(("values", list(POD_LABELS)),)),
                ("forward_to", [Ref("loki.write.loki.receiver")]),
            ),
        ),
        Block(
            "loki.write",
            "loki",
            (
                Block("endpoint", body=(("url", push_url),)),
                ("external_labels", {"env": environment, "region": region}),
            ),
        ),
    ]
    return render(blocks)


def helm_values(*, environment: str, region: str) -> dict[str, Any]:
    """Values of the pinned alloy chart (checked against its values.yaml in the tests)."""
    defaults = workload_defaults(
        RELEASE,
        namespace=NAMESPACE,
        tier="platform",
        cpu="100m",
        memory="256Mi",
        selector=SERVER_LABELS,
    )
    chart = defaults.helm_values()
    return {
        "image": {"tag": versions.ALLOY_VERSION},
        # No PodLogs: the configuration says what is collected.
        "crds": {"create": False},
        "alloy": {
            "configMap": {
                "create": True,
                "content": alloy_config(
                    environment=environment, region=region, push_url=loki.push_url()
                ),
            },
            "enableReporting": False,
            "listenPort": HTTP_PORT,
            "resources": chart["resources"],
            "extraEnv": [
                {
                    "name": NODE_NAME_ENV,
                    "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}},
                }
            ],
        },
        # The sidecar that reloads the configuration: memory limit equal to its request.
        "configReloader": {
            "resources": {
                "requests": {"cpu": "10m", "memory": "64Mi"},
                "limits": {"cpu": "50m", "memory": "64Mi"},
            }
        },
        "controller": {
            "type": "daemonset",
            # Every node's logs, the tainted system and GPU nodes' included.
            "tolerations": [{"operator": "Exists"}],
            "priorityClassName": chart["priorityClassName"],
        },
    }


def release(
    scope: InClusterScope,
    *,
    cluster: ClusterFacts,
    namespace: pulumi.Resource,
    priority_classes: Sequence[pulumi.Resource],
    after: Sequence[pulumi.Resource] = (),
) -> k8s.helm.v3.Release | None:
    """The Helm release, after the namespace, the priority classes and `after` (Loki's
    release); None without a log store."""
    if cluster.telemetry is None:
        return None
    return scope.chart_release(
        "alloy",
        release=RELEASE,
        chart=versions.ALLOY_CHART,
        version=versions.ALLOY_CHART_VERSION,
        repository=versions.ALLOY_CHART_REPOSITORY,
        namespace=NAMESPACE,
        values=helm_values(environment=cluster.environment, region=cluster.region),
        depends_on=[namespace, *priority_classes, *after],
    )
