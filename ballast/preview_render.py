"""How `ballast preview` shows a result: for a terminal or a CI log (`render`), and as
Markdown for a pull-request comment (`markdown`).

Made for an 80-column CI log: the policy findings come first (the plan after them, or
not at all with `violations_only`), one block per finding rather than a table, so no
policy ID, URN or exemption snippet is ever cut: a URN and a snippet are printed on one
line each, whole (a log viewer wraps them; a copy keeps them intact), prose wraps at
word boundaries. Everything from the data is printed literally (`ballast.output`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from ballast.offline import ProgramRun
from ballast.output import text
from ballast.policy.exemptions import ExemptedFinding
from ballast.policy.harness import Diagnostic
from ballast.preview import PreviewResult

_LEVEL_STYLE = {"mandatory": "bold red", "advisory": "yellow", "remediate": "magenta"}
_INDENT = 2


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


# --- the plan ---------------------------------------------------------------------------


def _label(record) -> Text:
    kind = record.type
    if record.is_provider:
        return text((record.name, "magenta"), (f" provider {record.package}", "dim"))
    if not record.custom:
        return text((record.name, "bold"), (f" {kind}", "dim"))
    if record.read:
        return text((">", "cyan"), f" {record.name}", (f" {kind} (read, nothing to create)", "dim"))
    flags = (" protected", "yellow") if record.protect else ""
    return text(("+", "green"), f" {record.name}", (f" {kind}", "dim"), flags)


def resource_tree(run: ProgramRun) -> Tree:
    by_parent: dict[str | None, list] = {}
    for record in run.resources:
        by_parent.setdefault(record.parent, []).append(record)
    roots = by_parent.get(None, [])
    tree = Tree(
        text((f"stack {run.stack}", "bold"), (" (offline plan: every resource is a create)", "dim"))
    )

    def add(node: Tree, record, depth: int) -> None:
        branch = node.add(_label(record))
        if depth > 64:  # guard against a malformed parent chain
            return
        for child in by_parent.get(record.urn, []):
            add(branch, child, depth + 1)

    for root in roots:
        for child in by_parent.get(root.urn, []):
            add(tree, child, 0)
    return tree


def type_table(run: ProgramRun) -> Table:
    table = Table(title="Resources by type", title_justify="left")
    table.add_column("type", overflow="fold")
    table.add_column("count", justify="right")
    counts = Counter(r.type for r in run.resources if r.custom and not r.is_provider and not r.read)
    for kind, count in sorted(counts.items()):
        table.add_row(Text(kind), Text(str(count)))
    return table


def outputs_table(run: ProgramRun) -> Table:
    table = Table(title="Stack outputs", title_justify="left")
    table.add_column("output", overflow="fold")
    table.add_column("value", overflow="fold")
    for key, value in sorted(run.outputs.items()):
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        table.add_row(Text(key), Text(shown))
    return table


def plan_summary(run: ProgramRun) -> Text:
    summary = run.summary()
    return text(
        (_count(summary["resources"], "resource"), "bold"),
        " to create in ",
        (_count(summary["components"], "component"), "bold"),
        " with ",
        (_count(summary["providers"], "explicit provider"), "bold"),
        f"; {summary['protected']} protected.",
    )


# --- the findings -----------------------------------------------------------------------


def policy_summary(result: PreviewResult) -> Text:
    report = result.policy
    if report is None:
        where = f" (no {result.missing_pack}/PulumiPolicy.yaml)" if result.missing_pack else ""
        return text((f"Policies: not evaluated{where}.", "yellow"))
    source = (
        report.config_source or f"no policy config for stack {result.run.stack}: the pack defaults"
    )
    mandatory = len(report.mandatory)
    advisory = len(report.violations) - mandatory
    notes = f"; {len(report.notes)} skipped (unknown values)" if report.notes else ""
    return text(
        "Policy pack ",
        (report.pack.name, "bold"),
        f" ({report.enabled_policies} policies enabled, config: {source}): ",
        (f"{mandatory} mandatory", "red" if mandatory else "green"),
        f", {advisory} advisory violations, {len(report.exempted)} exempted{notes}.",
    )


class Whole(Text):
    """A line printed whole (`soft_wrap`): never wrapped nor cut, however narrow."""


def _field(label: str, value: str, *, whole: bool = False) -> Table | Text:
    """One `label value` line of a finding. `whole`: on one line however long (URNs,
    snippets), else wrapped at word boundaries under its label."""
    if whole:
        line = Whole()
        line.append(" " * _INDENT)
        line.append(f"{label:<9}", style="dim")
        line.append(value)
        return line
    grid = Table.grid(padding=(0, 0))
    grid.add_column(width=_INDENT + 9, no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(text(" " * _INDENT, (label, "dim")), Text(value))
    return grid


def _resource(d: Diagnostic, result: PreviewResult) -> str:
    record = result.run.by_urn().get(d.urn)
    return f"{record.name} ({record.type})" if record else "(the stack)"


def _violation(d: Diagnostic, result: PreviewResult) -> list:
    document = result.violation_json(d)
    style = _LEVEL_STYLE.get(d.level, "")
    lines: list = [
        text((d.level.upper(), style), " ", (d.policy, "bold"), f" (severity {d.severity})"),
        _field("resource", _resource(d, result)),
    ]
    if d.urn:
        lines.append(_field("urn", d.urn, whole=True))
    lines.append(_field("problem", d.message))
    if document["remediation"]:
        lines.append(_field("fix", document["remediation"]))
    if document["exemption"]:
        snippet = json.dumps(document["exemption"], ensure_ascii=False)
        lines.append(_field("exempt", f"add to {d.policy}.exemptions: {snippet}", whole=True))
    return lines


def _exempted(finding: ExemptedFinding, result: PreviewResult) -> list:
    d, entry = finding.diagnostic, finding.exemption
    lines: list = [
        text(("EXEMPTED", "cyan"), " ", (d.policy, "bold"), f" ({d.level}, severity {d.severity})"),
        _field("resource", _resource(d, result)),
    ]
    if d.urn:
        lines.append(_field("urn", d.urn, whole=True))
    lines.append(_field("problem", d.message))
    if entry is not None:
        lines.append(_field("by", f"{entry.where}: {entry.selector}", whole=True))
        lines.append(_field("reason", entry.reason))
    return lines


def findings(result: PreviewResult) -> list:
    """The policy summary, then every violation, then every exempted finding and the
    skipped policies, one block each: renderables, one per line (print a `Whole` with
    `soft_wrap=True`)."""
    parts: list = [policy_summary(result)]
    report = result.policy
    if report is None:
        return parts
    violations = result.violations
    if violations:
        parts.append(Text(f"\nPolicy violations ({len(violations)})", style="bold underline"))
        for d in violations:
            parts += ["", *_violation(d, result)]
    if result.exempted:
        title = f"\nExempted by the policy config ({len(result.exempted)})"
        parts.append(Text(title, style="bold underline"))
        for finding in result.exempted:
            parts += ["", *_exempted(finding, result)]
    if report.notes:
        parts.append(
            Text(f"\nSkipped: unknown values ({len(report.notes)})", style="bold underline")
        )
        for d in report.notes:
            parts += ["", text((d.policy, "bold")), _field("resource", _resource(d, result))]
            parts.append(_field("note", d.message))
    return [Text("") if p == "" else p for p in parts]


def render(console: Console, result: PreviewResult, *, violations_only: bool = False) -> None:
    """The findings first; then, unless `violations_only`, the plan (stacks read, the
    resource tree, counts by type, outputs) and the policy summary again at the end."""
    for line in findings(result):
        console.print(line, soft_wrap=isinstance(line, Whole))
    if violations_only:
        return
    run = result.run
    console.print()
    for name in sorted(run.references):
        console.print(text("reads stack ", (name, "bold"), " (ran offline first)"))
    console.print(resource_tree(run))
    console.print(type_table(run))
    console.print(outputs_table(run))
    console.print(plan_summary(run))
    console.print(policy_summary(result))
    for other in result.built_on_by:
        console.print(
            text("stack ", (other, "bold"), f" builds on this one: ballast preview {other}")
        )


# --- Markdown ---------------------------------------------------------------------------


def _cell(value: str) -> str:
    """Text for a Markdown table cell: no HTML, no column breaks, no line breaks."""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def _code(value: str, *, cell: bool = False) -> str:
    """`value` as a code span, whatever backticks it holds (CommonMark: a longer fence);
    `cell`: inside a table, where `|` must be escaped even in code."""
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    shown = value.replace("|", "\\|") if cell else value
    return f"{fence}{pad}{shown}{pad}{fence}"


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def markdown(result: PreviewResult) -> str:
    """A pull-request comment: the verdict, violations (with the URN and the exemption
    snippet of each in a collapsed section), exempted findings with their reasons,
    exemptions that match nothing, and the plan's counts."""
    run, report = result.run, result.policy
    lines = [f"### Ballast preview: stack {_code(run.stack)}", ""]
    summary = run.summary()
    plan = (
        f"{_count(summary['resources'], 'resource')} to create in "
        f"{_count(summary['components'], 'component')}; {summary['protected']} protected."
    )
    if report is None:
        lines += ["**Policies were not evaluated** (the project has no policy pack).", "", plan]
        return "\n".join(lines) + "\n"
    mandatory = len(report.mandatory)
    advisory = len(report.violations) - mandatory
    config = _code(report.config_source) if report.config_source else "none (the pack defaults)"
    verdict = "**blocked**" if mandatory else "**passes**"
    lines += [
        f"{verdict}: **{mandatory} mandatory**, {advisory} advisory, "
        f"{len(report.exempted)} exempted (pack {_code(report.pack.name)}, "
        f"{report.enabled_policies} policies enabled, config {config}). {plan}",
        "",
    ]
    violations = result.violations
    if violations:
        lines += [f"#### Violations ({len(violations)})", ""]
        lines += _table(
            ("level", "policy", "resource", "problem", "fix"),
            (
                (
                    f"**{d.level}**" if d.level == "mandatory" else d.level,
                    _code(d.policy, cell=True),
                    _cell(_resource(d, result)),
                    _cell(d.message),
                    _cell(result.remediation(d.policy)),
                )
                for d in violations
            ),
        )
        lines += ["", "<details><summary>URNs and exemption snippets</summary>", ""]
        for d in violations:
            document = result.violation_json(d)
            lines.append(f"- {_code(d.policy)} on {_code(d.urn or '(the stack)')}")
            if document["exemption"]:
                snippet = json.dumps(document["exemption"], indent=2, ensure_ascii=False)
                lines += ["", "  ```json", *("  " + s for s in snippet.splitlines()), "  ```", ""]
        lines += ["</details>", ""]
    if result.exempted:
        lines += [f"#### Exempted ({len(result.exempted)})", ""]
        lines += _table(
            ("policy", "resource", "exemption", "reason"),
            (
                (
                    _code(f.diagnostic.policy, cell=True),
                    _cell(_resource(f.diagnostic, result)),
                    _code(f.exemption.where, cell=True) if f.exemption else "",
                    _cell(f.exemption.reason) if f.exemption else "",
                )
                for f in result.exempted
            ),
        )
        lines.append("")
    if report.unmatched_exemptions:
        shared = (
            " (the file is shared with the environment's other stacks)"
            if report.config_shared
            else ""
        )
        lines += [f"#### Exemptions that match nothing in this stack{shared}", ""]
        lines += [f"- {_code(e.where)}: {_code(e.selector)}" for e in report.unmatched_exemptions]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
