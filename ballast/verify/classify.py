"""Classify a failed resource of the emulated apply: a defect in Ballast (an argument or
AWS-style validation error, a create-order failure) or an emulator gap (an entry of
`emulator_gaps.yaml`: the resource type, a pattern of the provider's message, the reason
and the moto version it was recorded with, and optionally `when`, the situation it is
about: an argument `path` of the resource's configuration (`vpc[1]`, `a.b`) that must
be present, text it must `contain` (without a path: text anywhere in the
configuration) or `lack`; `intermittent: true` for a race that fails
some resources in some runs). Anything not on the list is a defect, so the
list must name every gap; `stale_gaps` finds entries that no longer fail."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

GAPS_FILE = Path(__file__).with_name("emulator_gaps.yaml")
#: Messages that suggest moto lacks the API; said in the defect's hint, never a pass.
_UNIMPLEMENTED = re.compile(r"not (yet )?implemented|UnknownOperation|StatusCode: 404", re.I)


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _lookup(body: Any, path: str) -> Any:
    """The value at `path` (`vpc[1]`, `vpc_config[0].subnet_ids`) of a configuration
    body, or None when any step is missing. A block written as one object is item 0."""
    value = body
    for name, index in _STEP.findall(path):
        if name:
            value = value.get(name) if isinstance(value, dict) else None
        else:
            items = value if isinstance(value, list) else [value] if value is not None else []
            value = items[int(index)] if int(index) < len(items) else None
        if value is None:
            return None
    return value


@dataclass(frozen=True)
class Gap:
    type: str
    match: str
    reason: str
    moto: str
    when_path: str | None = None
    when_contains: str | None = None
    when_lacks: str | None = None
    """Text the value at `when_path` must not contain (e.g. `${`: a literal, not a
    reference to a resource of the stack)."""
    intermittent: bool = False
    """A race in the emulator: fails some resources in some runs, so one apply without
    a failure does not show it fixed; never reported by `stale_gaps`."""

    def applies(self, tf_type: str, body: dict[str, Any] | None) -> bool:
        """Whether the entry is about a resource of `tf_type` with this configuration."""
        if tf_type != self.type:
            return False
        if self.when_path is None:
            if self.when_contains is None:
                return True
            return self.when_contains in json.dumps(body or {})
        value = _lookup(body or {}, self.when_path)
        if value is None:
            return False
        if self.when_lacks is not None and self.when_lacks in str(value):
            return False
        return self.when_contains is None or self.when_contains in str(value)

    def matches(self, tf_type: str, message: str, body: dict[str, Any] | None = None) -> bool:
        return self.applies(tf_type, body) and re.search(self.match, message) is not None

    def to_json(self) -> dict[str, str]:
        return {"type": self.type, "match": self.match, "reason": self.reason, "moto": self.moto}


class GapListError(ValueError):
    """The gap list is malformed."""


def load_gaps(path: Path = GAPS_FILE) -> tuple[Gap, ...]:
    """Every entry of the gap list; raises `GapListError` naming a bad entry."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    gaps = []
    for index, entry in enumerate(document.get("gaps") or []):
        missing = {"type", "match", "reason", "moto"} - set(entry or {})
        if missing:
            raise GapListError(f"{path} entry {index + 1} lacks {', '.join(sorted(missing))}")
        try:
            re.compile(entry["match"])
        except re.error as exc:
            raise GapListError(f"{path} entry {index + 1}: match is not a regex ({exc})") from None
        when = entry.get("when") or {}
        if when and not ({"path", "contains"} & set(when)):
            raise GapListError(f"{path} entry {index + 1}: when needs a path or contains")
        gaps.append(
            Gap(
                str(entry["type"]),
                str(entry["match"]),
                str(entry["reason"]),
                str(entry["moto"]),
                when.get("path"),
                when.get("contains"),
                when.get("lacks"),
                bool(entry.get("intermittent", False)),
            )
        )
    return tuple(gaps)


@cache
def shipped_gaps() -> tuple[Gap, ...]:
    return load_gaps()


@dataclass(frozen=True)
class Failure:
    """One resource the provider rejected, in one step."""

    step: str
    """`validate`, `plan` or `apply`."""
    address: str | None
    message: str
    argument: str | None = None
    kind: str = "defect"
    """`defect` or `gap`."""
    gap: Gap | None = None
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "address": self.address,
            "argument": self.argument,
            "kind": self.kind,
            "message": self.message,
            "gapReason": self.gap.reason if self.gap else None,
            "hint": self.hint,
        }


def classify(
    failure: Failure, gaps: tuple[Gap, ...], body: dict[str, Any] | None = None
) -> Failure:
    """`failure` as a gap when an entry of `gaps` applies to the resource (its type and
    configuration `body`) and matches the message."""
    tf_type = (failure.address or "").split(".", 1)[0]
    for gap in gaps:
        if gap.matches(tf_type, failure.message, body):
            return Failure(
                failure.step, failure.address, failure.message, failure.argument, "gap", gap
            )
    hint = None
    if _UNIMPLEMENTED.search(failure.message):
        hint = (
            "looks like an API moto does not implement: if so, add it to "
            "ballast/verify/emulator_gaps.yaml with the reason"
        )
    return Failure(
        failure.step, failure.address, failure.message, failure.argument, "defect", None, hint
    )


def stale_gaps(
    gaps: tuple[Gap, ...],
    created: set[str],
    failures: list[Failure],
    bodies: dict[str, dict[str, Any]] | None = None,
) -> list[Gap]:
    """Entries the emulator now handles: a resource the entry applies to (its type and
    `when`; `bodies` maps address -> configuration) was created in this apply, and no
    failure matched the entry. Intermittent entries are never stale."""
    bodies = bodies or {}
    matched = {failure.gap for failure in failures if failure.gap is not None}
    stale = []
    for gap in gaps:
        if gap in matched or gap.intermittent:
            continue
        if any(gap.applies(address.split(".", 1)[0], bodies.get(address)) for address in created):
            stale.append(gap)
    return stale
