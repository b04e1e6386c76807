"""EKS control plane and node groups, through the analyzer protocol."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi_aws as aws

from components.tags import NODE_GROUP_SET_TAG
from tests.policy.casebook import ACCOUNT, ZONES, Case, tags

CLUSTER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ballast-test-cluster"
NODE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ballast-test-nodes"
ALL_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
#: What components/cluster/nodes.py puts on each group of a `perAz` set (value: the set's name).
SET_TAG = NODE_GROUP_SET_TAG


def cluster(vpc=None, **overrides):
    def build(env, name):
        args = {
            "role_arn": CLUSTER_ROLE,
            "version": "1.33",
            "vpc_config": {
                "subnet_ids": [s.id for s in env.subnets],
                "endpoint_private_access": True,
                "endpoint_public_access": False,
                **(vpc or {}),
            },
            "encryption_config": {"resources": ["secrets"], "provider": {"key_arn": env.key.arn}},
            "enabled_cluster_log_types": ALL_LOGS,
            "access_config": {"authentication_mode": "API"},
            "tags": tags(),
            **overrides,
        }
        aws.eks.Cluster(name, **args, opts=env.opts())

    return build


def node_group(zones: int = 3, *, subnets: Sequence[int] | None = None, **overrides):
    """A node group in the first `zones` subnets, or in the subnets at `subnets`."""

    def build(env, name):
        chosen = [env.subnets[i] for i in subnets] if subnets is not None else env.subnets[:zones]
        args = {
            "cluster_name": "ballast-test",
            "node_role_arn": NODE_ROLE,
            "subnet_ids": [s.id for s in chosen],
            "instance_types": ["m6i.large"],
            "scaling_config": {"min_size": 3, "max_size": 6, "desired_size": 3},
            "tags": tags(),
            **overrides,
        }
        aws.eks.NodeGroup(name, **args, opts=env.opts())

    return build


def per_zone_set(*members: Sequence[int], tagged: bool = True, cluster_names: Sequence[str] = ()):
    """One node group per entry of `members` (the indexes of its subnets, i.e. its
    zones), named `<case>-<zones>` like components/cluster/nodes.py's perAz groups and, when `tagged`,
    marked as one set named after the case. `cluster_names` gives each member's cluster."""

    def build(env, name):
        marker = {SET_TAG: name} if tagged else {}
        for index, subnets in enumerate(members):
            cluster = {"cluster_name": cluster_names[index]} if cluster_names else {}
            suffix = "-".join(ZONES[i][-1] for i in subnets)
            node_group(subnets=subnets, tags=tags(**marker), **cluster)(env, f"{name}-{suffix}")

    return build


CASES = [
    Case(
        "cluster-private",
        cluster(),
        passes=(
            "eks-private-endpoint",
            "eks-public-endpoint-restricted",
            "eks-secrets-encryption",
            "eks-control-plane-logging",
            "eks-access-entries",
        ),
    ),
    Case(
        "cluster-public-listed",
        cluster(vpc={"endpoint_public_access": True, "public_access_cidrs": ["203.0.113.0/24"]}),
        passes=("eks-public-endpoint-restricted",),
    ),
    Case(
        "cluster-public-only",
        cluster(
            vpc={
                "endpoint_private_access": False,
                "endpoint_public_access": True,
                "public_access_cidrs": ["203.0.113.0/24"],
            }
        ),
        fails="eks-private-endpoint",
    ),
    Case(
        "cluster-public-default",
        # Public endpoint left at the EKS default: open to 0.0.0.0/0.
        cluster(vpc={"endpoint_public_access": True}),
        fails="eks-public-endpoint-restricted",
    ),
    Case(
        "cluster-public-world",
        cluster(vpc={"endpoint_public_access": True, "public_access_cidrs": ["0.0.0.0/0"]}),
        fails="eks-public-endpoint-restricted",
    ),
    Case("cluster-plain-secrets", cluster(encryption_config=None), fails="eks-secrets-encryption"),
    Case(
        "cluster-few-logs",
        cluster(enabled_cluster_log_types=["api", "audit"]),
        fails="eks-control-plane-logging",
    ),
    Case(
        "cluster-aws-auth",
        cluster(access_config={"authentication_mode": "API_AND_CONFIG_MAP"}),
        fails="eks-access-entries",
    ),
    Case(
        "nodes-three-zones",
        node_group(3),
        passes=("eks-nodegroup-multi-az", "eks-nodegroup-no-remote-access"),
    ),
    Case("nodes-two-zones", node_group(2), fails="eks-nodegroup-multi-az"),
    Case(
        "nodes-two-zones-staging", node_group(2), fails="eks-nodegroup-multi-az", config="staging"
    ),
    Case(
        # components/cluster/nodes.py perAz: one group per zone, together in every zone.
        "nodes-per-az-set",
        per_zone_set([0], [1], [2]),
        passes=("eks-nodegroup-multi-az",),
    ),
    Case("nodes-per-az-incomplete", per_zone_set([0], [1]), fails="eks-nodegroup-multi-az"),
    Case(
        "nodes-per-az-incomplete-staging",
        per_zone_set([0], [1]),
        fails="eks-nodegroup-multi-az",
        config="staging",
    ),
    Case(
        # Single-zone groups without the marker are judged one by one (no name guessing).
        "nodes-per-az-untagged",
        per_zone_set([0], [1], [2], tagged=False),
        fails="eks-nodegroup-multi-az",
    ),
    Case(
        # Every zone is covered, but a member spans two: a set's groups are zonal.
        "nodes-per-az-wide-member",
        per_zone_set([0], [1, 2]),
        fails="eks-nodegroup-multi-az",
    ),
    Case(
        # The same set name on two clusters is two sets, each incomplete.
        "nodes-per-az-two-clusters",
        per_zone_set([0], [1], [2], cluster_names=("ballast-test", "ballast-test", "other")),
        fails="eks-nodegroup-multi-az",
    ),
    Case(
        "nodes-ssh",
        node_group(remote_access={"ec2_ssh_key": "ops"}),
        fails="eks-nodegroup-no-remote-access",
    ),
]
