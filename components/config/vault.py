"""`ballast:vault`: the Vault server the platform runs on its cluster (docs/vault.md)."""

from __future__ import annotations

import re

from pydantic import Field, ValidationInfo, field_validator

from components.config.base import _context, _Section

#: Raft voters Vault supports well: an odd count up to seven (more voters slow every
#: write; an even count tolerates no more failures than the odd count below it).
MAX_REPLICAS = 7
#: Replicas when `replicas` is unset: one in dev, three (one per zone) elsewhere.
DEFAULT_REPLICAS = {"dev": 1, "staging": 3, "prod": 3}
MIN_STORAGE_GIB, MAX_STORAGE_GIB = 1, 1000
#: The active server's address inside the cluster (the chart's `vault-active` Service on
#: its TLS listener): the configuration provider's default address.
IN_CLUSTER_ADDRESS = "https://vault-active.vault.svc:8200"
_HTTPS_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:\d{1,5})?(/.*)?$")


class VaultAdminJwtConfig(_Section):
    """`adminJwt` of `ballast:vault`: operators' single sign-on into Vault. A JWT auth
    method trusting the identity provider's OIDC discovery document, with one role,
    `platform-admin`, that issues the `platform-admin` policy (the only broad one) for
    one hour to tokens carrying the given audience and claims."""

    oidc_discovery_url: str = Field(
        description="The identity provider's issuer URL (https), whose "
        "`/.well-known/openid-configuration` Vault reads."
    )
    bound_audiences: tuple[str, ...] = Field(
        min_length=1, description="Audiences (`aud`) a login token must carry (at least one)."
    )
    bound_claims: dict[str, list[str]] = Field(
        min_length=1,
        description="Claims a login token must carry, each one of the listed values "
        "(e.g. `{groups: [platform-admins]}`); at least one, so not every user of the "
        "identity provider is an admin.",
    )
    user_claim: str = Field(
        default="sub",
        description="The claim that names the operator in Vault's audit log (default sub).",
    )

    @field_validator("oidc_discovery_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not _HTTPS_URL.fullmatch(value):
            raise ValueError(f"must be an https:// URL (got {value!r})")
        return value


class VaultConfig(_Section):
    """`ballast:vault`: Vault in HA with integrated Raft storage, auto-unsealed with a
    KMS key of its own."""

    replicas: int | None = Field(
        default=None,
        description="Vault servers (Raft voters), one per node, spread over the zones. "
        "Unset: 1 in dev, 3 in staging and prod. An odd number from 1 to "
        f"{MAX_REPLICAS} (an even one survives no more failures than one fewer); prod "
        "needs at least 3, so losing a zone keeps a quorum.",
    )
    storage_size_gib: int = Field(
        default=10,
        ge=MIN_STORAGE_GIB,
        le=MAX_STORAGE_GIB,
        description="Size of each server's Raft volume (encrypted gp3), in GiB "
        "(default 10; the audit log gets a volume of the same size). Volumes grow in "
        "place (the StorageClass allows expansion) but never shrink.",
    )

    address: str = Field(
        default=IN_CLUSTER_ADDRESS,
        description="The address Pulumi's Vault provider configures Vault through "
        f"(default {IN_CLUSTER_ADDRESS}, the active server inside the cluster; the "
        "cluster stack runs on the in-VPC runner). An https:// URL.",
    )
    admin_jwt: VaultAdminJwtConfig | None = Field(
        default=None,
        description="Operators' login through the identity provider (unset: no admin "
        "login; operators use a token from the initialisation ceremony's runbook); see "
        "VaultAdminJwtConfig.",
    )

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if not _HTTPS_URL.fullmatch(value):
            raise ValueError(
                f"must be an https:// URL: Vault's listener only speaks TLS (got {value!r})"
            )
        return value

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        if value < 1 or value > MAX_REPLICAS or value % 2 == 0:
            raise ValueError(
                f"must be an odd number from 1 to {MAX_REPLICAS}: Raft needs a majority, and "
                f"an even count tolerates no more failures than one fewer (got {value})"
            )
        if _context(info, "environment") == "prod" and value < 3:
            raise ValueError(
                f"must be at least 3 in prod, so that losing one zone keeps a quorum (got {value})"
            )
        return value

    def replica_count(self, environment: str) -> int:
        """`replicas`, or the environment's default (`DEFAULT_REPLICAS`)."""
        return self.replicas if self.replicas is not None else DEFAULT_REPLICAS[environment]
