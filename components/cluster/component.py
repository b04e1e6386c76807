"""`Cluster`: a multi-AZ EKS cluster whose safe shape is the default. It talks only to
AWS APIs (the platform layer); every Kubernetes object lives in the cluster layer
(`ClusterBaseline` and the add-ons' releases, docs/layers.md).

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
- access entries: cluster admin for the deployer (the CI apply role), the configured
  admins and the bootstrap admin, view-only for the CI plan role and the read-only
  principals;
- the OIDC provider for IRSA, and an IRSA role (via `RoleFactory.irsa_role`) for every
  add-on that calls AWS: vpc-cni, aws-ebs-csi-driver, the Cluster Autoscaler (whose
  release the cluster layer installs);
- one launch template for every node: IMDSv2 required with a hop limit of 1 (pods cannot
  reach the node role's credentials; they use IRSA), encrypted gp3 root volumes;
- the `system` managed node group, tainted `CriticalAddonsOnly=true:NoSchedule`, and the
  workload groups, each spanning every private subnet (or one group per zone with
  `per_az`); `scalingConfig.desiredSize` is ignored after creation (the autoscaler owns
  it);
- managed add-ons pinned in components/versions.py with `OVERWRITE` conflict resolution:
  vpc-cni, kube-proxy and eks-pod-identity-agent before the nodes, coredns (tolerating
  the system taint, spread over zones, with a PDB) and aws-ebs-csi-driver after them.

Destroy order: the cluster layer goes first (its objects need the nodes and controllers
this component runs), then this stack; IAM attachments go only after what uses them.
What Pulumi cannot see (load balancers and volumes that controllers created) is in
runbooks/cluster-destroy.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import pulumi

from components.cluster import access, baseline, control_plane, managed_addons, nodes
from components.cluster.addons import autoscaler
from components.cluster.scope import ClusterScope
from components.config import ClusterConfig
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
    per-zone groups and sizes CoreDNS."""

    deployer_principal_arn: pulumi.Input[str] | None = None
    """The principal that runs `pulumi up` of the cluster layer (the CI apply role), made
    cluster admin (default none: then the configured or bootstrap admins must deploy it).
    The cluster's creator gets no implicit admin."""

    planner_principal_arn: pulumi.Input[str] | None = None
    """The principal that runs `pulumi preview` of the cluster layer (the CI plan role),
    given view-only access (default none)."""

    instance_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for the instances, volumes and network interfaces the launch template
    launches (default none). Provider default tags do not reach them: pass them here."""

    api_client_security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups whose members may reach the private API endpoint on 443 (default
    none: EKS's cluster security group admits only the cluster itself), e.g. the in-VPC
    CI runner's, which runs the cluster stack."""


class Cluster(pulumi.ComponentResource):
    """An EKS cluster; see the module docstring for its shape.

    Outputs: `cluster_name`, `cluster_arn`, `endpoint`, `certificate_authority`,
    `oidc_provider_arn`, `oidc_issuer_url`, `node_role_arn`, `cluster_security_group_id`,
    `autoscaler_role_arn`, `kubernetes_version`, `volume_tags` (what the cluster layer's
    StorageClass puts on the volumes it provisions), `gpu_node_groups` (names of the
    workload groups with NVIDIA GPUs, for the cluster layer's device plugin), `node_groups`.
    """

    #: Stack outputs (export name -> attribute); `__main__.py` exports them, and the
    #: cluster layer reads the ones it needs through its StackReference.
    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "clusterName": "cluster_name",
        "clusterEndpoint": "endpoint",
        "clusterCertificateAuthority": "certificate_authority",
        "clusterOidcProviderArn": "oidc_provider_arn",
        "clusterOidcIssuerUrl": "oidc_issuer_url",
        "clusterNodeRoleArn": "node_role_arn",
        "clusterSecurityGroupId": "cluster_security_group_id",
        "clusterKubernetesVersion": "kubernetes_version",
        "clusterAutoscalerRoleArn": "autoscaler_role_arn",
        "clusterVolumeTags": "volume_tags",
        "clusterGpuNodeGroups": "gpu_node_groups",
    }

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Cluster", name, None, opts)
        if len(args.availability_zones) < 2:
            raise ValueError(f"{name}: EKS needs subnets in at least two zones")
        scope = ClusterScope(
            name=name,
            parent=self,
            context=args.context,
            settings=args.settings,
            roles=args.roles,
        )
        zones = args.availability_zones
        self.kubernetes_version = args.settings.kubernetes_version
        self.gpu_node_groups = nodes.gpu_node_groups(args.settings.node_groups)
        self.volume_tags = baseline.volume_tags(name, args.context.environment, args.context.tags)

        key, log_group = control_plane.encryption_and_logs(scope)
        cluster = control_plane.eks_cluster(scope, args.private_subnet_ids, key, log_group)
        self.cluster_name: pulumi.Output[str] = cluster.name
        self.cluster_arn: pulumi.Output[str] = cluster.arn
        self.endpoint: pulumi.Output[str] = cluster.endpoint
        self.certificate_authority: pulumi.Output[str] = cluster.certificate_authority.data
        self.cluster_security_group_id: pulumi.Output[str] = (
            cluster.vpc_config.cluster_security_group_id
        )
        control_plane.api_clients(scope, cluster, args.api_client_security_group_ids)
        oidc = control_plane.oidc_provider(scope, cluster)
        self.oidc_issuer_url: pulumi.Output[str] = oidc.issuer_url
        self.oidc_provider_arn: pulumi.Output[str] = oidc.arn

        access.access_entries(
            scope,
            cluster,
            deployer_principal_arn=args.deployer_principal_arn,
            planner_principal_arn=args.planner_principal_arn,
        )

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
        managed_addons.workload_addons(
            scope, cluster, oidc, node_groups=self.node_groups, availability_zones=zones
        )
        autoscaler_role, _ = autoscaler.role(scope, oidc, cluster)
        self.autoscaler_role_arn: pulumi.Output[str] = autoscaler_role.arn

        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "clusterArn": self.cluster_arn,
                "endpoint": self.endpoint,
                "oidcProviderArn": self.oidc_provider_arn,
                "oidcIssuerUrl": self.oidc_issuer_url,
                "nodeRoleArn": self.node_role_arn,
                "clusterSecurityGroupId": self.cluster_security_group_id,
                "autoscalerRoleArn": self.autoscaler_role_arn,
            }
        )
