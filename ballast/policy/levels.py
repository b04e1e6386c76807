"""The enforcement levels in `policy-pack/config/<env>.json`, generated from the pack.

Every policy declares a profile (`ballast_guardrails/spec.py`: security, hygiene or
production-only) that fixes its level in each environment. The generator writes that
level into each policy's entry of each environment's file and keeps everything else as
it is: settings and exemptions are hand-edited, reviewed changes. The file stays in the
CLI's `--policy-pack-config` format; an entry is a bare level until it has a setting,
then an object whose `enforcementLevel` comes first::

    "iam-no-admin-wildcard": "mandatory",
    "iam-no-wildcard-actions": {"enforcementLevel": "mandatory", "exemptions": {...}}

Every policy gets its own entry, in the pack's order, so the `all` key is dropped. A
bare level for a policy the pack no longer has is dropped too; an entry with settings
for one is an error (the settings would be lost silently). A test regenerates each file
in memory and fails when it differs: a level edited by hand, or a profile changed
without regenerating. Regenerate (with the README table) with::

    .venv/bin/python -m ballast.policy.docs
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path

from ballast.files import write_text_atomically
from ballast.policy.config import ALL, PolicyConfigError, parse_policy_config
from ballast.policy.evaluate import config_file_of
from ballast.policy.harness import PolicyPackError, pack_python

LEVEL_KEY = "enforcementLevel"

# Run inside the pack's own interpreter and directory, as the CLI runs the pack: the
# toolkit never imports the pack (nor the pack the toolkit).
_ASK_PACK = (
    "import json, ballast_guardrails\n"
    "from ballast_guardrails.contract import ENVIRONMENTS\n"
    "from ballast_guardrails.spec import levels\n"
    "print(json.dumps({env: levels(env) for env in ENVIRONMENTS}))\n"
)


def profile_levels(pack_dir: Path) -> dict[str, dict[str, str]]:
    """Environment -> policy name -> level, as the pack's profiles say (pack order)."""
    try:
        done = subprocess.run(
            [pack_python(pack_dir), "-c", _ASK_PACK],
            cwd=pack_dir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PolicyPackError(f"the policy pack in {pack_dir} did not list its levels") from None
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:]) or "(no output)"
        raise PolicyPackError(f"the policy pack in {pack_dir} cannot list its levels: {tail}")
    return json.loads(done.stdout)


def render_config(text: str, levels: Mapping[str, str], source: str = "policy config") -> str:
    """The config file `text` with every policy's level set from `levels` (policy name ->
    level) and its settings kept. Raises `PolicyConfigError` for an unusable file or
    settings on a policy the pack does not have."""
    data = json.loads(text) if text.strip() else {}
    entries = parse_policy_config(data, source)  # validates the shape and the levels
    orphans = sorted(
        name
        for name, entry in entries.items()
        if name != ALL and name not in levels and entry.properties
    )
    if orphans:
        raise PolicyConfigError(
            f"{source}: settings for policies the pack does not have: {', '.join(orphans)}; "
            "rename or remove those entries"
        )
    result: dict[str, object] = {}
    for name, level in levels.items():
        entry = entries.get(name)
        properties = entry.properties if entry else {}
        result[name] = {LEVEL_KEY: level, **properties} if properties else level
    return json.dumps(result, indent=2, ensure_ascii=False) + "\n"


def write_configs(pack_dir: Path) -> list[Path]:
    """Regenerate the levels of every environment's config file (atomically, only the
    files that change); returns the files written."""
    written = []
    for env, levels in profile_levels(pack_dir).items():
        path = config_file_of(pack_dir, env)
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        new = render_config(text, levels, source=str(path))
        if new == text:
            continue
        write_text_atomically(path, new)
        written.append(path)
    return written
