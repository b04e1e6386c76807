"""The `ballast audit` command (registered in ballast/cli.py); the work is in
`ballast.audit.run`, the output in `ballast.audit.render`.

Exit codes: 0 clean, 1 findings, 2 usage or environment error (nothing written),
3 incomplete (something could not be checked; findings may or may not exist).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ballast.gc_pause import gc_paused
from ballast.output import console, text


def _split(values: list[str] | None) -> list[str]:
    return [p.strip() for v in values or [] for p in v.split(",") if p.strip()]


# Discovery through the written report without the cyclic collector (ballast/gc_pause.py).
@gc_paused()
def audit(
    accounts: Annotated[
        list[str] | None,
        typer.Option(
            "--accounts",
            help="Account ids to audit (comma-separated or repeated); "
            "each entered through --role-name. Default: the caller's account.",
        ),
    ] = None,
    role_name: Annotated[
        str, typer.Option("--role-name", help="Role assumed in each of --accounts.")
    ] = "BallastAudit",
    regions: Annotated[
        list[str] | None,
        typer.Option(
            "--regions",
            help="Regions (comma-separated or repeated). "
            "Default: every region enabled for the account.",
        ),
    ] = None,
    services: Annotated[
        list[str] | None,
        typer.Option("--services", help="Services to read (default: all)."),
    ] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option("--endpoint-url", help="Send every call here (an emulator such as moto)."),
    ] = None,
    state: Annotated[
        list[Path] | None,
        typer.Option(
            "--state",
            help="`pulumi stack export` document or Terraform state "
            "(repeatable): report IaC coverage.",
        ),
    ] = None,
    import_file: Annotated[
        Path | None,
        typer.Option(
            "--import-file",
            help="Write a `pulumi import --file` document for the "
            "unmanaged resources (needs --state).",
        ),
    ] = None,
    json_path: Annotated[
        str | None, typer.Option("--json", help="Write the JSON report to this file ('-': stdout).")
    ] = None,
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="Write the backlog as CSV (Jira/Linear import).")
    ] = None,
    markdown_path: Annotated[
        Path | None, typer.Option("--markdown", help="Write the report as Markdown.")
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=256, help="Concurrent calls.")
    ] = 32,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Start moto's server on 127.0.0.1, seed an example "
            "estate (two accounts, two regions) and audit it.",
        ),
    ] = False,
) -> None:
    """Discover an AWS estate into findings, IaC coverage and a risk-ranked backlog,
    each finding naming the Ballast component or policy that prevents it (docs/audit.md).

    Exits 0 when clean, 1 with findings, 2 on a usage or environment error, 3 when some
    of the estate could not be checked (the errors say what).
    """
    from ballast.audit.collect import SERVICES
    from ballast.audit.coverage import StateError, import_document, managed_ids
    from ballast.audit.scope import ClientSettings, ScopeError, parse_accounts

    err = console(stderr=True)

    def usage(message: str) -> typer.Exit:
        err.print(text(("error:", "red"), " ", message), soft_wrap=True)
        return typer.Exit(2)

    try:
        account_ids = parse_accounts(accounts or [])
    except ValueError as exc:
        raise usage(str(exc)) from None
    region_list = _split(regions) or None
    if region_list:
        from components.aws_catalog import region_problem

        for region in region_list:
            problem = region_problem(region)
            if problem:
                raise usage(f"--regions: {problem}")
    chosen = tuple(_split(services)) or SERVICES
    unknown = [s for s in chosen if s not in SERVICES]
    if unknown:
        raise usage(f"--services: unknown {', '.join(unknown)}; accepted: {', '.join(SERVICES)}")
    if import_file is not None and not state:
        raise usage("--import-file needs --state (the stack exports that say what is managed)")
    if demo and (endpoint_url or account_ids):
        raise usage("--demo audits its own emulator; leave out --endpoint-url and --accounts")
    try:
        ids = managed_ids(list(state)) if state else None
    except StateError as exc:
        raise usage(str(exc)) from None

    from ballast.audit.run import AuditOptions
    from ballast.audit.run import audit as run_audit

    settings = ClientSettings(endpoint_url=endpoint_url)
    options = AuditOptions(accounts=account_ids, role_name=role_name, regions=region_list,
                           services=chosen, client=settings, workers=workers)  # fmt: skip
    server = None
    try:
        if demo:
            from ballast.audit.demo import start_demo

            err.print(text("starting moto's server on 127.0.0.1 and seeding an example estate"))
            server, options = start_demo(options)
        if json_path == "-":
            result = run_audit(options)
        else:
            with err.status(text("reading the estate and running the checks")):
                result = run_audit(options)
    except ScopeError as exc:
        raise usage(str(exc)) from None
    finally:
        if server is not None:
            server.stop()

    from ballast.audit import render
    from ballast.audit.backlog import build_backlog
    from ballast.audit.coverage import coverage

    backlog = build_backlog(result.findings)
    report = render.document(
        result, backlog, coverage(result.resources, ids) if ids is not None else None
    )
    if import_file is not None and ids is not None:
        render.write(import_file, render.to_json(import_document(result.resources, ids)))
    if csv_path is not None:
        render.write(csv_path, render.to_csv(backlog))
    if markdown_path is not None:
        render.write(markdown_path, render.to_markdown(report))
    if json_path == "-":
        sys.stdout.write(render.to_json(report))
    else:
        if json_path is not None:
            render.write(Path(json_path), render.to_json(report))
        render.summary(console(), report)
    raise typer.Exit(result.exit_code)
