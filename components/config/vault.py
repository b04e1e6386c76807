"""`ballast:vault`: the Vault server the platform runs on its cluster (docs/vault.md)."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from components.config.base import _context, _Section

#: Raft voters Vault supports well: an odd count up to seven (more voters slow every
#: write; an even count tolerates no more failures than the odd count below it).
MAX_REPLICAS = 7
#: Replicas when `replicas` is unset: one in dev, three (one per zone) elsewhere.
DEFAULT_REPLICAS = {"dev": 1, "staging": 3, "prod": 3}
MIN_STORAGE_GIB, MAX_STORAGE_GIB = 1, 1000


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
