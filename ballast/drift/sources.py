"""Reading what a refresh preview found: engine events and `--json` documents.

Two shapes carry the same steps:

* **engine events** (`pulumi refresh --preview-only --event-log FILE`, and the
  Automation API's `on_event`): one `apitype.EngineEvent` per line. Each resource is a
  `resourcePreEvent` with op `refresh`, then a `resOutputsEvent` whose op is the outcome
  (`same`, `update`, `delete`, `read`); state as `metadata.old`/`metadata.new`, each
  property change in `metadata.detailedDiff[path].diffKind`. A failed read is a
  `resOpFailedEvent`; the stream ends with `summaryEvent` then `cancelEvent`. Steps with
  `logical: true` are a program's own steps (`--run-program`), not refresh outcomes,
  and are not drift.
* **the JSON document** (`pulumi refresh --preview-only --json`): one object
  `{steps[{op, urn, oldState, newState, detailedDiff{path: {kind, inputDiff}}}],
  diagnostics, changeSummary}`.

The property-diff kind is `diffKind` in events and `kind` in the document; either is
accepted in both (CLI versions have differed) and the report says which one it saw.
Anything else is refused with one sentence (`SourceError`). An event log is read line
by line and only drifted steps are kept, so a large log is never held whole.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Outcomes of a refresh step that mean the cloud differs from the state.
DRIFT_OPS = frozenset({"update", "delete", "read", "replace", "read-replacement"})
#: Outcomes that mean it does not.
SAME_OPS = frozenset({"same", "refresh"})
_COLOR = re.compile(r"<\{%[^%]*%\}>")
_DEFAULT_PROVIDER = re.compile(r"::pulumi:providers:([\w-]+)::default_(\d+)_(\d+)_(\d+)")


class SourceError(ValueError):
    """An input that is not a refresh preview; the message says what was expected."""


@dataclass(frozen=True, slots=True)
class PropertyDiffEntry:
    kind: str
    """add, delete, update, or their `-replace` forms."""
    input_diff: bool


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One resource whose refresh outcome is drift."""

    op: str
    urn: str
    type: str
    parent: str | None
    old: Mapping[str, Any] | None
    """The state before the refresh (`inputs`, `outputs`), None if there was none."""
    new: Mapping[str, Any] | None
    """The state the cloud reported, None when the resource is gone."""
    detailed_diff: Mapping[str, PropertyDiffEntry] | None
    diffs: tuple[str, ...] | None
    """The top-level keys that changed, when the engine listed them."""


@dataclass(frozen=True, slots=True)
class Failure:
    urn: str | None
    message: str


@dataclass
class Collected:
    """What a refresh preview said, reduced to what the report needs."""

    source: str
    """`events`, `preview-json` or `automation`."""
    steps: list[StepRecord] = field(default_factory=list)
    checked: int = 0
    """Resources whose refresh outcome was seen."""
    stack: str | None = None
    project: str | None = None
    providers: dict[str, str] = field(default_factory=dict)
    """Provider package -> version, from the provider resources the steps name."""
    pulumi_version: str | None = None
    diff_kind_field: str | None = None
    """`diffKind` or `kind`: which field the property diffs carried."""
    summary: Mapping[str, int] | None = None
    complete: bool = False
    """The source ended as a finished refresh does (a summary, or a whole document)."""
    failures: list[Failure] = field(default_factory=list)
    last_timestamp: int | None = None
    """The newest event timestamp (Unix seconds) when the events carry real ones."""


def _text(message: Any) -> str:
    return _COLOR.sub("", str(message)).strip()


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise SourceError(f"{what} is not a JSON object")
    return value


def _diff_entries(
    raw: Any, collected: Collected, where: str
) -> dict[str, PropertyDiffEntry] | None:
    if raw is None:
        return None
    entries = {}
    for path, entry in _mapping(raw, f"{where}: detailedDiff").items():
        entry = _mapping(entry, f"{where}: detailedDiff[{path!r}]")
        for key in ("diffKind", "kind"):
            if key in entry:
                collected.diff_kind_field = collected.diff_kind_field or key
                kind = entry[key]
                break
        else:
            raise SourceError(
                f"{where}: detailedDiff[{path!r}] has neither diffKind nor kind "
                "(the engine writes one of them)"
            )
        entries[path] = PropertyDiffEntry(str(kind), bool(entry.get("inputDiff", False)))
    return entries


def _note_urn(collected: Collected, urn: str) -> None:
    if collected.stack is None and urn.startswith("urn:pulumi:"):
        parts = urn[len("urn:pulumi:") :].split("::")
        if len(parts) >= 3:
            collected.stack, collected.project = parts[0], parts[1]


def _note_provider(collected: Collected, state: Mapping[str, Any] | None, ref: Any) -> None:
    if isinstance(ref, str) and (match := _DEFAULT_PROVIDER.search(ref)):
        collected.providers.setdefault(match.group(1), ".".join(match.group(2, 3, 4)))
    if not state:
        return
    kind = str(state.get("type", ""))
    if kind.startswith("pulumi:providers:"):
        for bag in ("inputs", "outputs"):
            version = (state.get(bag) or {}).get("version")
            if isinstance(version, str) and version:
                collected.providers[kind.rpartition(":")[2]] = version
                return


def _record(
    op: str,
    metadata: Mapping[str, Any],
    collected: Collected,
    where: str,
    old_key: str,
    new_key: str,
) -> StepRecord:
    urn = metadata.get("urn")
    if not isinstance(urn, str) or not urn:
        raise SourceError(f"{where}: a step without a urn")
    old, new = metadata.get(old_key), metadata.get(new_key)
    state = new or old or {}
    parent = state.get("parent") or None
    kind = metadata.get("type") or state.get("type") or urn.rpartition("::")[0].rpartition("$")[2]
    diffs = metadata.get("diffs", metadata.get("diffReasons"))
    return StepRecord(
        op=op,
        urn=urn,
        type=str(kind),
        parent=parent,
        old=old,
        new=new,
        detailed_diff=_diff_entries(metadata.get("detailedDiff"), collected, where),
        diffs=tuple(diffs) if isinstance(diffs, list) else None,
    )


class EventFolder:
    """Folds engine events, one at a time, into a `Collected`: keeps drifted steps only.

    `on_checked(n)` is called with the running count of refreshed resources (progress)."""

    def __init__(self, source: str, on_checked: Callable[[int], None] | None = None) -> None:
        self.collected = Collected(source=source)
        self._pending: Counter[str] = Counter()
        """URN -> refresh steps begun and not yet finished (a URN repeats when the state
        holds a resource pending deletion beside its replacement)."""
        self._on_checked = on_checked

    def feed(self, event: Any, where: str = "event") -> None:
        event = _mapping(event, where)
        if "steps" in event and "changeSummary" in event:
            raise SourceError(
                f"{where} is a `pulumi refresh --json` document, not an engine event; "
                "read it with --preview-json"
            )
        payloads = [key for key in event if key.endswith("Event")]
        if not payloads:
            raise SourceError(
                f"{where} is not an engine event (no *Event payload such as "
                "resourcePreEvent or summaryEvent)"
            )
        collected = self.collected
        timestamp = event.get("timestamp")
        if isinstance(timestamp, int) and timestamp > 0:
            collected.last_timestamp = max(collected.last_timestamp or 0, timestamp)
        for key in payloads:
            payload = event[key]
            if key == "resourcePreEvent":
                metadata = _mapping(_mapping(payload, where).get("metadata"), f"{where}: metadata")
                urn = str(metadata.get("urn", ""))
                _note_urn(collected, urn)
                _note_provider(collected, metadata.get("old"), metadata.get("provider"))
                if metadata.get("op") == "refresh" and not metadata.get("logical"):
                    self._pending[urn] += 1
            elif key == "resOutputsEvent":
                metadata = _mapping(_mapping(payload, where).get("metadata"), f"{where}: metadata")
                urn = str(metadata.get("urn", ""))
                if self._pending[urn] <= 0 or metadata.get("logical"):
                    continue
                self._pending[urn] -= 1
                collected.checked += 1
                op = str(metadata.get("op", ""))
                _note_provider(collected, metadata.get("new"), metadata.get("provider"))
                if op in DRIFT_OPS:
                    collected.steps.append(_record(op, metadata, collected, where, "old", "new"))
                elif op not in SAME_OPS:
                    raise SourceError(
                        f"{where}: refresh outcome {op!r} for {urn} is not one the engine "
                        f"reports ({', '.join(sorted(DRIFT_OPS | SAME_OPS))})"
                    )
                if self._on_checked is not None:
                    self._on_checked(collected.checked)
            elif key == "resOpFailedEvent":
                metadata = _mapping(payload, where).get("metadata") or {}
                failed = metadata.get("urn") if isinstance(metadata, dict) else None
                self._pending[str(failed)] -= 1
                collected.failures.append(
                    Failure(failed, "the refresh could not read this resource")
                )
            elif key == "diagnosticEvent":
                payload = _mapping(payload, where)
                if payload.get("severity") == "error":
                    message = _text(payload.get("message", "")).splitlines()
                    collected.failures.append(
                        Failure(payload.get("urn") or None, message[0] if message else "error")
                    )
            elif key == "summaryEvent":
                payload = _mapping(payload, where)
                changes = payload.get("resourceChanges") or {}
                collected.summary = {str(k): int(v) for k, v in dict(changes).items()}
                collected.complete = True
                if payload.get("result") == "failed" and not collected.failures:
                    collected.failures.append(Failure(None, "the refresh reported failure"))

    def finish(self) -> Collected:
        """The result; a refresh that ended before its summary is incomplete."""
        collected = self.collected
        if not collected.complete and not any(f.urn is None for f in collected.failures):
            collected.failures.append(
                Failure(None, "the event stream ended before the refresh finished")
            )
        return collected


def iter_event_log(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed event) for each non-empty line of an event log."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read event log {path}: {exc.strerror or exc}") from None
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError:
                    if (
                        number == 1
                        and line.lstrip().startswith("{")
                        and not line.rstrip().endswith("}")
                    ):
                        raise SourceError(
                            f"{path}: line 1 is not a whole JSON event; an event log has one "
                            "event per line (a --json document goes to --preview-json)"
                        ) from None
                    raise SourceError(
                        f"{path}: line {number} is not JSON; an event log has one engine "
                        "event per line"
                    ) from None
        except UnicodeDecodeError:
            raise SourceError(f"{path} is not UTF-8 text; an event log is JSON Lines") from None


def read_events(path: Path, on_checked: Callable[[int], None] | None = None) -> Collected:
    """Fold the event log at `path` (streamed)."""
    folder = EventFolder("events", on_checked)
    for number, event in iter_event_log(path):
        folder.feed(event, f"{path}: line {number}")
    return folder.finish()


def fold_events(
    events: Iterable[Any], source: str = "events", on_checked: Callable[[int], None] | None = None
) -> Collected:
    """Fold already-parsed events (tests, the Automation API)."""
    folder = EventFolder(source, on_checked)
    for number, event in enumerate(events, start=1):
        folder.feed(event, f"event {number}")
    return folder.finish()


def read_preview_json(path: Path) -> Collected:
    """Read a `pulumi refresh --preview-only --json` document."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SourceError(
            f"{path} is not one JSON document; --preview-json reads the output of "
            "`pulumi refresh --preview-only --json` (an event log goes to --events)"
        ) from None
    return parse_preview_document(document, str(path))


def parse_preview_document(document: Any, where: str = "document") -> Collected:
    if isinstance(document, dict) and any(key.endswith("Event") for key in document):
        raise SourceError(
            f"{where} is an engine event, not a `pulumi refresh --json` document; "
            "read an event log with --events"
        )
    if not isinstance(document, dict) or not isinstance(document.get("steps", []), list):
        raise SourceError(
            f"{where} is not a `pulumi refresh --preview-only --json` document "
            "(an object with a steps list)"
        )
    collected = Collected(source="preview-json", complete=True)
    for index, step in enumerate(document.get("steps") or []):
        step_where = f"{where}: steps[{index}]"
        step = _mapping(step, step_where)
        urn = str(step.get("urn", ""))
        _note_urn(collected, urn)
        _note_provider(collected, step.get("oldState"), step.get("provider"))
        op = str(step.get("op", ""))
        collected.checked += 1
        if op in DRIFT_OPS:
            collected.steps.append(_record(op, step, collected, step_where, "oldState", "newState"))
        elif op not in SAME_OPS:
            raise SourceError(
                f"{step_where}: op {op!r} is not a refresh outcome "
                f"({', '.join(sorted(DRIFT_OPS | SAME_OPS))})"
            )
    summary = document.get("changeSummary")
    if isinstance(summary, dict):
        collected.summary = {str(k): int(v) for k, v in summary.items()}
    for diagnostic in document.get("diagnostics") or []:
        if isinstance(diagnostic, dict) and diagnostic.get("severity") == "error":
            lines = _text(diagnostic.get("message", "")).splitlines()
            collected.failures.append(
                Failure(diagnostic.get("urn") or None, lines[0] if lines else "error")
            )
    return collected
