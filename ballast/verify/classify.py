"""Classify a failed resource of the emulated apply: a defect in Ballast (an argument or
AWS-style validation error, a create-order failure) or an emulator gap (an entry of
`emulator_gaps.yaml`: the resource type, a pattern of the provider's message, the reason
and the moto version it was recorded with). Anything not on the list is a defect, so
the list must name every gap; `stale_gaps` finds entries that no longer fail."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

GAPS_FILE = Path(__file__).with_name("emulator_gaps.yaml")
#: Messages that suggest moto lacks the API; said in the defect's hint, never a pass.
_UNIMPLEMENTED = re.compile(r"not (yet )?implemented|UnknownOperation|StatusCode: 404", re.I)


@dataclass(frozen=True)
class Gap:
    type: str
    match: str
    reason: str
    moto: str

    def matches(self, tf_type: str, message: str) -> bool:
        return self.type == tf_type and re.search(self.match, message) is not None

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
        gaps.append(
            Gap(str(entry["type"]), str(entry["match"]), str(entry["reason"]), str(entry["moto"]))
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


def classify(failure: Failure, gaps: tuple[Gap, ...]) -> Failure:
    """`failure` as a gap when an entry of `gaps` matches its type and message."""
    tf_type = (failure.address or "").split(".", 1)[0]
    for gap in gaps:
        if gap.matches(tf_type, failure.message):
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


def stale_gaps(gaps: tuple[Gap, ...], created: set[str], failures: list[Failure]) -> list[Gap]:
    """Entries whose resource type was created in this apply with no failure matching
    them: the emulator now does what the entry says it cannot."""
    created_types = {address.split(".", 1)[0] for address in created}
    matched = {failure.gap for failure in failures if failure.gap is not None}
    return [gap for gap in gaps if gap.type in created_types and gap not in matched]
