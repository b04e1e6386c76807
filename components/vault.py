"""`Vault`: the platform layer's half of Vault (docs/vault.md). AWS resources only:

- the **unseal key**: a customer managed KMS key of its own (`components/kms.py`:
  yearly rotation, 30-day deletion window, protected in prod), used by the servers'
  `awskms` seal to wrap Vault's root key, so a restarted server unseals itself;
- the **server role**: an IRSA role (through the role factory, so it carries the
  permission boundary) that only the chart's service account `vault/vault` can assume
  and that may only `kms:Encrypt`, `kms:Decrypt` and `kms:DescribeKey` that one key
  (`unseal_policy_document`).

The Helm release, its TLS certificate and the UI's TargetGroupBinding are the cluster
layer's (components/cluster/addons/vault.py); the UI's route on the internal ALB is
made by `Ingress.route` in the platform stack (`Platform` asks for it), so the UI is
never on the public ALB.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi

from components.config import VaultConfig
from components.context import AwsContext
from components.iam import RoleFactory
from components.kms import rotating_key

#: What the `awskms` seal does with its key: wrap and unwrap the root key, and check the
#: key at start-up. Nothing else (no GenerateDataKey, no grants, no key administration).
UNSEAL_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt")


def unseal_policy_document(key_arn: str) -> dict[str, Any]:
    """The server role's only policy: `UNSEAL_ACTIONS` on the unseal key `key_arn`."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "UnsealWithThisKeyOnly",
                "Effect": "Allow",
                "Action": list(UNSEAL_ACTIONS),
                "Resource": key_arn,
            }
        ],
    }


@dataclass(kw_only=True)
class VaultArgs:
    """Inputs of `Vault`."""

    context: AwsContext
    """Region, account, tags and protection (required). A protected context (prod)
    protects the unseal key: deleting it makes the Raft data unreadable for good."""

    roles: RoleFactory
    """The platform's role factory (required): the server's IRSA role."""

    settings: VaultConfig
    """The validated `ballast:vault` section (replicas, volume size); defaults in
    docs/configuration.md."""

    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider (required): the server role's IRSA trust."""

    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer (required)."""

    namespace: str
    """Namespace of the servers' service account (required)."""

    service_account: str
    """The servers' service account (required): the only one that may assume the role."""

    url: str
    """The address operators and the configuration provider use (required): the
    internal ALB's `https://vault.<zone>` where there is one, else the in-cluster
    address of the active server."""


class Vault(pulumi.ComponentResource):
    """The unseal key and the server role; see the module docstring.

    Outputs: `unseal_key_arn`, `unseal_key_id`, `server_role_arn`, `replicas`,
    `storage_size_gib`, `url`, and `configuration`, what the cluster layer configures
    Vault with (plain data): `address` (`ballast:vault.address`) and `adminJwt`
    (`ballast:vault.adminJwt`, None when unset).
    """

    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "vaultUnsealKeyArn": "unseal_key_arn",
        "vaultUnsealKeyId": "unseal_key_id",
        "vaultServerRoleArn": "server_role_arn",
        "vaultReplicas": "replicas",
        "vaultStorageSizeGib": "storage_size_gib",
        "vaultUrl": "url",
        "vaultConfiguration": "configuration",
    }

    def __init__(
        self, name: str, args: VaultArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Vault", name, None, opts)
        ctx = args.context
        key = rotating_key(
            f"{name}-unseal",
            parent=self,
            description=f"Vault auto-unseal ({ctx.environment}): wraps the root key",
            partition=ctx.partition,
            account_id=ctx.account_id,
            tags=ctx.tags_for(f"{name}-unseal"),
            protect=ctx.protect,
        )
        role = args.roles.irsa_role(
            f"{name}-server",
            parent=self,
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_issuer_url=args.oidc_issuer_url,
            namespace=args.namespace,
            service_account=args.service_account,
            description="Vault servers: auto-unseal with their KMS key only (IRSA)",
            inline_policies={
                "unseal": key.arn.apply(lambda arn: json.dumps(unseal_policy_document(arn)))
            },
            tags=ctx.tags_for(),
        )
        self.unseal_key_arn: pulumi.Output[str] = key.arn
        self.unseal_key_id: pulumi.Output[str] = key.key_id
        self.server_role_arn: pulumi.Output[str] = role.arn
        self.replicas: int = args.settings.replica_count(ctx.environment)
        self.storage_size_gib: int = args.settings.storage_size_gib
        self.url: str = args.url
        admin_jwt = args.settings.admin_jwt
        self.configuration: dict[str, Any] = {
            "address": args.settings.address,
            "adminJwt": (
                admin_jwt.model_dump(by_alias=True, mode="json") if admin_jwt is not None else None
            ),
        }
        self.register_outputs(
            {
                "unsealKeyArn": self.unseal_key_arn,
                "serverRoleArn": self.server_role_arn,
                "url": self.url,
            }
        )
