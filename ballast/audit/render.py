"""The audit report: one JSON document (docs/audit.md), CSV for Jira or Linear,
Markdown, and the console summary. Files are written whole or not at all."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ballast.audit.backlog import BacklogItem
from ballast.audit.run import AuditResult
from ballast.files import write_text_atomically
from ballast.output import text

SCHEMA_VERSION = 1
#: CSV columns, in order; Jira's and Linear's importers map them by header.
CSV_COLUMNS = ("Rank", "Summary", "Issue Type", "Priority", "Labels", "Story Points",
               "Description", "Acceptance Criteria", "Account", "Monthly Cost USD")  # fmt: skip
PRIORITY = {"critical": "Highest", "high": "High", "medium": "Medium", "low": "Low"}


def document(
    result: AuditResult, backlog: list[BacklogItem], coverage: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "complete": result.complete,
        "findings": [f.to_json() for f in result.findings],
        "backlog": [b.to_json() for b in backlog],
        "coverage": coverage,
        "errors": [e.to_json() for e in result.errors],
        "stats": result.stats(),
    }


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def to_csv(backlog: list[BacklogItem]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for b in backlog:
        description = (
            f"{b.remediation}\n\nResources:\n" + "\n".join(f"- {r}" for r in b.resources)
            + (f"\n\nPrevented on Ballast by: {', '.join(b.prevented_by)}" if b.prevented_by else "")
        )  # fmt: skip
        labels = " ".join(
            [b.theme, b.type.replace(" ", "-"), b.check]
            + [f"service:{s}" for s in b.business_dependency.get("service", [])]
        )
        writer.writerow(
            [b.rank, b.title, "Task", PRIORITY[b.severity], labels, b.points, description,
             b.success_criteria, b.account, f"{b.monthly_cost:.2f}"]
        )  # fmt: skip
    return out.getvalue()


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: dict[str, Any]) -> str:
    stats = doc["stats"]
    lines = [
        "# Ballast audit",
        "",
        f"{len(doc['findings'])} findings, {len(doc['backlog'])} backlog items, "
        f"{len(stats['accounts'])} accounts, {len(stats['regions'])} regions, "
        f"{stats['calls']} API calls in {stats['seconds']} s.",
        "",
    ]
    if not doc["complete"]:
        lines += ["**Incomplete**: some of the estate could not be checked (see Errors).", ""]
    coverage = doc["coverage"]
    if coverage is not None:
        lines += [f"Infrastructure under IaC state: **{coverage['percent']}%** "
                  f"({coverage['managed']} of {coverage['total']}).", ""]  # fmt: skip
    lines += ["## Backlog", "",
              "| # | item | theme | type | points | risk | monthly cost | prevented by |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for b in doc["backlog"]:
        lines.append(
            f"| {b['rank']} | {_cell(b['title'])} | {b['theme']} | {b['type']} | {b['points']} "
            f"| {b['risk']} | {b['monthly_cost']:.2f} | {_cell(', '.join(b['prevented_by']) or '-')} |"
        )
    lines += ["", "## Findings", "", "| severity | check | account | region | resource |",
              "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for f in doc["findings"]:
        lines.append(
            f"| {f['severity']} | {f['check']} | {f['account']} | {f['region']} | {_cell(f['resource'])} |"
        )
    if doc["errors"]:
        lines += ["", "## Errors", "", "| account | region | service | operation | kind |",
                  "| --- | --- | --- | --- | --- |"]  # fmt: skip
        for e in doc["errors"]:
            lines.append(
                f"| {e['account']} | {e['region']} | {e['service']} | {e['operation']} | {e['kind']} |"
            )
    return "\n".join(lines) + "\n"


def write(path: Path, content: str) -> None:
    write_text_atomically(path, content)


def summary(console: Console, doc: dict[str, Any], *, top: int = 15) -> None:
    """The console view: counts, coverage, the top backlog items, the errors."""
    stats = doc["stats"]
    by_severity: dict[str, int] = {}
    for f in doc["findings"]:
        by_severity[f["severity"]] = by_severity.get(f["severity"], 0) + 1
    counts = ", ".join(f"{n} {s}" for s, n in by_severity.items()) or "none"
    console.print(
        text(f"Audited {len(stats['accounts'])} account(s) x {len(stats['regions'])} region(s): "
             f"{len(doc['findings'])} findings ({counts}); {stats['calls']} calls in {stats['seconds']} s")
    )  # fmt: skip
    if doc["coverage"] is not None:
        c = doc["coverage"]
        console.print(text(f"Under IaC state: {c['percent']}% ({c['managed']} of {c['total']})"))
    table = Table(title=f"Backlog (top {min(top, len(doc['backlog']))} of {len(doc['backlog'])})")
    for column in ("#", "check", "account", "n", "type", "pts", "score", "$/month"):
        table.add_column(column, overflow="fold")
    for b in doc["backlog"][:top]:
        table.add_row(
            text(str(b["rank"])), text(b["check"]), text(b["account"]),
            text(str(len(b["resources"]))), text(b["type"]), text(str(b["points"])),
            text(str(b["score"])), text(f"{b['monthly_cost']:.2f}"),
        )  # fmt: skip
    console.print(table)
    for e in doc["errors"]:
        console.print(
            text(("not checked:", "yellow"),
                 f" {e['account']} {e['region']} {e['service']} {e['operation']} ({e['kind']}): {e['message']}"),
            soft_wrap=True,
        )  # fmt: skip
