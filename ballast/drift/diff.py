"""One drifted step's property changes, old -> new, secrets masked.

With a detailed diff (what the engine sends since it computes refresh diffs), each of
its paths is one change; the value is looked up in the inputs for an input diff and in
the outputs otherwise (falling back to the other bag when the path is absent there).
Without one (legacy providers), the old and new outputs are compared leaf by leaf,
limited to the top-level keys the engine listed in `diffs` when it listed any. A deleted
resource has no property changes: the whole resource is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ballast.drift.paths import MISSING, PathError, format_path, leaves, lookup, parse
from ballast.drift.sources import SourceError, StepRecord


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    kind: str
    """add, delete or update; `replace` says the provider would replace the resource."""
    old: Any
    """The value before (MISSING when absent), secrets as "[secret]"."""
    new: Any
    replace: bool = False


def _bag(state: Any, name: str) -> Any:
    return (state or {}).get(name) or {}


def _value(state: Any, segments: tuple[str | int, ...], input_diff: bool) -> Any:
    first, second = ("inputs", "outputs") if input_diff else ("outputs", "inputs")
    value = lookup(_bag(state, first), segments)
    return lookup(_bag(state, second), segments) if value is MISSING else value


def changes(step: StepRecord) -> list[Change]:
    """The property changes of `step`, sorted by path."""
    if step.op == "delete" or step.new is None:
        return []
    found: list[Change] = []
    if step.detailed_diff:
        for path, entry in step.detailed_diff.items():
            try:
                segments = parse(path)
            except PathError as exc:
                raise SourceError(f"{step.urn}: {exc}") from None
            kind, _, replace = entry.kind.partition("-")
            found.append(
                Change(
                    path=path,
                    kind=kind,
                    old=_value(step.old, segments, entry.input_diff),
                    new=_value(step.new, segments, entry.input_diff),
                    replace=replace == "replace",
                )
            )
    else:
        before = leaves(_bag(step.old, "outputs"))
        after = leaves(_bag(step.new, "outputs"))
        keys = set(step.diffs) if step.diffs else None
        for segments in sorted(set(before) | set(after), key=format_path):
            if not segments or (keys is not None and segments[0] not in keys):
                continue
            old, new = before.get(segments, MISSING), after.get(segments, MISSING)
            if old == new:
                continue
            kind = "add" if old is MISSING else "delete" if new is MISSING else "update"
            found.append(Change(format_path(segments), kind, old, new))
    return sorted(found, key=lambda change: change.path)
