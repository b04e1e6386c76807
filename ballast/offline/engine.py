"""Run a Pulumi program, or one component, under the SDK's mock engine and record it.

This is how `ballast preview` and the tests see what `pulumi up` would create without
the Pulumi CLI, its plugins or a cloud account. It follows what the Python language host
does: set the stack's flat config, configure the runtime against a monitor (here the
recording mock monitor), then run `__main__.py` inside a fresh root stack.

Runtime state in the SDK is process-wide; every run resets it, so runs can follow each
other in one process (the test suite does), but never overlap.

`pulumi.StackReference` to another stack of the same project is answered from that stack's
own offline run (the mocks answer the `pulumi:pulumi:StackReference` read with its
outputs and secret output names). Since two programs cannot run at once, references are
discovered: the program runs; constructing a reference to a stack that has not run yet
aborts the run (`UnresolvedReference`, raised there by a stack transformation); the
engine runs that stack (which may itself reference others, the same way), then reruns
the program, which now gets the answer. Every stack runs at most once per call, at most
`MAX_REFERENCES` stacks run on behalf of references, and a cycle is an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import runpy
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import pulumi
from pulumi.runtime import settings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from ballast.offline.errors import ProgramError, StackReferenceError, UnresolvedReference
from ballast.offline.mocks import STACK_REFERENCE_TYPE, DeterministicMocks
from ballast.offline.monitor import RecordingMonitor
from ballast.offline.records import ProgramRun, ResourceRecord
from ballast.offline.stack_config import (
    Project,
    ProjectError,
    StackConfig,
    StackNotFound,
    list_stacks,
    load_project,
    load_stack_config,
)

__all__ = [
    "MAX_REFERENCES",
    "OFFLINE_ORGANIZATION",
    "ProgramError",
    "StackReferenceError",
    "run_component",
    "run_stack",
    "run_stack_with_references",
]

PROGRAM_FILE = "__main__.py"

#: What `pulumi.get_organization()` returns offline: the name the Pulumi CLI's local
#: backends use, so `f"{get_organization()}/{get_project()}/{stack}"` is a valid reference.
OFFLINE_ORGANIZATION = "organization"

#: How many stacks one call may run because another stack references them.
MAX_REFERENCES = 4


class _Answers:
    """Answers one run's `StackReference` reads from stacks that already ran.

    The program is stopped where it constructs a reference it cannot answer: `hook`, a
    stack transformation, runs synchronously inside `pulumi.StackReference(...)` and
    raises `UnresolvedReference` (or the `StackReferenceError`) there, so nothing is
    derived from the reference and the run ends cleanly (the SDK still completes the
    registrations already sent). The mocks' read, which happens later and asynchronously,
    only answers; raising there would fail every output derived from the reference and
    leave futures and coroutines that asyncio reports when they are collected.
    """

    def __init__(self, project: str, stack: str, runs: Mapping[str, ProgramRun]):
        self.project = project
        self.stack = stack
        self.runs = runs
        self.read: dict[str, ProgramRun] = {}
        self.unresolved: list[str] = []
        self.failure: StackReferenceError | None = None

    def _resolve(self, name: str) -> tuple[str, ProgramRun | None]:
        """The stack `name` points at and its run (None, recorded, if it has not run)."""
        try:
            target = referenced_stack(name, project=self.project, stack=self.stack)
        except StackReferenceError as exc:
            self.failure = self.failure or exc
            raise
        run = self.runs.get(target)
        if run is None and target not in self.unresolved:
            self.unresolved.append(target)
        return target, run

    def hook(self, args: pulumi.ResourceTransformationArgs) -> None:
        """Stack transformation: stop the program at a reference that cannot be answered."""
        if args.type_ != STACK_REFERENCE_TYPE:
            return
        name = args.props.get("name") if isinstance(args.props, Mapping) else None
        if isinstance(name, str) and self._resolve(name)[1] is None:
            raise UnresolvedReference(*self.unresolved)

    def __call__(self, name: str) -> dict[str, Any]:
        """The mocks' answer to the read (`name`, `outputs`, `secretOutputNames`)."""
        try:
            target, run = self._resolve(name)
        except StackReferenceError:
            run = None
        if run is None:  # only when the program got past the hook; the run will not count
            return {"name": name, "outputs": {}, "secretOutputNames": []}
        self.read[target] = run
        return {
            "name": name,
            "outputs": dict(run.outputs),
            "secretOutputNames": list(run.secret_outputs),
        }

    def raise_interrupt(self) -> None:
        """Raise what stops this run from counting: a bad reference, or stacks to run."""
        if self.failure is not None:
            raise self.failure
        if self.unresolved:
            raise UnresolvedReference(*self.unresolved)


def referenced_stack(name: str, *, project: str, stack: str) -> str:
    """The stack a `StackReference` name points at: `org/project/stack`, `project/stack`
    or `stack`, always of `project` (the offline engine runs only the project at hand)."""
    parts = name.split("/")
    if len(parts) > 3 or not all(parts):
        raise StackReferenceError(
            f"stack {stack} references {name!r}, which is not a stack name "
            "(expected stack, project/stack or organization/project/stack)"
        )
    if len(parts) > 1 and parts[-2] != project:
        raise StackReferenceError(
            f"stack {stack} references stack {parts[-1]} of project {parts[-2]}, but the "
            f"offline engine can only run stacks of project {project}, the one being previewed"
        )
    return parts[-1]


def _prepare_runtime(
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: tuple[str, ...],
    disabled_packages: frozenset[str],
    stack_reference: Callable[[str], dict[str, Any]] | None = None,
) -> RecordingMonitor:
    # A failed run leaves its outstanding output tasks in the SDK's global settings; the
    # next run would await them and re-raise the old failure.
    with settings.SETTINGS.lock:
        for task in settings.SETTINGS.outputs:
            task.cancel()
        settings.SETTINGS.outputs.clear()
    monitor_ref: list[RecordingMonitor] = []
    mocks = DeterministicMocks(
        lambda ref: monitor_ref[0].provider_inputs(ref), stack_reference=stack_reference
    )
    monitor = RecordingMonitor(mocks, disabled_packages)
    monitor_ref.append(monitor)
    pulumi.runtime.set_all_config(dict(config), list(secret_keys))
    # preview=False: the mocks answer with known values, as after an `up`, so every
    # input resolves and the recorded graph is complete.
    pulumi.runtime.set_mocks(
        mocks,
        project=project,
        stack=stack,
        preview=False,
        monitor=monitor,
        organization=OFFLINE_ORGANIZATION,
    )
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
    project: str,
    stack: str,
    monitor: RecordingMonitor,
    program: Callable[[], Any],
    answers: _Answers,
) -> ProgramRun:
    def hooked() -> Any:
        # On the program's root stack, before any of the program's resources.
        pulumi.runtime.register_stack_transformation(answers.hook)
        return program()

    missing: StackReferenceError | None = None
    try:
        _sync_await(run_in_stack(hooked))
    except pulumi.RunError as exc:
        answers.raise_interrupt()  # the reference stopped it, or a failure it caused
        raise ProgramError(str(exc)) from None
    except Exception as exc:  # the program's own failure, reported as the CLI would
        answers.raise_interrupt()
        missing = _missing_output(exc, answers)
        if missing is None:
            message = str(exc) or type(exc).__name__
            raise ProgramError(f"{type(exc).__name__}: {message}") from exc
    finally:
        _clear_root_stack()
    if missing is not None:
        # Raised outside the handler: the SDK's KeyError (and the outputs it failed) is
        # not kept alive as this error's context, so it can be released now.
        _release_failed_run()
        raise missing
    # A program that caught the hook's exception completes, but does not count.
    answers.raise_interrupt()
    return ProgramRun(
        project=project,
        stack=stack,
        resources=_tree_order(monitor.records),
        invokes=list(monitor.invokes),
        outputs=dict(monitor.stack_outputs),
        secret_outputs=monitor.secret_outputs,
        references=dict(answers.read),
    )


def _release_failed_run() -> None:
    """Release what a failed run left behind now, quietly, rather than at some later
    garbage collection: its failed output tasks, and the coroutines the SDK created for
    outputs that never ran, which warn when collected ("coroutine ... was never awaited";
    a warning inside a later `compile()` can even crash CPython 3.11's AST builder)."""
    loop = _ensure_event_loop()
    # Let the tasks the failure left behind fail now (each awaits something that failed
    # or will never resolve; the latter are cancelled).
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    if pending:
        _sync_await(asyncio.wait(pending, timeout=1.0))
        stuck = [task for task in pending if not task.done()]
        for task in stuck:
            task.cancel()
        if stuck:
            _sync_await(asyncio.wait(stuck, timeout=1.0))
    with settings.SETTINGS.lock:
        leftovers = [*settings.SETTINGS.outputs, *pending]
        settings.SETTINGS.outputs.clear()
    for task in leftovers:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: asyncio does not log it when collected
    leftovers.clear()
    pending.clear()
    settings.SETTINGS.rpc_manager.clear()  # it holds the first failure and its frames
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"coroutine .* was never awaited", RuntimeWarning)
        gc.collect()


def _last_frame(traceback: TracebackType | None) -> TracebackType | None:
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback


def _missing_output(exc: Exception, answers: _Answers) -> StackReferenceError | None:
    """`ref.require_output(name)` of an output the stack does not export fails with a
    bare KeyError inside the SDK (`outputs[name]`); name the output and the stack."""
    if not isinstance(exc, KeyError) or not exc.args or not answers.read:
        return None
    last = _last_frame(exc.__traceback__)
    if last is None or last.tb_frame.f_globals.get("__name__") != "pulumi.stack_reference":
        return None
    key = str(exc.args[0])
    # The failing lambda holds `[name, outputs]`: the outputs tell which stack it read.
    pair = last.tb_frame.f_locals.get("l")
    outputs = pair[1] if isinstance(pair, list) and len(pair) == 2 else None
    candidates = [s for s, run in answers.read.items() if key not in run.outputs]
    target = next(
        (s for s in candidates if answers.read[s].outputs == outputs),
        candidates[0] if candidates else None,
    )
    if target is None:
        return None
    exported = sorted(answers.read[target].outputs)
    listed = f"it exports: {', '.join(exported)}" if exported else "it exports nothing"
    return StackReferenceError(
        f"stack {answers.stack} reads output {key}, which stack {target} does not export ({listed})"
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
    references: Mapping[str, ProgramRun] | None = None,
) -> ProgramRun:
    """Run `build()` (which creates providers and components) as a whole program.

    Default providers are disabled by default, as in every shipped stack.
    `references` answers `pulumi.StackReference` reads (stack name -> a run of that
    stack, e.g. `run_stack`'s); a read of any other stack fails, since there is no
    program here to run it with.
    """
    answers = _Answers(project, stack, references or {})
    monitor = _prepare_runtime(
        project, stack, config or {}, secret_keys, disabled_packages, stack_reference=answers
    )
    try:
        return _execute(project, stack, monitor, build, answers)
    except UnresolvedReference as unresolved:
        missing = unresolved.stacks[0]
        raise StackReferenceError(
            f"stack {stack} references stack {missing}, which run_component was "
            f"not given (pass references={{{missing!r}: <its run>}})"
        ) from None


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


def _run_once(stack_config: StackConfig, runs: Mapping[str, ProgramRun]) -> ProgramRun:
    """One run of the program; raises `UnresolvedReference` at the first read of a stack
    that is not in `runs`."""
    project = stack_config.project
    program_path = project.directory / PROGRAM_FILE
    if not program_path.is_file():
        raise ProgramError(f"{project.directory} has no {PROGRAM_FILE} to run")
    answers = _Answers(project.name, stack_config.stack, runs)
    monitor = _prepare_runtime(
        project.name,
        stack_config.stack,
        stack_config.config,
        stack_config.secret_keys,
        stack_config.disabled_default_providers(),
        stack_reference=answers,
    )
    with _project_on_path(project.directory):
        return _execute(
            project.name,
            stack_config.stack,
            monitor,
            lambda: runpy.run_path(str(program_path), run_name="__main__"),
            answers,
        )


def _stack_file(project: Project, stack: str) -> str:
    path = project.stack_config_dir / f"Pulumi.{stack}.yaml"
    try:
        return str(path.relative_to(project.directory))
    except ValueError:
        return str(path)


class _Discovery:
    """Runs stacks of one project, each at most once, running referenced stacks first."""

    def __init__(self, project: Project, runs: Mapping[str, ProgramRun] | None, limit: int):
        self.project = project
        self.runs: dict[str, ProgramRun] = dict(runs or {})
        self.limit = limit
        self.referenced: list[str] = []
        """Stacks run in this call because another stack read them, in order."""

    def run(self, stack_config: StackConfig, chain: tuple[str, ...] = ()) -> ProgramRun:
        chain = (*chain, stack_config.stack)
        while True:
            try:
                return _run_once(stack_config, self.runs)
            except UnresolvedReference as unresolved:
                targets = unresolved.stacks
            # The run is dropped; the next one gets these answers (and may read more
            # stacks, e.g. a name computed from an answer).
            for target in targets:
                if target not in self.runs:
                    self.runs[target] = self._run_referenced(stack_config.stack, target, chain)

    def _run_referenced(self, stack: str, target: str, chain: tuple[str, ...]) -> ProgramRun:
        if target in chain:
            cycle = " -> ".join((*chain[chain.index(target) :], target))
            raise StackReferenceError(
                f"stack {stack} references stack {target}, which closes a reference cycle "
                f"({cycle}) that no order of deployments can satisfy",
                whole_chain=True,
            )
        if len(self.referenced) >= self.limit:
            reached = ", ".join((*self.referenced, target))
            raise StackReferenceError(
                f"stack {stack} references stack {target}, but one preview runs at most "
                f"{self.limit} referenced stacks offline and this one needs more ({reached})",
                whole_chain=True,
            )
        try:
            stack_config = load_stack_config(self.project, target)
        except StackNotFound:
            stacks = ", ".join(list_stacks(self.project)) or "none"
            raise StackReferenceError(
                f"stack {stack} references stack {target}, which has no "
                f"{_stack_file(self.project, target)} (stacks: {stacks})"
            ) from None
        except ProjectError as exc:
            raise StackReferenceError(
                f"stack {stack} references stack {target}, whose config cannot be read: {exc}"
            ) from None
        self.referenced.append(target)
        try:
            return self.run(stack_config, chain)
        except StackReferenceError as exc:
            if exc.whole_chain:
                raise
            raise StackReferenceError(
                f"stack {stack} references stack {target}, which failed: {exc}"
            ) from None
        except ProgramError as exc:
            raise StackReferenceError(
                f"stack {stack} references stack {target}, which failed: {exc}"
            ) from None


def run_stack(
    stack_config: StackConfig,
    references: Mapping[str, ProgramRun] | None = None,
    *,
    max_references: int = MAX_REFERENCES,
) -> ProgramRun:
    """Run the project's `__main__.py` with one stack's config, as `pulumi up` would.

    A stack that reads other stacks of the project (`pulumi.StackReference`) gets them
    run offline first, each once (`ProgramRun.references` holds those runs).
    `references` (stack name -> run) are runs to answer from instead of running again,
    e.g. a cache of earlier runs. Raises `ProgramError` when the program fails, and its
    subclass `StackReferenceError` when a reference cannot be answered.
    """
    return _Discovery(stack_config.project, references, max_references).run(stack_config)


def run_stack_with_references(
    project: Project | str | Path,
    stack: str,
    *,
    references: Mapping[str, ProgramRun] | None = None,
    max_references: int = MAX_REFERENCES,
) -> ProgramRun:
    """Run `stack` of `project` (a `Project` or its directory) as `ballast preview`
    does: load `Pulumi.<stack>.yaml` from the stack config dir, run the stacks it
    references first, then the stack itself (see `run_stack`).

    Raises `ProjectError`/`StackNotFound` for the project or the stack itself.
    """
    if not isinstance(project, Project):
        project = load_project(project)
    return run_stack(load_stack_config(project, stack), references, max_references=max_references)
