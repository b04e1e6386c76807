"""Where a service's credentials live in Vault, and what it logs in as: the names the
Vault configuration (auth roles, secrets engines, per-service policies) and the
workloads' injection (components/secret_injection.py) must agree on, kept in one place.

A service `checkout` logs in through the Kubernetes auth method mounted at
`auth/kubernetes` as the role `checkout`, with a service-account token whose audience
is `vault`, and may read:

| what | engine mount | path |
| --- | --- | --- |
| short-lived AWS credentials (STS `assumed_role`) | `aws` | `aws/creds/checkout` |
| short-lived database credentials | `database` | `database/creds/checkout` |
| static values that cannot be dynamic (KV v2) | `kv` | `kv/data/checkout/<name>` |

Nothing here talks to Vault; everything is a function of the service's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

#: Mount path of the Kubernetes auth method (`auth/<mount>` in Vault's API).
KUBERNETES_AUTH_MOUNT: Final = "kubernetes"
#: Audience of the service-account tokens workloads log in with; every Kubernetes auth
#: role requires it, so a token minted for the API server (or anything else) is refused.
TOKEN_AUDIENCE: Final = "vault"
#: Mount paths of the secrets engines.
AWS_MOUNT: Final = "aws"
DATABASE_MOUNT: Final = "database"
KV_MOUNT: Final = "kv"
#: The KV v2 secret a service's `kv` need names when it names none.
DEFAULT_KV_SECRET: Final = "config"

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _checked(service: str) -> str:
    if not _NAME.fullmatch(service):
        raise ValueError(
            f"service name {service!r} must be a DNS-1123 label (lowercase letters, digits "
            "and '-', at most 63 characters)"
        )
    return service


def auth_path() -> str:
    """`auth/kubernetes`: where a workload logs in."""
    return f"auth/{KUBERNETES_AUTH_MOUNT}"


def role_name(service: str) -> str:
    """The Kubernetes auth role of `service`: its own name (its Vault policy is
    `service-<name>`, components/cluster/addons/vault_config.py, so no service can take
    the name of Vault's built-in `default` or `root` policy)."""
    return _checked(service)


def aws_credentials_path(service: str) -> str:
    """`aws/creds/<service>`: a read returns new STS credentials for the service's role."""
    return f"{AWS_MOUNT}/creds/{_checked(service)}"


def database_credentials_path(service: str) -> str:
    """`database/creds/<service>`: a read creates a database user for the service."""
    return f"{DATABASE_MOUNT}/creds/{_checked(service)}"


def kv_prefix(service: str) -> str:
    """`kv/data/<service>/`: the service's own KV v2 secrets (the data API path)."""
    return f"{KV_MOUNT}/data/{_checked(service)}/"


def kv_secret_path(service: str, secret: str) -> str:
    """`kv/data/<service>/<secret>`: one KV v2 secret of the service."""
    if not _NAME.fullmatch(secret):
        raise ValueError(f"KV secret name {secret!r} of service {service} must be a DNS-1123 label")
    return f"{kv_prefix(service)}{secret}"


@dataclass(frozen=True)
class SecretNeeds:
    """What one service receives from Vault (default: nothing)."""

    aws: bool = False
    """Short-lived AWS credentials for its own role (default False)."""
    database: bool = False
    """Short-lived credentials for its own database schema (default False)."""
    kv: tuple[str, ...] = ()
    """Names of its KV v2 secrets under `kv/data/<service>/` (default none)."""

    def __post_init__(self) -> None:
        for secret in self.kv:
            if not _NAME.fullmatch(secret):
                raise ValueError(f"KV secret name {secret!r} must be a DNS-1123 label")
        if len(set(self.kv)) != len(self.kv):
            raise ValueError(f"KV secret names are listed twice: {', '.join(self.kv)}")

    def __bool__(self) -> bool:
        return self.aws or self.database or bool(self.kv)

    @classmethod
    def of(cls, declared: Any) -> SecretNeeds:
        """From a service's declared `secrets` (a mapping or an object with `aws`,
        `database` and `kv`; None for nothing): `aws` counts when set at all (its policy),
        `database` when true, `kv` either true (the one secret `config`)
        or a list of secret names."""
        if declared is None:
            return cls()

        def field(key: str) -> Any:
            if isinstance(declared, dict):
                return declared.get(key)
            return getattr(declared, key, None)

        kv = field("kv")
        names: tuple[str, ...]
        if kv is True:
            names = (DEFAULT_KV_SECRET,)
        elif not kv:
            names = ()
        elif isinstance(kv, list | tuple):
            names = tuple(str(k) for k in kv)
        else:
            raise ValueError(f"kv must be true or a list of secret names (got {kv!r})")
        return cls(aws=bool(field("aws")), database=field("database") is True, kv=names)
