"""`ballast preview`: run one stack offline and show what `pulumi up` would create.

This is a from-scratch plan (every resource is a create), not a diff against deployed
state: the offline engine has no state and no cloud to read. Use `pulumi preview` for the
diff, and `ballast drift` to compare the cloud with the last deployment.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from ballast.offline import ProgramRun, load_stack_config, run_stack
from ballast.offline.stack_config import load_project


@dataclass
class PreviewResult:
    run: ProgramRun

    def to_json(self) -> dict[str, Any]:
        return self.run.to_json()


def preview_stack(project_dir: str | Path, stack: str) -> PreviewResult:
    """Run `stack` of the project in `project_dir` offline.

    Raises `ProjectError`/`StackNotFound` for a missing project or stack and
    `ProgramError` when the program (including its config validation) fails.
    """
    project = load_project(project_dir)
    stack_config = load_stack_config(project, stack)
    return PreviewResult(run=run_stack(stack_config))


# --- rendering -------------------------------------------------------------------------


def _label(record) -> str:
    kind = record.type
    if record.is_provider:
        return f"[magenta]{record.name}[/] [dim]provider {record.package}[/]"
    if not record.custom:
        return f"[bold]{record.name}[/] [dim]{kind}[/]"
    flags = " [yellow]protected[/]" if record.protect else ""
    return f"[green]+[/] {record.name} [dim]{kind}[/]{flags}"


def resource_tree(run: ProgramRun) -> Tree:
    by_parent: dict[str | None, list] = {}
    for record in run.resources:
        by_parent.setdefault(record.parent, []).append(record)
    roots = by_parent.get(None, [])
    tree = Tree(f"[bold]stack {run.stack}[/] [dim](offline plan: every resource is a create)[/]")

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
    table.add_column("type")
    table.add_column("count", justify="right")
    counts = Counter(r.type for r in run.resources if r.custom and not r.is_provider)
    for kind, count in sorted(counts.items()):
        table.add_row(kind, str(count))
    return table


def outputs_table(run: ProgramRun) -> Table:
    table = Table(title="Stack outputs", title_justify="left")
    table.add_column("output")
    table.add_column("value", overflow="fold")
    for key, value in sorted(run.outputs.items()):
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        table.add_row(key, shown)
    return table


def render(console: Console, result: PreviewResult) -> None:
    run = result.run
    console.print(resource_tree(run))
    console.print(type_table(run))
    console.print(outputs_table(run))
    summary = run.summary()
    console.print(
        f"[bold]{summary['resources']}[/] resources to create in "
        f"[bold]{summary['components']}[/] components with "
        f"[bold]{summary['providers']}[/] explicit providers; "
        f"{summary['protected']} protected."
    )
