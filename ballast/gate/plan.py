"""Read the JSON document `pulumi preview --json` prints: Pulumi's `PreviewDigest`.

The format is defined by Go structs in pulumi/pulumi (no recorded sample exists
upstream): `PreviewDigest` and `PreviewStep` in `sdk/pkg/display/json.go` (re-exported
by `pkg/display/json.go`) and `ResourceV3` in `sdk/go/common/apitype/`. What the gate
reads of it:

- `steps[]`: `op` (an `OpType`: `same`, `create`, `update`, `delete`, `replace`,
  `create-replacement`, `delete-replaced`, `read`, `import`, ...), `urn`,
  `oldState`/`newState` (`ResourceV3`: `type`, `urn`, `id`, `inputs`, `outputs`,
  `protect`, ...; absent where the operation has none, e.g. `oldState` of a create),
  `diffReasons`, `replaceReasons`, `detailedDiff` (`{path: {kind, inputDiff}}`);
- every `json:"...,omitempty"` field may be missing: a preview without changes can
  have no `steps` at all.

Anything that is not such a document (not JSON, truncated, a list, steps without an
`op` or `urn`) raises `PlanError` with one sentence saying what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The top-level keys of a `PreviewDigest`; a document must carry at least one.
DIGEST_KEYS = frozenset(
    {"config", "steps", "diagnostics", "duration", "changeSummary", "maybeCorrupt"}
)
#: Operations that remove the existing resource (a replacement removes it too).
REMOVING_OPS = frozenset({"delete", "replace", "create-replacement", "delete-replaced"})
EXPECTED = "the JSON document that `pulumi preview --json` prints (an object with `steps`)"


class PlanError(ValueError):
    """The input is not a usable `pulumi preview --json` document."""


@dataclass(frozen=True)
class State:
    """One side of a step: a `ResourceV3` (only the fields the gate reads)."""

    type: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)
    protect: bool = False


@dataclass(frozen=True)
class Step:
    """One `PreviewStep`."""

    op: str
    urn: str
    old: State | None
    new: State | None
    replace_reasons: tuple[str, ...] = ()

    @property
    def type(self) -> str:
        """The resource type: from the states, else the URN's last type segment."""
        state = self.new or self.old
        if state is not None and state.type:
            return state.type
        types = self.urn.split("::")[2] if self.urn.count("::") >= 3 else ""
        return types.rsplit("$", 1)[-1]

    @property
    def name(self) -> str:
        """The logical name (the URN's last segment)."""
        return self.urn.rsplit("::", 1)[-1]


def _state(value: Any, where: str) -> State | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise PlanError(f"{where} must be an object (a resource state), got {type(value).__name__}")
    inputs, outputs = value.get("inputs") or {}, value.get("outputs") or {}
    if not isinstance(inputs, Mapping) or not isinstance(outputs, Mapping):
        raise PlanError(f"{where}.inputs and .outputs must be objects")
    return State(
        type=str(value.get("type") or ""),
        inputs=inputs,
        outputs=outputs,
        protect=value.get("protect") is True,
    )


def parse_plan(data: Any, source: str = "plan") -> list[Step]:
    """The steps of a decoded `PreviewDigest`, in document order."""
    if not isinstance(data, Mapping):
        raise PlanError(f"{source} is a JSON {type(data).__name__}; expected {EXPECTED}")
    if not DIGEST_KEYS & set(data):
        raise PlanError(
            f"{source} has none of the keys {', '.join(sorted(DIGEST_KEYS))}; expected {EXPECTED}"
        )
    raw_steps = data.get("steps") or []
    if not isinstance(raw_steps, list):
        raise PlanError(f"{source}: `steps` must be a list, got {type(raw_steps).__name__}")
    steps = []
    for index, raw in enumerate(raw_steps):
        where = f"{source}: steps[{index}]"
        if not isinstance(raw, Mapping):
            raise PlanError(f"{where} must be an object with `op` and `urn`")
        op, urn = raw.get("op"), raw.get("urn")
        if not isinstance(op, str) or not op or not isinstance(urn, str) or not urn:
            raise PlanError(f"{where} has no `op` or `urn` string; expected {EXPECTED}")
        reasons = raw.get("replaceReasons") or []
        steps.append(
            Step(
                op=op,
                urn=urn,
                old=_state(raw.get("oldState"), f"{where}.oldState"),
                new=_state(raw.get("newState"), f"{where}.newState"),
                replace_reasons=tuple(str(r) for r in reasons) if isinstance(reasons, list) else (),
            )
        )
    return steps


def load_plan(text: str, source: str = "plan") -> list[Step]:
    """Decode and parse `text`; malformed or truncated JSON is a `PlanError`."""
    if not text.strip():
        raise PlanError(f"{source} is empty; expected {EXPECTED}")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PlanError(f"{source} is not valid JSON ({exc}); expected {EXPECTED}") from None
    return parse_plan(data, source)


def stacks_of(steps: list[Step]) -> set[str]:
    """The stacks named by the steps' URNs (`urn:pulumi:<stack>::...`)."""
    found = set()
    for step in steps:
        if step.urn.startswith("urn:pulumi:") and "::" in step.urn:
            found.add(step.urn.removeprefix("urn:pulumi:").split("::", 1)[0])
    return found
