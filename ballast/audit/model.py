"""The records an audit passes between its stages: discovered resources, findings and
what could not be checked."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Resource:
    """One discovered resource (or account/region setting, `kind` "setting").

    `data` is what the service answered for it, trimmed to what the checks read;
    `tags` are its tags as a plain mapping (empty when it has none or they were not read).
    """

    account: str
    region: str
    service: str
    kind: str
    id: str
    arn: str = ""
    name: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """ARN when the service has one, else `service:kind:account:region:id`."""
        return self.arn or f"{self.service}:{self.kind}:{self.account}:{self.region}:{self.id}"


@dataclass(frozen=True)
class Finding:
    """One check failing on one resource (or account/region)."""

    check: str
    title: str
    severity: str
    theme: str
    account: str
    region: str
    service: str
    resource: str
    evidence: dict[str, Any]
    remediation: str
    prevented_by: tuple[str, ...]
    monthly_cost: float | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The finding as a JSON object, its fields in declaration order. A new mapping,
        but `evidence` is the finding's own (`asdict` deep-copied every finding's
        evidence: a third of writing a thousand-finding report, for nothing)."""
        document = {f.name: getattr(self, f.name) for f in fields(self)}
        document["prevented_by"] = list(self.prevented_by)
        document["tags"] = dict(self.tags)
        return document


@dataclass(frozen=True)
class AuditError:
    """What could not be checked: one failed call (after retries) or one unusable answer.

    `kind`: access-denied, throttled, unreachable, malformed, or error (anything else).
    """

    account: str
    region: str
    service: str
    operation: str
    kind: str
    message: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)
