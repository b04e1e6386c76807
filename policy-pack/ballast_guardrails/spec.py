"""Policy metadata and the two builders every concern module uses.

A policy is declared once, as a `Meta` (name, one-line description, severity, the
Checkov/Trivy/Kyverno IDs it corresponds to, a remediation sentence, the default
enforcement level and its config schema), plus a check function. The builders wrap the
check so that:

* a resource policy only looks at the resource types it names (the SDK calls every
  policy for every resource; the type test keeps that cheap);
* the check receives its settings already merged: the schema defaults, overlaid with
  what the CLI (or the Ballast harness) sent in `Configure`. The CLI fills schema
  defaults in itself; merging here too keeps a policy correct when a caller sends a
  partial config;
* every policy (unless it opts out) takes an `exemptions` setting, `{urn: reason}`: a
  reviewed change to a stack's policy config that excuses one resource, with the
  reason (and ticket) next to it. Violations on an exempted URN are not reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

ADVISORY = EnforcementLevel.ADVISORY
MANDATORY = EnforcementLevel.MANDATORY
DISABLED = EnforcementLevel.DISABLED

LOW, MEDIUM, HIGH, CRITICAL = Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL

Settings = Mapping[str, Any]

#: The config property every exemptable policy has: URN -> the reason it is excused.
EXEMPTIONS: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": {"type": "string", "minLength": 1},
    "default": {},
    "description": "URN -> reason (and ticket) for excusing that one resource.",
}
ResourceCheck = Callable[[ResourceValidationArgs, ReportViolation, Settings], None]
StackCheck = Callable[[StackValidationArgs, ReportViolation, Settings], None]


@dataclass(frozen=True)
class Meta:
    """What a reader of the pack README, the CLI and a violation message need to know."""

    name: str
    """kebab-case ID, unique in the pack; what config files and exceptions refer to."""
    concern: str
    """iam, data, network, eks, kubernetes, delivery or tagging."""
    description: str
    """One line: what is required (the SDK prefixes every violation message with it)."""
    severity: Severity
    remediation: str
    """One sentence: how to fix a violation."""
    level: EnforcementLevel = MANDATORY
    """Default enforcement level, used when a stack has no policy config file."""
    refs: tuple[str, ...] = ()
    """Equivalent scanner rules: Checkov (CKV_*), Trivy (AVD-*), Kyverno (kyverno:<policy>)."""
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON-schema properties of this policy's config; each has a "default"."""
    exemptable: bool = True
    """Whether single resources may be exempted by URN (see `EXEMPTIONS`)."""

    def properties(self) -> dict[str, Mapping[str, Any]]:
        return {**self.config, **({"exemptions": EXEMPTIONS} if self.exemptable else {})}

    def defaults(self) -> dict[str, Any]:
        return {k: p["default"] for k, p in self.properties().items() if "default" in p}

    def schema(self) -> PolicyConfigSchema:
        return PolicyConfigSchema(properties=self.properties())

    def tags(self) -> list[str]:
        return [self.concern, *self.refs]


def _settings(meta: Meta, given: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = meta.defaults()
    if given:
        merged.update(given)
    return merged


def resource_policy(
    meta: Meta, types: Iterable[str] | Callable[[str], bool], check: ResourceCheck
) -> ResourceValidationPolicy:
    """A policy that runs `check` on resources of the given type tokens only (or, for
    a callable, on the types it accepts)."""
    applies = types if callable(types) else frozenset(types).__contains__

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if applies(args.resource_type):
            settings = _settings(meta, args.get_config())
            if args.urn not in settings.get("exemptions", {}):
                check(args, report, settings)

    policy = _described(ResourceValidationPolicy, meta, validate)
    # Lets the pack's SDK shim skip this policy for other types without calling it
    # (analyzer_speedups.install); the check above stays, so the policy is correct without it.
    policy.applies_to_type = applies  # type: ignore[attr-defined]
    return policy


def stack_policy(meta: Meta, check: StackCheck) -> StackValidationPolicy:
    """A policy that sees every resource of the stack at once (outputs, parents,
    dependencies, providers): for rules that span resources."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        settings = _settings(meta, args.get_config())
        exempt = settings.get("exemptions", {})

        def unless_exempt(message: str, urn: str | None = None) -> None:
            if urn not in exempt:
                report(message, urn)

        check(args, unless_exempt, settings)

    return _described(StackValidationPolicy, meta, validate)


def _described(cls, meta: Meta, validate):
    policy = cls(
        name=meta.name,
        description=meta.description,
        validate=validate,
        enforcement_level=meta.level,
        config_schema=meta.schema(),
        severity=meta.severity,
        tags=meta.tags(),
        remediation_steps=meta.remediation,
    )
    # Kept on the object so the README and tests can list scanner IDs and concerns.
    policy.meta = meta
    return policy
