"""Running `pulumi refresh --preview-only` for a stack through `pulumi.automation`.

`auto.select_stack(stack, work_dir=project)` (the SDK runs `pulumi version`, then
`pulumi stack select`), then `Stack.preview_refresh(on_event=...)`: in pulumi 3.272 it
returns counts only, so each engine event the SDK hands to `on_event` is turned back
into its JSON form (`event_json`) and folded as an event log line would be. Failures
become `RunError` with one sentence: no Pulumi CLI, an unknown stack, no credentials, a
refresh that failed (the events seen so far are kept: `RunError.collected`).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from ballast.drift.sources import Collected, EventFolder, SourceError

_CREDENTIAL_HINTS = (
    "credentials",
    "no valid credential",
    "pulumi_access_token",
    "pulumi login",
    "expiredtoken",
    "security token",
)


class RunError(RuntimeError):
    """The refresh could not run or did not finish; the message is one sentence."""

    def __init__(self, message: str, collected: Collected | None = None) -> None:
        super().__init__(message)
        self.collected = collected


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _state(state: Any) -> dict[str, Any] | None:
    if state is None:
        return None
    return {
        "type": state.type,
        "urn": state.urn,
        "id": state.id,
        "parent": state.parent,
        "provider": state.provider,
        "inputs": _plain(state.inputs or {}),
        "outputs": _plain(state.outputs or {}),
    }


def _metadata(meta: Any) -> dict[str, Any]:
    detailed = meta.detailed_diff
    return {
        "op": _plain(meta.op),
        "urn": meta.urn,
        "type": meta.type,
        "provider": meta.provider,
        "old": _state(meta.old),
        "new": _state(meta.new),
        **({"diffs": list(meta.diffs)} if meta.diffs is not None else {}),
        "detailedDiff": (
            {
                path: {"diffKind": _plain(entry.diff_kind), "inputDiff": bool(entry.input_diff)}
                for path, entry in detailed.items()
            }
            if detailed
            else None
        ),
        **({"logical": meta.logical} if meta.logical else {}),
    }


def event_json(event: Any) -> dict[str, Any]:
    """A `pulumi.automation.events.EngineEvent` in its `apitype.EngineEvent` JSON form
    (the fields the drift report reads)."""
    out: dict[str, Any] = {"sequence": event.sequence, "timestamp": event.timestamp}
    if event.resource_pre_event is not None:
        out["resourcePreEvent"] = {"metadata": _metadata(event.resource_pre_event.metadata)}
    if event.res_outputs_event is not None:
        out["resOutputsEvent"] = {"metadata": _metadata(event.res_outputs_event.metadata)}
    if event.res_op_failed_event is not None:
        out["resOpFailedEvent"] = {"metadata": _metadata(event.res_op_failed_event.metadata)}
    if event.diagnostic_event is not None:
        diag = event.diagnostic_event
        out["diagnosticEvent"] = {
            "urn": diag.urn,
            "message": diag.message,
            "severity": diag.severity,
        }
    if event.summary_event is not None:
        out["summaryEvent"] = {
            "resourceChanges": _plain(dict(event.summary_event.resource_changes))
        }
    if event.cancel_event is not None:
        out["cancelEvent"] = {}
    if event.prelude_event is not None:
        out["preludeEvent"] = {}
    return out


def _classify(exc: BaseException, stack: str) -> str:
    from pulumi.automation.errors import CommandError, InvalidVersionError, StackNotFoundError

    if isinstance(exc, FileNotFoundError):
        return "the Pulumi CLI is not installed (no `pulumi` on PATH); install it, or pass --events or --preview-json"
    if isinstance(exc, InvalidVersionError):
        return f"the Pulumi CLI on PATH is not usable: {str(exc).splitlines()[0]}"
    if isinstance(exc, StackNotFoundError):
        return (
            f"stack {stack} does not exist in this project's backend (`pulumi stack ls` lists them)"
        )
    if isinstance(exc, CommandError):
        detail = str(exc)
        lowered = detail.lower()
        if "no stack named" in lowered or ("not found" in lowered and "stack" in lowered):
            return f"stack {stack} does not exist in this project's backend (`pulumi stack ls` lists them)"
        if any(hint in lowered for hint in _CREDENTIAL_HINTS):
            return (
                f"the refresh of stack {stack} found no usable credentials (cloud or Pulumi "
                "backend); log in, or assume the plan role, and run again"
            )
        lines = [line.strip() for line in detail.splitlines() if line.strip().startswith("error:")]
        return f"pulumi failed for stack {stack}: " + (lines[0] if lines else "see its output")
    return f"the refresh of stack {stack} failed: {exc}"


def run_refresh(
    project_dir: Path, stack: str, on_checked: Callable[[int], None] | None = None
) -> Collected:
    """Refresh preview of `stack` in `project_dir`, folded into a `Collected`."""
    from pulumi import automation as auto

    folder = EventFolder("automation", on_checked)
    unreadable: list[SourceError] = []

    def on_event(event: Any) -> None:
        # The SDK swallows an exception raised here (it only warns): keep the first.
        if not unreadable:
            try:
                folder.feed(event_json(event), f"event {event.sequence}")
            except SourceError as exc:
                unreadable.append(exc)

    try:
        workspace_stack = auto.select_stack(stack_name=stack, work_dir=str(project_dir))
        folder.collected.pulumi_version = workspace_stack.workspace.pulumi_version
        workspace_stack.preview_refresh(on_event=on_event, color="never")
    except Exception as exc:
        collected = folder.finish() if folder.collected.checked else None
        raise RunError(_classify(exc, stack), collected) from exc
    if unreadable:
        raise RunError(str(unreadable[0]), folder.finish())
    return folder.finish()


def run_up(project_dir: Path, stack: str, urns: list[str]) -> None:
    """`pulumi up --refresh --target URN...` for `stack` (the restore)."""
    from pulumi import automation as auto

    try:
        workspace_stack = auto.select_stack(stack_name=stack, work_dir=str(project_dir))
        workspace_stack.up(target=urns, refresh=True, color="never")
    except Exception as exc:
        raise RunError(_classify(exc, stack)) from exc
