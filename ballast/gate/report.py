"""The gate's result and how it is shown: blocks for a terminal or CI log (`render`),
one JSON document (`GateResult.to_json`) and a pull-request comment (`markdown`).

Every finding names the resource, old -> new, and the reviewed entry that would approve
it: the file, the key (`<rule>.exemptions`) and the entry itself, ready to paste.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from ballast.gate.approvals import Approvals
from ballast.gate.plan import Step
from ballast.gate.rules import RULES, Finding, evaluate
from ballast.output import text
from ballast.policy.exemptions import EXEMPTIONS_KEY, Exemption, snippet
from ballast.preview_render import Whole, _cell, _code, _field, _table

SCHEMA_VERSION = 1
MARKER = "<!-- ballast-gate -->"
"""The first line of every Markdown report: what a workflow looks for to update its
comment instead of adding another."""


@dataclass(frozen=True)
class Approval:
    """Where and what to write to approve one finding."""

    file: str
    key: str
    entry: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "key": self.key, "entry": self.entry}

    def line(self) -> str:
        return f"{self.file}: add to {self.key}: {json.dumps(self.entry, ensure_ascii=False)}"


@dataclass
class GateResult:
    stack: str
    environment: str
    steps: int
    findings: list[tuple[Finding, Approval]] = field(default_factory=list)
    """Unapproved: they fail the gate."""
    approved: list[tuple[Finding, Exemption]] = field(default_factory=list)
    unused: list[Exemption] = field(default_factory=list)
    """Gate-config entries that approved nothing in this plan."""
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "schemaVersion": SCHEMA_VERSION,
            "stack": self.stack,
            "environment": self.environment,
            "passed": self.passed,
            "steps": self.steps,
            "findings": [{**f.to_json(), "approve": a.to_json()} for f, a in self.findings],
            "approved": [
                {**f.to_json(), "approvedBy": {"entry": e.where, **e.to_json()}}
                for f, e in self.approved
            ],
            "unusedApprovals": [{"entry": e.where, **e.to_json()} for e in self.unused],
            "notes": self.notes,
        }


def _relative(path: Path | None, root: Path) -> str:
    if path is None:
        return "?"
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def gate(
    steps: list[Step], *, stack: str, environment: str, approvals: Approvals, project_dir: Path
) -> GateResult:
    """Evaluate the rules over `steps` and sort each finding into approved or not."""
    found, notes = evaluate(steps, environment)
    result = GateResult(stack=stack, environment=environment, steps=len(steps), notes=notes)
    used: set[tuple[str, int]] = set()
    for finding in found:
        entry = approvals.match(finding.rule, finding.urn)
        if entry is not None:
            used.add((entry.policy, entry.index))
            result.approved.append((finding, entry))
            continue
        reason = f"TODO: why {finding.old} -> {finding.new} is acceptable, and the ticket"
        approval = Approval(
            file=_relative(approvals.file_for(finding.rule), project_dir),
            key=f"{approvals.key_for(finding.rule)}.{EXEMPTIONS_KEY}",
            entry=snippet(finding.urn, reason) or {"urn": finding.urn, "reason": reason},
        )
        result.findings.append((finding, approval))
    for rule, entries in approvals.by_rule.items():
        if rule in RULES and approvals.file_for(rule) == approvals.gate_file:
            result.unused += [e for e in entries if (e.policy, e.index) not in used]
    return result


def _summary(result: GateResult) -> str:
    verdict = "passes" if result.passed else "blocked"
    return (
        f"gate {verdict}: stack {result.stack} ({result.environment}), {result.steps} steps, "
        f"{len(result.findings)} to approve, {len(result.approved)} approved"
    )


def render(console: Console, result: GateResult) -> None:
    """One block per finding (resource, URN, old -> new, the entry that approves it),
    then approved findings, unused approvals and notes; the summary last."""
    for finding, approval in result.findings:
        console.print(text(("BLOCKED", "bold red"), " ", (finding.rule, "bold")))
        console.print(_field("resource", f"{finding.name} ({finding.type}), {finding.op}"))
        console.print(_field("urn", finding.urn, whole=True), soft_wrap=True)
        console.print(_field("change", f"{finding.old} -> {finding.new}"))
        console.print(_field("problem", finding.message))
        console.print(_field("approve", approval.line(), whole=True), soft_wrap=True)
        console.print()
    for finding, entry in result.approved:
        console.print(text(("APPROVED", "cyan"), " ", (finding.rule, "bold")))
        console.print(_field("resource", f"{finding.name} ({finding.type})"))
        console.print(_field("change", f"{finding.old} -> {finding.new}"))
        console.print(_field("by", f"{entry.where}: {entry.selector}", whole=True), soft_wrap=True)
        console.print(_field("reason", entry.reason))
        console.print()
    for entry in result.unused:
        line = Whole()
        line.append("unused approval ", style="yellow")
        line.append(f"{entry.where}: {entry.selector} approves nothing in this plan; remove it")
        console.print(line, soft_wrap=True)
    for note in result.notes:
        console.print(text(("note ", "dim"), note), soft_wrap=True)
    style = "bold green" if result.passed else "bold red"
    console.print(Text(_summary(result), style=style))


def markdown(result: GateResult) -> str:
    """The pull-request comment of one stack: the verdict, then a table of findings with
    the entry that approves each, then what is approved and by which reason."""
    verdict = "**passes**" if result.passed else "**blocked**"
    lines = [
        MARKER,
        f"### Ballast gate: stack {_code(result.stack)} ({_cell(result.environment)})",
        "",
        f"{verdict}: {len(result.findings)} change(s) need approval, "
        f"{len(result.approved)} approved, {result.steps} steps read.",
        "",
    ]
    if result.findings:
        lines += _table(
            ("rule", "resource", "change", "approve with"),
            (
                (
                    _code(f.rule, cell=True),
                    _cell(f"{f.name} ({f.type}), {f.op}"),
                    _cell(f"{f.old} -> {f.new}: {f.message}"),
                    f"{_code(a.file, cell=True)} {_code(a.key, cell=True)}: "
                    + _code(json.dumps(a.entry, ensure_ascii=False), cell=True),
                )
                for f, a in result.findings
            ),
        )
        lines.append("")
    if result.approved:
        lines += _table(
            ("approved", "resource", "change", "reason"),
            (
                (
                    _code(f.rule, cell=True),
                    _cell(f"{f.name} ({f.type})"),
                    _cell(f"{f.old} -> {f.new}"),
                    _cell(e.reason),
                )
                for f, e in result.approved
            ),
        )
        lines.append("")
    for entry in result.unused:
        lines.append(f"- unused approval {_code(entry.where)}: approves nothing in this plan")
    for note in result.notes:
        lines.append(f"- note: {_cell(note)}")
    return "\n".join(lines).rstrip() + "\n"
