"""Exemptions in a stack's policy config, as the toolkit reads them: which entry excused a
finding (with its reason), which entries match nothing, and the entry that would excuse
a violation (the ready-to-paste snippet every report shows).

An exemption names a resource by what survives renaming the project or copying a stack:
`{"type": <type token>, "name": <logical name>, "reason": ...}` or
`{"urn": <URN>, "reason": ...}`, where `{project}` and `{stack}` in `name` or `urn` are
filled in from the resource's URN; after that the match is exact. The pack applies them
(`policy-pack/ballast_guardrails/exemptions.py`, which the toolkit does not import: the
pack runs in its own process and interpreter); these are the same rules, and
`tests/policy/test_exemptions.py` holds the two to the same answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ballast.policy.config import PolicyConfig
    from ballast.policy.harness import Diagnostic

PLACEHOLDERS = ("{project}", "{stack}")
EXEMPTIONS_KEY = "exemptions"
_FIELDS = ("type", "name", "urn", "reason")


class ExemptionError(ValueError):
    """An exemption entry that cannot be used; one sentence naming it and what is accepted."""


@dataclass(frozen=True)
class Exemption:
    """One reviewed entry of a policy's `exemptions`."""

    policy: str
    index: int
    """Its position in the policy's list (for messages: `<policy>.exemptions[<index>]`)."""
    reason: str
    type: str | None = None
    name: str | None = None
    urn: str | None = None

    @property
    def where(self) -> str:
        return f"{self.policy}.{EXEMPTIONS_KEY}[{self.index}]"

    @property
    def selector(self) -> str:
        """The entry as one line: `<type>::<name>` or the URN pattern."""
        return self.urn if self.urn is not None else f"{self.type}::{self.name}"

    def matches(self, urn: str | None) -> bool:
        if not urn:
            return False
        stack, project, kind, name = urn_parts(urn)
        if not stack:
            return False
        if self.urn is not None:
            return fill(self.urn, project, stack) == urn
        return self.type == kind and fill(self.name or "", project, stack) == name

    def to_json(self) -> dict[str, str]:
        fields = (
            {"urn": self.urn} if self.urn is not None else {"type": self.type, "name": self.name}
        )
        return {**{k: v for k, v in fields.items() if v is not None}, "reason": self.reason}


def urn_parts(urn: str) -> tuple[str, str, str, str]:
    """(stack, project, type, name) of `urn:pulumi:<stack>::<project>::<types>::<name>`;
    the type is the last of the `$`-joined type chain. Empty strings for a malformed URN."""
    body = urn.removeprefix("urn:pulumi:")
    parts = body.split("::", 3)
    if body == urn or len(parts) != 4:
        return ("", "", "", "")
    stack, project, types, name = parts
    return stack, project, types.rsplit("$", 1)[-1], name


def fill(pattern: str, project: str, stack: str) -> str:
    return pattern.replace("{project}", project).replace("{stack}", stack)


def _check_placeholders(where: str, field: str, value: str) -> None:
    rest = value
    for placeholder in PLACEHOLDERS:
        rest = rest.replace(placeholder, "")
    if "{" in rest or "}" in rest:
        raise ExemptionError(
            f"{where}.{field} is {value!r}: the only placeholders are {' and '.join(PLACEHOLDERS)}"
        )


def parse_exemptions(policy: str, value: Any, source: str) -> list[Exemption]:
    """The entries of one policy's `exemptions` setting. Raises `ExemptionError` naming
    the entry for anything but a list of `{type, name, reason}` / `{urn, reason}` objects
    with non-empty strings (unknown keys are reported by `ballast.policy.config`)."""
    where = f"{source}: {policy}.{EXEMPTIONS_KEY}"
    if isinstance(value, Mapping):
        raise ExemptionError(
            f"{where} is a map; it is a list of {{type, name, reason}} or {{urn, reason}} "
            'objects, e.g. [{"type": "aws:s3/bucket:Bucket", "name": "{project}-{stack}-logs", '
            '"reason": "SEC-1: ..."}]'
        )
    if not isinstance(value, list):
        raise ExemptionError(f"{where} must be a list of exemption objects, got {value!r}")
    found = []
    for index, entry in enumerate(value):
        at = f"{where}[{index}]"
        if not isinstance(entry, Mapping):
            raise ExemptionError(f"{at} must be an object with a reason, got {entry!r}")
        for key in _FIELDS:
            if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
                raise ExemptionError(f"{at}.{key} must be a non-empty string")
        if "reason" not in entry:
            raise ExemptionError(f"{at} has no reason; every exemption says why (and the ticket)")
        has_urn, has_pair = "urn" in entry, "type" in entry or "name" in entry
        if has_urn == has_pair or (has_pair and not ("type" in entry and "name" in entry)):
            raise ExemptionError(
                f"{at} must name a resource either by type and name or by urn (not both)"
            )
        for key in ("name", "urn"):
            if key in entry:
                _check_placeholders(at, key, entry[key])
        found.append(
            Exemption(
                policy=policy,
                index=index,
                reason=entry["reason"],
                type=entry.get("type"),
                name=entry.get("name"),
                urn=entry.get("urn"),
            )
        )
    return found


@dataclass(frozen=True)
class ExemptedFinding:
    """A finding the pack did not report because an exemption excuses it."""

    diagnostic: Diagnostic
    exemption: Exemption | None
    """The entry that excuses it (the first that matches; None only if the pack's rules
    and these ever disagreed)."""


def exemptions_of(config: Mapping[str, PolicyConfig], source: str) -> list[Exemption]:
    """Every policy's exemptions in an effective config (validated by `reconcile`)."""
    found: list[Exemption] = []
    for name, policy in config.items():
        found += parse_exemptions(name, policy.properties.get(EXEMPTIONS_KEY, []), source)
    return found


def first_match(exemptions: Iterable[Exemption], urn: str) -> Exemption | None:
    return next((e for e in exemptions if e.matches(urn)), None)


def unmatched(exemptions: Iterable[Exemption], urns: Sequence[str]) -> list[Exemption]:
    """The entries that name none of `urns`."""
    return [e for e in exemptions if not any(e.matches(urn) for urn in urns)]


def snippet(
    urn: str, reason: str = "TODO: why this is acceptable, and the ticket"
) -> dict[str, str]:
    """The exemption entry that would excuse a finding on `urn`: its type and logical
    name, with a leading project name (the default name prefix) replaced by `{project}`
    and the stack (where it is a whole word of the name) by `{stack}`, so the entry holds
    in every stack that shares the file and after a rename of the project. For a finding
    without a parseable URN (a stack-wide finding), an empty dict."""
    stack, project, kind, name = urn_parts(urn)
    if not stack:
        return {}
    if project and name.startswith(f"{project}-"):
        name = "{project}" + name[len(project) :]
    # Only where the stack is a whole word of the name: `dev` in `ballast-dev-db`, not
    # in `devices`.
    pattern = re.sub(rf"(?<![A-Za-z0-9]){re.escape(stack)}(?![A-Za-z0-9])", "{stack}", name)
    return {"type": kind, "name": pattern, "reason": reason}
