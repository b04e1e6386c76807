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
from components.cluster.scope import ClusterScope, InClusterScope
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


def install(
    aws_scope: ClusterScope,
    k8s_scope: InClusterScope,
    *,
    cluster: aws.eks.Cluster,
    oidc: OidcProvider,
    availability_zones: Sequence[str],
    namespace: pulumi.Resource,
    priority_classes: Sequence[pulumi.Resource],
) -> k8s.helm.v3.Release:
    """The IRSA role and the Helm release, after its namespace, the priority classes,
    the role's policies and the cluster's readiness."""
    ctx = aws_scope.context

    def render_policy(values: list[Any]) -> str:
        partition, account, cluster_name = values
        return json.dumps(
            policy_document(
                partition=partition, region=ctx.region, account_id=account, cluster=cluster_name
            )
        )

    role, attachments = irsa_role(
        aws_scope,
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
    return k8s.helm.v3.Release(
        f"{aws_scope.name}-autoscaler",
        name="cluster-autoscaler",
        chart=versions.CLUSTER_AUTOSCALER_CHART,
        version=versions.CLUSTER_AUTOSCALER_CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(
            repo=versions.CLUSTER_AUTOSCALER_CHART_REPOSITORY
        ),
        namespace=NAMESPACE,
        values=helm_values(
            region=ctx.region,
            cluster_name=cluster.name,
            kubernetes_version=aws_scope.settings.kubernetes_version,
            replica_count=replicas(ctx.environment, len(availability_zones)),
            role_arn=role.arn,
        ),
        opts=k8s_scope.opts([namespace, *priority_classes, *attachments, *k8s_scope.ready]),
    )
