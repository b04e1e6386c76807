"""Reviewed approvals of gate findings, and where each kind is written.

- `passrole-added`: an entry in `exemptions` of the pack's `iam-passrole-requires-approval`
  in the stack's policy config (`policy-pack/config/<stack>.json`, else
  `<environment>.json`): the same reviewed entry that lets the pack accept the grant.
- every other rule: an entry in the stack's gate config, `policy-pack/gate/<stack>.json`
  (else `<environment>.json`), written like a policy config:
  `{"<rule>": {"exemptions": [{"type", "name", "reason"}]}}`.

Entries name a resource by type and logical name (or URN) with the `{project}` and
`{stack}` placeholders of `ballast.policy.exemptions`, whose parser and matching rules
they share. A gate config with an unknown rule or key is refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ballast.gate.rules import PASSROLE, RULES
from ballast.policy.config import PolicyConfigError, load_policy_config
from ballast.policy.evaluate import config_file_of
from ballast.policy.exemptions import (
    EXEMPTIONS_KEY,
    Exemption,
    ExemptionError,
    parse_exemptions,
)

PASSROLE_POLICY = "iam-passrole-requires-approval"
GATE_DIR = "gate"


class ApprovalError(ValueError):
    """A gate or policy config that cannot be used; one sentence naming it."""


@dataclass(frozen=True)
class Approvals:
    """The approvals that apply to one stack, and the files they come from."""

    by_rule: Mapping[str, list[Exemption]] = field(default_factory=dict)
    gate_file: Path | None = None
    """Where the gate config is (or would be) read from."""
    policy_file: Path | None = None

    def match(self, rule: str, urn: str) -> Exemption | None:
        return next((e for e in self.by_rule.get(rule, []) if e.matches(urn)), None)

    def file_for(self, rule: str) -> Path | None:
        return self.policy_file if rule == PASSROLE else self.gate_file

    def key_for(self, rule: str) -> str:
        """Where in that file the entry goes: `<key>.exemptions`."""
        return PASSROLE_POLICY if rule == PASSROLE else rule


def gate_file_of(pack_dir: Path, stack: str, environment: str | None) -> Path:
    """`<pack>/gate/<stack>.json`, else `<environment>.json` when that exists."""
    own = pack_dir / GATE_DIR / f"{stack}.json"
    if own.is_file() or not environment:
        return own
    shared = pack_dir / GATE_DIR / f"{environment}.json"
    return shared if shared.is_file() else own


def _label(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _read_gate(path: Path, label: str) -> dict[str, list[Exemption]]:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8") or "{}")
    except OSError as exc:
        raise ApprovalError(f"cannot read {label}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ApprovalError(f"{label} is not valid JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise ApprovalError(f"{label} must be a JSON object of gate rules")
    gated = sorted(set(RULES) - {PASSROLE})
    found: dict[str, list[Exemption]] = {}
    for rule, value in data.items():
        if rule == PASSROLE:
            raise ApprovalError(
                f"{label}: {rule} is approved in the policy config, as an exemption of "
                f"{PASSROLE_POLICY}"
            )
        if rule not in gated:
            raise ApprovalError(
                f"{label}: unknown gate rule {rule!r}; use one of {', '.join(gated)}"
            )
        if not isinstance(value, Mapping) or set(value) != {EXEMPTIONS_KEY}:
            raise ApprovalError(
                f'{label}: {rule} must be {{"{EXEMPTIONS_KEY}": [...]}}, got {json.dumps(value)}'
            )
        try:
            found[rule] = parse_exemptions(rule, value[EXEMPTIONS_KEY], label)
        except ExemptionError as exc:
            raise ApprovalError(str(exc)) from None
    return found


def load_approvals(project_dir: Path, stack: str, environment: str | None) -> Approvals:
    """The approvals of `stack` from the project's `policy-pack/` (missing files: none)."""
    pack_dir = project_dir / "policy-pack"
    gate_file = gate_file_of(pack_dir, stack, environment)
    by_rule: dict[str, list[Exemption]] = {}
    if gate_file.is_file():
        by_rule.update(_read_gate(gate_file, _label(gate_file, project_dir)))
    policy_file = config_file_of(pack_dir, stack, environment)
    if policy_file.is_file():
        label = _label(policy_file, project_dir)
        try:
            entries = load_policy_config(policy_file, label=label)
            entry = entries.get(PASSROLE_POLICY)
            raw = entry.properties.get(EXEMPTIONS_KEY, []) if entry is not None else []
            by_rule[PASSROLE] = parse_exemptions(PASSROLE_POLICY, raw, label)
        except (PolicyConfigError, ExemptionError) as exc:
            raise ApprovalError(str(exc)) from None
    return Approvals(by_rule=by_rule, gate_file=gate_file, policy_file=policy_file)
