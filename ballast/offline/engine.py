"""Run a Pulumi program, or one component, under the SDK's mock engine and record it.

This is how `ballast preview` and the tests see what `pulumi up` would create without
the Pulumi CLI, its plugins or a cloud account. It follows what the Python language host
does: set the stack's flat config, configure the runtime against a monitor (here the
recording mock monitor), then run `__main__.py` inside a fresh root stack.

Runtime state in the SDK is process-wide; every run resets it, so runs can follow each
other in one process (the test suite does), but never overlap.
"""

from __future__ import annotations

import contextlib
import os
import runpy
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from ballast.offline.mocks import DeterministicMocks
from ballast.offline.monitor import RecordingMonitor
from ballast.offline.records import ProgramRun, ResourceRecord
from ballast.offline.stack_config import StackConfig

PROGRAM_FILE = "__main__.py"


class ProgramError(RuntimeError):
    """The program failed; the message is what the Pulumi CLI would have printed."""


def _prepare_runtime(
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: tuple[str, ...],
    disabled_packages: frozenset[str],
) -> RecordingMonitor:
    # A failed run leaves its outstanding output tasks in the SDK's global settings; the
    # next run would await them and re-raise the old failure.
    with settings.SETTINGS.lock:
        for task in settings.SETTINGS.outputs:
            task.cancel()
        settings.SETTINGS.outputs.clear()
    monitor_ref: list[RecordingMonitor] = []
    mocks = DeterministicMocks(lambda ref: monitor_ref[0].provider_inputs(ref))
    monitor = RecordingMonitor(mocks, disabled_packages)
    monitor_ref.append(monitor)
    pulumi.runtime.set_all_config(dict(config), list(secret_keys))
    # preview=False: the mocks answer with known values, as after an `up`, so every
    # input resolves and the recorded graph is complete.
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    # set_mocks registers a root stack of its own; the program gets a fresh one, as under
    # the language host.
    _clear_root_stack()
    monitor.clear()
    return monitor


def _clear_root_stack() -> None:
    # The SDK's root is a ContextVar[Resource | None] that it resets to None itself
    # (settings.reset_options); only its setter's annotation leaves None out.
    settings.set_root_resource(None)  # type: ignore[arg-type]


def _execute(
    project: str, stack: str, monitor: RecordingMonitor, program: Callable[[], Any]
) -> ProgramRun:
    try:
        _sync_await(run_in_stack(program))
    except pulumi.RunError as exc:
        raise ProgramError(str(exc)) from None
    except Exception as exc:  # the program's own failure, reported as the CLI would
        message = str(exc) or type(exc).__name__
        raise ProgramError(f"{type(exc).__name__}: {message}") from exc
    finally:
        _clear_root_stack()
    return ProgramRun(
        project=project,
        stack=stack,
        resources=_tree_order(monitor.records),
        invokes=list(monitor.invokes),
        outputs=dict(monitor.stack_outputs),
    )


def _tree_order(records: list[ResourceRecord]) -> list[ResourceRecord]:
    """Parents before children, siblings by (type, name): registrations complete in an
    order that varies run to run, and reports must be stable and diffable."""
    children: dict[str | None, list[ResourceRecord]] = {}
    known = {r.urn for r in records}
    for record in records:
        parent = record.parent if record.parent in known else None
        children.setdefault(parent, []).append(record)
    ordered: list[ResourceRecord] = []
    pending = sorted(children.get(None, []), key=lambda r: (r.type, r.name), reverse=True)
    while pending:
        record = pending.pop()
        ordered.append(record)
        pending.extend(
            sorted(children.get(record.urn, []), key=lambda r: (r.type, r.name), reverse=True)
        )
    return ordered


def run_component(
    build: Callable[[], Any],
    *,
    project: str = "ballast",
    stack: str = "test",
    config: dict[str, str] | None = None,
    secret_keys: tuple[str, ...] = (),
    disabled_packages: frozenset[str] = frozenset({"*"}),
) -> ProgramRun:
    """Run `build()` (which creates providers and components) as a whole program.

    Default providers are disabled by default, as in every shipped stack.
    """
    monitor = _prepare_runtime(project, stack, config or {}, secret_keys, disabled_packages)
    return _execute(project, stack, monitor, build)


@contextlib.contextmanager
def _project_on_path(directory: Path) -> Iterator[None]:
    """Import the project's own packages from `directory`, as the language host does.

    Modules of the same top-level names imported from another checkout earlier in this
    process are dropped first, so `--project-dir` runs that checkout's code, not ours.
    """
    local = {
        p.stem if p.suffix == ".py" else p.name
        for p in directory.iterdir()
        if p.suffix == ".py" or (p / "__init__.py").is_file()
    }
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in local:
            continue
        origin = getattr(module, "__file__", None)
        if origin and not Path(origin).resolve().is_relative_to(directory):
            del sys.modules[name]
    previous_cwd = os.getcwd()
    sys.path.insert(0, str(directory))
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        with contextlib.suppress(ValueError):
            sys.path.remove(str(directory))


def run_stack(stack_config: StackConfig) -> ProgramRun:
    """Run the project's `__main__.py` with one stack's config, as `pulumi up` would."""
    project = stack_config.project
    program_path = project.directory / PROGRAM_FILE
    if not program_path.is_file():
        raise ProgramError(f"{project.directory} has no {PROGRAM_FILE} to run")
    monitor = _prepare_runtime(
        project.name,
        stack_config.stack,
        stack_config.config,
        stack_config.secret_keys,
        stack_config.disabled_default_providers(),
    )
    with _project_on_path(project.directory):
        return _execute(
            project.name,
            stack_config.stack,
            monitor,
            lambda: runpy.run_path(str(program_path), run_name="__main__"),
        )
