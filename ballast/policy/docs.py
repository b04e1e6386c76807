"""The generated parts of the policy pack: the levels in `config/<env>.json` and the
policy table of `policy-pack/README.md`, both from the pack itself.

The levels come from each policy's profile (`ballast.policy.levels`). The table (the
number of policies and how many each stack enables, then per policy its ID, scanner
mapping, level per stack and what it checks) is generated from what the pack
reports over the analyzer protocol and from each stack's policy config, so the README
cannot drift from the code; tests compare both. Regenerate both (levels first, the table
reads them) with::

    .venv/bin/python -m ballast.policy.docs
"""

from __future__ import annotations

from pathlib import Path

from ballast.files import write_text_atomically
from ballast.policy.config import load_policy_config
from ballast.policy.evaluate import config_file_of
from ballast.policy.harness import PolicyPackProcess
from ballast.policy.levels import write_configs

PACK_DIR = Path(__file__).resolve().parents[2] / "policy-pack"
README = PACK_DIR / "README.md"
BEGIN, END = "<!-- policy-table:begin -->", "<!-- policy-table:end -->"
STACKS = ("dev", "staging", "prod")


def render_table(pack_dir: Path = PACK_DIR) -> str:
    with PolicyPackProcess(pack_dir) as pack:
        policies = pack.info.policies
        levels = {
            stack: pack.configure(load_policy_config(config_file_of(pack_dir, stack)))
            for stack in STACKS
        }
    enabled = ", ".join(
        f"{stack} {sum(1 for c in levels[stack].values() if c.level != 'disabled')}"
        for stack in STACKS
    )
    lines = [
        f"{len(policies)} policies; enabled (advisory or mandatory) per stack: {enabled}. "
        "`ballast preview` reports the number its stack enables.",
        "",
        "| policy | concern | severity | maps to | default | dev | staging | prod | what it checks |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    # Concerns in the order the pack serves them (its registry lists them by concern).
    concerns = list(dict.fromkeys(p.tags[0] for p in policies.values()))
    ordered = sorted(policies.values(), key=lambda p: (concerns.index(p.tags[0]), p.name))
    for p in ordered:
        refs = ", ".join(p.tags[1:]) or "—"
        kind = " (stack)" if p.kind == "stack" else ""
        per_stack = " | ".join(levels[s][p.name].level for s in STACKS)
        lines.append(
            f"| `{p.name}`{kind} | {p.tags[0]} | {p.severity} | {refs} | {p.level} | "
            f"{per_stack} | {p.description} |"
        )
    return "\n".join(lines)


def updated_readme(text: str, table: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def write(path: Path = README) -> None:
    text = updated_readme(path.read_text(encoding="utf-8"), render_table())
    write_text_atomically(path, text)


if __name__ == "__main__":
    for config in write_configs(PACK_DIR):
        print(f"levels written to {config}")
    write()
    print(f"policy table written to {README}")
