"""Turning pydantic's validation errors into the one-line messages a stack's author reads:
the key path as written in the stack file (`ballast:network.azCount`), what is accepted,
and a did-you-mean for a misspelt key."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from components.config.base import NAMESPACE, SECRET_KEYS


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


def _describe(root: type[BaseModel], error: Mapping[str, Any]) -> str:
    """One line for one of pydantic's errors from validating `root` (PlatformConfig)."""
    loc = tuple(error["loc"])
    kind = error["type"]
    path = _key_path(loc)
    got = error.get("input")
    secret = any(str(p) in SECRET_KEYS or to_camel(str(p)) in SECRET_KEYS for p in loc)
    shown = "a secret value" if secret else repr(got)
    if kind == "extra_forbidden":
        return _unknown_key_message(root, loc)
    if kind == "missing":
        model = _model_at(root, loc[:-1])
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
