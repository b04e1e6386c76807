"""Reading resource properties the way the engine delivers them.

Properties arrive as the SDK's unknown-checking proxies (Mappings and Sequences that
raise `UnknownValueError` when a value is not known during preview). Everything here
reads lazily, only along the path a policy asks for, so an unknown value elsewhere in a
resource never stops a policy that does not need it; and nothing here catches
`UnknownValueError`: the SDK turns it into an advisory "can't run during preview" note.

Numbers arrive as floats; booleans sometimes as strings ("true"): provider inputs and a
few schema fields (launch-template `encrypted`) are strings on the wire.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ballast_guardrails.read_only_props import UNKNOWN_VALUES, ReadOnlyDict, ReadOnlyList

_TRUE = frozenset({"true", "1", "yes", "on"})


_MISSING = object()


def get(value: Any, *path: str | int, default: Any = None) -> Any:
    """`value[p0][p1]...`, or `default` when any step is missing or of the wrong shape.

    The shim's read-only proxies (`read_only_props`), the hot path of every policy, are
    read through their contents; an unknown value is then read through the proxy, which
    raises the SDK's `UnknownValueError` as the generic path below does."""
    current = value
    for step in path:
        kind = current.__class__
        if kind is ReadOnlyDict and step.__class__ is str and step != "__target":
            found = current._target.get(step, _MISSING)
            if found is _MISSING:
                return default
            if found.__class__ is str and found in UNKNOWN_VALUES:
                return current[step]  # raises
            current = found
        elif kind is ReadOnlyList and step.__class__ is int:
            items = current._target
            if not -len(items) <= step < len(items):
                return default
            found = items[step]
            if found.__class__ is str and found in UNKNOWN_VALUES:
                return current[step]  # raises
            current = found
        elif isinstance(step, int):
            if not is_list(current) or not -len(current) <= step < len(current):
                return default
            current = current[step]
        else:
            if not isinstance(current, Mapping) or step not in current:
                return default
            current = current[step]
        if current is None:
            return default
    return current


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def as_list(value: Any) -> list[Any]:
    """A list for a list, `[value]` for a scalar, `[]` for None."""
    if value is None:
        return []
    if is_list(value):
        return [value[i] for i in range(len(value))]
    return [value]


def truthy(value: Any) -> bool:
    """True for `True`, non-zero numbers and "true"/"1"/"yes"/"on" (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return False


def number(value: Any) -> float | None:
    """A number from a number or a numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def plain(value: Any) -> Any:
    """A deep copy as plain dicts and lists. Reads every nested value, so an unknown
    anywhere inside raises; use it on small subtrees only."""
    kind = value.__class__
    if kind is ReadOnlyDict and "__target" not in value._target:
        copied = {}
        for key, item in value._target.items():
            if item.__class__ is str and item in UNKNOWN_VALUES:
                value[key]  # raises UnknownValueError
            copied[str(key)] = plain(item)
        return copied
    if kind is ReadOnlyList:
        listed = []
        for index, item in enumerate(value._target):
            if item.__class__ is str and item in UNKNOWN_VALUES:
                value[index]  # raises UnknownValueError
            listed.append(plain(item))
        return listed
    if isinstance(value, Mapping):
        return {str(k): plain(value[k]) for k in value}
    if is_list(value):
        return [plain(value[i]) for i in range(len(value))]
    return value


def json_value(value: Any) -> Any:
    """A JSON-encoded string decoded, a Mapping/list copied plain; None when absent or
    not decodable (providers receive object inputs JSON-encoded, e.g. `defaultTags`)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return plain(value)


def string_map(value: Any) -> dict[str, str]:
    """A tag-like map (Mapping or JSON string) as `{str: str}`; {} when absent."""
    decoded = json_value(value)
    if not isinstance(decoded, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in decoded.items()}


def provider_props(provider: Any) -> Mapping[str, Any]:
    """The properties of a resource's provider (`args.provider` / `resource.provider`)."""
    props = getattr(provider, "props", None)
    return props if isinstance(props, Mapping) else {}


def default_tags(provider: Any) -> dict[str, str]:
    """The provider's `defaultTags.tags`: they apply to every taggable resource but
    never appear in the resource's own `tags` input."""
    raw = get(provider_props(provider), "defaultTags")
    if isinstance(raw, str):
        # The wire form, the same string on every resource of the provider: decoded once.
        return dict(_default_tags_of_json(raw))
    return _default_tags_of(json_value(raw))


@functools.lru_cache(maxsize=64)
def _default_tags_of_json(encoded: str) -> tuple[tuple[str, str], ...]:
    return tuple(_default_tags_of(json_value(encoded)).items())


def _default_tags_of(decoded: Any) -> dict[str, str]:
    if not isinstance(decoded, dict):
        return {}
    return string_map(decoded.get("tags"))


#: The last `effective_tags` answered for read-only properties: (props, provider, tags).
_last_tags: tuple[Any, Any, dict[str, str]] | None = None


def effective_tags(props: Mapping[str, Any], provider: Any) -> dict[str, str]:
    """Provider default tags overlaid with the resource's own tags (AWS semantics:
    the resource's value wins on a key both set); a new dict on every call.

    Two tag policies ask this of every taggable resource. When the pack's SDK shim
    hands the policies of a request one read-only properties object (`ReadOnlyDict`,
    `read_only_props`) and one provider, the second asks the same question of the same
    objects, which cannot have changed: the answer is kept for the last such pair."""
    global _last_tags
    last = _last_tags
    if last is not None and last[0] is props and last[1] is provider:
        return dict(last[2])
    tags = {**default_tags(provider), **string_map(get(props, "tags"))}
    if isinstance(props, ReadOnlyDict):
        _last_tags = (props, provider, tags)
        return dict(tags)
    return tags


def region(props: Mapping[str, Any], provider: Any) -> str | None:
    """The resource's region: its own `region` input (pulumi-aws 7), else its
    provider's; None when neither says."""
    own = get(props, "region")
    if isinstance(own, str) and own:
        return own
    theirs = get(provider_props(provider), "region")
    return theirs if isinstance(theirs, str) and theirs else None


def allowed_accounts(provider: Any) -> list[str]:
    """The provider's `allowedAccountIds` (a JSON-encoded list on the wire)."""
    decoded = json_value(get(provider_props(provider), "allowedAccountIds"))
    return [str(a) for a in as_list(decoded)]


def objects(value: Any) -> list[Mapping[str, Any]]:
    """A block that a schema version gives as one object or as a list of them, as a list
    (pulumi-aws turned several max-one lists into objects over the years)."""
    if isinstance(value, Mapping):
        return [value]
    return [item for item in as_list(value) if isinstance(item, Mapping)]
