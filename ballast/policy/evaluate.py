"""Evaluate an offline run against the policy pack with a stack's policy config: what
`ballast preview` shows and the shipped-stack tests assert on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from ballast.offline import ProgramRun
from ballast.policy.config import ConfigEntry, PolicyConfig, load_policy_config
from ballast.policy.exemptions import (
    EXEMPTIONS_KEY,
    ExemptedFinding,
    Exemption,
    exemptions_of,
    first_match,
    unmatched,
)
from ballast.policy.harness import (
    AnalyzerInput,
    Diagnostic,
    PolicyPackProcess,
    PolicyReport,
)
from ballast.policy.inputs import analyzer_inputs

PACK_DIRNAME = "policy-pack"


def pack_dir_of(project_dir: str | Path) -> Path:
    """The project's policy pack: `<project>/policy-pack`."""
    return Path(project_dir) / PACK_DIRNAME


def config_file_of(pack_dir: str | Path, stack: str, environment: str | None = None) -> Path:
    """Where a stack's policy config lives: `<pack>/config/<stack>.json`; when that file
    does not exist and `environment` is given, `<pack>/config/<environment>.json` if it
    exists (a cluster stack `dev-cluster` of environment `dev` is held to `dev.json`).
    The result may not exist: the stack then gets the pack's defaults."""
    config_dir = Path(pack_dir) / "config"
    own = config_dir / f"{stack}.json"
    if own.is_file() or not _plain_name(environment):
        return own
    shared = config_dir / f"{environment}.json"
    return shared if shared.is_file() else own


def _plain_name(environment: object) -> bool:
    """Whether a run's `environment` output can name a config file (a plain name, not a
    path, not a secret)."""
    return (
        isinstance(environment, str)
        and bool(environment)
        and environment == Path(environment).name
        and environment not in {".", ".."}
        and not environment.startswith("[")
    )


def evaluate_run(
    run: ProgramRun,
    pack_dir: str | Path,
    *,
    config_file: str | Path | None,
    config_label: str | None = None,
    stack_config: Mapping[str, str] | None = None,
    start_timeout: float = 30.0,
    call_timeout: float = 60.0,
    pack: PolicyPackProcess | None = None,
) -> PolicyReport:
    """Start the pack, configure it from `config_file` (None: the pack's defaults;
    `config_label`, default the path, is how messages and the report name it),
    `Analyze` every resource of `run`, `AnalyzeStack` once, and stop the pack.
    `pack`, when given, is a pack process the caller already spawned for `run`'s
    project and stack (to overlap its start-up with the program run); it is closed here.

    When the config has exemptions, the resources they name are analyzed a second time
    with the exemptions withdrawn: what the pack reports then and not before is what the
    exemptions excused (`PolicyReport.exempted`, each with its entry and reason). The
    pack stays the judge of what is excused; this only makes it visible.

    Raises `PolicyConfigError` for an unusable config file and `PolicyPackError` when
    the pack cannot start or fails while analyzing.
    """
    inputs = analyzer_inputs(run)
    if pack is None:
        pack = PolicyPackProcess(
            pack_dir,
            project=run.project,
            stack=run.stack,
            config=stack_config,
            start_timeout=start_timeout,
            call_timeout=call_timeout,
        )
    with pack:  # closes the pack however this ends
        entries = (
            load_policy_config(config_file, label=config_label) if config_file is not None else None
        )
        label = (config_label or str(config_file)) if config_file is not None else None
        source = label or "the pack defaults"
        effective = pack.configure(entries, source=source)
        diagnostics = pack.evaluate(inputs)
        exemptions = exemptions_of(effective, source)
        exempted = (
            _exempted(pack, entries or {}, effective, inputs, diagnostics, exemptions, source)
            if exemptions
            else []
        )
        return PolicyReport(
            pack=pack.info,
            config=effective,
            diagnostics=diagnostics,
            config_source=label,
            exempted=exempted,
            unmatched_exemptions=unmatched(exemptions, [i.urn for i in inputs]),
        )


def _exempted(
    pack: PolicyPackProcess,
    entries: Mapping[str, ConfigEntry],
    effective: Mapping[str, PolicyConfig],
    inputs: list[AnalyzerInput],
    reported: list[Diagnostic],
    exemptions: list[Exemption],
    source: str,
) -> list[ExemptedFinding]:
    """What `exemptions` excused: the named resources analyzed again (the whole stack
    when a stack policy has exemptions) with every exemption withdrawn, minus what the
    pack reported with them."""
    policies = {e.policy for e in exemptions}
    withdrawn = dict(entries)
    for name in policies:
        current = entries.get(name)
        withdrawn[name] = ConfigEntry(
            current.level if current else None,
            {**(current.properties if current else {}), EXEMPTIONS_KEY: []},
        )
    pack.configure(withdrawn, source=f"{source} without its exemptions")
    named = [i for i in inputs if any(e.matches(i.urn) for e in exemptions)]
    again = pack.analyze_many(named)
    kinds = pack.info.policies
    if any(kinds[name].kind == "stack" for name in policies if name in kinds):
        again += pack.analyze_stack(inputs)
    seen = Counter((d.policy, d.urn, d.message) for d in reported)
    found = []
    for d in again:
        key = (d.policy, d.urn, d.message)
        if seen[key]:
            seen[key] -= 1
            continue
        if d.policy not in policies or d.skipped or effective[d.policy].level == "disabled":
            continue
        mine = [e for e in exemptions if e.policy == d.policy]
        found.append(ExemptedFinding(d, first_match(mine, d.urn)))
    return found
