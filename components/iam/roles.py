"""`RoleFactory`: the only way a Ballast component creates an IAM role. It names the role
`<namePrefix>-<stack>-...`, always attaches the stack's permission boundary, and accepts
trust only as `Trust` statements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam.names import physical_role_name
from components.iam.trusts import Trust, irsa_subject, trust_policy


class RoleFactory:
    """Creates every Ballast role, always with the environment's permission boundary.

    Components take a `RoleFactory` argument instead of creating `aws.iam.Role`
    themselves; the factory names the role `<role_prefix>...`, attaches the boundary,
    and accepts trust only as `Trust` statements.
    """

    def __init__(
        self,
        *,
        role_prefix: str,
        boundary_arn: pulumi.Input[str],
        tags: Mapping[str, str] | None = None,
    ) -> None:
        #: Every role's name starts with this (`PhysicalNames.role_prefix`, `ballast-dev-`).
        self.role_prefix = role_prefix
        self.boundary_arn = boundary_arn
        self._tags = dict(tags or {})

    def role_name(self, resource_name: str) -> str:
        return physical_role_name(self.role_prefix, resource_name)

    def role(
        self,
        resource_name: str,
        *,
        parent: pulumi.Resource,
        trust: Sequence[Trust],
        description: str,
        inline_policies: Mapping[str, pulumi.Input[str]] | None = None,
        managed_policy_arns: Sequence[pulumi.Input[str]] = (),
        max_session_duration: int = 3600,
        tags: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        permissions_boundary: pulumi.Input[str] | None = None,
    ) -> aws.iam.Role:
        """A role named from `resource_name`, with the boundary, `trust`, the given inline
        policies (one `RolePolicy` each) and managed policy attachments.

        `permissions_boundary` replaces the environment's boundary for this one role; only
        `Identity` uses it (the security-audit role's read-only boundary), and the
        environment's boundary refuses any other role that boundary."""
        child = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=parent), opts)
        role = aws.iam.Role(
            resource_name,
            name=self.role_name(resource_name),
            description=description,
            assume_role_policy=trust_policy(trust),
            permissions_boundary=permissions_boundary or self.boundary_arn,
            max_session_duration=max_session_duration,
            # Policies attached outside Pulumi would block a delete or replacement.
            force_detach_policies=True,
            tags={**self._tags, **(tags or {}), "Name": self.role_name(resource_name)},
            opts=child,
        )
        for policy_name, document in (inline_policies or {}).items():
            aws.iam.RolePolicy(
                f"{resource_name}-{policy_name}",
                name=policy_name,
                role=role.id,
                policy=document,
                opts=pulumi.ResourceOptions(parent=parent),
            )
        for index, policy_arn in enumerate(managed_policy_arns):
            aws.iam.RolePolicyAttachment(
                f"{resource_name}-managed-{index}",
                role=role.name,
                policy_arn=policy_arn,
                opts=pulumi.ResourceOptions(parent=parent),
            )
        return role

    def irsa_role(
        self,
        resource_name: str,
        *,
        parent: pulumi.Resource,
        oidc_provider_arn: pulumi.Input[str],
        oidc_issuer_url: pulumi.Input[str],
        namespace: str,
        service_account: str,
        description: str,
        **kwargs: Any,
    ) -> aws.iam.Role:
        """A role for one Kubernetes service account through IRSA: the cluster's OIDC
        provider may issue it only for `system:serviceaccount:<namespace>:<name>` tokens
        addressed to STS."""
        trust = Trust.web_identity(
            provider_arn=oidc_provider_arn,
            issuer=oidc_issuer_url,
            subject=irsa_subject(namespace, service_account),
        )
        return self.role(
            resource_name, parent=parent, trust=[trust], description=description, **kwargs
        )

    def pod_identity_role(
        self,
        resource_name: str,
        *,
        parent: pulumi.Resource,
        account_id: pulumi.Input[str],
        cluster_name: pulumi.Input[str],
        cluster_arn: pulumi.Input[str],
        namespace: str,
        service_account: str,
        description: str,
        **kwargs: Any,
    ) -> tuple[aws.iam.Role, aws.eks.PodIdentityAssociation]:
        """A role for one service account through EKS Pod Identity, and its association.

        The trust takes the EKS Pod Identity service of this account, and requires the
        session tags EKS sets on every assumption (`eks-cluster-arn`,
        `kubernetes-namespace`, `kubernetes-service-account`) to name this cluster and
        service account, so no other association can use the role (the EKS user guide's
        "Create IAM role with trust policy required by EKS Pod Identity").
        """
        irsa_subject(namespace, service_account)  # the same name rules
        trust = Trust.service(
            "pods.eks.amazonaws.com",
            source_account=account_id,
            actions=("sts:AssumeRole", "sts:TagSession"),
            string_equals={
                "aws:RequestTag/eks-cluster-arn": cluster_arn,
                "aws:RequestTag/kubernetes-namespace": namespace,
                "aws:RequestTag/kubernetes-service-account": service_account,
            },
        )
        role = self.role(
            resource_name, parent=parent, trust=[trust], description=description, **kwargs
        )
        association = aws.eks.PodIdentityAssociation(
            resource_name,
            cluster_name=cluster_name,
            namespace=namespace,
            service_account=service_account,
            role_arn=role.arn,
            disable_session_tags=False,
            tags={**self._tags, **(kwargs.get("tags") or {})},
            opts=pulumi.ResourceOptions(parent=parent),
        )
        return role, association
