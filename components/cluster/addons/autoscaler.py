"""The Cluster Autoscaler: scales the managed node groups' Auto Scaling groups, found by
the tags EKS puts on them for this cluster, through an IRSA role that may change only
those groups. Chosen over Karpenter for managed node groups; see docs/cluster.md."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import versions
from components.cluster.roles import OidcProvider, irsa_role
from components.cluster.scope import ClusterFacts, ClusterScope, InClusterScope
from components.tags import AUTOSCALER_CLUSTER_TAG
from components.workloads import workload_defaults

NAMESPACE = "cluster-autoscaler"
SERVICE_ACCOUNT = "cluster-autoscaler"


def replicas(environment: str, zones: int) -> int:
    """Two replicas (one leads, the other takes over within seconds when its node goes)
    in prod or across more than two zones; one where a zone's loss is acceptable (two
    zones outside prod), which halves the cost of a ~0.1 vCPU pod."""
    return 2 if environment == "prod" or zones > 2 else 1


def policy_document(
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


def helm_values(
    *,
    region: str,
    cluster_name: pulumi.Input[str],
    kubernetes_version: str,
    replica_count: int,
    role_arn: pulumi.Input[str],
) -> dict[str, Any]:
    """Values of the pinned cluster-autoscaler chart."""
    defaults = workload_defaults(
        "cluster-autoscaler",
        namespace=NAMESPACE,
        tier="platform",
        cpu="100m",
        memory="600Mi",
        system_nodes=True,
    )
    return {
        "cloudProvider": "aws",
        "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster_name},
        "nameOverride": "cluster-autoscaler",
        "fullnameOverride": "cluster-autoscaler",
        "image": {"tag": versions.cluster_autoscaler_image_tag(kubernetes_version)},
        "replicaCount": replica_count,
        "rbac": {
            "serviceAccount": {
                "create": True,
                "name": SERVICE_ACCOUNT,
                "annotations": {"eks.amazonaws.com/role-arn": role_arn},
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


def role(
    scope: ClusterScope, oidc: OidcProvider, cluster: aws.eks.Cluster
) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """The platform layer's half: the IRSA role `<cluster>-autoscaler`, which only the
    chart's service account can assume and which may change only this cluster's
    groups."""
    ctx = scope.context

    def render_policy(values: list[Any]) -> str:
        partition, account, cluster_name = values
        return json.dumps(
            policy_document(
                partition=partition, region=ctx.region, account_id=account, cluster=cluster_name
            )
        )

    return irsa_role(
        scope,
        oidc,
        "autoscaler",
        NAMESPACE,
        SERVICE_ACCOUNT,
        inline={
            "scale-this-cluster": pulumi.Output.all(
                ctx.partition, ctx.account_id, cluster.name
            ).apply(render_policy)
        },
    )


def release(
    scope: InClusterScope,
    *,
    cluster: ClusterFacts,
    namespace: pulumi.Resource,
    priority_classes: Sequence[pulumi.Resource],
) -> k8s.helm.v3.Release:
    """The cluster layer's half: the Helm release in its namespace, after the namespace
    and the priority classes, using the role the platform layer made."""
    return k8s.helm.v3.Release(
        f"{scope.name}-autoscaler",
        name="cluster-autoscaler",
        chart=versions.CLUSTER_AUTOSCALER_CHART,
        version=versions.CLUSTER_AUTOSCALER_CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(
            repo=versions.CLUSTER_AUTOSCALER_CHART_REPOSITORY
        ),
        namespace=NAMESPACE,
        values=helm_values(
            region=cluster.region,
            cluster_name=cluster.name,
            kubernetes_version=cluster.kubernetes_version,
            replica_count=replicas(cluster.environment, cluster.zone_count),
            role_arn=cluster.autoscaler_role_arn,
        ),
        opts=scope.opts([namespace, *priority_classes], moved=True),
    )
