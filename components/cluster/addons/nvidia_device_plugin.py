"""The NVIDIA device plugin: advertises each node's GPUs to the kubelet as the
`nvidia.com/gpu` resource, so a pod that requests one is scheduled onto a GPU node and
gets the device. The AL2023 NVIDIA AMI brings the driver and the container toolkit, not
this plugin; without it no pod can ask for a GPU.

It runs only when the cluster has node groups with NVIDIA GPUs (the platform stack's
`clusterGpuNodeGroups`), as a DaemonSet on exactly those groups' nodes (node affinity on
their `ballast.io/node-group` label) and tolerating their taint
(`nvidia.com/gpu=true:NoSchedule`, components/tags.py). No AWS role: it talks only to
the kubelet. In `kube-system`, where the chart's default priority class
(`system-node-critical`) belongs.

Unlike the other charts, there is no reference copy of this chart's `values.yaml` in the
shared reference data, so tests cannot walk these values against it. The values are
kept to two top-level keys whose names and shapes were read in the chart's
`values.yaml` at the pinned tag (github.com/NVIDIA/k8s-device-plugin,
`deployments/helm/nvidia-device-plugin/values.yaml`): `affinity` and `tolerations`, both
passed to the DaemonSet's pod spec as given (Helm replaces a list value, so they replace
the chart's defaults: its affinity selects nodes by Node Feature Discovery labels, which
EKS nodes do not carry without NFD). Re-read that file when bumping the pin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi_kubernetes as k8s

from components import versions
from components.cluster.scope import ClusterFacts, InClusterScope
from components.tags import GPU_TAINT_KEY, NODE_GROUP_LABEL

#: Where the DaemonSet runs: Kubernetes' own namespace, which the chart's default
#: priority class `system-node-critical` is meant for and no Ballast quota limits.
NAMESPACE = "kube-system"
RELEASE_NAME = "nvidia-device-plugin"


def helm_values(gpu_node_groups: Sequence[str]) -> dict[str, Any]:
    """Values of the pinned nvidia-device-plugin chart: run on the nodes of
    `gpu_node_groups` only (by their group label), tolerating the GPU taint whatever its
    value. Everything else is the chart's default."""
    if not gpu_node_groups:
        raise ValueError("the NVIDIA device plugin needs at least one GPU node group")
    return {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": NODE_GROUP_LABEL,
                                    "operator": "In",
                                    "values": list(gpu_node_groups),
                                }
                            ]
                        }
                    ]
                }
            }
        },
        "tolerations": [{"key": GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}],
    }


def release(scope: InClusterScope, *, cluster: ClusterFacts) -> k8s.helm.v3.Release | None:
    """The Helm release, when the cluster has GPU node groups (None otherwise)."""
    if not cluster.gpu_node_groups:
        return None
    return k8s.helm.v3.Release(
        f"{scope.name}-nvidia-device-plugin",
        name=RELEASE_NAME,
        chart=versions.NVIDIA_DEVICE_PLUGIN_CHART,
        version=versions.NVIDIA_DEVICE_PLUGIN_CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(
            repo=versions.NVIDIA_DEVICE_PLUGIN_CHART_REPOSITORY
        ),
        namespace=NAMESPACE,
        values=helm_values(cluster.gpu_node_groups),
        opts=scope.opts(),
    )
