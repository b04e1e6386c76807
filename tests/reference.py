"""Upstream reference data for tests (`../shared/reference/`, see its README): where it is,
custom resources checked against their CRDs, and Helm values checked against the pinned
chart's own values.

The folder holds unmodified upstream files (chart `values.yaml`, `values.schema.json`,
subchart values, CRDs) with their provenance; tests read them where they lie, never
from a copy in the project.

API, for any component that installs a chart or creates custom resources:

- `reference_dir()`: the folder (`$BALLAST_REFERENCE_DIR`, else `../shared/reference`
  beside the repository); skips the calling test when it is missing, or fails it under
  `BALLAST_REQUIRE_TOOLS=1` (CI).
- `crd_validator(group, kind, version)`: a `jsonschema` validator for one served version
  of a CRD found under `crds/<group>/`, made strict (`strict_schema`); `metadata` is
  checked against kubernetes-validate's strict `ObjectMeta`. `validate_custom_resource`
  validates one object with it (the validator is cached per CRD version).
- `chart_values(chart, version)`: the chart's defaults (`values.yaml`) with each
  subchart's defaults merged under its alias; `unknown_value_keys(values, chart, version)`
  lists every key path Ballast sets that the chart does not have (`[]` when all exist);
  `validate_chart_values(values, chart, version)` also validates the merged values
  against the chart's `values.schema.json` when it ships one.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import referencing
import yaml

from components import versions

ROOT = Path(__file__).resolve().parent.parent
#: Where the reference data lies unless `BALLAST_REFERENCE_DIR` says otherwise: a
#: `shared/reference` folder beside the repository (`../shared/reference`), or beside
#: one of the folders above it (a clone checked out one level deeper finds the same data).
DEFAULT_REFERENCE_DIR = (ROOT / ".." / "shared" / "reference").resolve()
ENV_VAR = "BALLAST_REFERENCE_DIR"


def _reference_path() -> Path:
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).resolve()
    for folder in ROOT.resolve().parents:
        candidate = folder / "shared" / "reference"
        if candidate.is_dir():
            return candidate
    return DEFAULT_REFERENCE_DIR


def reference_dir() -> Path:
    """The reference folder, or skip the calling test (fail it under
    `BALLAST_REQUIRE_TOOLS=1`) when it is not there."""
    path = _reference_path()
    if not path.is_dir():
        message = f"reference data not found at {path} (set {ENV_VAR} to its folder)"
        if os.environ.get("BALLAST_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


# --- custom resources --------------------------------------------------------------------


def strict_schema(schema: Any) -> Any:
    """A copy of an `openAPIV3Schema` (structural schema) as strict JSON Schema:
    `additionalProperties: false` wherever `properties` is given (unless the node
    preserves unknown fields or sets `additionalProperties` itself);
    `x-kubernetes-int-or-string` as integer or string; `nullable` adds null; a pattern
    opening with Go's `^(?i)` gets the flag first, as Python's `re` needs. CEL
    (`x-kubernetes-validations`) is not evaluated."""
    if isinstance(schema, list):
        return [strict_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict_schema(v) for k, v in schema.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [*out.get("anyOf", []), {"type": "integer"}, {"type": "string"}]
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    pattern = out.get("pattern")
    if isinstance(pattern, str) and pattern.startswith("^(?i)"):
        # RE2 (Go) takes an inline flag anywhere; Python's `re` only at the very start.
        out["pattern"] = "(?i)^" + pattern.removeprefix("^(?i)")
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def _strict_definitions_dir() -> str:
    version = versions.KUBERNETES_VERSION
    return f"kubernetes-json-schema/v{version}.0-local-strict"


@functools.cache
def _object_meta_registry() -> tuple[dict[str, Any], referencing.Registry]:
    """kubernetes-validate's strict ObjectMeta for the pinned Kubernetes version, and a
    registry that resolves its references (the shared definitions)."""
    base = _strict_definitions_dir()
    meta = kubernetes_validate.utils.schema_contents(
        f"{base}/objectmeta-meta-v1.json", versions.KUBERNETES_VERSION
    )
    definitions = kubernetes_validate.utils.schema_contents(
        f"{base}/_definitions.json", versions.KUBERNETES_VERSION
    )
    registry: referencing.Registry = referencing.Registry().with_resources(
        [
            (definitions["$id"], referencing.Resource.from_contents(definitions)),
            (meta["$id"], referencing.Resource.from_contents(meta)),
        ]
    )
    return meta, registry


class _CrdLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading the YAML 1.1 value tag (`=`) as a plain string: the
    prometheus-operator's AlertmanagerConfig CRD has unquoted `- =` enum items, which
    `safe_load` rejects (the reference folder's README, "Parser note")."""


_CrdLoader.add_constructor("tag:yaml.org,2002:value", yaml.SafeLoader.construct_yaml_str)


def crd_documents(group: str) -> Iterator[dict[str, Any]]:
    """Every CustomResourceDefinition in `crds/<group>/` of the reference folder."""
    folder = reference_dir() / "crds" / group
    for path in sorted(folder.glob("*.y*ml")):
        for document in yaml.load_all(path.read_text(encoding="utf-8"), Loader=_CrdLoader):
            if document and document.get("kind") == "CustomResourceDefinition":
                yield document


@functools.cache
def crd_validator(group: str, kind: str, version: str) -> jsonschema.protocols.Validator:
    """A validator for `kind` at served `version` of API group `group`: the CRD's
    strict schema, with `apiVersion` and `kind` pinned and `metadata` checked against
    the strict ObjectMeta. Fails when the reference CRD has no such served version."""
    for crd in crd_documents(group):
        if crd["spec"]["names"]["kind"] != kind:
            continue
        for served in crd["spec"]["versions"]:
            if served["name"] == version and served.get("served"):
                schema = strict_schema(copy.deepcopy(served["schema"]["openAPIV3Schema"]))
                meta, registry = _object_meta_registry()
                properties = schema.setdefault("properties", {})
                properties["apiVersion"] = {"const": f"{group}/{version}"}
                properties["kind"] = {"const": kind}
                properties["metadata"] = {"$ref": meta["$id"]}
                schema["required"] = sorted({*schema.get("required", ()), "apiVersion", "kind"})
                schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
                validator_class = jsonschema.validators.Draft202012Validator
                validator_class.check_schema(schema)
                return validator_class(schema, registry=registry)
    pytest.fail(f"no served version {version} of {kind} in crds/{group}/ of the reference data")


def validate_custom_resource(manifest: Mapping[str, Any]) -> None:
    """Validate one custom resource against its CRD in the reference data (raises
    `jsonschema.ValidationError`)."""
    group, _, version = str(manifest["apiVersion"]).partition("/")
    crd_validator(group, str(manifest["kind"]), version).validate(dict(manifest))


# --- Helm values -------------------------------------------------------------------------


def chart_dir(chart: str, version: str) -> Path:
    """`charts/<chart>-<version>/` of the reference folder (fails when it is missing:
    a pinned chart must bring its data along)."""
    path = reference_dir() / "charts" / f"{chart}-{version}"
    if not path.is_dir():
        pytest.fail(f"no reference data for chart {chart} {version} (expected {path})")
    return path


def _merge(base: Any, extra: Any) -> Any:
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return base if extra is None else extra


def _with_subcharts(folder: Path) -> dict[str, Any]:
    values = yaml.safe_load((folder / "values.yaml").read_text(encoding="utf-8")) or {}
    subcharts = folder / "subcharts"
    if subcharts.is_dir():
        for sub in sorted(p for p in subcharts.iterdir() if p.is_dir()):
            # The parent's own values for the subchart override the subchart's defaults.
            values[sub.name] = _merge(_with_subcharts(sub), values.get(sub.name) or {})
    return values


@functools.cache
def _chart_values(chart: str, version: str) -> str:
    # YAML reads an unquoted 2024-04-01 as a date (loki's testSchemaConfig); Helm, like
    # JSON here, sees the text.
    return json.dumps(_with_subcharts(chart_dir(chart, version)), default=str)


def chart_values(chart: str, version: str) -> dict[str, Any]:
    """The chart's default values, each subchart's merged under its alias (a fresh
    copy)."""
    values: dict[str, Any] = json.loads(_chart_values(chart, version))
    return values


def _walk(set_values: Any, defaults: Any, path: str, free_form: frozenset[str]) -> Iterator[str]:
    if not isinstance(set_values, Mapping) or path in free_form:
        return
    for key, value in set_values.items():
        where = f"{path}.{key}" if path else str(key)
        if not isinstance(defaults, Mapping):
            return
        if where in free_form:
            continue
        if key not in defaults:
            yield where
            continue
        default = defaults[key]
        # A default that is an empty map (annotations: {}, nodeSelector: {}) or null is
        # free-form: any key may be set below it.
        if isinstance(default, Mapping) and default:
            yield from _walk(value, default, where, free_form)


def unknown_value_keys(
    values: Mapping[str, Any], chart: str, version: str, *, free_form: Sequence[str] = ()
) -> list[str]:
    """Key paths of `values` that the chart (with its subcharts) does not define: a
    misspelt key the chart would silently ignore. Below a default that is an empty map
    or null, any key is accepted (those are free-form: labels, annotations, selectors);
    so is any key below a path in `free_form` (default none), for maps whose defaults
    are only examples, such as a chart's map of command-line flags, and a path in
    `free_form` itself, for a key values.yaml documents only in a comment."""
    return sorted(_walk(values, chart_values(chart, version), "", frozenset(free_form)))


def _plain(value: Any) -> Any:
    """Values as the chart sees them: unknown Outputs (ARNs, IDs) become strings."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return "<output>"


def validate_chart_values(
    values: Mapping[str, Any], chart: str, version: str, *, free_form: Sequence[str] = ()
) -> list[str]:
    """`unknown_value_keys`, then, where the chart ships `values.schema.json`, validate
    the defaults merged with `values` against it (raises `jsonschema.ValidationError`).
    Returns the unknown keys."""
    unknown = unknown_value_keys(values, chart, version, free_form=free_form)
    schema_path = chart_dir(chart, version) / "values.schema.json"
    if schema_path.is_file():
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        merged = _merge(chart_values(chart, version), _plain(dict(values)))
        jsonschema.validators.validator_for(schema)(schema).validate(merged)
    return unknown
