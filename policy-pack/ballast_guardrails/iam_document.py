"""A tolerant parser for IAM policy documents (identity, resource and trust policies).

It accepts every shape AWS accepts, and some AWS would reject, so a guardrail never
misses a grant because of how a document was written:

* the document as a JSON string or as an object;
* `Statement` as one object or a list of them;
* `Action`/`NotAction`/`Resource`/`NotResource` as a string or a list of strings;
* `Principal` as `"*"` or `{kind: value-or-list}`;
* element names and `Effect` values in any case (AWS itself wants `Allow`/`Deny`;
  reading `allow` as an Allow is the conservative choice for a guardrail).

Parsing never raises for a malformed document: problems are collected in
`PolicyDocument.errors` and the statements that could be read are kept. Action matching
ignores case (`IAM:Put*` grants `iam:PutRolePolicy`) and understands the `*` and `?`
wildcards inside action names, as IAM does.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ALLOW, DENY = "Allow", "Deny"


@dataclass(frozen=True)
class Statement:
    """One statement, normalised. Absent elements are empty tuples."""

    index: int
    sid: str
    effect: str
    """"Allow", "Deny", or the raw value when it is neither."""
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    principals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """`{"AWS": (...), "Service": (...), ...}`; `Principal: "*"` becomes `{"*": ("*",)}`."""
    not_principals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    """`{operator: {condition-key: values}}`, keys as written."""
    uses_not_action: bool = False
    uses_not_resource: bool = False

    @property
    def allows(self) -> bool:
        return self.effect == ALLOW

    @property
    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else f"statement #{self.index + 1}"

    def grants(self, action: str) -> bool:
        """Does this Allow statement cover `action` (ignoring resources)?"""
        if not self.allows:
            return False
        if self.uses_not_action:
            return not any(action_matches(p, action) for p in self.not_actions)
        return any(action_matches(p, action) for p in self.actions)

    def covers(self, action: str) -> bool:
        """Does the statement's action list (whatever its effect) cover `action`?"""
        if self.uses_not_action:
            return not any(action_matches(p, action) for p in self.not_actions)
        return any(action_matches(p, action) for p in self.actions)

    @property
    def on_any_resource(self) -> bool:
        """`Resource: "*"`, or a `NotResource` (which covers all but a few resources)."""
        return self.uses_not_resource or any(is_star(r) for r in self.resources)

    @property
    def any_principal(self) -> bool:
        """`Principal: "*"` or a `*` inside any principal kind."""
        return any(is_star(v) for values in self.principals.values() for v in values)

    def condition_keys(self) -> set[str]:
        """Every condition key, lower-cased."""
        return {key.lower() for block in self.conditions.values() for key in block}

    def condition_values(self, key_suffix: str, narrowing: bool = False) -> list[str]:
        """Values of every condition key ending in `key_suffix` (case-insensitive); with
        `narrowing`, only those under an operator that narrows to the values
        (`narrows`)."""
        suffix = key_suffix.lower()
        return [
            value
            for operator, block in self.conditions.items()
            if not narrowing or narrows(operator)
            for key, values in block.items()
            if key.lower().endswith(suffix)
            for value in values
        ]


@dataclass(frozen=True)
class PolicyDocument:
    statements: tuple[Statement, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def allow_statements(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.allows)

    def star_on_star(self) -> list[Statement]:
        """Allow statements granting every action on every resource."""
        return [
            s
            for s in self.allow_statements
            if not s.uses_not_action
            and any(is_full_wildcard(a) for a in s.actions)
            and any(is_star(r) for r in s.resources)
        ]

    def granting(self, action: str) -> list[Statement]:
        """Allow statements that grant `action`, unless an unconditional Deny on every
        resource takes it away again. A Deny never grants anything."""
        if self.denies_everywhere(action):
            return []
        return [s for s in self.statements if s.grants(action)]

    def denies_all_but(self, action: str) -> list[Statement]:
        """Unconditional Deny statements that cover `action` on every resource except the
        ones their (non-empty) `NotResource` names: what they leave out is all an Allow on
        every resource still grants."""
        return [
            s
            for s in self.statements
            if s.effect == DENY
            and not s.conditions
            and s.uses_not_resource
            and s.not_resources
            and s.covers(action)
        ]

    def denies_everywhere(self, action: str) -> bool:
        return any(
            s.effect == DENY
            and not s.conditions
            and not s.uses_not_resource
            and any(is_star(r) for r in s.resources)
            and s.covers(action)
            for s in self.statements
        )


# --- matching ----------------------------------------------------------------------


def is_star(value: str) -> bool:
    """`*` (or `**`...): every resource / every principal."""
    stripped = value.strip()
    return bool(stripped) and set(stripped) == {"*"}


def split_action(pattern: str) -> tuple[str, str]:
    service, _, name = pattern.strip().partition(":")
    return service, name


def is_full_wildcard(pattern: str) -> bool:
    """An action pattern that matches every action of every service (`*`, `*:*`)."""
    service, name = split_action(pattern)
    if is_star(service) and not name:
        return True
    return is_star(service) and is_star(name)


def is_service_wildcard(pattern: str) -> bool:
    """`*`, `service:*`, or any pattern whose service part is a wildcard (`*:Get*`)."""
    service, name = split_action(pattern)
    if not name:
        return "*" in service or "?" in service
    return "*" in service or "?" in service or is_star(name)


@functools.lru_cache(maxsize=4096)
def _action_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for char in pattern.strip():
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, `*` any run of characters, `?` one."""
    return _action_regex(pattern).fullmatch(action.strip()) is not None


#: Condition operators that hold only when the key equals (or matches) a listed value.
_NARROWING_OPERATORS = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}
)


def narrows(operator: str) -> bool:
    """Does a condition under `operator` admit only requests whose key matches one of its
    values? Not for negated operators (`StringNotEquals` admits everything else), `Null`,
    `...IfExists` (a request without the key passes) or `ForAllValues:` (a request with
    no values for the key passes)."""
    qualifier, _, base = operator.strip().rpartition(":")
    if qualifier and qualifier.lower() != "foranyvalue":
        return False
    return base.lower() in _NARROWING_OPERATORS


def has_wildcard(value: str) -> bool:
    """A condition value (or ARN part) with `*` or `?`: under a `Like` or `Arn` operator it
    matches many values; under `StringEquals` it is a mistake either way."""
    return "*" in value or "?" in value


# --- parsing -----------------------------------------------------------------------

_ELEMENTS = {
    "sid": "Sid",
    "effect": "Effect",
    "action": "Action",
    "notaction": "NotAction",
    "resource": "Resource",
    "notresource": "NotResource",
    "principal": "Principal",
    "notprincipal": "NotPrincipal",
    "condition": "Condition",
}


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _lookup(mapping: Mapping, name: str) -> tuple[bool, Any]:
    """Element `name` in any case; (present, value)."""
    if name in mapping:
        return True, mapping[name]
    lowered = name.lower()
    for key in mapping:
        if isinstance(key, str) and key.lower() == lowered:
            return True, mapping[key]
    return False, None


def _strings(value: Any, where: str, errors: list[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if _is_list(value):
        out = []
        for item in value:
            if isinstance(item, str):
                out.append(item)
            else:
                errors.append(f"{where}: ignored a non-string entry {item!r}")
        return tuple(out)
    errors.append(f"{where}: expected a string or a list of strings, got {value!r}")
    return ()


def _scalars(value: Any) -> tuple[str, ...]:
    """Condition values: strings, numbers and booleans, one or a list."""
    items = value if _is_list(value) else [value]
    out = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, (str, int, float)):
            out.append(str(item))
    return tuple(out)


def _principals(value: Any, where: str, errors: list[str]) -> dict[str, tuple[str, ...]]:
    if isinstance(value, str):
        if is_star(value):
            return {"*": ("*",)}
        errors.append(f"{where}: a principal string must be '*', got {value!r}")
        # Keep it: a guardrail should still see what the author meant.
        return {"AWS": (value,)}
    if isinstance(value, Mapping):
        return {str(kind): _strings(v, f"{where}.{kind}", errors) for kind, v in value.items()}
    errors.append(f"{where}: expected '*' or an object, got {value!r}")
    return {}


def _conditions(value: Any, where: str, errors: list[str]) -> dict[str, dict[str, tuple]]:
    if not isinstance(value, Mapping):
        errors.append(f"{where}: expected an object, got {value!r}")
        return {}
    out: dict[str, dict[str, tuple]] = {}
    for operator, block in value.items():
        if not isinstance(block, Mapping):
            errors.append(f"{where}.{operator}: expected an object, got {block!r}")
            continue
        out[str(operator)] = {str(k): _scalars(v) for k, v in block.items()}
    return out


def _statement(index: int, raw: Any, errors: list[str]) -> Statement | None:
    where = f"Statement[{index}]"
    if not isinstance(raw, Mapping):
        errors.append(f"{where}: expected an object, got {raw!r}")
        return None
    found = {canonical: _lookup(raw, canonical) for canonical in _ELEMENTS.values()}
    present, effect_raw = found["Effect"]
    if not present or not isinstance(effect_raw, str):
        errors.append(f"{where}: Effect must be 'Allow' or 'Deny', got {effect_raw!r}")
        return None
    effect = {"allow": ALLOW, "deny": DENY}.get(effect_raw.strip().lower(), effect_raw)
    if effect not in (ALLOW, DENY):
        errors.append(f"{where}: Effect must be 'Allow' or 'Deny', got {effect_raw!r}")

    def strings(name: str) -> tuple[str, ...]:
        has, value = found[name]
        return _strings(value, f"{where}.{name}", errors) if has else ()

    sid_present, sid = found["Sid"]
    has_principal, principal = found["Principal"]
    has_not_principal, not_principal = found["NotPrincipal"]
    has_condition, condition = found["Condition"]
    statement = Statement(
        index=index,
        sid=sid if sid_present and isinstance(sid, str) else "",
        effect=effect,
        actions=strings("Action"),
        not_actions=strings("NotAction"),
        resources=strings("Resource"),
        not_resources=strings("NotResource"),
        principals=_principals(principal, f"{where}.Principal", errors) if has_principal else {},
        not_principals=(
            _principals(not_principal, f"{where}.NotPrincipal", errors) if has_not_principal else {}
        ),
        conditions=_conditions(condition, f"{where}.Condition", errors) if has_condition else {},
        uses_not_action=found["NotAction"][0],
        uses_not_resource=found["NotResource"][0],
    )
    if not (found["Action"][0] or statement.uses_not_action):
        errors.append(f"{where}: has neither Action nor NotAction")
    return statement


def parse(document: Any) -> PolicyDocument:
    """Parse a policy document given as a JSON string or an object. Never raises on a
    malformed document (an unknown value inside a proxied object still raises, so the
    SDK can skip the policy during preview)."""
    if isinstance(document, str):
        return _parse_text(document)
    return _parse_object(document)


@functools.lru_cache(maxsize=1024)
def _parse_text(text: str) -> PolicyDocument:
    # Documents repeat across the policies that read one resource: parse each once.
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return PolicyDocument(errors=(f"not valid JSON: {exc}",))
    return _parse_object(decoded)


def _parse_object(document: Any) -> PolicyDocument:
    errors: list[str] = []
    if not isinstance(document, Mapping):
        return PolicyDocument(errors=(f"expected a JSON object, got {type(document).__name__}",))
    present, raw = _lookup(document, "Statement")
    if not present:
        return PolicyDocument(errors=("the document has no Statement",))
    items = [raw[i] for i in range(len(raw))] if _is_list(raw) else [raw]
    statements = []
    for index, item in enumerate(items):
        statement = _statement(index, item, errors)
        if statement is not None:
            statements.append(statement)
    return PolicyDocument(statements=tuple(statements), errors=tuple(errors))
