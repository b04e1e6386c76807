"""Exemptions: which resources a reviewed entry in a stack's policy config excuses.

An exemption names a resource by what survives renaming the project or copying a stack,
and says why it is excused::

    {"type": "aws:rds/instance:Instance", "name": "{project}-{stack}-db-replica",
     "reason": "Approved trade-off: ... (SEC-12)"}
    {"urn": "urn:pulumi:{stack}::{project}::...$aws:rds/instance:Instance::{project}-{stack}-db-replica",
     "reason": "..."}

* `type` + `name`: the resource's type token and its logical name; it matches every
  resource of that type with that name, whatever its parents;
* `urn`: the whole URN, parents included;
* `{project}` and `{stack}` in `name` or `urn` stand for the project and stack of the
  resource being checked (read from its URN), so one entry holds for every stack that
  shares the file and keeps holding when the project is renamed. No other braces are
  accepted, and nothing else is a wildcard: after the placeholders are filled in the
  match is exact;
* `reason` is required: the why and the ticket, for the next reviewer.

Pure Python (no SDK import): `spec` applies it around every check. The Ballast toolkit
applies the same rules on its side (`ballast/policy/exemptions.py`) to say which entry
excused a finding and which entries match nothing; a test holds the two to the same
answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PLACEHOLDERS = ("{project}", "{stack}")
#: A `name` or `urn` whose only braces are the placeholders.
_PATTERN = r"^([^{}]|\{project\}|\{stack\})+$"

#: JSON schema of one exemption (what the CLI validates a config file against).
SELECTOR: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "minLength": 1, "description": "Resource type token."},
        "name": {
            "type": "string",
            "pattern": _PATTERN,
            "description": "Logical name; {project} and {stack} are filled in.",
        },
        "urn": {
            "type": "string",
            "pattern": _PATTERN,
            "description": "Whole URN; {project} and {stack} are filled in.",
        },
        "reason": {"type": "string", "minLength": 1, "description": "Why, and the ticket."},
    },
    "required": ["reason"],
    "additionalProperties": False,
    "oneOf": [
        {"required": ["type", "name"], "not": {"required": ["urn"]}},
        {"required": ["urn"], "not": {"anyOf": [{"required": ["type"]}, {"required": ["name"]}]}},
    ],
}

#: The config property every exemptable policy has: a list of `SELECTOR`s.
EXEMPTIONS: Mapping[str, Any] = {
    "type": "array",
    "items": SELECTOR,
    "default": [],
    "description": "Resources excused from this policy: {type, name, reason} or "
    "{urn, reason}; {project} and {stack} are filled in from the resource's URN.",
}


def urn_parts(urn: str) -> tuple[str, str, str, str]:
    """(stack, project, type, name) of `urn:pulumi:<stack>::<project>::<types>::<name>`;
    the type is the last of the `$`-joined type chain. Empty strings for a malformed URN."""
    body = urn.removeprefix("urn:pulumi:")
    parts = body.split("::", 3)
    if body == urn or len(parts) != 4:
        return ("", "", "", "")
    stack, project, types, name = parts
    return stack, project, types.rsplit("$", 1)[-1], name


def _fill(pattern: str, project: str, stack: str) -> str:
    return pattern.replace("{project}", project).replace("{stack}", stack)


def matches(exemption: Mapping[str, Any], urn: str | None) -> bool:
    """Whether `exemption` names the resource `urn`."""
    if not urn:
        return False
    stack, project, kind, name = urn_parts(urn)
    if not stack:
        return False
    if "urn" in exemption:
        return _fill(str(exemption["urn"]), project, stack) == urn
    return (
        exemption.get("type") == kind
        and _fill(str(exemption.get("name", "")), project, stack) == name
    )


def exempted(exemptions: Iterable[Mapping[str, Any]] | None, urn: str | None) -> bool:
    """Whether any of `exemptions` names `urn`."""
    if not exemptions:  # most policies have none: no generator to start
        return False
    return any(isinstance(e, Mapping) and matches(e, urn) for e in exemptions or ())
