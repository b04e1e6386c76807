"""Policy-pack config files (`--policy-pack-config`), read and applied as the CLI does.

A file maps a policy name to an enforcement level (`"mandatory"`) or to an object with
an optional `enforcementLevel` and the policy's properties; the key `all` sets the level
of every policy. The CLI reconciles it with what the pack reports (each policy's default
level and the defaults of its config schema, then the pack's initial config, then `all`,
then the per-policy entries), validates the properties against each policy's JSON schema
and sends the result in one `Configure` call. This module does the same, with one
deliberate difference: a policy name the pack does not have, and a key a policy's
schema does not declare (at any depth: a setting, a field of an exemption), is an
error here, with the closest known name, because the CLI silently ignores a misspelt
name and the guardrail it meant to configure keeps its default. Exemptions are checked
entry by entry (`ballast.policy.exemptions`).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
ALL = "all"


class PolicyConfigError(ValueError):
    """A policy config file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class PolicyConfig:
    """One policy's effective configuration."""

    level: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConfigEntry:
    level: str | None
    properties: dict[str, Any]


def _entry(source: str, key: str, value: Any) -> ConfigEntry:
    if isinstance(value, str):
        if value not in LEVELS:
            raise PolicyConfigError(
                f"{source}: {key!r} has the enforcement level {value!r}; "
                f"use one of {', '.join(LEVELS)}"
            )
        return ConfigEntry(value, {})
    if isinstance(value, dict):
        properties = dict(value)
        level = properties.pop("enforcementLevel", None)
        if level is not None and level not in LEVELS:
            raise PolicyConfigError(
                f"{source}: {key}.enforcementLevel is {level!r}; use one of {', '.join(LEVELS)}"
            )
        return ConfigEntry(level, properties)
    raise PolicyConfigError(
        f"{source}: {key!r} must be an enforcement level or an object, got {value!r}"
    )


def parse_policy_config(data: Any, source: str = "policy config") -> dict[str, ConfigEntry]:
    """Parse the decoded JSON of a config file (CLI semantics)."""
    if not isinstance(data, dict):
        raise PolicyConfigError(f"{source}: expected a JSON object of policy names")
    return {str(key): _entry(source, str(key), value) for key, value in data.items()}


def load_policy_config(path: str | Path, *, label: str | None = None) -> dict[str, ConfigEntry]:
    """Read and parse a config file; an empty file is an empty config, as in the CLI.
    `label` (default: the path) names the file in error messages."""
    path = Path(path)
    name = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyConfigError(f"cannot read {name}: {exc.strerror or exc}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PolicyConfigError(f"{name} is not valid JSON: {exc}") from None
    return parse_policy_config(data, name)


def _apply(result: dict[str, PolicyConfig], entries: Mapping[str, ConfigEntry]) -> None:
    everything = entries.get(ALL)
    if everything is not None and everything.level is not None:
        for name, current in result.items():
            result[name] = PolicyConfig(everything.level, current.properties)
    for name, entry in entries.items():
        if name == ALL:
            continue
        current = result[name]
        result[name] = PolicyConfig(
            entry.level or current.level, {**current.properties, **entry.properties}
        )


def reconcile(
    policies: Mapping[str, tuple[str, Mapping[str, Any]]],
    entries: Mapping[str, ConfigEntry] | None,
    *,
    initial: Mapping[str, ConfigEntry] | None = None,
    source: str = "policy config",
) -> dict[str, PolicyConfig]:
    """The effective config of every policy.

    `policies` maps each policy name to (default level, config schema properties).
    Raises `PolicyConfigError` for an unknown policy name or properties that do not
    match a policy's schema (all problems in one message).
    """
    problems = [
        f"{source}: no policy named {name!r} in the pack{_did_you_mean(name, [ALL, *policies])}"
        for name in (entries or {})
        if name != ALL and name not in policies
    ]
    for name, entry in (entries or {}).items():
        if name in policies:
            schema = {"properties": {**policies[name][1], "enforcementLevel": {}}}
            problems += _unknown_keys(schema, entry.properties, name, source)
    if problems:
        raise PolicyConfigError("\n".join(problems))
    _check_exemptions(entries or {}, source)
    result = {
        name: PolicyConfig(
            level,
            {k: v["default"] for k, v in schema.items() if isinstance(v, dict) and "default" in v},
        )
        for name, (level, schema) in policies.items()
    }
    for layer in (initial, entries):
        if layer:
            _apply(result, {k: v for k, v in layer.items() if k == ALL or k in result})
    problems = _validate(policies, result, source)
    if problems:
        raise PolicyConfigError("\n".join(problems))
    return result


def _did_you_mean(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unknown_keys(schema: Mapping[str, Any], value: Any, path: str, source: str) -> list[str]:
    """Keys of `value` that `schema` does not declare, at any depth. An object schema
    with `properties` declares exactly those, unless `additionalProperties` allows more;
    arrays are walked through `items`."""
    problems: list[str] = []
    if isinstance(value, dict) and isinstance(schema.get("properties"), Mapping):
        declared = schema["properties"]
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in declared:
                problems += _unknown_keys(declared[key], item, f"{path}.{key}", source)
            elif isinstance(extra, Mapping):
                problems += _unknown_keys(extra, item, f"{path}.{key}", source)
            elif extra is not True:
                known = ", ".join(sorted(declared)) or "none"
                problems.append(
                    f"{source}: {path}.{key} is not a known key"
                    f"{_did_you_mean(key, declared)} (known here: {known})"
                )
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            problems += _unknown_keys(schema["items"], item, f"{path}[{index}]", source)
    return problems


def _check_exemptions(entries: Mapping[str, ConfigEntry], source: str) -> None:
    from ballast.policy.exemptions import EXEMPTIONS_KEY, ExemptionError, parse_exemptions

    for name, entry in entries.items():
        if EXEMPTIONS_KEY in entry.properties:
            try:
                parse_exemptions(name, entry.properties[EXEMPTIONS_KEY], source)
            except ExemptionError as exc:
                raise PolicyConfigError(str(exc)) from None


def _validate(policies, result: Mapping[str, PolicyConfig], source: str) -> list[str]:
    from jsonschema import Draft7Validator

    problems = []
    for name, (_, schema) in policies.items():
        if not schema:
            continue
        validator = Draft7Validator({"type": "object", "properties": dict(schema)})
        for error in sorted(validator.iter_errors(result[name].properties), key=str):
            path = ".".join(str(p) for p in error.absolute_path)
            where = f"{name}.{path}" if path else name
            problems.append(f"{source}: {where}: {error.message}")
    return problems
