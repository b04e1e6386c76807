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
- the Cluster Autoscaler (Helm, IRSA, scaling only this cluster's node groups).

Destroy order: everything in-cluster depends on the node groups and add-ons, which
depend on the cluster, so Pulumi removes in-cluster objects while nodes and controllers
still run, and IAM attachments only after what uses them. What Pulumi cannot see (load
balancers and volumes that controllers created) is in runbooks/cluster-destroy.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import versions
from components.config import (
    PLATFORM_NAMESPACES,
    ClusterConfig,
    NodeGroupConfig,
    ServiceConfig,
    SystemNodeGroupConfig,
    instance_architecture,
)
from components.iam import RoleFactory, Trust
from components.kms import LOG_GROUP_KEY_ACTIONS_DOCUMENTED_ORDER, log_group_statement, rotating_key
from components.tags import (
    AUTOSCALER_CLUSTER_TAG,
    CLUSTER_TAG,
    NODE_GROUP_LABEL,
    NODE_GROUP_SET_TAG,
    SYSTEM_TAINT_KEY,
    SYSTEM_TAINT_VALUE,
)
from components.workloads import (
    HOST_KEY,
    PRIORITY_CLASSES,
    SYSTEM_NODE_GROUP,
    SYSTEM_NODES_TOLERATION,
    ZONE_KEY,
    NamespaceSpec,
    service_namespaces,
    system_node_affinity,
    workload_defaults,
)

#: Every control-plane log type EKS can send to CloudWatch.
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
#: IMDSv2 hop limit of the nodes. 1: a pod (one network hop further than the node)
#: cannot reach the instance metadata service, so it cannot take the node role's
#: credentials; pods get AWS access through IRSA or Pod Identity instead. Host-network
#: pods (vpc-cni, kube-proxy, the EBS CSI node plugin, the Pod Identity agent) are not a
#: hop away and are unaffected. The price: a pod that wants its region or instance ID
#: from IMDS must be told instead (the autoscaler gets `awsRegion`).
IMDS_HOP_LIMIT = 1
ROOT_DEVICE = "/dev/xvda"
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
#: AmazonEKS_CNI_Policy is not here: vpc-cni gets it through IRSA, so no pod can use it
#: through the node role. SSM lets operators reach nodes without SSH or a bastion.
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
)
ADMIN_ACCESS_POLICY = "AmazonEKSClusterAdminPolicy"
READ_ONLY_ACCESS_POLICY = "AmazonEKSViewPolicy"
AUTOSCALER_NAMESPACE = "cluster-autoscaler"
AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
VPC_CNI_SERVICE_ACCOUNT = "aws-node"
TAINT_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
}
DEFAULT_STORAGE_CLASS = "gp3"

#: The platform add-ons' namespaces (the in-cluster components of DESIGN.md get theirs
#: from here). Only the ingress may own load balancers.
DEFAULT_PLATFORM_NAMESPACES: tuple[NamespaceSpec, ...] = tuple(
    NamespaceSpec(n, "platform", load_balancers=2 if n == "ingress" else 0)
    for n in PLATFORM_NAMESPACES
)


@dataclass(frozen=True)
class Taint:
    key: str
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


@dataclass(kw_only=True)
class NodeGroupSpec:
    """One managed node group (or, with `per_az`, one per zone)."""

    name: str
    """Group name (required); nodes carry it as the label ballast.io/node-group."""

    instance_types: Sequence[str]
    """Instance types, one architecture (required). The AMI (AL2023, x86_64 or ARM)
    follows from them."""

    min_size: int
    """Fewest nodes (required)."""

    max_size: int
    """Most nodes the autoscaler may add (required)."""

    desired_size: int | None = None
    """Nodes at creation (default `min_size`); ignored afterwards, the autoscaler owns it."""

    capacity_type: Literal["on-demand", "spot"] = "on-demand"
    """On-demand (default) or spot (~60-70% cheaper; nodes can vanish at two minutes'
    notice, so only for replicated, interruptible workloads)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Node labels (default none)."""

    taints: Sequence[Taint] = ()
    """Node taints (default none)."""

    per_az: bool = False
    """One group per zone (default: one group spanning every private subnet). For
    stateful workloads with zonal volumes: the autoscaler can then grow the zone a
    pending pod's volume lives in. Sizes apply per zone."""


DEFAULT_SYSTEM_NODE_GROUP = NodeGroupSpec(
    name=SYSTEM_NODE_GROUP, instance_types=("m7i.large", "m6i.large"), min_size=2, max_size=4
)


@dataclass(kw_only=True)
class ClusterArgs:
    """Inputs of `Cluster`. Defaults are the production-safe choice."""

    environment: str
    """Environment name (required): names, tags."""

    region: str
    """Region of the provider the cluster is created with (required): the log group and
    key policy ARNs, the autoscaler's and `aws eks get-token`'s region."""

    roles: RoleFactory
    """The platform's role factory (required): every role here carries the boundary."""

    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The network's private subnets, one per zone, in the order of
    `availability_zones` (required): control-plane ENIs and every node live there."""

    availability_zones: Sequence[str]
    """The zones of `private_subnet_ids`, same order (required): names per-zone groups."""

    node_groups: Sequence[NodeGroupSpec]
    """Workload node groups (required, at least one: the system group takes platform
    add-ons only)."""

    system_node_group: NodeGroupSpec = field(default_factory=lambda: DEFAULT_SYSTEM_NODE_GROUP)
    """The `system` group, always on-demand and tainted CriticalAddonsOnly (default two to
    four m7i.large/m6i.large)."""

    kubernetes_version: str = versions.KUBERNETES_VERSION
    """Kubernetes minor version (default: components/versions.py). The control plane,
    the node groups and the add-on versions follow it; upgrade one minor at a time."""

    endpoint_public_access: bool = False
    """Expose the API endpoint publicly too (default false: only the VPC reaches it, so
    deploys run from inside the VPC or over a VPN). Needs `public_access_cidrs`."""

    public_access_cidrs: Sequence[str] = ()
    """The only networks the public endpoint answers (default none; never 0.0.0.0/0)."""

    deployer_principal_arn: pulumi.Input[str] | None = None
    """The principal that runs `pulumi up` (the CI apply role), made cluster admin so it
    can manage the in-cluster objects (default none: then `admin_principal_arns` must
    name it). The cluster's creator gets no implicit admin."""

    admin_principal_arns: Sequence[str] = ()
    """IAM roles or users given cluster admin (default none)."""

    read_only_principal_arns: Sequence[str] = ()
    """IAM roles or users given view access, Secrets excluded (default none)."""

    log_retention_days: int = 90
    """Control-plane log retention in CloudWatch (default 90 days). The audit log is
    large on a busy cluster: longer retention costs ~$0.03/GB-month."""

    node_volume_size_gib: int = 50
    """Root volume of every node, encrypted gp3 (default 50 GiB)."""

    service_namespaces: Sequence[NamespaceSpec] = ()
    """A namespace per service, with its tier (default none)."""

    platform_namespaces: Sequence[NamespaceSpec] = DEFAULT_PLATFORM_NAMESPACES
    """Namespaces of the platform add-ons (default: cluster-autoscaler, ingress,
    observability, vault, gitops)."""

    autoscaler_replicas: int = 2
    """Cluster Autoscaler replicas (default 2: one leads, the other takes over within
    seconds when its node goes; 1 halves the cost of a ~0.1 vCPU pod)."""

    support_type: Literal["STANDARD", "EXTENDED"] = "STANDARD"
    """EKS upgrade policy (default STANDARD: when standard support of the version ends,
    EKS upgrades the control plane itself; EXTENDED keeps the version for 12 more
    months at six times the control-plane price)."""

    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every AWS resource of the cluster (default none; the provider's default
    tags apply on top)."""

    instance_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for the instances, volumes and network interfaces the launch template
    launches (default none). Provider default tags do not reach them: pass them here."""

    protect: bool = False
    """Protect the stateful pieces (cluster, KMS key, log group) and turn on EKS deletion
    protection (default off; `Platform` turns it on in prod)."""


def _node_group_spec(config: NodeGroupConfig | SystemNodeGroupConfig) -> NodeGroupSpec:
    if isinstance(config, SystemNodeGroupConfig):
        return NodeGroupSpec(
            name=SYSTEM_NODE_GROUP,
            instance_types=config.instance_types,
            min_size=config.min_size,
            max_size=config.max_size,
            desired_size=config.desired_size,
        )
    return NodeGroupSpec(
        name=config.name,
        instance_types=config.instance_types,
        min_size=config.min_size,
        max_size=config.max_size,
        desired_size=config.desired_size,
        capacity_type=config.capacity_type,
        labels=dict(config.labels),
        taints=[Taint(t.key, t.value, t.effect) for t in config.taints],
        per_az=config.per_az,
    )


def cluster_args_from_config(
    config: ClusterConfig,
    *,
    environment: str,
    region: str,
    roles: RoleFactory,
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
    availability_zones: Sequence[str],
    services: Sequence[ServiceConfig],
    deployer_principal_arn: pulumi.Input[str] | None,
    tags: Mapping[str, str],
    instance_tags: Mapping[str, str],
    protect: bool,
) -> ClusterArgs:
    """`ClusterArgs` from the stack's `ballast:cluster` and `ballast:services` (what
    `Platform` passes; a component never reads config itself)."""
    return ClusterArgs(
        environment=environment,
        region=region,
        roles=roles,
        private_subnet_ids=private_subnet_ids,
        availability_zones=availability_zones,
        kubernetes_version=config.kubernetes_version,
        endpoint_public_access=config.endpoint_public_access,
        public_access_cidrs=config.public_access_cidrs,
        deployer_principal_arn=deployer_principal_arn,
        admin_principal_arns=config.admin_principal_arns,
        read_only_principal_arns=config.read_only_principal_arns,
        log_retention_days=config.log_retention_days,
        node_volume_size_gib=config.node_volume_size_gib,
        system_node_group=_node_group_spec(config.system_node_group),
        node_groups=[_node_group_spec(g) for g in config.node_groups],
        service_namespaces=service_namespaces([(s.namespace or s.name, s.tier) for s in services]),
        # One autoscaler replica where a zone's loss is acceptable (two zones, dev).
        autoscaler_replicas=2 if environment == "prod" or len(availability_zones) > 2 else 1,
        tags=tags,
        instance_tags=instance_tags,
        protect=protect,
    )


class Cluster(pulumi.ComponentResource):
    """An EKS cluster; see the module docstring for its shape.

    Outputs: `cluster_name`, `cluster_arn`, `endpoint`, `certificate_authority`,
    `oidc_provider_arn`, `oidc_issuer_url`, `node_role_arn`, `cluster_security_group_id`,
    `kubernetes_provider` (for every in-cluster component), `namespaces` (name ->
    Namespace), `ready` (node groups, add-ons and access: make in-cluster resources
    depend on it, so they are removed before the nodes and controllers they need).
    """

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Cluster", name, None, opts)
        _check(name, args)
        self._name = name
        self._args = args
        self._addon_versions = versions.addon_versions(args.kubernetes_version)
        invoke = pulumi.InvokeOptions(parent=self)
        self._account = aws.get_caller_identity_output(opts=invoke).account_id
        self._partition = aws.get_partition_output(opts=invoke).partition
        child = pulumi.ResourceOptions(parent=self)

        key, log_group = self._encryption_and_logs()
        cluster_role = args.roles.role(
            f"{name}-cluster",
            parent=self,
            trust=[Trust.passed_role("eks.amazonaws.com")],
            description=f"EKS control plane of {name}",
            tags=self._tags(),
        )
        cluster_policies = self._attach(f"{name}-cluster", cluster_role, CLUSTER_POLICIES)

        vpc_config: dict[str, Any] = {
            "subnet_ids": args.private_subnet_ids,
            "endpoint_private_access": True,
            "endpoint_public_access": args.endpoint_public_access,
        }
        if args.endpoint_public_access:
            vpc_config["public_access_cidrs"] = list(args.public_access_cidrs)
        cluster = aws.eks.Cluster(
            name,
            name=name,
            role_arn=cluster_role.arn,
            version=args.kubernetes_version,
            vpc_config=aws.eks.ClusterVpcConfigArgs(**vpc_config),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn),
            ),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            # The managed add-ons below install vpc-cni, kube-proxy and coredns; EKS's
            # unmanaged copies would conflict with them on the first add-on update.
            bootstrap_self_managed_addons=False,
            kubernetes_network_config=aws.eks.ClusterKubernetesNetworkConfigArgs(ip_family="ipv4"),
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=args.support_type),
            # Lets an operator (or ARC autoshift) move traffic away from an impaired zone.
            zonal_shift_config=aws.eks.ClusterZonalShiftConfigArgs(enabled=True),
            deletion_protection=args.protect,
            tags=self._tags(name),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                # The log group must exist first (else EKS creates one that never
                # expires); the policy must outlive the cluster on destroy, or EKS
                # cannot clean up its network interfaces.
                depends_on=[log_group, *cluster_policies],
            ),
        )
        self.cluster_name: pulumi.Output[str] = cluster.name
        self.cluster_arn: pulumi.Output[str] = cluster.arn
        self.endpoint: pulumi.Output[str] = cluster.endpoint
        self.certificate_authority: pulumi.Output[str] = cluster.certificate_authority.data
        self.cluster_security_group_id: pulumi.Output[str] = (
            cluster.vpc_config.cluster_security_group_id
        )
        self.oidc_issuer_url: pulumi.Output[str] = cluster.identities.apply(
            lambda identities: identities[0].oidcs[0].issuer
        )
        oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=self.oidc_issuer_url,
            client_id_lists=["sts.amazonaws.com"],
            tags=self._tags(f"{name}-oidc"),
            opts=child,
        )
        self.oidc_provider_arn: pulumi.Output[str] = oidc.arn

        access = self._access_entries(cluster)

        node_role = args.roles.role(
            f"{name}-node",
            parent=self,
            trust=[Trust.passed_role("ec2.amazonaws.com")],
            description=f"EC2 instances of {name}'s managed node groups",
            tags=self._tags(),
        )
        node_policies = self._attach(f"{name}-node", node_role, NODE_POLICIES)
        self.node_role_arn: pulumi.Output[str] = node_role.arn

        # Networking add-ons first: nodes without the CNI never become Ready.
        vpc_cni_role = self._irsa_role(
            "vpc-cni", "kube-system", VPC_CNI_SERVICE_ACCOUNT, managed=("AmazonEKS_CNI_Policy",)
        )
        vpc_cni = self._addon(cluster, "vpc-cni", role=vpc_cni_role)
        kube_proxy = self._addon(cluster, "kube-proxy")
        pod_identity = self._addon(cluster, "eks-pod-identity-agent")
        before_nodes = [vpc_cni, kube_proxy, pod_identity, *node_policies]

        template = self._launch_template()
        groups = [
            self._node_group(cluster, args.system_node_group, template, node_role, before_nodes)
        ]
        for spec in args.node_groups:
            groups.extend(self._node_groups_of(cluster, spec, template, node_role, before_nodes))
        self.node_groups = groups

        # Deployments: without nodes they would stay DEGRADED and the apply time out.
        coredns = self._addon(
            cluster, "coredns", config=self._coredns_configuration(), depends_on=groups
        )
        ebs_role = self._irsa_role(
            "ebs-csi",
            "kube-system",
            EBS_CSI_SERVICE_ACCOUNT,
            managed=("service-role/AmazonEBSCSIDriverPolicy",),
        )
        ebs_csi = self._addon(cluster, "aws-ebs-csi-driver", role=ebs_role, depends_on=groups)
        self.ready: list[pulumi.Resource] = [
            *groups,
            vpc_cni,
            kube_proxy,
            pod_identity,
            coredns,
            ebs_csi,
            *access,
        ]

        self.kubernetes_provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self._kubeconfig(cluster),
            # The deployer's access entry must exist before any in-cluster object, and
            # must outlive them all on destroy.
            opts=pulumi.ResourceOptions(parent=self, depends_on=access),
        )
        priority_classes = self._priority_classes()
        self._storage_class(ebs_csi)
        self.namespaces = self._namespaces()
        self._autoscaler(cluster, priority_classes)

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

    # --- helpers ---------------------------------------------------------------------

    def _tags(self, name: str | None = None) -> dict[str, str]:
        tags = dict(self._args.tags)
        if name:
            tags["Name"] = name
        return tags

    def _managed_policy(self, policy: str) -> pulumi.Output[str]:
        return pulumi.Output.format("arn:{0}:iam::aws:policy/{1}", self._partition, policy)

    def _attach(
        self, role_name: str, role: aws.iam.Role, policies: Sequence[str]
    ) -> list[aws.iam.RolePolicyAttachment]:
        """AWS managed policies, attached here rather than by the role factory so that
        what depends on them can say so (and keep them until it is gone)."""
        return [
            aws.iam.RolePolicyAttachment(
                f"{role_name}-{policy.rsplit('/', 1)[-1]}",
                role=role.name,
                policy_arn=self._managed_policy(policy),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for policy in policies
        ]

    def _irsa_role(
        self,
        label: str,
        namespace: str,
        service_account: str,
        *,
        managed: Sequence[str] = (),
        inline: Mapping[str, pulumi.Input[str]] | None = None,
    ) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
        role_name = f"{self._name}-{label}"
        role = self._args.roles.irsa_role(
            role_name,
            parent=self,
            oidc_provider_arn=self.oidc_provider_arn,
            oidc_issuer_url=self.oidc_issuer_url,
            namespace=namespace,
            service_account=service_account,
            description=f"{label} in {self._name} ({namespace}/{service_account}, IRSA)",
            inline_policies=inline,
            tags=self._tags(),
        )
        return role, self._attach(role_name, role, managed)

    # --- encryption and logs -----------------------------------------------------------

    def _encryption_and_logs(self) -> tuple[aws.kms.Key, aws.cloudwatch.LogGroup]:
        name, args = self._name, self._args
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)
        group_name = f"/aws/eks/{name}/cluster"
        group_arn = pulumi.Output.format(
            "arn:{0}:logs:{1}:{2}:log-group:{3}",
            self._partition,
            args.region,
            self._account,
            group_name,
        )
        # The account administers the key through IAM (the AWS default); EKS uses it
        # through a grant its creator makes.
        key = rotating_key(
            f"{name}-secrets",
            parent=self,
            description=f"Envelope-encrypts {name}'s Kubernetes Secrets and control-plane logs",
            partition=self._partition,
            account_id=self._account,
            statements=[
                log_group_statement(
                    region=args.region,
                    log_group_arn=group_arn,
                    sid="CloudWatchLogsUsesKeyForTheControlPlaneLogsOnly",
                    actions=LOG_GROUP_KEY_ACTIONS_DOCUMENTED_ORDER,
                )
            ],
            tags=self._tags(f"{name}-secrets"),
            protect=args.protect,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=group_name,
            retention_in_days=args.log_retention_days,
            kms_key_id=key.arn,
            tags=self._tags(group_name),
            opts=stateful,
        )
        return key, log_group

    # --- access ----------------------------------------------------------------------

    def _access_entries(self, cluster: aws.eks.Cluster) -> list[pulumi.Resource]:
        """Access entries and their policy associations: returns the associations (an
        entry without one grants nothing)."""
        args = self._args
        grants: list[tuple[str, pulumi.Input[str], str]] = []
        if args.deployer_principal_arn is not None:
            grants.append(("deployer", args.deployer_principal_arn, ADMIN_ACCESS_POLICY))
        for arn in args.admin_principal_arns:
            grants.append((f"admin-{_principal_label(arn)}", arn, ADMIN_ACCESS_POLICY))
        for arn in args.read_only_principal_arns:
            grants.append((f"view-{_principal_label(arn)}", arn, READ_ONLY_ACCESS_POLICY))
        associations: list[pulumi.Resource] = []
        for label, principal, policy in grants:
            resource_name = f"{self._name}-{label}"
            entry = aws.eks.AccessEntry(
                resource_name,
                cluster_name=cluster.name,
                principal_arn=principal,
                type="STANDARD",
                tags=self._tags(resource_name),
                opts=pulumi.ResourceOptions(parent=self),
            )
            associations.append(
                aws.eks.AccessPolicyAssociation(
                    resource_name,
                    cluster_name=cluster.name,
                    principal_arn=entry.principal_arn,
                    policy_arn=pulumi.Output.format(
                        "arn:{0}:eks::aws:cluster-access-policy/{1}", self._partition, policy
                    ),
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        return associations

    # --- nodes -------------------------------------------------------------------------

    def _launch_template(self) -> aws.ec2.LaunchTemplate:
        name, args = self._name, self._args
        launched_tags = {**args.instance_tags, **args.tags, "Name": f"{name}-node"}
        return aws.ec2.LaunchTemplate(
            f"{name}-nodes",
            description=f"Every node of {name}: IMDSv2 only, encrypted gp3 root volume",
            update_default_version=True,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=IMDS_HOP_LIMIT,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=args.node_volume_size_gib,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=launched_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            tags=self._tags(f"{name}-nodes"),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _node_groups_of(
        self,
        cluster: aws.eks.Cluster,
        spec: NodeGroupSpec,
        template: aws.ec2.LaunchTemplate,
        node_role: aws.iam.Role,
        depends_on: Sequence[pulumi.Resource],
    ) -> list[aws.eks.NodeGroup]:
        if not spec.per_az:
            return [self._node_group(cluster, spec, template, node_role, depends_on)]
        subnets = pulumi.Output.from_input(self._args.private_subnet_ids)
        return [
            self._node_group(
                cluster,
                spec,
                template,
                node_role,
                depends_on,
                zone=zone,
                subnet_ids=subnets.apply(lambda ids, i=index: [ids[i]]),
            )
            for index, zone in enumerate(self._args.availability_zones)
        ]

    def _node_group(
        self,
        cluster: aws.eks.Cluster,
        spec: NodeGroupSpec,
        template: aws.ec2.LaunchTemplate,
        node_role: aws.iam.Role,
        depends_on: Sequence[pulumi.Resource],
        *,
        zone: str | None = None,
        subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
    ) -> aws.eks.NodeGroup:
        system = spec.name == SYSTEM_NODE_GROUP
        resource_name = f"{self._name}-{spec.name}" + (f"-{zone}" if zone else "")
        arm = instance_architecture(spec.instance_types[0]) == "arm64"
        taints = list(spec.taints)
        if system:
            taints = [Taint(SYSTEM_TAINT_KEY, SYSTEM_TAINT_VALUE, "NoSchedule")]
        return aws.eks.NodeGroup(
            resource_name,
            cluster_name=cluster.name,
            version=cluster.version,
            node_role_arn=node_role.arn,
            subnet_ids=subnet_ids if subnet_ids is not None else self._args.private_subnet_ids,
            ami_type="AL2023_ARM_64_STANDARD" if arm else "AL2023_x86_64_STANDARD",
            capacity_type="SPOT" if spec.capacity_type == "spot" and not system else "ON_DEMAND",
            instance_types=list(spec.instance_types),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=spec.min_size,
                max_size=spec.max_size,
                desired_size=spec.desired_size if spec.desired_size is not None else spec.min_size,
            ),
            # Node upgrades replace a third of a group at a time (one node of the system
            # group), so a zone's worth of capacity stays while nodes roll.
            update_config=(
                aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1)
                if system
                else aws.eks.NodeGroupUpdateConfigArgs(max_unavailable_percentage=33)
            ),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            labels={**spec.labels, NODE_GROUP_LABEL: spec.name},
            taints=[
                aws.eks.NodeGroupTaintArgs(key=t.key, value=t.value, effect=TAINT_EFFECTS[t.effect])
                for t in taints
            ],
            # EKS replaces nodes whose kubelet or networking stays unhealthy.
            node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(enabled=True),
            # A per-zone group is one member of a set that covers every zone together;
            # the tag says so to the guardrails (eks-nodegroup-multi-az).
            tags={
                **self._tags(resource_name),
                **({NODE_GROUP_SET_TAG: f"{self._name}-{spec.name}"} if zone else {}),
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                # The autoscaler owns the node count; Pulumi setting it back on every
                # `up` would undo each scale-out (and drain nodes under load).
                ignore_changes=["scalingConfig.desiredSize"],
                depends_on=list(depends_on),
            ),
        )

    # --- add-ons -----------------------------------------------------------------------

    def _addon(
        self,
        cluster: aws.eks.Cluster,
        addon: str,
        *,
        role: tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]] | None = None,
        config: Mapping[str, Any] | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> aws.eks.Addon:
        resource_name = f"{self._name}-{addon}"
        dependencies = list(depends_on) + (list(role[1]) if role else [])
        return aws.eks.Addon(
            resource_name,
            cluster_name=cluster.name,
            addon_name=addon,
            addon_version=self._addon_versions[addon],
            # EKS owns these add-ons: a field someone changed by hand is overwritten
            # rather than failing the update (configuration belongs in this code).
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            service_account_role_arn=role[0].arn if role else None,
            configuration_values=json.dumps(config, sort_keys=True) if config else None,
            tags=self._tags(resource_name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=dependencies),
        )

    def _coredns_configuration(self) -> dict[str, Any]:
        """CoreDNS add-on values: on the system nodes (tolerating their taint), one
        replica per zone (at least two), spread across zones, and a PDB."""
        replicas = max(2, len(self._args.availability_zones))
        selector = {"k8s-app": "kube-dns"}
        return {
            "replicaCount": replicas,
            "tolerations": [SYSTEM_NODES_TOLERATION.manifest()],
            # Replaces the add-on's default affinity, so its hostname anti-affinity is
            # restated here: two replicas never share a node when another one fits.
            "affinity": {
                **system_node_affinity(),
                "podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 100,
                            "podAffinityTerm": {
                                "labelSelector": {"matchLabels": selector},
                                "topologyKey": HOST_KEY,
                            },
                        }
                    ]
                },
            },
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": ZONE_KEY,
                    "whenUnsatisfiable": "DoNotSchedule",
                    "labelSelector": {"matchLabels": selector},
                }
            ],
            "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        }

    # --- the Kubernetes side -------------------------------------------------------------

    def _kubeconfig(self, cluster: aws.eks.Cluster) -> pulumi.Output[str]:
        region = self._args.region

        def render(values: list[Any]) -> str:
            cluster_name, endpoint, authority = values
            return json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": cluster_name,
                            "cluster": {
                                "server": endpoint,
                                "certificate-authority-data": authority,
                            },
                        }
                    ],
                    "contexts": [
                        {
                            "name": cluster_name,
                            "context": {"cluster": cluster_name, "user": cluster_name},
                        }
                    ],
                    "current-context": cluster_name,
                    "users": [
                        {
                            "name": cluster_name,
                            "user": {
                                "exec": {
                                    "apiVersion": "client.authentication.k8s.io/v1beta1",
                                    "command": "aws",
                                    "args": [
                                        "eks",
                                        "get-token",
                                        "--cluster-name",
                                        cluster_name,
                                        "--region",
                                        region,
                                        "--output",
                                        "json",
                                    ],
                                    "interactiveMode": "Never",
                                }
                            },
                        }
                    ],
                }
            )

        return pulumi.Output.all(cluster.name, cluster.endpoint, self.certificate_authority).apply(
            render
        )

    def _in_cluster(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self, provider=self.kubernetes_provider, depends_on=list(depends_on)
        )

    def _priority_classes(self) -> list[k8s.scheduling.v1.PriorityClass]:
        return [
            k8s.scheduling.v1.PriorityClass(
                f"{self._name}-priority-{spec.name}",
                metadata={"name": spec.name},
                value=spec.value,
                global_default=False,
                preemption_policy="PreemptLowerPriority",
                description=spec.description,
                opts=self._in_cluster(),
            )
            for spec in PRIORITY_CLASSES
        ]

    def _storage_class(self, ebs_csi: aws.eks.Addon) -> k8s.storage.v1.StorageClass:
        """The default StorageClass: encrypted gp3, provisioned in the zone of the pod
        that first uses it (WaitForFirstConsumer), so a volume never lands in a zone its
        pod cannot run in."""
        return k8s.storage.v1.StorageClass(
            f"{self._name}-storage-{DEFAULT_STORAGE_CLASS}",
            metadata={
                "name": DEFAULT_STORAGE_CLASS,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            provisioner="ebs.csi.aws.com",
            parameters={
                "type": "gp3",
                "encrypted": "true",
                "csi.storage.k8s.io/fstype": "ext4",
                # Volumes carry the cluster's and environment's names, so what a
                # destroy leaves behind is easy to find (runbooks/cluster-destroy.md);
                # provider default tags do not reach volumes the driver creates.
                **{
                    f"tagSpecification_{index}": f"{key}={value}"
                    for index, (key, value) in enumerate(self._volume_tags().items(), start=1)
                },
            },
            reclaim_policy="Delete",
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            # The driver must outlive the class (and the volumes provisioned through it).
            opts=self._in_cluster([ebs_csi]),
        )

    def _volume_tags(self) -> dict[str, str]:
        return {
            CLUSTER_TAG: self._name,
            "environment": self._args.environment,
            **{k: v for k, v in self._args.tags.items() if k != "Name"},
        }

    def _namespaces(self) -> dict[str, k8s.core.v1.Namespace]:
        namespaces: dict[str, k8s.core.v1.Namespace] = {}
        for spec in [*self._args.platform_namespaces, *self._args.service_namespaces]:
            label = f"{self._name}-ns-{spec.name}"
            namespace = k8s.core.v1.Namespace(
                label,
                metadata=spec.namespace_metadata(),
                # Deleting a namespace deletes what others put in it (Services with load
                # balancers, PVCs with volumes); the controllers that clean those up run
                # on the nodes, so namespaces go before the nodes and add-ons do.
                opts=self._in_cluster(self.ready),
            )
            inside = self._in_cluster([namespace])
            k8s.core.v1.LimitRange(
                f"{label}-defaults",
                metadata={"name": "defaults", "namespace": spec.name},
                spec=spec.limit_range_spec(),
                opts=inside,
            )
            k8s.core.v1.ResourceQuota(
                f"{label}-budget",
                metadata={"name": "budget", "namespace": spec.name},
                spec=spec.resource_quota_spec(),
                opts=inside,
            )
            platform_priority = spec.platform_priority_quota_spec()
            if platform_priority is not None:
                k8s.core.v1.ResourceQuota(
                    f"{label}-no-platform-priority",
                    metadata={"name": "no-platform-priority", "namespace": spec.name},
                    spec=platform_priority,
                    opts=inside,
                )
            namespaces[spec.name] = namespace
        return namespaces

    def _autoscaler(
        self,
        cluster: aws.eks.Cluster,
        priority_classes: Sequence[pulumi.Resource],
    ) -> k8s.helm.v3.Release:
        """Cluster Autoscaler: scales the managed node groups' Auto Scaling groups,
        discovered by the tags EKS puts on them for this cluster."""
        args = self._args
        role, attachments = self._irsa_role(
            "autoscaler",
            AUTOSCALER_NAMESPACE,
            AUTOSCALER_SERVICE_ACCOUNT,
            inline={"scale-this-cluster": self._autoscaler_policy(cluster)},
        )
        defaults = workload_defaults(
            "cluster-autoscaler",
            namespace=AUTOSCALER_NAMESPACE,
            tier="platform",
            cpu="100m",
            memory="600Mi",
            system_nodes=True,
        )
        values: dict[str, Any] = {
            "cloudProvider": "aws",
            "awsRegion": args.region,
            "autoDiscovery": {"clusterName": cluster.name},
            "nameOverride": "cluster-autoscaler",
            "fullnameOverride": "cluster-autoscaler",
            "image": {"tag": versions.cluster_autoscaler_image_tag(args.kubernetes_version)},
            "replicaCount": args.autoscaler_replicas,
            "rbac": {
                "serviceAccount": {
                    "create": True,
                    "name": AUTOSCALER_SERVICE_ACCOUNT,
                    "annotations": {"eks.amazonaws.com/role-arn": role.arn},
                }
            },
            "extraArgs": {
                # Keeps per-zone groups (perAz) the same size, so every zone keeps room.
                "balance-similar-node-groups": True,
                "expander": "least-waste",
                # emptyDir scratch space must not pin a node forever.
                "skip-nodes-with-local-storage": False,
            },
            **defaults.helm_values(),
        }
        return k8s.helm.v3.Release(
            f"{self._name}-autoscaler",
            name="cluster-autoscaler",
            chart=versions.CLUSTER_AUTOSCALER_CHART,
            version=versions.CLUSTER_AUTOSCALER_CHART_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(
                repo=versions.CLUSTER_AUTOSCALER_CHART_REPOSITORY
            ),
            namespace=AUTOSCALER_NAMESPACE,
            values=values,
            opts=self._in_cluster(
                [
                    self.namespaces[AUTOSCALER_NAMESPACE],
                    *priority_classes,
                    *attachments,
                    *self.ready,
                ]
            ),
        )

    def _autoscaler_policy(self, cluster: aws.eks.Cluster) -> pulumi.Output[str]:
        """Least privilege: read the Auto Scaling and EC2 inventory (no resource-level
        permissions exist for it), change only Auto Scaling groups tagged as this
        cluster's, read only this cluster's node groups."""
        region = self._args.region

        def render(values: list[Any]) -> str:
            partition, account, cluster_name = values
            return json.dumps(
                autoscaler_policy_document(
                    partition=partition, region=region, account_id=account, cluster=cluster_name
                )
            )

        return pulumi.Output.all(self._partition, self._account, cluster.name).apply(render)


def autoscaler_policy_document(
    *, partition: str, region: str, account_id: str, cluster: str
) -> dict[str, Any]:
    """The Cluster Autoscaler's policy (AWS cloud provider README, "Minimal IAM
    Permissions Policy"), minus `ec2:GetInstanceTypesFromInstanceRequirements`: only
    Auto Scaling groups using attribute-based instance selection need it, and managed
    node groups list their instance types."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadTheInventory",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                ],
                "Resource": "*",
            },
            {
                "Sid": "ScaleOnlyThisClustersGroups",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:SetDesiredCapacity",
                    "autoscaling:TerminateInstanceInAutoScalingGroup",
                ],
                "Resource": (
                    f"arn:{partition}:autoscaling:{region}:{account_id}:autoScalingGroup:*:"
                    "autoScalingGroupName/*"
                ),
                "Condition": {
                    "StringEquals": {
                        f"aws:ResourceTag/{AUTOSCALER_CLUSTER_TAG.format(cluster=cluster)}": (
                            "owned"
                        )
                    }
                },
            },
            {
                "Sid": "ReadThisClustersNodeGroups",
                "Effect": "Allow",
                "Action": "eks:DescribeNodegroup",
                "Resource": f"arn:{partition}:eks:{region}:{account_id}:nodegroup/{cluster}/*/*",
            },
        ],
    }


def _principal_label(arn: str) -> str:
    """`arn:aws:iam::1:role/path/platform-admins` -> `platform-admins` (resource names)."""
    return arn.rsplit("/", 1)[-1].lower().replace("_", "-").replace(".", "-")[:40]


def _check(name: str, args: ClusterArgs) -> None:
    """Refuse arguments that would build an unsafe or unusable cluster (config
    validation says the same earlier, for stacks)."""
    if args.endpoint_public_access and not args.public_access_cidrs:
        raise ValueError(f"{name}: a public endpoint needs public_access_cidrs")
    open_cidrs = [c for c in args.public_access_cidrs if c.endswith("/0")]
    if open_cidrs:
        raise ValueError(f"{name}: the public endpoint must not be open to {open_cidrs[0]}")
    if not args.node_groups:
        raise ValueError(f"{name}: at least one workload node group is needed")
    if len(args.availability_zones) < 2:
        raise ValueError(f"{name}: EKS needs subnets in at least two zones")
    names = [g.name for g in args.node_groups]
    if SYSTEM_NODE_GROUP in names or len(set(names)) != len(names):
        raise ValueError(f"{name}: node group names must be unique and not 'system'")
    if args.system_node_group.name != SYSTEM_NODE_GROUP:
        raise ValueError(f"{name}: the system node group must be named 'system'")
    for group in [args.system_node_group, *args.node_groups]:
        arches = {instance_architecture(t) for t in group.instance_types}
        if not group.instance_types or len(arches) != 1:
            raise ValueError(f"{name}: node group {group.name} needs types of one architecture")
    labels = [
        *(n.name for n in args.platform_namespaces),
        *(n.name for n in args.service_namespaces),
    ]
    dupes = sorted({n for n in labels if labels.count(n) > 1})
    if dupes:
        raise ValueError(f"{name}: namespaces are declared twice: {', '.join(dupes)}")
    if AUTOSCALER_NAMESPACE not in {n.name for n in args.platform_namespaces}:
        raise ValueError(f"{name}: platform_namespaces must include {AUTOSCALER_NAMESPACE}")
