"""`ClusterBaseline`: the in-cluster baseline every workload relies on, created by the
cluster layer: the PriorityClasses, the default StorageClass (encrypted gp3), and a
namespace per platform add-on and per service, each with its tier's LimitRange and
ResourceQuota (components/workloads.py), or the ones a service's `budget` overrides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import cast

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.addons import policy_controller
from components.cluster.scope import ClusterFacts, InClusterScope
from components.config import PLATFORM_NAMESPACES, ServiceConfig
from components.tags import CLUSTER_TAG, ENVIRONMENT_TAG
from components.workloads import (
    PRIORITY_CLASSES,
    NamespaceSpec,
    service_namespaces,
    tier_budget,
)

DEFAULT_STORAGE_CLASS = "gp3"
#: The platform add-ons' namespaces (each in-cluster add-on gets its own from here).
#: None may own a Service of type LoadBalancer, the ingress's included: the load
#: balancers are Pulumi's (docs/ingress.md), and the controller only binds targets.
PLATFORM_NAMESPACE_SPECS: tuple[NamespaceSpec, ...] = tuple(
    NamespaceSpec(n, "platform") for n in PLATFORM_NAMESPACES
)


def namespace_specs(
    services: Sequence[ServiceConfig], service_labels: Mapping[str, str] | None = None
) -> list[NamespaceSpec]:
    """The platform namespaces, then one per distinct service namespace (refused when a
    name is declared twice) with `service_labels` (default none), with the tier's quota
    and container defaults, or those a service's `budget` overrides."""
    budgets = {(s.namespace or s.name): s.budget for s in services if s.budget is not None}

    def for_services(spec: NamespaceSpec) -> NamespaceSpec:
        labelled = replace(spec, labels={**spec.labels, **(service_labels or {})})
        if spec.name not in budgets:
            return labelled
        return replace(labelled, budget=tier_budget(spec.tier, budgets[spec.name].overrides()))

    specs = [
        *PLATFORM_NAMESPACE_SPECS,
        *(
            for_services(spec)
            for spec in service_namespaces([(s.namespace or s.name, s.tier) for s in services])
        ),
    ]
    names = [spec.name for spec in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"namespaces are declared twice: {', '.join(dupes)}")
    return specs


def priority_classes(scope: InClusterScope) -> list[k8s.scheduling.v1.PriorityClass]:
    return [
        k8s.scheduling.v1.PriorityClass(
            f"{scope.name}-priority-{spec.name}",
            metadata={"name": spec.name},
            value=spec.value,
            global_default=False,
            preemption_policy="PreemptLowerPriority",
            description=spec.description,
            opts=scope.opts(moved=True),
        )
        for spec in PRIORITY_CLASSES
    ]


def storage_class(
    scope: InClusterScope, volume_tags: Mapping[str, str]
) -> k8s.storage.v1.StorageClass:
    """The default StorageClass: encrypted gp3, provisioned in the zone of the pod that
    first uses it (WaitForFirstConsumer), so a volume never lands in a zone its pod cannot
    run in. `volume_tags` go on every volume it provisions, numbered in key order (a
    StorageClass's parameters cannot change in place, so the order must not depend on
    how the tags were passed). The EBS CSI driver it names
    is an EKS add-on of the platform layer, which is up before this layer."""
    return k8s.storage.v1.StorageClass(
        f"{scope.name}-storage-{DEFAULT_STORAGE_CLASS}",
        metadata={
            "name": DEFAULT_STORAGE_CLASS,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        provisioner="ebs.csi.aws.com",
        parameters={
            "type": "gp3",
            "encrypted": "true",
            "csi.storage.k8s.io/fstype": "ext4",
            **{
                f"tagSpecification_{index}": f"{key}={value}"
                for index, (key, value) in enumerate(sorted(volume_tags.items()), start=1)
            },
        },
        reclaim_policy="Delete",
        volume_binding_mode="WaitForFirstConsumer",
        allow_volume_expansion=True,
        opts=scope.opts(moved=True),
    )


def volume_tags(cluster_name: str, environment: str, tags: Mapping[str, str]) -> dict[str, str]:
    """Tags of the volumes the driver creates: the cluster's and environment's names, so
    what a destroy leaves behind is easy to find (runbooks/cluster-destroy.md); provider
    default tags do not reach them."""
    return {
        CLUSTER_TAG: cluster_name,
        ENVIRONMENT_TAG: environment,
        **{k: v for k, v in tags.items() if k != "Name"},
    }


def namespaces(
    scope: InClusterScope, specs: Sequence[NamespaceSpec]
) -> dict[str, k8s.core.v1.Namespace]:
    """Each namespace with its LimitRange and ResourceQuota (and, outside the platform
    tier, a quota that keeps the platform's priority classes out). The specs are plain
    manifests (components/workloads.py, validated by kubernetes-validate in the tests),
    handed to the SDK as its input types."""
    created: dict[str, k8s.core.v1.Namespace] = {}
    for spec in specs:
        label = f"{scope.name}-ns-{spec.name}"
        namespace = k8s.core.v1.Namespace(
            label,
            metadata=cast(k8s.meta.v1.ObjectMetaArgsDict, spec.namespace_metadata()),
            opts=scope.opts(moved=True),
        )
        k8s.core.v1.LimitRange(
            f"{label}-defaults",
            metadata={"name": "defaults", "namespace": spec.name},
            spec=cast(k8s.core.v1.LimitRangeSpecArgsDict, spec.limit_range_spec()),
            opts=scope.opts([namespace], moved=True),
        )
        k8s.core.v1.ResourceQuota(
            f"{label}-budget",
            metadata={"name": "budget", "namespace": spec.name},
            spec=cast(k8s.core.v1.ResourceQuotaSpecArgsDict, spec.resource_quota_spec()),
            opts=scope.opts([namespace], moved=True),
        )
        platform_priority = spec.platform_priority_quota_spec()
        if platform_priority is not None:
            k8s.core.v1.ResourceQuota(
                f"{label}-no-platform-priority",
                metadata={"name": "no-platform-priority", "namespace": spec.name},
                spec=cast(k8s.core.v1.ResourceQuotaSpecArgsDict, platform_priority),
                opts=scope.opts([namespace], moved=True),
            )
        created[spec.name] = namespace
    return created


@dataclass(kw_only=True)
class ClusterBaselineArgs:
    """Inputs of `ClusterBaseline`."""

    provider: k8s.Provider
    """The cluster layer's Kubernetes provider (required)."""

    cluster: ClusterFacts
    """The cluster, its services and its volume tags, as the platform stack exports them
    (required)."""


class ClusterBaseline(pulumi.ComponentResource):
    """PriorityClasses, the default StorageClass, and the namespaces with their limits.

    Outputs: `namespaces` (name -> Namespace), `priority_classes`.

    Destroy order: this stack goes before the platform stack, so deleting a namespace
    (which deletes what others put in it: Services with load balancers, PVCs with
    volumes) happens while the nodes and controllers that clean those up still run.
    """

    def __init__(
        self, name: str, args: ClusterBaselineArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:ClusterBaseline", name, None, opts)
        try:
            specs = namespace_specs(
                args.cluster.services,
                policy_controller.service_namespace_labels(args.cluster.gitops),
            )
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
        scope = InClusterScope(name=name, parent=self, provider=args.provider)
        self.priority_classes = priority_classes(scope)
        storage_class(scope, args.cluster.volume_tags)
        self.namespaces = namespaces(scope, specs)
        self.register_outputs({"namespaces": sorted(self.namespaces)})
