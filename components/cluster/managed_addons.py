"""EKS managed add-ons, pinned in components/versions.py with `OVERWRITE` conflict
resolution: vpc-cni, kube-proxy and eks-pod-identity-agent before the nodes (nodes
without the CNI never become Ready); coredns (on the system nodes, spread over zones,
with a PDB) and aws-ebs-csi-driver after them (Deployments without nodes would stay
DEGRADED and the apply time out)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components import versions
from components.cluster.roles import IrsaRole, OidcProvider, irsa_role
from components.cluster.scope import ClusterScope
from components.workloads import HOST_KEY, SYSTEM_NODES_TOLERATION, ZONE_KEY, system_node_affinity

VPC_CNI_SERVICE_ACCOUNT = "aws-node"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"


def managed_addon(
    scope: ClusterScope,
    cluster: aws.eks.Cluster,
    addon: str,
    *,
    role: IrsaRole | None = None,
    config: Mapping[str, Any] | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> aws.eks.Addon:
    """`addon` at the version pinned for the cluster's Kubernetes version, with its IRSA
    role (after the role's policies) and configuration values."""
    resource_name = f"{scope.name}-{addon}"
    dependencies = list(depends_on) + (list(role[1]) if role else [])
    return aws.eks.Addon(
        resource_name,
        cluster_name=cluster.name,
        addon_name=addon,
        addon_version=versions.addon_versions(scope.settings.kubernetes_version)[addon],
        # EKS owns these add-ons: a field someone changed by hand is overwritten rather
        # than failing the update (configuration belongs in this code).
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        service_account_role_arn=role[0].arn if role else None,
        configuration_values=json.dumps(config, sort_keys=True) if config else None,
        tags=scope.tags(resource_name),
        opts=scope.opts(depends_on=dependencies),
    )


def networking_addons(
    scope: ClusterScope, cluster: aws.eks.Cluster, oidc: OidcProvider
) -> list[aws.eks.Addon]:
    """vpc-cni (with its own IRSA role, so no pod gets the CNI policy through the node
    role), kube-proxy and the Pod Identity agent: what nodes need to become Ready."""
    cni_role = irsa_role(
        scope,
        oidc,
        "vpc-cni",
        "kube-system",
        VPC_CNI_SERVICE_ACCOUNT,
        managed=("AmazonEKS_CNI_Policy",),
    )
    return [
        managed_addon(scope, cluster, "vpc-cni", role=cni_role),
        managed_addon(scope, cluster, "kube-proxy"),
        managed_addon(scope, cluster, "eks-pod-identity-agent"),
    ]


def workload_addons(
    scope: ClusterScope,
    cluster: aws.eks.Cluster,
    oidc: OidcProvider,
    *,
    node_groups: Sequence[pulumi.Resource],
    availability_zones: Sequence[str],
) -> tuple[aws.eks.Addon, aws.eks.Addon]:
    """coredns and the EBS CSI driver (with its IRSA role), after the node groups."""
    coredns = managed_addon(
        scope,
        cluster,
        "coredns",
        config=coredns_configuration(len(availability_zones)),
        depends_on=node_groups,
    )
    ebs_role = irsa_role(
        scope,
        oidc,
        "ebs-csi",
        "kube-system",
        EBS_CSI_SERVICE_ACCOUNT,
        managed=("service-role/AmazonEBSCSIDriverPolicy",),
    )
    ebs_csi = managed_addon(
        scope, cluster, "aws-ebs-csi-driver", role=ebs_role, depends_on=node_groups
    )
    return coredns, ebs_csi


def coredns_configuration(zones: int) -> dict[str, Any]:
    """CoreDNS add-on values: on the system nodes (tolerating their taint), one replica
    per zone (at least two), spread across zones, and a PDB."""
    selector = {"k8s-app": "kube-dns"}
    return {
        "replicaCount": max(2, zones),
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
