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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ballast.networks import require_distinct_networks
from ballast.offline import ProgramRun, StackNotFound, list_stacks, load_stack_config, run_stack
from ballast.offline.stack_config import Project, ProjectError, load_project
from ballast.policy.evaluate import config_file_of, evaluate_run, pack_dir_of
from ballast.policy.exemptions import ExemptedFinding, snippet, urn_parts
from ballast.policy.harness import Diagnostic, PolicyPackProcess, PolicyReport

#: The version of the JSON document `ballast preview --json` prints (docs/preview-json.md).
#: Bumped when a field is removed or changes meaning; new fields do not bump it.
SCHEMA_VERSION = 1


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
    warnings: tuple[str, ...] = ()
    """Problems that do not stop a deployment, one sentence each (a VPC block that
    overlaps another account's stack: `ballast.networks`)."""
    stack_file: str | None = None
    """The stack's config file, relative to the project (`stacks/Pulumi.<stack>.yaml`)."""

    @property
    def mandatory_violations(self) -> list[Diagnostic]:
        return self.policy.mandatory if self.policy else []

    @property
    def violations(self) -> list[Diagnostic]:
        """Mandatory first, then advisory (and remediate), each in resource order."""
        if self.policy is None:
            return []
        order = {r.urn: i for i, r in enumerate(self.run.resources)}
        rank = {"mandatory": 0, "advisory": 1}
        return sorted(
            self.policy.violations,
            key=lambda d: (rank.get(d.level, 2), order.get(d.urn, len(order)), d.policy),
        )

    @property
    def exempted(self) -> list[ExemptedFinding]:
        return self.policy.exempted if self.policy else []

    def remediation(self, policy: str) -> str:
        info = self.policy.pack.policies.get(policy) if self.policy else None
        return info.remediation if info else ""

    def violation_json(self, d: Diagnostic) -> dict[str, Any]:
        _, _, kind, name = urn_parts(d.urn) if d.urn else ("", "", "", "")
        return {
            "policy": d.policy,
            "level": d.level,
            "severity": d.severity,
            "urn": d.urn or None,
            "type": kind or None,
            "name": name or None,
            "message": d.message,
            "remediation": self.remediation(d.policy),
            "exemption": snippet(d.urn) or None,
        }

    def exempted_json(self, finding: ExemptedFinding) -> dict[str, Any]:
        document = self.violation_json(finding.diagnostic)
        del document["exemption"]
        entry = finding.exemption
        document["reason"] = entry.reason if entry else None
        document["exemption"] = (
            {"entry": entry.where, **entry.to_json()} if entry is not None else None
        )
        return document

    def to_json(self) -> dict[str, Any]:
        """The document `ballast preview --json` prints; the contract is
        docs/preview-json.md (`SCHEMA_VERSION`)."""
        document: dict[str, Any] = {"schemaVersion": SCHEMA_VERSION, **self.run.to_json()}
        document["builtOnBy"] = list(self.built_on_by)
        document["warnings"] = list(self.warnings)
        if self.policy is None:
            document.update(
                violations=[],
                exempted=[],
                unmatchedExemptions=[],
                policies=0,
                policyConfig=None,
                policiesEvaluated=False,
                notes=[],
            )
            return document
        report = self.policy
        document["violations"] = [self.violation_json(v) for v in self.violations]
        document["exempted"] = [self.exempted_json(f) for f in self.exempted]
        document["unmatchedExemptions"] = [
            {"entry": e.where, **e.to_json(), "sharedConfig": report.config_shared}
            for e in report.unmatched_exemptions
        ]
        document["policies"] = report.enabled_policies
        document["policyConfig"] = report.config_source
        document["policiesEvaluated"] = True
        document["notes"] = [
            {"policy": n.policy, "urn": n.urn, "message": n.message} for n in report.notes
        ]
        return document


def preview_stack(project_dir: str | Path, stack: str, *, policies: bool = True) -> PreviewResult:
    """Run `stack` of the project in `project_dir` offline (after the stacks it references)
    and, unless `policies` is False, evaluate `<project>/policy-pack` with
    `policy-pack/config/<stack>.json`, else `<environment>.json` for the run's
    `environment` output, else the pack defaults.

    Before anything runs, the stack's VPC blocks are checked against every other platform
    stack of the project (`ballast.networks`): an overlap within one account raises
    `NetworkOverlapError` (a `ProjectError`), one with another account's stack is a
    warning in the result.

    Raises `ProjectError`/`StackNotFound` for a missing project or stack,
    `ProgramError` when the program (including its config validation) fails, its
    subclass `StackReferenceError` when a referenced stack cannot be run or read,
    `PolicyConfigError` for an unusable policy config and `PolicyPackError` when the
    pack fails. A project without `policy-pack/` is previewed without guardrails
    (`missing_pack` says where the pack was looked for).
    """
    project = load_project(project_dir)
    stack_config = load_stack_config(project, stack)
    warnings = require_distinct_networks(project, stack)
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
    stack_file = stack_config.label
    if not policies:
        return PreviewResult(
            run=run, built_on_by=built_on_by, stack_file=stack_file, warnings=warnings
        )
    if pack is None:
        # A project without a pack (a bare fork, a test copy) still previews; the CLI
        # says loudly that no guardrails ran.
        return PreviewResult(
            run=run,
            missing_pack=pack_dir,
            built_on_by=built_on_by,
            stack_file=stack_file,
            warnings=warnings,
        )
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
    return PreviewResult(
        run=run, policy=report, built_on_by=built_on_by, stack_file=stack_file, warnings=warnings
    )


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
