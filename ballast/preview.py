"""`ballast preview`: run one stack offline, show what `pulumi up` would create, and
evaluate the policy pack on it.

This is a from-scratch plan (every resource is a create), not a diff against deployed
state: the offline engine has no state and no cloud to read. Use `pulumi preview` for the
diff against the last deployment, and `pulumi refresh --preview-only` to compare the
cloud with it.

The guardrails are the same pack CI runs (`pulumi preview --policy-pack policy-pack
--policy-pack-config policy-pack/config/<stack>.json`), started and driven over gRPC as
the CLI does (`ballast.policy`). A stack without a config file of its own uses its
environment's (`<environment>.json`, from the stack's `environment` output: a cluster
stack is held to its platform stack's levels); a stack with neither is evaluated with the
pack's default levels, and the report says so.

A stack that reads other stacks (`pulumi.StackReference`, e.g. `dev-cluster` reading
`dev`) gets them run offline first; the plan lists them under `references`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from ballast.offline import ProgramRun, StackNotFound, list_stacks, load_stack_config, run_stack
from ballast.offline.stack_config import Project, ProjectError, load_project
from ballast.policy.evaluate import config_file_of, evaluate_run, pack_dir_of
from ballast.policy.harness import Diagnostic, PolicyPackProcess, PolicyReport


@dataclass
class PreviewResult:
    run: ProgramRun
    policy: PolicyReport | None = None
    """The policy pack's findings (None when not asked for or the project has no pack)."""
    missing_pack: Path | None = None
    """Where the pack was looked for, when the project has none."""
    built_on_by: tuple[str, ...] = ()
    """Stacks of the project that name this one as their platform stack (its cluster
    layer, `ballast:platformStack`): previewed on their own."""

    @property
    def mandatory_violations(self) -> list[Diagnostic]:
        return self.policy.mandatory if self.policy else []

    def to_json(self) -> dict[str, Any]:
        document = self.run.to_json()
        document["builtOnBy"] = list(self.built_on_by)
        if self.policy is None and self.missing_pack is not None:
            document.update(violations=[], policies=0, policyConfig=None, notes=[])
        if self.policy is not None:
            document["violations"] = [
                {"policy": v.policy, "level": v.level, "urn": v.urn, "message": v.message}
                for v in self.policy.violations
            ]
            document["policies"] = self.policy.enabled_policies
            document["policyConfig"] = self.policy.config_source
            document["notes"] = [
                {"policy": n.policy, "urn": n.urn, "message": n.message} for n in self.policy.notes
            ]
        return document


def preview_stack(project_dir: str | Path, stack: str, *, policies: bool = True) -> PreviewResult:
    """Run `stack` of the project in `project_dir` offline (after the stacks it references)
    and, unless `policies` is False, evaluate `<project>/policy-pack` with
    `policy-pack/config/<stack>.json`, else `<environment>.json` for the run's
    `environment` output, else the pack defaults.

    Raises `ProjectError`/`StackNotFound` for a missing project or stack,
    `ProgramError` when the program (including its config validation) fails, its
    subclass `StackReferenceError` when a referenced stack cannot be run or read,
    `PolicyConfigError` for an unusable policy config and `PolicyPackError` when the
    pack fails. A project without `policy-pack/` is previewed without guardrails
    (`missing_pack` says where the pack was looked for).
    """
    project = load_project(project_dir)
    stack_config = load_stack_config(project, stack)
    pack_dir = pack_dir_of(project.directory)
    has_pack = policies and (pack_dir / "PulumiPolicy.yaml").is_file()
    # The pack starts in its own process while the program runs here: on two cores the
    # two start-ups overlap instead of adding up.
    pack = (
        PolicyPackProcess(
            pack_dir, project=project.name, stack=stack, config=stack_config.config
        ).spawn()
        if has_pack
        else None
    )
    try:
        # Reference-aware: stacks this one reads run first, each once.
        run = run_stack(stack_config)
    except BaseException:
        if pack is not None:
            pack.close()
        raise
    built_on_by = stacks_built_on(project, stack)
    if not policies:
        return PreviewResult(run=run, built_on_by=built_on_by)
    if pack is None:
        # A project without a pack (a bare fork, a test copy) still previews; the CLI
        # says loudly that no guardrails ran.
        return PreviewResult(run=run, missing_pack=pack_dir, built_on_by=built_on_by)
    config_file = config_file_of(pack_dir, stack, run.outputs.get("environment"))
    report = evaluate_run(
        run,
        pack_dir,
        config_file=config_file if config_file.is_file() else None,
        config_label=str(config_file.relative_to(project.directory)),
        stack_config=stack_config.config,
        pack=pack,
    )
    report.config_shared = config_file.is_file() and config_file.stem != stack
    return PreviewResult(run=run, policy=report, built_on_by=built_on_by)


#: The key a cluster stack names its platform stack with (docs/layers.md).
PLATFORM_STACK_KEY = "ballast:platformStack"


def stacks_built_on(project: Project, stack: str) -> tuple[str, ...]:
    """The project's stacks whose `ballast:platformStack` is `stack`; a stack file that
    cannot be read is skipped (previewing that stack reports it)."""
    found = []
    for other in list_stacks(project):
        if other == stack:
            continue
        try:
            config = load_stack_config(project, other).config
        except (ProjectError, StackNotFound):
            continue
        if config.get(PLATFORM_STACK_KEY) == stack:
            found.append(other)
    return tuple(found)


# --- rendering -------------------------------------------------------------------------


def _label(record) -> str:
    kind = record.type
    if record.is_provider:
        return f"[magenta]{record.name}[/] [dim]provider {record.package}[/]"
    if not record.custom:
        return f"[bold]{record.name}[/] [dim]{kind}[/]"
    if record.read:
        return f"[cyan]>[/] {record.name} [dim]{kind} (read, nothing to create)[/]"
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
    counts = Counter(r.type for r in run.resources if r.custom and not r.is_provider and not r.read)
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


_LEVEL_STYLE = {"mandatory": "bold red", "advisory": "yellow", "remediate": "magenta"}


def violations_table(result: PreviewResult) -> Table | None:
    """One section per resource: policy, level, message and the remediation."""
    report = result.policy
    if report is None or not report.diagnostics:
        return None
    records = result.run.by_urn()
    order = {r.urn: i for i, r in enumerate(result.run.resources)}
    table = Table(title="Policy violations", title_justify="left", show_lines=False)
    table.add_column("resource", overflow="fold")
    table.add_column("policy")
    table.add_column("level")
    table.add_column("message", overflow="fold")
    table.add_column("remediation", overflow="fold", style="dim")
    by_resource: dict[str, list[Diagnostic]] = {}
    for diagnostic in report.violations + report.notes:
        by_resource.setdefault(diagnostic.urn, []).append(diagnostic)
    for urn in sorted(by_resource, key=lambda u: (u not in order, order.get(u, 0), u)):
        record = records.get(urn)
        label = f"{record.name}\n[dim]{record.type}[/]" if record else (urn or "(the stack)")
        for index, d in enumerate(by_resource[urn]):
            level = "note" if d.skipped else d.level
            style = "dim" if d.skipped else _LEVEL_STYLE.get(d.level, "")
            info = report.pack.policies.get(d.policy)
            table.add_row(
                label if index == 0 else "",
                d.policy,
                f"[{style}]{level}[/]" if style else level,
                d.message,
                info.remediation if info and not d.skipped else "",
            )
        table.add_section()
    return table


def policy_summary(result: PreviewResult) -> str:
    report = result.policy
    if report is None:
        where = f" (no {result.missing_pack}/PulumiPolicy.yaml)" if result.missing_pack else ""
        return f"[yellow]Policies: not evaluated{where}.[/]"
    source = (
        report.config_source
        if report.config_source
        else f"no policy config for stack {result.run.stack}: the pack defaults"
    )
    mandatory = len(report.mandatory)
    advisory = len(report.violations) - mandatory
    colour = "red" if mandatory else "green"
    notes = f"; {len(report.notes)} skipped (unknown values)" if report.notes else ""
    return (
        f"Policy pack [bold]{report.pack.name}[/] ({report.enabled_policies} policies, "
        f"config: {source}): [{colour}]{mandatory} mandatory[/], {advisory} advisory "
        f"violations{notes}."
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def render(console: Console, result: PreviewResult) -> None:
    run = result.run
    for name in sorted(run.references):
        console.print(f"reads stack [bold]{name}[/] (ran offline first)")
    console.print(resource_tree(run))
    console.print(type_table(run))
    console.print(outputs_table(run))
    summary = run.summary()
    console.print(
        f"[bold]{_count(summary['resources'], 'resource')}[/] to create in "
        f"[bold]{_count(summary['components'], 'component')}[/] with "
        f"[bold]{_count(summary['providers'], 'explicit provider')}[/]; "
        f"{summary['protected']} protected."
    )
    table = violations_table(result)
    if table is not None:
        console.print(table)
    console.print(policy_summary(result))
    for other in result.built_on_by:
        console.print(f"stack [bold]{other}[/] builds on this one: ballast preview {other}")
