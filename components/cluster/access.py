"""Who may use the Kubernetes API: EKS access entries (authentication mode `API`; no
aws-auth ConfigMap) with cluster-scoped access policies."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.cluster.scope import ClusterScope

ADMIN_ACCESS_POLICY = "AmazonEKSClusterAdminPolicy"
READ_ONLY_ACCESS_POLICY = "AmazonEKSViewPolicy"


def access_entries(
    scope: ClusterScope,
    cluster: aws.eks.Cluster,
    *,
    deployer_principal_arn: pulumi.Input[str] | None,
    planner_principal_arn: pulumi.Input[str] | None,
) -> list[pulumi.Resource]:
    """Cluster admin for the deployer (the CI apply role), the bootstrap admin (when
    configured) and the configured admins; view-only (AmazonEKSViewPolicy: no Secrets)
    for the planner (the CI plan role, so pull-request previews of the cluster layer can
    read the cluster) and the read-only principals. Returns the policy associations: an
    entry without one grants nothing."""
    settings = scope.settings
    grants: list[tuple[str, pulumi.Input[str], str]] = []
    if deployer_principal_arn is not None:
        grants.append(("deployer", deployer_principal_arn, ADMIN_ACCESS_POLICY))
    if planner_principal_arn is not None:
        grants.append(("planner", planner_principal_arn, READ_ONLY_ACCESS_POLICY))
    if settings.bootstrap_admin_arn is not None:
        # Named apart from the admins so removing it after bootstrap touches nothing else.
        grants.append(("bootstrap-admin", settings.bootstrap_admin_arn, ADMIN_ACCESS_POLICY))
    for arn in settings.admin_principal_arns:
        grants.append((f"admin-{principal_label(arn)}", arn, ADMIN_ACCESS_POLICY))
    for arn in settings.read_only_principal_arns:
        grants.append((f"view-{principal_label(arn)}", arn, READ_ONLY_ACCESS_POLICY))
    associations: list[pulumi.Resource] = []
    for label, principal, policy in grants:
        resource_name = f"{scope.name}-{label}"
        entry = aws.eks.AccessEntry(
            resource_name,
            cluster_name=cluster.name,
            principal_arn=principal,
            type="STANDARD",
            tags=scope.tags(resource_name),
            opts=scope.opts(),
        )
        associations.append(
            aws.eks.AccessPolicyAssociation(
                resource_name,
                cluster_name=cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=pulumi.Output.format(
                    "arn:{0}:eks::aws:cluster-access-policy/{1}", scope.context.partition, policy
                ),
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=scope.opts(),
            )
        )
    return associations


def principal_label(arn: str) -> str:
    """`arn:aws:iam::1:role/path/platform-admins` -> `platform-admins` (resource names)."""
    return arn.rsplit("/", 1)[-1].lower().replace("_", "-").replace(".", "-")[:40]
