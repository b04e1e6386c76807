"""`ballast gate PLAN_JSON`: the CLI command (registered in `ballast.cli`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ballast.gate.plan import PlanError, load_plan, stacks_of

ENVIRONMENT_KEY = "ballast:environment"
PLATFORM_STACK_KEY = "ballast:platformStack"


class GateSetupError(ValueError):
    """The stack or environment cannot be told; one sentence saying what to pass."""


def environment_of(project_dir: Path, stack: str) -> str:
    """`ballast:environment` of the stack's file, or of the platform stack a cluster
    stack names with `ballast:platformStack`."""
    from ballast.offline import StackNotFound, load_stack_config
    from ballast.offline.stack_config import ProjectError, load_project

    try:
        project = load_project(project_dir)
        config = load_stack_config(project, stack).config
        if ENVIRONMENT_KEY not in config and config.get(PLATFORM_STACK_KEY):
            config = load_stack_config(project, config[PLATFORM_STACK_KEY]).config
    except (StackNotFound, ProjectError) as exc:
        raise GateSetupError(f"{exc}; or pass --environment") from None
    if not config.get(ENVIRONMENT_KEY):
        raise GateSetupError(f"stack {stack} sets no {ENVIRONMENT_KEY}; pass --environment")
    return config[ENVIRONMENT_KEY]


def _read(plan_json: str) -> tuple[str, str]:
    if plan_json == "-":
        return sys.stdin.read(), "standard input"
    path = Path(plan_json)
    try:
        return path.read_text(encoding="utf-8"), plan_json
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise PlanError(f"cannot read {plan_json}: {reason}") from None


def gate_command(
    plan_json: Annotated[
        str,
        typer.Argument(
            help="The output of `pulumi preview --json` (a file, or - for standard input)."
        ),
    ],
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack", help="The stack previewed (default: the one the plan's URNs name)."
        ),
    ] = None,
    environment: Annotated[
        str | None,
        typer.Option(
            "--environment",
            help="Its environment (default: ballast:environment of stacks/Pulumi.<stack>.yaml, "
            "or of the platform stack a cluster stack reads).",
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    markdown_output: Annotated[
        bool, typer.Option("--markdown", help="A pull-request comment (Markdown).")
    ] = False,
    project_dir: Annotated[
        Path, typer.Option("--project-dir", help="The project (default: the current directory).")
    ] = Path("."),
) -> None:
    """Fail on the changes in a `pulumi preview --json` plan that a per-resource policy
    cannot see: in prod, instance classes or storage that shrink and node groups whose
    maximum drops below the nodes they run; deletes and replacements of protected (and,
    in prod, stateful) resources; IAM documents that newly allow iam:PassRole.

    Each finding says how to approve it: an entry in policy-pack/gate/STACK.json (else
    ENV.json), or for iam:PassRole an exemption of iam-passrole-requires-approval in the
    stack's policy config (docs/delivery.md). Exits 0 when nothing needs approval, 1 on
    findings, 2 on an unreadable plan or config.
    """
    # Imported here: the approvals and the report bring the policy and preview modules,
    # which every other command would otherwise load at start-up.
    from ballast.cli import EXIT_FINDINGS, EXIT_OK, fail, fail_json
    from ballast.gate.approvals import ApprovalError, load_approvals
    from ballast.gate.report import gate, markdown, render
    from ballast.output import console

    if json_output and markdown_output:
        raise fail("choose one of --json and --markdown")

    def error(kind: str, message: str) -> typer.Exit:
        return fail_json(kind, message) if json_output else fail(message)

    try:
        text, source = _read(plan_json)
        steps = load_plan(text, source)
    except PlanError as exc:
        raise error("plan", str(exc)) from None
    try:
        if stack is None:
            named = stacks_of(steps)
            if len(named) != 1:
                found = ", ".join(sorted(named)) or "none"
                raise GateSetupError(
                    f"the plan's URNs name {len(named)} stacks ({found}); pass --stack"
                )
            (stack,) = named
        if environment is None:
            environment = environment_of(project_dir, stack)
        approvals = load_approvals(project_dir, stack, environment)
    except GateSetupError as exc:
        raise error("stack", str(exc)) from None
    except ApprovalError as exc:
        raise error("approvals", str(exc)) from None
    result = gate(
        steps, stack=stack, environment=environment, approvals=approvals, project_dir=project_dir
    )
    if json_output:
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    elif markdown_output:
        sys.stdout.write(markdown(result))
    else:
        render(console(), result)
    raise typer.Exit(EXIT_OK if result.passed else EXIT_FINDINGS)
