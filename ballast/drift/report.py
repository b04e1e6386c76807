"""The drift report: what drifted, how dangerous it is, what was set aside, and its JSON.

Built from a `Collected` refresh: each drifted step's changes (`diff.changes`), with
provider noise and `.driftignore` entries applied (`noise`), each remaining change
classified (`risk`). A resource whose every change was set aside is not drift; its
changes are listed under `ignored` with their reasons. The JSON document is described in
docs/drift.md (`SCHEMA_VERSION`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ballast.drift import remediate
from ballast.drift.diff import Change, changes
from ballast.drift.noise import BUILT_IN, IgnoreRule, matching_rule
from ballast.drift.paths import MISSING
from ballast.drift.risk import LEVELS, Risk, classify, rank
from ballast.drift.sources import Collected, Failure

SCHEMA_VERSION = 1
EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR = 0, 1, 2


def split_urn(urn: str) -> tuple[str, str]:
    """(type, logical name) of a URN."""
    head, _, name = urn.rpartition("::")
    return head.rpartition("::")[2].rpartition("$")[2], name


@dataclass(frozen=True)
class Component:
    urn: str
    type: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.type.rpartition(':')[2]})"


@dataclass(frozen=True)
class RiskedChange:
    change: Change
    risk: Risk


@dataclass(frozen=True)
class ResourceDrift:
    urn: str
    type: str
    name: str
    op: str
    component: Component | None
    changes: tuple[RiskedChange, ...]
    risk: Risk
    """The resource's own risk: its deletion's, or its most severe change's."""

    @property
    def level(self) -> str:
        return self.risk.level

    @property
    def policies(self) -> tuple[str, ...]:
        names = [*self.risk.policies, *(p for c in self.changes for p in c.risk.policies)]
        return tuple(dict.fromkeys(names))

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([self.risk.category, *(c.risk.category for c in self.changes)]))


@dataclass(frozen=True)
class Ignored:
    urn: str
    type: str
    path: str | None
    """None: the whole resource (its deletion)."""
    rule: IgnoreRule


@dataclass
class DriftReport:
    stack: str
    project: str | None
    checked_at: dt.datetime
    collected: Collected
    drift: list[ResourceDrift] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    expired: list[IgnoreRule] = field(default_factory=list)

    @property
    def failures(self) -> list[Failure]:
        return list(dict.fromkeys(self.collected.failures))

    @property
    def exit_code(self) -> int:
        if self.failures or not self.collected.complete:
            return EXIT_ERROR
        return EXIT_DRIFT if self.drift else EXIT_CLEAN

    def counts(self) -> dict[str, Any]:
        by_risk = Counter(item.level for item in self.drift)
        by_op = Counter(item.op for item in self.drift)
        drifted = {item.urn for item in self.drift}
        return {
            "checked": self.collected.checked,
            "drifted": len(self.drift),
            "byRisk": {level: by_risk.get(level, 0) for level in LEVELS},
            "byOperation": dict(sorted(by_op.items())),
            "changedProperties": sum(len(item.changes) for item in self.drift),
            "ignoredChanges": len(self.ignored),
            "ignoredResources": len({i.urn for i in self.ignored} - drifted),
            "failures": len(self.failures),
        }

    def to_json(self) -> dict[str, Any]:
        collected = self.collected
        return {
            "schemaVersion": SCHEMA_VERSION,
            "stack": self.stack,
            "project": self.project,
            "checkedAt": _iso(self.checked_at),
            "refreshedAt": (
                _iso(dt.datetime.fromtimestamp(collected.last_timestamp, dt.UTC))
                if collected.last_timestamp
                else None
            ),
            "source": collected.source,
            "complete": collected.complete,
            "versions": {
                "pulumi": collected.pulumi_version,
                "providers": dict(sorted(collected.providers.items())),
            },
            "diffKindField": collected.diff_kind_field,
            "counts": self.counts(),
            "drift": [_drift_json(self.stack, item) for item in self.drift],
            "ignored": [
                {
                    "urn": item.urn,
                    "type": item.type,
                    "path": item.path,
                    "reason": item.rule.reason,
                    "rule": item.rule.source,
                }
                for item in self.ignored
            ],
            "expiredIgnores": [
                {
                    "selector": rule.selector,
                    "paths": list(rule.paths),
                    "reason": rule.reason,
                    "expires": rule.expires.isoformat() if rule.expires else None,
                    "rule": rule.source,
                }
                for rule in self.expired
            ],
            "failures": [{"urn": f.urn, "message": f.message} for f in self.failures],
        }


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _value(name: str, value: Any) -> dict[str, Any]:
    return {} if value is MISSING else {name: value}


def _drift_json(stack: str, item: ResourceDrift) -> dict[str, Any]:
    return {
        "urn": item.urn,
        "type": item.type,
        "name": item.name,
        "component": (
            None
            if item.component is None
            else {
                "urn": item.component.urn,
                "type": item.component.type,
                "name": item.component.name,
            }
        ),
        "operation": item.op,
        "risk": item.level,
        "categories": list(item.categories),
        "concerns": sorted(
            {c for c in [item.risk.concern, *(r.risk.concern for r in item.changes)] if c}
        ),
        "policies": list(item.policies),
        "changes": [
            {
                "path": rc.change.path,
                "kind": rc.change.kind,
                "replace": rc.change.replace,
                **_value("old", rc.change.old),
                **_value("new", rc.change.new),
                "risk": rc.risk.level,
                "category": rc.risk.category,
                "concern": rc.risk.concern,
                "policies": list(rc.risk.policies),
            }
            for rc in item.changes
        ],
        "remediation": {
            "acceptCloud": {
                "command": remediate.accept_command(stack, item.urn),
                "then": remediate.accept_note(item.op),
            },
            "restoreCode": {
                "command": remediate.restore_command(stack, item.urn),
                "effect": remediate.restore_note(item.op),
            },
        },
    }


def _component(parent: str | None) -> Component | None:
    if not parent:
        return None
    type_, name = split_urn(parent)
    if type_ == "pulumi:pulumi:Stack":
        return None
    return Component(parent, type_, name)


def build(
    collected: Collected,
    *,
    stack: str | None = None,
    ignore_rules: Sequence[IgnoreRule] = (),
    checked_at: dt.datetime,
    built_in: Sequence[IgnoreRule] = BUILT_IN,
) -> DriftReport:
    """The report for `collected`, checked at `checked_at` (UTC). `ignore_rules` come
    from the project's `.driftignore`; built-in noise rules apply first."""
    today = checked_at.astimezone(dt.UTC).date()
    rules = [*built_in, *ignore_rules]
    report = DriftReport(
        stack=stack or collected.stack or "",
        project=collected.project,
        checked_at=checked_at,
        collected=collected,
        expired=[rule for rule in ignore_rules if rule.expired(today)],
    )
    for step in collected.steps:
        type_, name = step.type, split_urn(step.urn)[1]
        kept: list[RiskedChange] = []
        found = changes(step)
        if not found:
            rule = matching_rule(rules, step.urn, type_, None, today)
            if rule is not None:
                report.ignored.append(Ignored(step.urn, type_, None, rule))
                continue
            own = classify(type_, None)
        else:
            for change in found:
                rule = matching_rule(rules, step.urn, type_, change.path, today)
                if rule is not None:
                    report.ignored.append(Ignored(step.urn, type_, change.path, rule))
                else:
                    kept.append(RiskedChange(change, classify(type_, change.path)))
            if not kept:
                continue
            own = min((rc.risk for rc in kept), key=lambda risk: rank(risk.level))
        report.drift.append(
            ResourceDrift(
                urn=step.urn,
                type=type_,
                name=name,
                op=step.op,
                component=_component(step.parent),
                changes=tuple(kept),
                risk=own,
            )
        )
    report.drift.sort(
        key=lambda item: (
            rank(item.level),
            item.component is None,
            item.component.label if item.component else "",
            item.urn,
        )
    )
    return report
