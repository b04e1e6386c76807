"""The report for people: a Rich table grouped by risk, and Markdown for an issue or PR.

Values are shown as compact JSON, cut to `VALUE_WIDTH` characters in the table (the
Markdown and JSON forms keep them whole); secrets are already "[secret]". Both forms
print only what the report holds, in its order, so the same report renders the same
bytes.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from ballast.drift import remediate
from ballast.drift.paths import MISSING
from ballast.drift.report import DriftReport, ResourceDrift
from ballast.drift.risk import LEVELS
from ballast.output import text

VALUE_WIDTH = 40
_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan"}


def show(value: Any, width: int | None = None) -> str:
    """`value` as compact JSON (`(absent)` for a missing property)."""
    shown = "(absent)" if value is MISSING else json.dumps(value, sort_keys=True)
    if width is not None and len(shown) > width:
        return shown[: width - 1] + "…"
    return shown


def _what(item: ResourceDrift) -> list[tuple[str, str]]:
    """(property, old -> new) rows of one resource."""
    if item.op == "delete":
        return [("(resource)", "deleted outside Pulumi")]
    if not item.changes:
        return [("(resource)", f"{item.op}: changed outside Pulumi, no property detail")]
    return [
        (
            rc.change.path + (" (replace)" if rc.change.replace else ""),
            f"{show(rc.change.old, VALUE_WIDTH)} -> {show(rc.change.new, VALUE_WIDTH)}",
        )
        for rc in item.changes
    ]


def _headline(report: DriftReport) -> str:
    counts = report.counts()
    risk = ", ".join(f"{counts['byRisk'][level]} {level}" for level in LEVELS)
    return (
        f"stack {report.stack}: {counts['drifted']} drifted of {counts['checked']} "
        f"checked ({risk}); {counts['ignoredChanges']} change(s) ignored"
    )


def render(out: Console, report: DriftReport, *, remediation: bool = False) -> None:
    """The table form, one table per risk level that has drift."""
    out.print(text((_headline(report), "bold")), soft_wrap=True)
    for level in LEVELS:
        items = [item for item in report.drift if item.level == level]
        if not items:
            continue
        table = Table(
            title=text((f"{level.upper()} risk ({len(items)})", _STYLE[level])),
            title_justify="left",
            show_lines=True,
            expand=False,
        )
        for column in ("component", "resource", "op", "property", "old -> new", "policy"):
            table.add_column(column, overflow="fold")
        for item in items:
            rows = _what(item)
            for index, (prop, change) in enumerate(rows):
                first = index == 0
                table.add_row(
                    text(item.component.label if first and item.component else ""),
                    text(f"{item.name}\n{item.type}" if first else ""),
                    text(item.op if first else ""),
                    text(prop),
                    text(change),
                    text(", ".join(item.policies) if first else ""),
                )
        out.print(table)
        if remediation:
            for item in items:
                _remediation_lines(out, report.stack, item)
    _tail(out, report)


def _remediation_lines(out: Console, stack: str, item: ResourceDrift) -> None:
    out.print(text((f"{item.name} ({item.type})", "bold")), soft_wrap=True)
    out.print(
        text("  accept the cloud:  ", remediate.accept_command(stack, item.urn)), soft_wrap=True
    )
    out.print(text("                     ", remediate.accept_note(item.op)), soft_wrap=True)
    out.print(
        text("  restore the code:  ", remediate.restore_command(stack, item.urn)), soft_wrap=True
    )
    out.print(text("                     ", remediate.restore_note(item.op)), soft_wrap=True)


def _tail(out: Console, report: DriftReport) -> None:
    for ignored in report.ignored:
        where = ignored.path or "(resource)"
        out.print(
            text(
                ("ignored: ", "dim"),
                f"{ignored.urn} {where}: {ignored.rule.reason} [{ignored.rule.source}]",
            ),
            soft_wrap=True,
        )
    for rule in report.expired:
        out.print(
            text(
                ("expired ignore: ", "yellow"),
                f"{rule.source} ({rule.selector}) expired {rule.expires}: its drift is reported again",
            ),
            soft_wrap=True,
        )
    for failure in report.failures:
        out.print(
            text(("failed: ", "red"), f"{failure.urn or 'refresh'}: {failure.message}"),
            soft_wrap=True,
        )
    if not report.collected.complete:
        out.print(
            text(
                ("incomplete: ", "red"),
                "the refresh did not finish; this report covers what it saw",
            ),
            soft_wrap=True,
        )


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def markdown(report: DriftReport, *, remediation: bool = False) -> str:
    """The report as Markdown: headline, one table per risk level, the ignored list."""
    collected = report.collected
    lines = [f"## Drift: stack `{report.stack}`", "", _headline(report) + ".", ""]
    lines.append(
        f"Checked at {report.to_json()['checkedAt']} from {collected.source}"
        + (f", Pulumi {collected.pulumi_version}" if collected.pulumi_version else "")
        + "".join(f", {name} {version}" for name, version in sorted(collected.providers.items()))
        + "."
    )
    lines.append("")
    for level in LEVELS:
        items = [item for item in report.drift if item.level == level]
        if not items:
            continue
        lines += [
            f"### {level.capitalize()} risk ({len(items)})",
            "",
            "| component | resource | op | property | old | new | policy |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for item in items:
            component = item.component.label if item.component else ""
            resource = f"`{item.name}` `{item.type}`"
            policies = ", ".join(f"`{p}`" for p in item.policies)
            if item.op == "delete" or not item.changes:
                note = "deleted outside Pulumi" if item.op == "delete" else "no property detail"
                lines.append(
                    f"| {_cell(component)} | {_cell(resource)} | {item.op} | "
                    f"(resource) | | {note} | {policies} |"
                )
                continue
            for rc in item.changes:
                lines.append(
                    f"| {_cell(component)} | {_cell(resource)} | {item.op} | "
                    f"`{_cell(rc.change.path)}`{' (replace)' if rc.change.replace else ''} | "
                    f"`{_cell(show(rc.change.old))}` | `{_cell(show(rc.change.new))}` | {policies} |"
                )
        lines.append("")
        if remediation:
            for item in items:
                lines += [
                    f"- `{item.name}`: accept the cloud with "
                    f"`{remediate.accept_command(report.stack, item.urn)}`, "
                    f"{remediate.accept_note(item.op)}; or restore the code's intent with "
                    f"`{remediate.restore_command(report.stack, item.urn)}` "
                    f"({remediate.restore_note(item.op)})."
                ]
            lines.append("")
    if report.ignored:
        lines += [
            f"### Ignored ({len(report.ignored)})",
            "",
            "| resource | property | reason | rule |",
            "| --- | --- | --- | --- |",
        ]
        for ignored in report.ignored:
            lines.append(
                f"| `{_cell(ignored.urn)}` | `{_cell(ignored.path or '(resource)')}` | "
                f"{_cell(ignored.rule.reason)} | {_cell(ignored.rule.source)} |"
            )
        lines.append("")
    for rule in report.expired:
        lines.append(
            f"- Expired ignore `{_cell(rule.selector)}` ({rule.source}, {rule.expires}): "
            "its drift is reported again."
        )
    for failure in report.failures:
        lines.append(f"- **Failed**: `{failure.urn or 'refresh'}`: {_cell(failure.message)}")
    if not collected.complete:
        lines.append(
            "- **Incomplete**: the refresh did not finish; this report covers what it saw."
        )
    return "\n".join(lines).rstrip("\n") + "\n"
