"""The nodes: their role, one launch template (IMDSv2 with a hop limit of 1, encrypted
gp3 root volumes), the tainted `system` group and the workload groups (spanning every
private subnet, or one per zone with `perAz`). Each group runs the Amazon Linux 2023 AMI
type its instance types need (NVIDIA or Neuron drivers for accelerated families;
`NodeGroupConfig.resolved_ami_type`), and NVIDIA groups carry the GPU taint.
`scalingConfig.desiredSize` is ignored after creation: the Cluster Autoscaler owns it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pulumi
import pulumi_aws as aws

from components.cluster.roles import service_role
from components.cluster.scope import ClusterScope
from components.config import NodeGroupConfig, SystemNodeGroupConfig
from components.tags import (
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    NODE_GROUP_LABEL,
    NODE_GROUP_SET_TAG,
    SYSTEM_TAINT_KEY,
    SYSTEM_TAINT_VALUE,
)
from components.workloads import SYSTEM_NODE_GROUP

#: IMDSv2 hop limit of the nodes. 1: a pod (one network hop further than the node)
#: cannot reach the instance metadata service, so it cannot take the node role's
#: credentials; pods get AWS access through IRSA or Pod Identity instead. Host-network
#: pods (vpc-cni, kube-proxy, the EBS CSI node plugin, the Pod Identity agent) are not a
#: hop away and are unaffected. The price: a pod that wants its region or instance ID
#: from IMDS must be told instead (the autoscaler gets `awsRegion`).
IMDS_HOP_LIMIT = 1
ROOT_DEVICE = "/dev/xvda"
#: AmazonEKS_CNI_Policy is not here: vpc-cni gets it through IRSA, so no pod can use it
#: through the node role. SSM lets operators reach nodes without SSH or a bastion.
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
)
TAINT_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
}


def node_role(scope: ClusterScope) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """The role of every node's instance profile, with the policies EKS documents."""
    return service_role(
        scope,
        "node",
        "ec2.amazonaws.com",
        NODE_POLICIES,
        f"EC2 instances of {scope.name}'s managed node groups",
    )


def launch_template(
    scope: ClusterScope, instance_tags: Mapping[str, str]
) -> aws.ec2.LaunchTemplate:
    """Every node's template. `instance_tags` reach the instances, volumes and network
    interfaces it launches (provider default tags do not)."""
    name = scope.name
    launched_tags = {**instance_tags, **scope.context.tags, "Name": f"{name}-node"}
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
                    volume_size=scope.settings.node_volume_size_gib,
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
        tags=scope.tags(f"{name}-nodes"),
        opts=scope.opts(),
    )


NodeGroupSettings = NodeGroupConfig | SystemNodeGroupConfig


def node_groups(
    scope: ClusterScope,
    *,
    cluster: aws.eks.Cluster,
    template: aws.ec2.LaunchTemplate,
    role: aws.iam.Role,
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
    availability_zones: Sequence[str],
    depends_on: Sequence[pulumi.Resource],
) -> list[aws.eks.NodeGroup]:
    """The system group, then each configured workload group (one per zone for `perAz`)."""

    def group(
        settings: NodeGroupSettings,
        zone: str | None = None,
        subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
    ) -> aws.eks.NodeGroup:
        return _node_group(
            scope,
            settings,
            cluster=cluster,
            template=template,
            role=role,
            subnet_ids=subnet_ids if subnet_ids is not None else private_subnet_ids,
            depends_on=depends_on,
            zone=zone,
        )

    groups = [group(scope.settings.system_node_group)]
    subnets = pulumi.Output.from_input(private_subnet_ids)
    for settings in scope.settings.node_groups:
        if not settings.per_az:
            groups.append(group(settings))
            continue
        groups.extend(
            group(settings, zone, subnets.apply(_only_subnet(index)))
            for index, zone in enumerate(availability_zones)
        )
    return groups


def _only_subnet(
    index: int,
) -> Callable[[Sequence[pulumi.Input[str]]], list[pulumi.Input[str]]]:
    """The subnet list of a per-zone group: the zone's private subnet alone."""
    return lambda ids: [ids[index]]


def _node_group(
    scope: ClusterScope,
    settings: NodeGroupSettings,
    *,
    cluster: aws.eks.Cluster,
    template: aws.ec2.LaunchTemplate,
    role: aws.iam.Role,
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
    depends_on: Sequence[pulumi.Resource],
    zone: str | None,
) -> aws.eks.NodeGroup:
    taints: list[tuple[str, str | None, str]]
    if isinstance(settings, SystemNodeGroupConfig):
        group_name, spot, labels = SYSTEM_NODE_GROUP, False, {}
        system = True
        taints = [(SYSTEM_TAINT_KEY, SYSTEM_TAINT_VALUE, "NoSchedule")]
    else:
        group_name, spot, labels = settings.name, settings.capacity_type == "spot", settings.labels
        system = False
        taints = [(t.key, t.value, t.effect) for t in settings.taints]
        if settings.accelerator == "nvidia" and (GPU_TAINT_KEY, "NoSchedule") not in {
            (key, effect) for key, _, effect in taints
        }:
            taints.append((GPU_TAINT_KEY, GPU_TAINT_VALUE, "NoSchedule"))
    resource_name = f"{scope.name}-{group_name}" + (f"-{zone}" if zone else "")
    desired = settings.desired_size if settings.desired_size is not None else settings.min_size
    return aws.eks.NodeGroup(
        resource_name,
        cluster_name=cluster.name,
        version=cluster.version,
        node_role_arn=role.arn,
        subnet_ids=subnet_ids,
        ami_type=settings.resolved_ami_type,
        capacity_type="SPOT" if spot else "ON_DEMAND",
        instance_types=list(settings.instance_types),
        scaling_config=aws.eks.NodeGroupScalingConfigArgs(
            min_size=settings.min_size, max_size=settings.max_size, desired_size=desired
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
        labels={**labels, NODE_GROUP_LABEL: group_name},
        taints=[
            aws.eks.NodeGroupTaintArgs(key=key, value=value, effect=TAINT_EFFECTS[effect])
            for key, value, effect in taints
        ],
        # EKS replaces nodes whose kubelet or networking stays unhealthy.
        node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(enabled=True),
        # A per-zone group is one member of a set that covers every zone together; the
        # tag says so to the guardrails (eks-nodegroup-multi-az).
        tags={
            **scope.tags(resource_name),
            **({NODE_GROUP_SET_TAG: f"{scope.name}-{group_name}"} if zone else {}),
        },
        opts=pulumi.ResourceOptions(
            parent=scope.parent,
            # The autoscaler owns the node count; Pulumi setting it back on every `up`
            # would undo each scale-out (and drain nodes under load).
            ignore_changes=["scalingConfig.desiredSize"],
            depends_on=list(depends_on),
        ),
    )


def gpu_node_groups(settings: Sequence[NodeGroupConfig]) -> list[str]:
    """The names of the workload groups with NVIDIA GPUs (a `perAz` set once), in config
    order: the cluster layer installs the NVIDIA device plugin on exactly their nodes."""
    return [group.name for group in settings if group.accelerator == "nvidia"]
