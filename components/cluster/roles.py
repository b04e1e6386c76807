"""IAM for the cluster: AWS managed policies attached so that what needs them can depend
on them, and IRSA roles for service accounts of the cluster's OIDC provider."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.cluster.scope import ClusterScope
from components.iam import Trust


@dataclass(frozen=True)
class OidcProvider:
    """The cluster's IAM OIDC provider: what an IRSA trust names."""

    arn: pulumi.Output[str]
    issuer_url: pulumi.Output[str]


#: An IRSA role and its managed-policy attachments (what depends on the role's rights
#: depends on these).
IrsaRole = tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]


def attach_managed_policies(
    scope: ClusterScope, role_name: str, role: aws.iam.Role, policies: Sequence[str]
) -> list[aws.iam.RolePolicyAttachment]:
    """AWS managed policies (`AmazonEKSClusterPolicy`, `service-role/...`), attached here
    rather than by the role factory so that what depends on them can say so (and keep
    them until it is gone)."""
    return [
        aws.iam.RolePolicyAttachment(
            f"{role_name}-{policy.rsplit('/', 1)[-1]}",
            role=role.name,
            policy_arn=scope.context.managed_policy_arn(policy),
            opts=scope.opts(),
        )
        for policy in policies
    ]


def service_role(
    scope: ClusterScope, label: str, service: str, policies: Sequence[str], description: str
) -> IrsaRole:
    """`<cluster>-<label>`: the role an AWS service assumes for the cluster (EKS for the
    control plane, EC2 for the nodes), trusted through PassRole (`Trust.passed_role`),
    with the AWS managed `policies` EKS documents for it."""
    role_name = f"{scope.name}-{label}"
    role = scope.roles.role(
        role_name,
        parent=scope.parent,
        trust=[Trust.passed_role(service)],
        description=description,
        tags=scope.tags(),
    )
    return role, attach_managed_policies(scope, role_name, role, policies)


def irsa_role(
    scope: ClusterScope,
    oidc: OidcProvider,
    label: str,
    namespace: str,
    service_account: str,
    *,
    managed: Sequence[str] = (),
    inline: Mapping[str, pulumi.Input[str]] | None = None,
) -> IrsaRole:
    """`<cluster>-<label>`: a role only `namespace/service_account` of this cluster can
    assume (through the role factory, so it carries the boundary), with `managed` AWS
    policies and `inline` policies."""
    role_name = f"{scope.name}-{label}"
    role = scope.roles.irsa_role(
        role_name,
        parent=scope.parent,
        oidc_provider_arn=oidc.arn,
        oidc_issuer_url=oidc.issuer_url,
        namespace=namespace,
        service_account=service_account,
        description=f"{label} in {scope.name} ({namespace}/{service_account}, IRSA)",
        inline_policies=inline,
        tags=scope.tags(),
    )
    return role, attach_managed_policies(scope, role_name, role, managed)
