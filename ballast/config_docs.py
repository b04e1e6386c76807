"""The configuration reference, `docs/configuration.md`, rendered from the config models.

Every `ballast:*` key's path, type, default, limits and description come from the
pydantic models in `components/config/` (`PlatformConfig` and the sections below it), so
the reference cannot drift from what the parser accepts; a test compares the committed
file with a fresh render. Regenerate with::

    .venv/bin/python -m ballast.config_docs
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ballast.files import write_text_atomically
from components.config import (
    NAMESPACE,
    ORGANIZATION_ONLY_KEYS,
    PLATFORM_ONLY_KEYS,
    ClusterStackConfig,
    PlatformConfig,
)
from components.config.errors import limits_text

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "configuration.md"
COMMAND = ".venv/bin/python -m ballast.config_docs"

_SCALARS = {bool: "boolean", int: "integer", float: "number", str: "string"}

_INTRO = f"""\
# Configuration reference

<!-- Generated from components/config/ by `{COMMAND}`: do not edit by hand.
     Change the model's Field (default, constraint, description) and regenerate;
     tests/config/test_reference.py fails while this file is stale. -->

Every `{NAMESPACE}:*` key a stack file (`stacks/Pulumi.<stack>.yaml`) accepts. Keys are
camelCase; `[]` in a path stands for each entry of a list. **Limits** are the model's
`Field` constraints; rules that depend on the environment (prod) or on another key are
checked by validators and stated in the description. A value the parser refuses fails
the preview with one line naming the key and what is accepted, for a limit always in the
same words, e.g. `{NAMESPACE}:network.azCount must be between 2 and 6 (got 7)`.

The design notes explain the choices behind these keys: [the cluster](cluster.md),
[data and disaster recovery](data-and-dr.md), [the security baseline](security-baseline.md).
"""


def anchor(heading: str) -> str:
    """The fragment GitHub gives a Markdown heading (`ballast:cluster` -> `ballastcluster`)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _heading(path: str) -> str:
    return f"{NAMESPACE}:{path}"


def _unwrap_optional(annotation: Any) -> Any:
    """`X | None` -> `X` (None is how an unset key is represented, not a value to write)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(options) == 1:
            return options[0]
    return annotation


def _section_model(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """(model, is_list) when a field holds a section (a map) or a list of them."""
    annotation = _unwrap_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if typing.get_origin(annotation) in (tuple, list):
        (item, *_) = typing.get_args(annotation)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item, True
    return None


def _type_text(annotation: Any, link: str | None = None) -> str:
    annotation = _unwrap_optional(annotation)
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "one of: " + ", ".join(f"`{v}`" for v in typing.get_args(annotation))
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if annotation is Any:
        return "any value"
    section = _section_model(annotation)
    if section is not None:
        _, is_list = section
        return f"{'list of maps' if is_list else 'map'}, see [below](#{link})"
    if origin in (tuple, list):
        (item, *_) = typing.get_args(annotation)
        return f"list of {_type_text(item)}"
    if origin is dict:
        key, value = typing.get_args(annotation)
        return f"map of {_type_text(key)} to {_type_text(value)}"
    raise TypeError(f"no wording for the type {annotation!r}: add one to _type_text")


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "each key's default"
    return f"`{_value_text(value)}`"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _table(model: type[BaseModel], path: str) -> tuple[list[str], list[tuple[str, Any]]]:
    """The table of `model`'s keys under `path`, and the sections nested in it."""
    lines = [
        "| key | type | default | limits | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    nested: list[tuple[str, Any]] = []
    for name, field in model.model_fields.items():
        key = f"{path}.{field.alias or name}" if path else field.alias or name
        section = _section_model(field.annotation)
        link = None
        if section is not None:
            child, is_list = section
            child_path = f"{key}[]" if is_list else key
            link = anchor(_heading(child_path))
            nested.append((child_path, child))
        lines.append(
            f"| `{_heading(key)}` | {_type_text(field.annotation, link)} | "
            f"{_default_text(field)} | {_cell(limits_text(field))} | "
            f"{_cell(field.description)} |"
        )
    return lines, nested


def _doc(model: type[BaseModel]) -> str:
    """The model's docstring as one paragraph per blank-line-separated block."""
    text = (model.__doc__ or "").strip()
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n"))


def _stack_kinds(key: str) -> str:
    if key in PLATFORM_ONLY_KEYS:
        return "Platform stacks only (`stackKind: platform`)."
    if key in ORGANIZATION_ONLY_KEYS:
        return "Organization stacks only (`stackKind: organization`)."
    return "Platform and organization stacks (a cluster stack sets only the keys under Cluster stacks)."


def _sections(path: str, model: type[BaseModel], level: int) -> list[str]:
    lines, nested = _table(model, path)
    out = [f"{'#' * level} {_heading(path)}", "", _doc(model), ""]
    if level == 2:
        out += [_stack_kinds(path.removesuffix("[]")), ""]
    out += [*lines, ""]
    for child_path, child in nested:
        out += _sections(child_path, child, level + 1)
    return out


def render() -> str:
    """The whole of docs/configuration.md: the platform and organization stacks' keys,
    then the cluster stacks' (docs/layers.md)."""
    top, sections = _table(PlatformConfig, "")
    lines = [_INTRO, "## Top-level keys", "", _doc(PlatformConfig), "", *top, ""]
    for path, model in sections:
        lines += _sections(path, model, 2)
    cluster_keys, _ = _table(ClusterStackConfig, "")
    lines += [
        "## Cluster stacks",
        "",
        _doc(ClusterStackConfig),
        "",
        "Cluster stacks only (`stackKind: cluster`); every other key belongs to the "
        "platform stack, and a cluster stack refuses it. See [the two layers](layers.md).",
        "",
        *cluster_keys,
        "",
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def write(path: Path = REFERENCE) -> None:
    """Write the reference atomically: a reader never sees half a file."""
    write_text_atomically(path, render())


if __name__ == "__main__":
    write()
    print(f"configuration reference written to {REFERENCE}")
