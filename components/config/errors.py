"""Turning pydantic's validation errors into the one-line messages a stack's author reads:
the key path as written in the stack file (`ballast:network.azCount`), what is accepted,
and a did-you-mean for a misspelt key.

Range and length limits are `Field` constraints (`ge`, `le`, `min_length`, `max_length`)
and have one message rule, whichever bound was crossed: the field's whole accepted range,
as `limits_text` words it for the configuration reference too::

    ballast:cluster.nodeVolumeSizeGiB must be between 20 and 16384 (got 5)
    ballast:backup.complianceGraceDays must be at least 3 (got 1)
    ballast:cluster.nodeGroups must list at least 1 entry (got 0)
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from components.config.base import NAMESPACE, SECRET_FIELDS, SECRET_KEYS


def _key_path(loc: Iterable[Any]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else f"{NAMESPACE}:") + str(part)
    return path


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class whose field list applies at `loc` below `root` (for did-you-mean)."""
    model: Any = root
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


def _field_at(root: type[BaseModel], loc: tuple[Any, ...]) -> FieldInfo | None:
    """The field that `loc` (ending in a key) names below `root`."""
    model = _model_at(root, loc[:-1])
    if model is None or not loc or isinstance(loc[-1], int):
        return None
    return next((f for n, f in model.model_fields.items() if loc[-1] in (n, f.alias)), None)


def _is_collection(field: FieldInfo) -> bool:
    annotation = field.annotation
    options = typing.get_args(annotation) if typing.get_origin(annotation) else ()
    origins = {typing.get_origin(a) or a for a in (annotation, *options)}
    return bool(origins & {tuple, list, dict})


def _number(value: Any) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def limits_text(field: FieldInfo) -> str | None:
    """The field's `Field` constraints in words (`between 2 and 6`, `at least 1 entry`), or
    None when it has none. A constraint this cannot word is an error, so that neither a
    message nor the configuration reference ever leaves a limit out."""
    lower: Any = None
    upper: Any = None
    for constraint in field.metadata:
        if isinstance(constraint, annotated_types.Ge):
            lower = constraint.ge
        elif isinstance(constraint, annotated_types.MinLen):
            lower = constraint.min_length
        elif isinstance(constraint, annotated_types.Le):
            upper = constraint.le
        elif isinstance(constraint, annotated_types.MaxLen):
            upper = constraint.max_length
        else:
            raise TypeError(f"no wording for the constraint {constraint!r}: add one here")
    if lower is None and upper is None:
        return None
    if lower is not None and upper is not None:
        text = f"between {_number(lower)} and {_number(upper)}"
        last = upper
    elif lower is not None:
        text, last = f"at least {_number(lower)}", lower
    else:
        text, last = f"at most {_number(upper)}", upper
    if _is_collection(field):
        text += " entry" if last == 1 else " entries"
    return text


def _accepted_keys(model: type[BaseModel]) -> list[str]:
    return sorted(f.alias or n for n, f in model.model_fields.items())


def _unknown_key_message(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    key = str(loc[-1])
    model = _model_at(root, loc[:-1])
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


#: Pydantic's errors for the `Field` constraints `limits_text` words.
_LIMIT_ERRORS = ("greater_than_equal", "less_than_equal", "too_short", "too_long")


def describe_errors(root: type[BaseModel], errors: Iterable[Mapping[str, Any]]) -> list[str]:
    """One line per problem in pydantic's `errors` from validating `root`.

    Pydantic checks a tuple's `min_length` against the entries that validated, so one bad
    node group in a list of one also reports the list as too short: that echo is dropped,
    the entry's own problem says what to fix.
    """
    errors = list(errors)
    # Every collection holding an entry with an error of its own.
    with_bad_entries = {
        tuple(e["loc"][:i]) for e in errors for i, p in enumerate(e["loc"]) if isinstance(p, int)
    }
    return [
        _describe(root, e)
        for e in errors
        if not (e["type"] == "too_short" and tuple(e["loc"]) in with_bad_entries)
    ]


def _describe(root: type[BaseModel], error: Mapping[str, Any]) -> str:
    """One line for one of pydantic's errors from validating `root` (PlatformConfig)."""
    loc = tuple(error["loc"])
    kind = error["type"]
    path = _key_path(loc)
    got = error.get("input")
    secret = any(
        str(p) in SECRET_KEYS
        or to_camel(str(p)) in SECRET_KEYS
        or to_camel(str(p)) in SECRET_FIELDS.values()
        for p in loc
    )
    shown = "a secret value" if secret else repr(got)
    if kind == "extra_forbidden":
        return _unknown_key_message(root, loc)
    if kind == "missing":
        field = _field_at(root, loc)
        hint = f": {field.description}" if field and field.description else ""
        return f"{path} is required{hint}"
    if kind in _LIMIT_ERRORS:
        field = _field_at(root, loc)
        limits = limits_text(field) if field else None
        if limits and kind in ("too_short", "too_long"):
            return f"{path} must list {limits} (got {error['ctx']['actual_length']})"
        if limits:
            return f"{path} must be {limits} (got {shown})"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        return f"{path} {message}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{path} must be one of {expected.replace(' or ', ', ')} (got {shown})"
    if kind in _TYPE_WORDS:
        return f"{path} must be {_TYPE_WORDS[kind]} (got {shown})"
    return f"{path}: {error['msg']} (got {shown})"
