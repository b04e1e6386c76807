"""Declaring a policy: one check function with its metadata in the decorator above it.

    @resource_policy(
        name="eks-private-endpoint",
        types={CLUSTER},
        description="EKS clusters enable the private API endpoint.",
        severity=HIGH,
        profile=HYGIENE,
        remediation="Set vpcConfig.endpointPrivateAccess=True.",
    )
    def _private_endpoint(
        args: ResourceValidationArgs, report: Report, settings: Settings
    ) -> None: ...

The concern is the name of the module the function lives in (`ballast_guardrails.eks`
-> `eks`), one of `CONCERNS`. The decorator builds the SDK policy, adds it to the
registry (`registered()`, which the pack serves) and returns the function unchanged.

The profile says how strict the policy is in each environment (`PROFILES`): there are
exactly three, and `python -m ballast.policy.docs` writes each policy's level per
environment into `config/<env>.json` from them (the settings and exemptions there stay
hand-edited). The profile's `default` is the level when a stack has no config file.

The wrapper around every check:

* a resource policy only looks at the resource types it names (the SDK calls every
  policy for every resource; the type test keeps that cheap), and tells the pack's SDK
  shim those types (`applies_to_type`, see `analyzer_speedups`);
* the check receives its settings already merged: the schema defaults, overlaid with
  what the CLI (or the Ballast harness) sent in `Configure`. The CLI fills schema
  defaults in itself; merging here too keeps a policy correct when a caller sends a
  partial config;
* every policy (unless it opts out) takes an `exemptions` setting: a list of reviewed
  entries in a stack's policy config, each naming a resource by type and logical name
  (or by a URN pattern) with the reason and ticket (`exemptions`). Violations on an
  exempted resource are not reported. A policy that opts out (`exemptable=False`) may
  declare its own `exemptions` setting and apply it where it chooses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NotRequired, Protocol, TypedDict, TypeVar, Unpack, cast

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidation,
    StackValidationArgs,
    StackValidationPolicy,
)

from ballast_guardrails.contract import ENVIRONMENTS
from ballast_guardrails.exemptions import EXEMPTIONS, exempted

ADVISORY = EnforcementLevel.ADVISORY
MANDATORY = EnforcementLevel.MANDATORY
DISABLED = EnforcementLevel.DISABLED

LOW, MEDIUM, HIGH, CRITICAL = Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL

#: The concerns, in the order the pack lists them; each is a module of this package.
CONCERNS = (
    "iam",
    "data",
    "network",
    "eks",
    "kubernetes",
    "secrets",
    "gitops",
    "observability",
    "delivery",
    "tagging",
)

Settings = Mapping[str, Any]
"""A policy's config: its schema defaults overlaid with what `Configure` sent."""


class Report(Protocol):
    """Reports one violation: the message and, from a stack policy, the URN it is about.

    What the SDK passes to `validate`. Its `ReportViolation` alias types `urn` as a
    required argument, but the SDK documents it as optional and its callback defaults it
    to None (pulumi-policy 1.21, `_create_report_violation`): resource checks call
    `report(message)`."""

    def __call__(self, message: str, urn: str | None = None, /) -> None: ...


class ResourceCheck(Protocol):
    """The check of a resource policy: reports what is wrong with one resource."""

    def __call__(
        self, args: ResourceValidationArgs, report: Report, settings: Settings, /
    ) -> None: ...


class StackCheck(Protocol):
    """The check of a stack policy: sees every resource; names the URN it reports on."""

    def __call__(
        self, args: StackValidationArgs, report: Report, settings: Settings, /
    ) -> None: ...


R = TypeVar("R", bound=ResourceCheck)
S = TypeVar("S", bound=StackCheck)


@dataclass(frozen=True)
class Profile:
    """How strict a policy is in each environment."""

    name: str
    default: EnforcementLevel
    """The level when a stack has no policy config file."""
    levels: Mapping[str, EnforcementLevel]
    """Environment -> level; what the generator writes into `config/<env>.json`."""


DEV, STAGING, PROD = ENVIRONMENTS  # from least to most strict

#: Security-critical: mandatory everywhere.
SECURITY = Profile("security", MANDATORY, dict.fromkeys(ENVIRONMENTS, MANDATORY))
#: Hygiene: advisory in dev (so experiments are not blocked), mandatory from staging on.
HYGIENE = Profile("hygiene", MANDATORY, {DEV: ADVISORY, STAGING: MANDATORY, PROD: MANDATORY})
#: Production-only: off in dev, advisory in staging (a release shows what prod would
#: block before it gets there), mandatory in prod.
PRODUCTION_ONLY = Profile(
    "production-only", ADVISORY, {DEV: DISABLED, STAGING: ADVISORY, PROD: MANDATORY}
)
PROFILES = (SECURITY, HYGIENE, PRODUCTION_ONLY)


@dataclass(frozen=True)
class Meta:
    """What a reader of the pack README, the CLI and a violation message need to know."""

    name: str
    """kebab-case ID, unique in the pack; what config files and exceptions refer to."""
    concern: str
    """One of `CONCERNS`: the module the check is declared in."""
    description: str
    """One line: what is required (the SDK prefixes every violation message with it)."""
    severity: Severity
    remediation: str
    """One sentence: how to fix a violation."""
    profile: Profile
    """The level per environment (and the default level)."""
    refs: tuple[str, ...] = ()
    """Equivalent scanner rules: Checkov (CKV_*), Trivy (AVD-*), Kyverno (kyverno:<policy>)."""
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON-schema properties of this policy's config; each has a "default"."""
    exemptable: bool = True
    """Whether the wrapper applies `exemptions` (`ballast_guardrails.exemptions`) to
    every finding; False: the policy declares and applies its own, or none."""

    @property
    def level(self) -> EnforcementLevel:
        """Default enforcement level, used when a stack has no policy config file."""
        return self.profile.default

    def properties(self) -> dict[str, Mapping[str, Any]]:
        return {**self.config, **({"exemptions": EXEMPTIONS} if self.exemptable else {})}

    def defaults(self) -> dict[str, Any]:
        return {k: p["default"] for k, p in self.properties().items() if "default" in p}

    def schema(self) -> PolicyConfigSchema:
        # Copies: the SDK gets plain dicts, and nothing it does reaches `EXEMPTIONS`.
        return PolicyConfigSchema(properties={k: dict(p) for k, p in self.properties().items()})

    def tags(self) -> list[str]:
        return [self.concern, *self.refs]


class _SdkFields(TypedDict):
    """The SDK policy's constructor arguments that come from a `Meta`."""

    name: str
    description: str
    enforcement_level: EnforcementLevel
    config_schema: PolicyConfigSchema
    severity: Severity
    tags: list[str]
    remediation_steps: str


def _sdk_fields(meta: Meta) -> _SdkFields:
    return _SdkFields(
        name=meta.name,
        description=meta.description,
        enforcement_level=meta.level,
        config_schema=meta.schema(),
        severity=meta.severity,
        tags=meta.tags(),
        remediation_steps=meta.remediation,
    )


class ResourcePolicy(ResourceValidationPolicy):
    """The SDK's resource policy, keeping its declaration (`meta`, read by the README,
    the config generator and tests) and the types it applies to (`applies_to_type`, read
    by the pack's SDK shim, `analyzer_speedups`)."""

    def __init__(
        self, meta: Meta, validate: ResourceValidation, applies_to_type: Callable[[str], bool]
    ) -> None:
        super().__init__(validate=validate, **_sdk_fields(meta))
        self.meta = meta
        self.applies_to_type = applies_to_type
        #: The one validation handed to the SDK, which runs it synchronously and returns
        #: None: calling it is all the SDK's `validate` does for this policy, so the
        #: pack's SDK shim calls it directly (`analyzer_speedups._validate`).
        self.synchronous_validate = validate


class StackPolicy(StackValidationPolicy):
    """The SDK's stack policy, keeping its declaration (`meta`)."""

    def __init__(self, meta: Meta, validate: StackValidation) -> None:
        super().__init__(validate=validate, **_sdk_fields(meta))
        self.meta = meta


Policy = ResourcePolicy | StackPolicy

_REGISTRY: dict[str, Policy] = {}


def registered() -> list[Policy]:
    """Every declared policy, by concern (`CONCERNS` order), then in declaration order."""
    policies = list(_REGISTRY.values())
    return sorted(policies, key=lambda p: CONCERNS.index(meta_of(p).concern))


def meta_of(policy: Policy) -> Meta:
    return policy.meta


def levels(environment: str) -> dict[str, str]:
    """Policy name -> its level in `environment` ("mandatory", ...), from the profiles."""
    return {meta_of(p).name: meta_of(p).profile.levels[environment].value for p in registered()}


def _concern_of(check: Callable[..., Any]) -> str:
    concern = check.__module__.rpartition(".")[2]
    if concern not in CONCERNS:
        raise ValueError(
            f"{check.__module__}.{check.__name__}: policies are declared in a concern "
            f"module ({', '.join(CONCERNS)})"
        )
    return concern


def _register(policy: Policy) -> None:
    name = meta_of(policy).name
    if name in _REGISTRY:
        raise ValueError(f"duplicate policy name: {name}")
    _REGISTRY[name] = policy


def _settings(defaults: Mapping[str, Any], given: Mapping[str, Any] | None) -> dict[str, Any]:
    """A policy's settings: its `defaults` (`Meta.defaults()`, computed once when the
    policy is declared) overlaid with the config `given` for this run; a new dict."""
    merged = dict(defaults)
    if given:
        merged.update(given)
    return merged


class Declared(TypedDict):
    """What a policy declares besides its check (see `Meta` for each field)."""

    name: str
    description: str
    severity: Severity
    profile: Profile
    remediation: str
    refs: NotRequired[tuple[str, ...]]
    config: NotRequired[Mapping[str, Mapping[str, Any]]]
    exemptable: NotRequired[bool]


def _meta(check: Callable[..., Any], declared: Declared) -> Meta:
    return Meta(concern=_concern_of(check), **declared)


def resource_policy(
    *, types: Iterable[str] | Callable[[str], bool], **declared: Unpack[Declared]
) -> Callable[[R], R]:
    """Declare the decorated function as the check of a policy that runs on resources
    of the given type tokens only (or, for a callable, on the types it accepts)."""
    applies = types if callable(types) else frozenset(types).__contains__

    def declare(check: R) -> R:
        meta = _meta(check, declared)
        defaults = meta.defaults()

        def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
            if applies(args.resource_type):
                settings = _settings(defaults, args.get_config())
                if not (meta.exemptable and exempted(settings.get("exemptions"), args.urn)):
                    # The SDK's callback takes `urn` as optional (see `Report`).
                    check(args, cast(Report, report), settings)

        # `applies` lets the pack's SDK shim skip this policy for other types without
        # calling it (analyzer_speedups.install); the check above stays, so the policy is
        # correct without it.
        _register(ResourcePolicy(meta, validate, applies))
        return check

    return declare


def stack_policy(**declared: Unpack[Declared]) -> Callable[[S], S]:
    """Declare the decorated function as the check of a policy that sees every resource
    of the stack at once (outputs, parents, dependencies, providers): for rules that
    span resources."""

    def declare(check: S) -> S:
        meta = _meta(check, declared)
        defaults = meta.defaults()

        def validate(args: StackValidationArgs, report: ReportViolation) -> None:
            settings = _settings(defaults, args.get_config())
            exemptions = settings.get("exemptions") if meta.exemptable else None

            def unless_exempt(message: str, urn: str | None = None) -> None:
                if not exempted(exemptions, urn):
                    report(message, urn)

            check(args, unless_exempt, settings)

        _register(StackPolicy(meta, validate))
        return check

    return declare
