"""What every section of the stack configuration shares: the namespace and the values
several sections accept, the frozen camelCase `_Section` base, `ConfigError`, and the
small checks more than one section makes."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo
from pydantic.alias_generators import to_camel

NAMESPACE = "ballast"
ENVIRONMENTS = ("dev", "staging", "prod")
TIERS = ("tier-1", "tier-2", "tier-3")

#: Retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

#: Config keys that may only hold Pulumi secrets (`pulumi config set --secret`).
SECRET_KEYS = ("alertWebhookUrl", "alertTicketWebhookUrl", "gitopsWebhookUrl")
#: Sections with a field that holds secrets (section key -> field): when the field is
#: set, the whole section must be a Pulumi secret
#: (`pulumi config set --secret --path 'ballast:<section>.<field>.<key>' <value>`).
SECRET_FIELDS = {"observability": "receivers"}
#: What an offline preview (`ballast preview`) holds in place of a secure value it cannot
#: decrypt: a secret's format cannot be checked there, only where the CLI decrypts it.
WITHHELD_SECRET = "[secret]"

_PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
_IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")


class ConfigError(Exception):
    """One or more stack configuration problems; `str()` gives one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


def _context(info: ValidationInfo, key: str) -> Any:
    return (info.context or {}).get(key)


def _is_zone_of(zone: str, region: str) -> bool:
    """Whether `zone` names an availability zone of `region` (eu-west-1 -> eu-west-1a)."""
    return re.fullmatch(re.escape(region) + r"[a-z]", zone) is not None


def _log_retention(value: int) -> int:
    """`value`, if CloudWatch Logs accepts it as a retention period (else a ValueError)."""
    if value not in LOG_RETENTION_DAYS:
        accepted = ", ".join(str(d) for d in LOG_RETENTION_DAYS)
        raise ValueError(f"must be one of {accepted} (got {value})")
    return value
