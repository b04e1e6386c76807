"""What the cluster's sections build with: `ClusterScope` for the AWS side, and
`InClusterScope` for objects created through the cluster's Kubernetes provider.

Every resource a section creates is a child of the `Cluster` component and is named
from the cluster's name, so splitting the cluster into modules leaves every URN where it
was; a section never reaches into another's resources except through what it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.config import ClusterConfig
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
class InClusterScope:
    """The Kubernetes side: objects created through the cluster's provider, each after
    `ready` (the node groups, managed add-ons and access entries), so a destroy removes
    them while the nodes and controllers they need still run."""

    name: str
    parent: pulumi.Resource
    provider: k8s.Provider
    ready: Sequence[pulumi.Resource]

    def opts(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        """Options of an in-cluster child that waits for `depends_on` (not `ready`:
        pass it where the object needs running nodes)."""
        return pulumi.ResourceOptions(
            parent=self.parent, provider=self.provider, depends_on=list(depends_on)
        )
