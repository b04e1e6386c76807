"""`ballast drift STACK`: run or read a refresh preview and report the drift.

Exit codes: 0 no drift (drift that is only ignored counts as none), 1 drift, 2 usage or
environment error (no Pulumi CLI, unknown stack, no credentials, an unreadable or
malformed file, a bad `.driftignore` line, a refresh that failed or ended early: the
partial report is still printed and written).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ballast.output import console, text


class DriftFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


def _now() -> dt.datetime:
    """The time of the check: now, or `SOURCE_DATE_EPOCH` (Unix seconds) when set, so a
    report can be reproduced byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.now(dt.UTC)


def _fail(message: str) -> typer.Exit:
    err = console(stderr=True)
    err.print(text(("error:", "red"), " ", message), soft_wrap=True)
    return typer.Exit(2)


def drift(
    stack: Annotated[str, typer.Argument(help="Stack to check (its name in the Pulumi backend).")],
    events: Annotated[
        Path | None,
        typer.Option(
            "--events",
            help="Read an engine event log (`--event-log FILE`) instead of running the refresh.",
        ),
    ] = None,
    preview_json: Annotated[
        Path | None,
        typer.Option(
            "--preview-json", help="Read the output of `pulumi refresh --preview-only --json`."
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the JSON report (docs/drift.md).")
    ] = False,
    markdown_output: Annotated[
        bool, typer.Option("--markdown", help="Print Markdown, for a GitHub issue or PR comment.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="Also write the report (JSON, or Markdown with --markdown) to this file, atomically.",
        ),
    ] = None,
    driftignore: Annotated[
        Path | None,
        typer.Option(
            "--driftignore",
            help="Ignore file (default: .driftignore in the project directory, if present).",
        ),
    ] = None,
    remediate_flag: Annotated[
        bool, typer.Option("--remediate", help="Show the two ways back for each drifted resource.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            help="With --remediate: run `pulumi up --refresh --target` for the drifted resources.",
        ),
    ] = False,
    allow_prod: Annotated[
        bool, typer.Option("--allow-prod", help="Allow --yes on a prod stack.")
    ] = False,
    project_dir: Annotated[
        Path,
        typer.Option("--project-dir", help="The Pulumi project (default: the current directory)."),
    ] = Path("."),
) -> None:
    """Report drift for STACK: `pulumi refresh --preview-only` through the Automation API,
    or a recorded event log (--events) or JSON document (--preview-json). Risk-ranked,
    provider noise and .driftignore entries set aside (and listed). Exits 0 without drift,
    1 with drift, 2 on a usage or environment error."""
    from ballast.drift import automation, sources
    from ballast.drift import report as report_module
    from ballast.drift.noise import DRIFTIGNORE, IgnoreFileError, load_ignore_file
    from ballast.drift.render import markdown, render
    from ballast.files import write_text_atomically

    if events is not None and preview_json is not None:
        raise _fail("--events and --preview-json each name a whole refresh; give one of them")
    if json_output and markdown_output:
        raise _fail("--json and --markdown each choose the output; give one of them")
    if yes and not remediate_flag:
        raise _fail("--yes runs the remediation; give it with --remediate")
    if yes and (events is not None or preview_json is not None):
        raise _fail("--yes restores live resources; run it without --events/--preview-json")
    chosen = (
        DriftFormat.json
        if json_output
        else DriftFormat.markdown
        if markdown_output
        else DriftFormat.table
    )
    try:
        rules = load_ignore_file(driftignore or project_dir / DRIFTIGNORE)
        if driftignore is not None and not driftignore.is_file():
            raise IgnoreFileError(f"ignore file {driftignore} does not exist")
    except IgnoreFileError as exc:
        raise _fail(str(exc)) from None

    err = console(stderr=True)
    failure: str | None = None
    try:
        if events is not None:
            collected = sources.read_events(events)
        elif preview_json is not None:
            collected = sources.read_preview_json(preview_json)
        else:
            with err.status(text(f"refreshing stack {stack} (preview only)")) as status:
                collected = automation.run_refresh(
                    project_dir,
                    stack,
                    lambda n: status.update(
                        text(f"refreshing stack {stack}: {n} resources checked")
                    ),
                )
    except sources.SourceError as exc:
        raise _fail(str(exc)) from None
    except automation.RunError as exc:
        if exc.collected is None:
            raise _fail(str(exc)) from None
        collected, failure = exc.collected, str(exc)

    try:
        result = report_module.build(collected, stack=stack, ignore_rules=rules, checked_at=_now())
    except sources.SourceError as exc:
        raise _fail(str(exc)) from None
    if chosen is DriftFormat.json:
        document = json.dumps(result.to_json(), indent=2) + "\n"
    elif chosen is DriftFormat.markdown:
        document = markdown(result, remediation=remediate_flag)
    else:
        document = None
    if document is not None:
        sys.stdout.write(document)
    else:
        render(console(), result, remediation=remediate_flag)
    if output is not None:
        written = (
            document if document is not None else json.dumps(result.to_json(), indent=2) + "\n"
        )
        try:
            write_text_atomically(output, written)
        except OSError as exc:
            raise _fail(f"cannot write {output}: {exc.strerror or exc}") from None
    if failure is not None:
        raise _fail(failure)
    if result.exit_code == report_module.EXIT_ERROR:
        err.print(
            text(("error:", "red"), " the refresh failed or ended early; the report is partial"),
            soft_wrap=True,
        )
    if yes and result.drift:
        from ballast.drift import remediate

        if remediate.is_prod(project_dir, stack) and not allow_prod:
            raise _fail(f"stack {stack} is a prod stack; restoring it needs --allow-prod")
        try:
            remediate.restore(project_dir, stack, [item.urn for item in result.drift])
        except automation.RunError as exc:
            raise _fail(str(exc)) from None
    raise typer.Exit(result.exit_code)
