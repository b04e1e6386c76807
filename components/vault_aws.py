"""`AwsSecretsEngineRoles`: the IAM side of Vault's AWS secrets engine (docs/vault.md, "AWS
credentials"). AWS resources only, in the platform stack:

- the **engine role**: an IRSA role (through the role factory, so it carries the
  permission boundary) for the Vault servers' service account, whose only right is
  `sts:AssumeRole` on the per-service roles below (`engine_policy_document`);
- one **service role** per service that declares `secrets.aws` (through the role
  factory), holding that service's policy, with a trust policy naming only the engine
  role. Vault's AWS engine (configured in the cluster stack,
  components/cluster/addons/vault_config.py) issues `assumed_role` credentials of it.

`engine_policy_document` is a pure function, so the tests evaluate exactly what is
deployed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi

from components.config import ServiceConfig
from components.context import AwsContext
from components.iam import RoleFactory, Trust

#: Sessions Vault opens on a service role last at most this long (IAM's own default
#: maximum, one hour): the engine's `max_sts_ttl` cannot exceed it.
SERVICE_ROLE_MAX_SESSION_SECONDS = 3600


def engine_policy_document(service_role_arns: Sequence[str]) -> dict[str, Any]:
    """The engine role's only policy: `sts:AssumeRole` on exactly `service_role_arns`."""
    if not service_role_arns:
        raise ValueError("the engine policy needs at least one service role")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AssumeTheServiceRolesOnly",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": sorted(service_role_arns),
            }
        ],
    }


def aws_services(services: Sequence[ServiceConfig]) -> list[ServiceConfig]:
    """The services that declare `secrets.aws`, in config order."""
    return [s for s in services if s.secrets is not None and s.secrets.aws is not None]


@dataclass(kw_only=True)
class AwsSecretsEngineRolesArgs:
    """Inputs of `AwsSecretsEngineRoles`."""

    context: AwsContext
    """Region, account and tags (required)."""

    roles: RoleFactory
    """The platform's role factory (required): every role carries the boundary."""

    services: Sequence[ServiceConfig]
    """`ballast:services` (required); only those with `secrets.aws` get a role. With
    none, the component creates nothing."""

    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider (required): the engine role's IRSA trust."""

    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer (required)."""

    namespace: str
    """Namespace of the Vault servers' service account (required)."""

    service_account: str
    """The Vault servers' service account (required): the only one that may assume the
    engine role."""


class AwsSecretsEngineRoles(pulumi.ComponentResource):
    """The engine role and the per-service roles; see the module docstring.

    Outputs: `engine_role_arn` (None without a service that declares `secrets.aws`),
    `service_role_arns` (service name -> role ARN).
    """

    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "vaultAwsEngineRoleArn": "engine_role_arn",
        "vaultServiceRoleArns": "service_role_arns",
    }

    def __init__(
        self, name: str, args: AwsSecretsEngineRolesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:AwsSecretsEngineRoles", name, None, opts)
        services = aws_services(args.services)
        self.engine_role_arn: pulumi.Output[str] | None = None
        self.service_role_arns: dict[str, pulumi.Output[str]] = {}
        if services:
            ctx, roles = args.context, args.roles

            def arn_of(resource_name: str) -> pulumi.Output[str]:
                """A role's ARN from its name, known before the role exists."""
                role_name = roles.role_name(resource_name)
                return pulumi.Output.all(ctx.partition, ctx.account_id).apply(
                    lambda found: f"arn:{found[0]}:iam::{found[1]}:role/{role_name}"
                )

            # The engine role comes first: IAM refuses a trust policy naming a role that
            # does not exist yet, while a permission policy may name roles still to come.
            engine = roles.irsa_role(
                f"{name}-engine",
                parent=self,
                oidc_provider_arn=args.oidc_provider_arn,
                oidc_issuer_url=args.oidc_issuer_url,
                namespace=args.namespace,
                service_account=args.service_account,
                description="Vault's AWS secrets engine: assumes the service roles only",
                inline_policies={
                    "assume-service-roles": pulumi.Output.all(
                        *(arn_of(f"{name}-{s.name}") for s in services)
                    ).apply(lambda arns: json.dumps(engine_policy_document(list(arns))))
                },
                tags=ctx.tags_for(),
            )
            for service in services:
                assert service.secrets is not None and service.secrets.aws is not None
                role = roles.role(
                    f"{name}-{service.name}",
                    parent=self,
                    trust=[Trust.principals([engine.arn])],
                    description=f"{service.name}: short-lived credentials issued by Vault",
                    inline_policies={"service": json.dumps(service.secrets.aws.policy)},
                    max_session_duration=SERVICE_ROLE_MAX_SESSION_SECONDS,
                    tags=ctx.tags_for(),
                )
                self.service_role_arns[service.name] = role.arn
            self.engine_role_arn = engine.arn
        self.register_outputs(
            {"engineRoleArn": self.engine_role_arn, "serviceRoleArns": self.service_role_arns}
        )
