"""Typed, validated stack configuration.

Every `ballast:*` key of a stack file is parsed into one immutable `PlatformConfig` before
any resource is registered. Problems are collected, never raised one at a time: a stack
with three mistakes reports three lines, each naming the stack file, the key path and
what is accepted, e.g.::

    stacks/Pulumi.prod.yaml: ballast:network.azCount must be at least 3 in prod (got 2)

Components never read `pulumi.Config`; `Platform` hands them typed args built from this.

Keys are camelCase in the stack file (Pulumi's convention) and snake_case in Python.
Keys outside the `ballast:` namespace (`aws:*`, `pulumi:*`) are left to their owners.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel

NAMESPACE = "ballast"
ENVIRONMENTS = ("dev", "staging", "prod")
TIERS = ("tier-1", "tier-2", "tier-3")

#: Tags Ballast sets itself on every resource (provider default tags); a stack's
#: `ballast:tags` may add others but never override these.
RESERVED_TAG_KEYS = ("environment", "project", "owner", "managed-by")

#: Retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

#: Config keys that may only hold Pulumi secrets (`pulumi config set --secret`).
SECRET_KEYS = ("alertWebhookUrl",)

MIN_AZ_COUNT, MAX_AZ_COUNT, MIN_PROD_AZ_COUNT = 2, 6, 3
#: The subnet plan (components/network.py) carves private subnets of /(p+3) and public
#: and isolated subnets of /(p+6); /22 is the smallest VPC whose /28s still fit, /16
#: the largest AWS allows.
MIN_VPC_PREFIX, MAX_VPC_PREFIX = 16, 22
_PRIVATE_RANGES = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
_REGION = re.compile(
    r"^(us|eu|ap|sa|ca|me|af|il|mx|cn)(-gov|-iso[a-z]?)?"
    r"-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9]$"
)
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$")


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


class NetworkConfig(_Section):
    """`ballast:network`: the VPC every other component sits on."""

    cidr: str = Field(
        description="VPC IPv4 block, /16 to /22 from a private range; no default, because "
        "environments that may ever be peered must not overlap."
    )
    az_count: int = Field(
        default=3,
        description="Availability zones to span, 2-6 (default 3; prod needs at least 3 so "
        "losing one zone leaves a majority for quorum-based workloads).",
    )
    availability_zones: tuple[str, ...] | None = Field(
        default=None,
        description="Explicit zone names (default: the first azCount zones the region "
        "reports as available). Pin them when zone capacity or an existing "
        "deployment matters; their count must equal azCount.",
    )
    nat_mode: Literal["per-az", "single"] = Field(
        default="per-az",
        description="'per-az' (default): one NAT gateway per zone, so a zone outage cuts "
        "only that zone's egress. 'single' saves ~$33/month plus data processing per "
        "extra zone, but every zone then depends on one; refused in prod.",
    )
    interface_endpoints: bool = Field(
        default=False,
        description="Interface endpoints for ecr.api, ecr.dkr, sts and logs (default off: "
        "~$7/month per endpoint per zone; turn on to keep image pulls and STS calls "
        "off the NAT gateways).",
    )
    flow_log_retention_days: int = Field(
        default=90,
        description="VPC flow log retention in CloudWatch Logs, one of the periods "
        "CloudWatch accepts (default 90).",
    )

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(
                f"must be an IPv4 CIDR block such as 10.40.0.0/16 (got {value!r})"
            ) from None
        if network.version != 4:
            raise ValueError(f"must be an IPv4 CIDR block such as 10.40.0.0/16 (got {value!r})")
        if str(network) != value:
            raise ValueError(
                f"must be a network address: {value!r} has host bits set, did you mean {network}?"
            )
        if not MIN_VPC_PREFIX <= network.prefixlen <= MAX_VPC_PREFIX:
            raise ValueError(
                f"must be a /{MIN_VPC_PREFIX} to /{MAX_VPC_PREFIX} block so that every "
                f"subnet of the plan fits (got /{network.prefixlen})"
            )
        if not any(network.subnet_of(r) for r in _PRIVATE_RANGES):
            raise ValueError(
                "must lie in a private range (10.0.0.0/8, 172.16.0.0/12, "
                f"192.168.0.0/16 or 100.64.0.0/10) (got {value})"
            )
        return value

    @field_validator("az_count")
    @classmethod
    def _az_count(cls, value: int, info: ValidationInfo) -> int:
        if not MIN_AZ_COUNT <= value <= MAX_AZ_COUNT:
            raise ValueError(f"must be between {MIN_AZ_COUNT} and {MAX_AZ_COUNT} (got {value})")
        if _context(info, "environment") == "prod" and value < MIN_PROD_AZ_COUNT:
            raise ValueError(f"must be at least {MIN_PROD_AZ_COUNT} in prod (got {value})")
        return value

    @field_validator("availability_zones")
    @classmethod
    def _zones(cls, value: tuple[str, ...] | None, info: ValidationInfo):
        if value is None:
            return value
        region = _context(info, "primary_region")
        for zone in value:
            if region and not re.fullmatch(re.escape(region) + r"[a-z]", zone):
                raise ValueError(f"must name zones of {region} such as {region}a (got {zone!r})")
        if len(set(value)) != len(value):
            raise ValueError(f"must not repeat a zone (got {list(value)})")
        count = info.data.get("az_count")
        if count is not None and len(value) != count:
            raise ValueError(f"must list exactly azCount={count} zones (got {len(value)})")
        return value

    @field_validator("nat_mode")
    @classmethod
    def _nat_mode(cls, value: str, info: ValidationInfo) -> str:
        if value == "single" and _context(info, "environment") == "prod":
            raise ValueError(
                "must be 'per-az' in prod: a single NAT gateway makes every zone's "
                "egress depend on one zone (got 'single')"
            )
        return value

    @field_validator("flow_log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            accepted = ", ".join(str(d) for d in LOG_RETENTION_DAYS)
            raise ValueError(f"must be one of {accepted} (got {value})")
        return value

    @property
    def prefixlen(self) -> int:
        return ipaddress.ip_network(self.cidr).prefixlen


class SloConfig(_Section):
    """`slo` of one service: the objectives its alerts and error budget derive from."""

    availability: float = Field(
        description="Availability objective in percent over 30 days, 90-99.999 "
        "(99.9 allows 43 minutes of errors a month)."
    )
    latency_p95_ms: int = Field(
        description="95th-percentile latency objective in milliseconds, 1-60000."
    )

    @field_validator("availability")
    @classmethod
    def _availability(cls, value: float) -> float:
        if not 90.0 <= value <= 99.999:
            raise ValueError(f"must be a percentage between 90 and 99.999 (got {value})")
        return value

    @field_validator("latency_p95_ms")
    @classmethod
    def _latency(cls, value: int) -> int:
        if not 1 <= value <= 60_000:
            raise ValueError(f"must be between 1 and 60000 milliseconds (got {value})")
        return value


class ServiceConfig(_Section):
    """One entry of `ballast:services`: a workload the platform hosts."""

    name: str = Field(description="DNS-1123 label; also the default namespace.")
    tier: Literal["tier-1", "tier-2", "tier-3"] = Field(
        description="Criticality: tier-1 is user-facing and mission-critical, tier-3 batch."
    )
    namespace: str | None = Field(default=None, description="Namespace (default: name).")
    slo: SloConfig | None = Field(default=None, description="Objectives (default: none).")

    @field_validator("name", "namespace")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_LABEL.fullmatch(value):
            raise ValueError(
                "must be a DNS-1123 label: lowercase letters, digits and '-', starting "
                f"with a letter, at most 63 characters (got {value!r})"
            )
        return value


class PlatformConfig(_Section):
    """Everything one environment's stack file says, typed and validated."""

    environment: Literal["dev", "staging", "prod"] = Field(
        description="Which environment this stack is; prod turns on the strict rules."
    )
    owner: str = Field(description="Owning team, written to the `owner` tag everywhere.")
    account_id: str | None = Field(
        default=None,
        description="12-digit AWS account this stack may deploy to (default: any). Set it: "
        "the providers then refuse credentials for any other account.",
    )
    primary_region: str = Field(description="AWS region of the platform, e.g. eu-west-1.")
    dr_region: str | None = Field(
        default=None,
        description="Disaster-recovery region (required in prod): database replica and "
        "backup copies live there. Must differ from primaryRegion.",
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Extra tags for every resource (default none); cannot override "
        "environment, project, owner or managed-by.",
    )
    network: NetworkConfig = Field(description="The VPC; see NetworkConfig.")
    services: tuple[ServiceConfig, ...] = Field(
        default=(), description="Workloads the platform hosts, with tiers and SLOs."
    )
    alert_webhook_url: str | None = Field(
        default=None,
        description="Optional chat/pager webhook for alerts. Must be a Pulumi secret "
        "(`pulumi config set --secret alertWebhookUrl ...`).",
    )

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        if not value or len(value) > 256 or not _TAG_TEXT.fullmatch(value):
            raise ValueError(
                "must be a team name of 1-256 letters, digits, spaces or . : / = + - @ _ "
                f"(got {value!r})"
            )
        return value

    @field_validator("primary_region", "dr_region")
    @classmethod
    def _region(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        if not _REGION.fullmatch(value):
            raise ValueError(
                f"must be an AWS region name such as us-east-1 or eu-central-1 (got {value!r})"
            )
        if info.field_name == "dr_region" and value == info.data.get("primary_region"):
            raise ValueError(
                f"must differ from primaryRegion: a DR copy in the same region shares its "
                f"failures (got {value})"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if key in RESERVED_TAG_KEYS:
                raise ValueError(
                    f"must not set {key!r}: Ballast sets {', '.join(RESERVED_TAG_KEYS)} itself"
                )
            if key.lower().startswith("aws:") or not 1 <= len(key) <= 128:
                raise ValueError(
                    f"has an invalid tag key {key!r}: 1-128 characters, not starting with 'aws:'"
                )
            if len(text) > 256 or not _TAG_TEXT.fullmatch(text):
                raise ValueError(
                    f"has an invalid value for {key!r}: at most 256 letters, digits, spaces "
                    "or . : / = + - @ _"
                )
        return value

    @field_validator("services")
    @classmethod
    def _unique_services(cls, value: tuple[ServiceConfig, ...]):
        names = [s.name for s in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"must name each service once (repeated: {', '.join(dupes)})")
        return value

    @field_validator("account_id")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{12}", value):
            raise ValueError(f"must be a 12-digit AWS account ID (got {value!r})")
        return value


# --- parsing -------------------------------------------------------------------------


def _decode(value: Any) -> Any:
    """Config values arrive as strings; objects and lists are JSON-encoded (as the CLI does)."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _key_path(loc: Iterable[Any]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else f"{NAMESPACE}:") + str(part)
    return path


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class whose field list applies at `loc` (for did-you-mean)."""
    model: Any = PlatformConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = next(
            (f for name, f in model.model_fields.items() if part in (name, f.alias)),
            None,
        )
        if field is None:
            return None
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model


def _accepted_keys(model: type[BaseModel]) -> list[str]:
    return sorted(f.alias or n for n, f in model.model_fields.items())


def _unknown_key_message(loc: tuple[Any, ...]) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    accepted = _accepted_keys(model) if model else []
    lowered = {a.lower(): a for a in accepted}
    guess = lowered.get(key.lower()) or next(
        iter(difflib.get_close_matches(key, accepted, n=1, cutoff=0.6)), None
    )
    hint = f"; did you mean {guess}?" if guess else ""
    return f"{_key_path(loc)} is not a known key{hint} (accepted: {', '.join(accepted)})"


_TYPE_WORDS = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "a string",
    "dict_type": "a map of keys to values",
    "model_type": "a map of keys to values",
    "model_attributes_type": "a map of keys to values",
    "list_type": "a list",
    "tuple_type": "a list",
}


def _describe(error: Mapping[str, Any]) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    path = _key_path(loc)
    got = error.get("input")
    secret = any(str(p) in SECRET_KEYS or to_camel(str(p)) in SECRET_KEYS for p in loc)
    shown = "a secret value" if secret else repr(got)
    if kind == "extra_forbidden":
        return _unknown_key_message(loc)
    if kind == "missing":
        model = _model_at(loc[:-1])
        field = next(
            (
                f
                for n, f in (model.model_fields.items() if model else [])
                if loc[-1] in (n, f.alias)
            ),
            None,
        )
        hint = f": {field.description}" if field and field.description else ""
        return f"{path} is required{hint}"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        return f"{path} {message}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{path} must be one of {expected.replace(' or ', ', ')} (got {shown})"
    if kind in _TYPE_WORDS:
        return f"{path} must be {_TYPE_WORDS[kind]} (got {shown})"
    return f"{path}: {error['msg']} (got {shown})"


def parse_platform_config(
    raw: Mapping[str, Any],
    *,
    secret_keys: Iterable[str] = (),
    source: str = "stack config",
) -> PlatformConfig:
    """Build a `PlatformConfig` from flat stack config or raise `ConfigError`.

    `raw` maps qualified keys (`ballast:network`, `aws:region`, ...) to values as the
    Pulumi CLI hands them to a program: strings, with maps and lists JSON-encoded.
    `secret_keys` lists the qualified keys that hold Pulumi secrets. `source` prefixes
    every message (the stack file, e.g. `stacks/Pulumi.prod.yaml`).
    """
    secret = set(secret_keys)
    problems: list[str] = []
    data: dict[str, Any] = {}
    for qualified, value in raw.items():
        namespace, _, key = qualified.partition(":")
        if namespace != NAMESPACE:
            continue
        if key in SECRET_KEYS and qualified not in secret:
            problems.append(
                f"{qualified} must be a Pulumi secret: set it with "
                f"`pulumi config set --secret {key} <value>` so it is never stored in "
                "clear text"
            )
            continue
        data[key] = _decode(value)

    environment = data.get("environment")
    context = {
        "environment": environment if environment in ENVIRONMENTS else None,
        "primary_region": data.get("primaryRegion")
        if isinstance(data.get("primaryRegion"), str)
        else None,
    }
    config: PlatformConfig | None = None
    try:
        config = PlatformConfig.model_validate(data, context=context)
    except ValidationError as exc:
        problems.extend(_describe(e) for e in exc.errors(include_url=False))

    if context["environment"] == "prod" and data.get("drRegion") is None:
        problems.append(
            f"{NAMESPACE}:drRegion is required in prod: the database replica and backup "
            "copies need a second region"
        )
    if problems or config is None:
        # Sorted by key path, so related problems sit together and the order is stable.
        raise ConfigError([f"{source}: {p}" for p in sorted(problems)])
    return config


def stack_file_label(stack: str) -> str:
    """How messages name a stack's file (the project sets `stackConfigDir: stacks`)."""
    return f"stacks/Pulumi.{stack}.yaml"


def load_from_pulumi_runtime() -> PlatformConfig:
    """Read this program's config from the Pulumi runtime (real CLI or mock engine).

    The CLI hands config to the language host as `PULUMI_CONFIG` (and secret key names
    as `PULUMI_CONFIG_SECRET_KEYS`); the mock engine and the Automation API call
    `set_all_config`. Both are read so every key, known or not, is validated.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, Any] = dict(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys.update(runtime_config._SECRET_KEYS.get())  # private: the SDK has no getter
    return parse_platform_config(
        raw, secret_keys=secret_keys, source=stack_file_label(pulumi.get_stack())
    )
