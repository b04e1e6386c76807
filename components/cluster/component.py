"""`Cluster`: a multi-AZ EKS cluster whose safe shape is the default.

What it creates, in dependency order (design notes in docs/cluster.md):

- a KMS key (rotating) that envelope-encrypts Kubernetes Secrets and the control-plane
  log group, and that log group (`/aws/eks/<name>/cluster`, retention set) created
  before the cluster, so EKS never creates one without retention;
- the cluster role and the node role, through the platform's `RoleFactory` (permission
  boundary), with only the AWS managed policies EKS documents for them;
- the cluster in the private subnets: private API endpoint (public only for an explicit
  CIDR allowlist), all five control-plane log types, authentication mode `API` (access
  entries; no aws-auth ConfigMap and no implicit admin for the creator), EKS's own
  networking add-ons not bootstrapped (the managed add-ons below replace them), zonal
  shift on, deletion protection in prod;
- access entries: cluster admin for the deployer (the CI apply role) and the configured
  admins, view-only for the read-only principals;
- the OIDC provider for IRSA, and an IRSA role (via `RoleFactory.irsa_role`) for every
  add-on that calls AWS: vpc-cni, aws-ebs-csi-driver, the Cluster Autoscaler;
- one launch template for every node: IMDSv2 required with a hop limit of 1 (pods cannot
  reach the node role's credentials; they use IRSA), encrypted gp3 root volumes;
- the `system` managed node group, tainted `CriticalAddonsOnly=true:NoSchedule`, and the
  workload groups, each spanning every private subnet (or one group per zone with
  `per_az`); `scalingConfig.desiredSize` is ignored after creation (the autoscaler owns
  it);
- managed add-ons pinned in components/versions.py with `OVERWRITE` conflict resolution:
  vpc-cni, kube-proxy and eks-pod-identity-agent before the nodes, coredns (tolerating
  the system taint, spread over zones, with a PDB) and aws-ebs-csi-driver after them;
- a `kubernetes.Provider` from the cluster's outputs (exec auth, `aws eks get-token`);
- baseline objects: PriorityClasses, a default encrypted gp3 StorageClass, and a
  namespace per platform add-on and per service, each with a LimitRange and a
  ResourceQuota (components/workloads.py);
- the Cluster Autoscaler (Helm, IRSA, scaling only this cluster's node groups), the
  first in-cluster add-on (components/cluster/addons/).

Destroy order: everything in-cluster depends on the node groups and add-ons, which
depend on the cluster, so Pulumi removes in-cluster objects while nodes and controllers
still run, and IAM attachments only after what uses them. What Pulumi cannot see (load
balancers and volumes that controllers created) is in runbooks/cluster-destroy.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import pulumi
import pulumi_kubernetes as k8s

from components.cluster import access, baseline, control_plane, managed_addons, nodes
from components.cluster.addons import autoscaler
from components.cluster.scope import ClusterScope, InClusterScope
from components.config import ClusterConfig, ServiceConfig
from components.context import AwsContext
from components.iam import RoleFactory


@dataclass(kw_only=True)
class ClusterArgs:
    """Inputs of `Cluster`: the validated settings, and the network and principals it is
    wired to."""

    context: AwsContext
    """Region, account, tags and protection (required). A protected context protects the
    cluster, its key and log group, and turns on EKS deletion protection."""

    roles: RoleFactory
    """The platform's role factory (required): every role here carries the boundary."""

    settings: ClusterConfig
    """The validated `ballast:cluster` section: version, endpoint access, admins, log
    retention, node volumes, the system and workload node groups. Defaults, limits and
    trade-offs are documented there (docs/configuration.md)."""

    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The network's private subnets, one per zone, in the order of
    `availability_zones` (required): control-plane ENIs and every node live there."""

    availability_zones: Sequence[str]
    """The zones of `private_subnet_ids`, same order (required, at least two): names
    per-zone groups, sizes CoreDNS and the autoscaler."""

    services: Sequence[ServiceConfig] = ()
    """The stack's services (default none): each gets a namespace with its tier's
    limits and quota."""

    deployer_principal_arn: pulumi.Input[str] | None = None
    """The principal that runs `pulumi up` (the CI apply role), made cluster admin so it
    can manage the in-cluster objects (default none: then the configured admins must
    include it). The cluster's creator gets no implicit admin."""

    instance_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for the instances, volumes and network interfaces the launch template
    launches (default none). Provider default tags do not reach them: pass them here."""


class Cluster(pulumi.ComponentResource):
    """An EKS cluster; see the module docstring for its shape.

    Outputs: `cluster_name`, `cluster_arn`, `endpoint`, `certificate_authority`,
    `oidc_provider_arn`, `oidc_issuer_url`, `node_role_arn`, `cluster_security_group_id`,
    `kubernetes_provider` (for every in-cluster component), `namespaces` (name ->
    Namespace), `node_groups`, `ready` (node groups, add-ons and access: make in-cluster
    resources depend on it, so they are removed before the nodes and controllers they
    need).
    """

    #: Stack outputs (export name -> attribute); `__main__.py` exports them.
    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "clusterName": "cluster_name",
        "clusterEndpoint": "endpoint",
        "clusterOidcProviderArn": "oidc_provider_arn",
        "clusterOidcIssuerUrl": "oidc_issuer_url",
        "clusterNodeRoleArn": "node_role_arn",
        "clusterSecurityGroupId": "cluster_security_group_id",
    }

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Cluster", name, None, opts)
        if len(args.availability_zones) < 2:
            raise ValueError(f"{name}: EKS needs subnets in at least two zones")
        try:
            namespace_specs = baseline.namespace_specs(args.services)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
        scope = ClusterScope(
            name=name,
            parent=self,
            context=args.context,
            settings=args.settings,
            roles=args.roles,
        )
        zones = args.availability_zones

        key, log_group = control_plane.encryption_and_logs(scope)
        cluster = control_plane.eks_cluster(scope, args.private_subnet_ids, key, log_group)
        self.cluster_name: pulumi.Output[str] = cluster.name
        self.cluster_arn: pulumi.Output[str] = cluster.arn
        self.endpoint: pulumi.Output[str] = cluster.endpoint
        self.certificate_authority: pulumi.Output[str] = cluster.certificate_authority.data
        self.cluster_security_group_id: pulumi.Output[str] = (
            cluster.vpc_config.cluster_security_group_id
        )
        oidc = control_plane.oidc_provider(scope, cluster)
        self.oidc_issuer_url: pulumi.Output[str] = oidc.issuer_url
        self.oidc_provider_arn: pulumi.Output[str] = oidc.arn

        access_grants = access.access_entries(scope, cluster, args.deployer_principal_arn)

        node_role, node_policies = nodes.node_role(scope)
        self.node_role_arn: pulumi.Output[str] = node_role.arn
        # Networking add-ons first: nodes without the CNI never become Ready.
        networking = managed_addons.networking_addons(scope, cluster, oidc)
        self.node_groups = nodes.node_groups(
            scope,
            cluster=cluster,
            template=nodes.launch_template(scope, args.instance_tags),
            role=node_role,
            private_subnet_ids=args.private_subnet_ids,
            availability_zones=zones,
            depends_on=[*networking, *node_policies],
        )
        coredns, ebs_csi = managed_addons.workload_addons(
            scope, cluster, oidc, node_groups=self.node_groups, availability_zones=zones
        )
        self.ready: list[pulumi.Resource] = [
            *self.node_groups,
            *networking,
            coredns,
            ebs_csi,
            *access_grants,
        ]

        self.kubernetes_provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=control_plane.kubeconfig(scope, cluster),
            # The deployer's access entry must exist before any in-cluster object, and
            # must outlive them all on destroy.
            opts=pulumi.ResourceOptions(parent=self, depends_on=access_grants),
        )
        in_cluster = InClusterScope(
            name=name, parent=self, provider=self.kubernetes_provider, ready=self.ready
        )
        priority_classes = baseline.priority_classes(in_cluster)
        baseline.storage_class(
            in_cluster,
            ebs_csi,
            baseline.volume_tags(name, args.context.environment, args.context.tags),
        )
        self.namespaces = baseline.namespaces(in_cluster, namespace_specs)
        autoscaler.install(
            scope,
            in_cluster,
            cluster=cluster,
            oidc=oidc,
            availability_zones=zones,
            namespace=self.namespaces[autoscaler.NAMESPACE],
            priority_classes=priority_classes,
        )

        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "clusterArn": self.cluster_arn,
                "endpoint": self.endpoint,
                "oidcProviderArn": self.oidc_provider_arn,
                "oidcIssuerUrl": self.oidc_issuer_url,
                "nodeRoleArn": self.node_role_arn,
                "clusterSecurityGroupId": self.cluster_security_group_id,
            }
        )
