"""What the cluster's sections build with: `ClusterScope` for the AWS side (the platform
layer), `ClusterFacts` and `InClusterScope` for objects created through the cluster
layer's Kubernetes provider.

Every resource a section creates is a child of the `Cluster` component and is named
from the cluster's name, so splitting the cluster into modules leaves every URN where it
was; a section never reaches into another's resources except through what it is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config import ClusterConfig, GitOpsSettings, ServiceConfig
from components.context import AwsContext
from components.iam import RoleFactory


@dataclass(frozen=True, kw_only=True)
class ClusterScope:
    """The AWS side: the cluster's name, its parent component, where it deploys, its
    validated settings and the platform's role factory."""

    name: str
    parent: pulumi.Resource
    context: AwsContext
    settings: ClusterConfig
    roles: RoleFactory

    def tags(self, name: str | None = None) -> dict[str, str]:
        """The cluster's tags, with `Name` when `name` is given."""
        return self.context.tags_for(name)

    def opts(
        self, *, stateful: bool = False, depends_on: Sequence[pulumi.Resource] | None = None
    ) -> pulumi.ResourceOptions:
        """Options of a child of the cluster component (see `AwsContext.opts`)."""
        return self.context.opts(self.parent, stateful=stateful, depends_on=depends_on)


@dataclass(frozen=True, kw_only=True)
class VaultFacts:
    """What the platform stack made for Vault (components/vault.py), read by the cluster
    layer: how many servers, their volume size, their IRSA role and unseal key."""

    replicas: int
    storage_size_gib: int
    server_role_arn: str
    unseal_key_id: str
    aws_engine_role_arn: str | None = None
    """The AWS secrets engine's IRSA role (None: no service declares `secrets.aws`)."""


@dataclass(frozen=True, kw_only=True)
class GrafanaFacts:
    """What the platform stack made for Grafana (components/grafana.py), read by the
    cluster layer: the admin password (a Pulumi secret) and where operators open it."""

    admin_password: pulumi.Output[str]
    url: str


@dataclass(frozen=True, kw_only=True)
class TelemetryFacts:
    """What the platform stack made for logs and traces (components/telemetry_storage.py),
    read by the cluster layer: each store's bucket, IRSA role, retention and volume, and
    Loki's server count."""

    loki_bucket_name: str
    loki_role_arn: str
    loki_retention_days: int
    loki_replicas: int
    loki_wal_storage_gib: int
    tempo_bucket_name: str
    tempo_role_arn: str
    tempo_retention_days: int
    tempo_wal_storage_gib: int


@dataclass(frozen=True, kw_only=True)
class ClusterFacts:
    """What the cluster layer knows about its cluster: the platform stack's outputs, read
    through a StackReference. Values that name resources or pick pins are plain (read once
    when the program starts); the rest stay Outputs."""

    name: str
    """The EKS cluster's name; in-cluster objects are named from it, as they were when the
    platform stack held them."""
    region: str
    environment: str
    kubernetes_version: str
    zone_count: int
    endpoint: pulumi.Output[str]
    certificate_authority: pulumi.Output[str]
    autoscaler_role_arn: pulumi.Output[str]
    volume_tags: Mapping[str, str]
    services: Sequence[ServiceConfig]
    vpc_id: pulumi.Input[str] | None = None
    """The VPC (the load balancer controller is told it instead of asking IMDS)."""
    load_balancer_controller_role_arn: str | None = None
    """The controller's IRSA role; None when the platform has no ingress."""
    routes: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    """The platform's ingress routes (`Ingress.route_outputs`): one TargetGroupBinding
    each."""
    gpu_node_groups: Sequence[str] = ()
    """Names of the node groups with NVIDIA GPUs (default none): the device plugin runs
    on their nodes, and only when there is one."""
    vault: VaultFacts | None = None
    """Vault's platform half; None when the platform has no `ballast:vault`."""
    gitops: GitOpsSettings | None = None
    """The resolved `ballast:gitops` section; None when the platform has none (no Argo
    CD, no signature policy)."""
    grafana: GrafanaFacts | None = None
    """Grafana's platform half; None when the platform stack made none."""
    telemetry: TelemetryFacts | None = None
    """The log and trace stores' platform half; None when the platform stack made none
    (then no Loki, Alloy, Tempo or collector is installed)."""


@dataclass(frozen=True, kw_only=True)
class InClusterScope:
    """The Kubernetes side: objects created through the cluster layer's provider, each a
    child of `parent` and named from `name`."""

    name: str
    parent: pulumi.Resource
    provider: k8s.Provider

    def opts(
        self, depends_on: Sequence[pulumi.Resource] = (), *, moved: bool = False
    ) -> pulumi.ResourceOptions:
        """Options of an in-cluster child that waits for `depends_on`. `moved`: the object
        existed when the platform stack held the in-cluster objects (before the two
        layers); it keeps its name, and an alias to that name at the root of this stack,
        where `pulumi state move` puts it, lets an existing deployment adopt it instead
        of recreating it (docs/layers.md)."""
        aliases: list[pulumi.Input[str | pulumi.Alias]] | None = (
            [pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)] if moved else None
        )
        return pulumi.ResourceOptions(
            parent=self.parent,
            provider=self.provider,
            depends_on=list(depends_on),
            aliases=aliases,
        )

    def chart_release(
        self,
        suffix: str,
        *,
        release: str,
        chart: str,
        version: str,
        repository: str,
        namespace: str,
        values: Mapping[str, Any],
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> k8s.helm.v3.Release:
        """A pinned chart's Helm release `release` in `namespace`, named
        `<name>-<suffix>` (so its URN is what a direct `k8s.helm.v3.Release` call gave),
        waiting for `depends_on`."""
        return k8s.helm.v3.Release(
            f"{self.name}-{suffix}",
            name=release,
            chart=chart,
            version=version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repository),
            namespace=namespace,
            values=values,
            opts=self.opts(depends_on),
        )
