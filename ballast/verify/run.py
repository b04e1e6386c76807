"""`ballast verify STACK`: convert, validate, plan with no reachable API, and optionally
apply against moto; every step's counts, times and failures in one `VerifyResult`.

Steps (each reported separately):

1. validate: `terraform validate` of the literal-value configuration (every value as the
   offline preview resolved it, so every validator of every argument runs);
2. plan: `terraform plan` of the same configuration with every endpoint pointed at a
   local listener that answers 503 and counts requests: the plan must make none;
3. apply (`emulator=True`): `terraform apply` of the reference-linked configuration
   against a fresh moto server; failures classified as defects or listed emulator gaps.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ballast.offline import ProgramRun
from ballast.verify.classify import Failure, Gap, classify, shipped_gaps, stale_gaps
from ballast.verify.convert import Conversion, Note, convert
from ballast.verify.emulator import MotoServer, RequestCounter
from ballast.verify.environment import Toolchain, find_toolchain, require_moto
from ballast.verify.schema import ProviderSchema, load_schema
from ballast.verify.terraform import Diagnostic, Workspace

#: Terraform's `-parallelism` for the apply (its own default).
APPLY_PARALLELISM = 10
#: Bound on one apply, seconds (the RDS waiters dominate; ~4 minutes per stack).
APPLY_TIMEOUT_S = 1200
PLAN_TIMEOUT_S = 600


@dataclass
class Step:
    name: str
    seconds: float = 0.0
    count: int = 0
    """validate: resources without an error; plan: planned creates; apply: created."""
    failures: list[Failure] = field(default_factory=list)
    api_calls: int = 0
    """plan only: requests the provider sent to the local listener (must be 0)."""
    not_started: int = 0
    stale_gaps: list[Gap] = field(default_factory=list)

    @property
    def defects(self) -> list[Failure]:
        return [f for f in self.failures if f.kind == "defect"]

    @property
    def gaps(self) -> list[Failure]:
        return [f for f in self.failures if f.kind == "gap"]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seconds": round(self.seconds, 1),
            "count": self.count,
            "defects": len(self.defects),
            "failures": [f.to_json() for f in self.failures],
        }
        if self.name == "plan":
            out["apiCalls"] = self.api_calls
        if self.name == "apply":
            out["gaps"] = len(self.gaps)
            out["notStarted"] = self.not_started
            out["gapsNowWorking"] = [g.to_json() for g in self.stale_gaps]
        return out


@dataclass
class VerifyResult:
    stack: str
    provider_version: str
    converted: int
    skipped: dict[str, int]
    notes: list[Note]
    validate: Step
    plan: Step
    apply: Step | None = None
    moto_version: str | None = None

    @property
    def defects(self) -> list[Failure]:
        found = self.validate.defects + self.plan.defects
        if self.plan.api_calls:
            found.append(
                Failure(
                    "plan",
                    None,
                    f"the plan sent {self.plan.api_calls} request(s) to the AWS endpoints; "
                    "it must make none",
                )
            )
        if self.apply is not None:
            found += self.apply.defects
            found += [
                Failure(
                    "apply",
                    None,
                    f"listed emulator gap now works, remove it: {g.type} ({g.reason})",
                )
                for g in self.apply.stale_gaps
            ]
        return found

    def counts(self) -> dict[str, int | None]:
        return {
            "converted": self.converted,
            "validated": self.validate.count,
            "planned": self.plan.count,
            "created": self.apply.count if self.apply else None,
            "gaps": len(self.apply.gaps) if self.apply else None,
            "defects": len(self.defects),
            "notStarted": self.apply.not_started if self.apply else None,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "provider": self.provider_version,
            "moto": self.moto_version,
            "counts": self.counts(),
            "notConverted": dict(sorted(self.skipped.items())),
            "notes": [n.to_json() for n in self.notes],
            "validate": self.validate.to_json(),
            "plan": self.plan.to_json(),
            "apply": self.apply.to_json() if self.apply else None,
        }


def _diagnostic_failure(step: str, diagnostic: Diagnostic) -> Failure:
    message = diagnostic.summary + (f": {diagnostic.detail}" if diagnostic.detail else "")
    return Failure(step, diagnostic.address, message, diagnostic.attribute)


def _message_failure(step: str, message: dict[str, Any]) -> Failure:
    diag = message.get("diagnostic", {})
    snippet = diag.get("snippet") or {}
    context = (snippet.get("context") or "").replace('"', "").split(".")
    address = diag.get("address") or (
        f"{context[1]}.{context[2]}" if len(context) >= 3 and context[0] == "resource" else None
    )
    text = diag.get("summary", "") + (f": {diag['detail']}" if diag.get("detail") else "")
    return Failure(step, address, text.strip())


def _validate(workspace: Workspace, conversion: Conversion) -> Step:
    step = Step("validate")
    started = time.monotonic()
    errors = [d for d in workspace.validate() if d.severity == "error"]
    step.seconds = time.monotonic() - started
    step.failures = [_diagnostic_failure("validate", d) for d in errors]
    failed = {f.address for f in step.failures}
    step.count = sum(1 for a in conversion.addresses.values() if a not in failed)
    return step


def _plan(workspace: Workspace) -> Step:
    step = Step("plan")
    started = time.monotonic()

    def on_message(message: dict[str, Any]) -> None:
        if message.get("type") == "change_summary":
            step.count = int(message["changes"].get("add", 0))
        elif (
            message.get("type") == "diagnostic" and message["diagnostic"].get("severity") == "error"
        ):
            step.failures.append(_message_failure("plan", message))

    workspace.stream(
        "plan",
        "-input=false",
        "-lock=false",
        "-refresh=false",
        on_message=on_message,
        timeout=PLAN_TIMEOUT_S,
    )
    step.seconds = time.monotonic() - started
    return step


def _apply(
    workspace: Workspace,
    conversion: Conversion,
    gaps: tuple[Gap, ...],
    progress: Callable[[str, str], None] | None,
) -> Step:
    step = Step("apply")
    bodies = {
        f"{tf_type}.{name}": body
        for tf_type, named in conversion.config.get("resource", {}).items()
        for name, body in named.items()
    }
    created: set[str] = set()
    errored: set[str] = set()
    started = time.monotonic()

    def on_message(message: dict[str, Any]) -> None:
        kind = message.get("type")
        hook = message.get("hook") or {}
        address = (hook.get("resource") or {}).get("addr")
        if kind == "apply_complete" and address:
            created.add(address)
            if progress:
                progress("created", address)
        elif kind == "apply_errored" and address:
            errored.add(address)
            if progress:
                progress("failed", address)
        elif kind == "diagnostic" and message["diagnostic"].get("severity") == "error":
            failure = _message_failure("apply", message)
            step.failures.append(classify(failure, gaps, bodies.get(failure.address or "")))

    workspace.stream(
        "apply",
        "-auto-approve",
        "-input=false",
        "-lock=false",
        f"-parallelism={APPLY_PARALLELISM}",
        on_message=on_message,
        timeout=APPLY_TIMEOUT_S,
    )
    step.seconds = time.monotonic() - started
    step.count = len(created)
    step.not_started = len(set(conversion.addresses.values()) - created - errored)
    step.stale_gaps = stale_gaps(gaps, created, step.failures, bodies)
    return step


def verify_run(
    run: ProgramRun,
    *,
    emulator: bool = False,
    toolchain: Toolchain | None = None,
    schema: ProviderSchema | None = None,
    gaps: tuple[Gap, ...] | None = None,
    workdir: Path | None = None,
    progress: Callable[[str, str], None] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> VerifyResult:
    """Verify one offline run (see the module docstring). Raises `ToolMissing` when
    Terraform, the provider or (with `emulator`) moto is missing. `workdir` keeps the
    Terraform directories (default: a temporary directory, removed afterwards)."""
    toolchain = toolchain or find_toolchain()
    if emulator:
        require_moto()
    schema = schema or load_schema(toolchain)
    gaps = shipped_gaps() if gaps is None else gaps
    with tempfile.TemporaryDirectory(prefix="ballast-verify-") as tmp:
        base = workdir or Path(tmp)
        literal = Workspace(base / "literal", toolchain)
        with RequestCounter() as counter:
            conversion = convert(run, schema, mode="literal", endpoint=counter.url)
            literal.write(conversion.config)
            literal.init()
            if on_step:
                on_step("validate")
            validate = _validate(literal, conversion)
            if on_step:
                on_step("plan")
            plan = _plan(literal)
            plan.api_calls = len(counter.requests)
        result = VerifyResult(
            stack=run.stack,
            provider_version=toolchain.provider_version,
            converted=len(conversion.addresses),
            skipped=dict(conversion.skipped),
            notes=list(conversion.notes),
            validate=validate,
            plan=plan,
        )
        if emulator:
            if on_step:
                on_step("apply")
            with MotoServer() as moto:
                linked = convert(run, schema, mode="linked", endpoint=moto.url, account_lookup=True)
                workspace = Workspace(base / "emulator", toolchain)
                workspace.write(linked.config)
                workspace.init()
                result.apply = _apply(workspace, linked, gaps, progress)
            result.moto_version = MotoServer.version()
        return result
