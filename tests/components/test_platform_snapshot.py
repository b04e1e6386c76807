"""The restructuring guard: every shipped stack's offline plan, both layers, (URNs, types, parents,
providers, resolved inputs, resource options and stack outputs) equals a committed
snapshot in `tests/components/snapshots/<stack>.json`.

A refactor must leave the snapshots untouched. A change that is meant to alter the plan
(a new resource, a renamed component with an alias, a bumped pin, a fork's own stack
values) regenerates them deliberately and commits the diff beside the code:

    BALLAST_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/components/test_platform_snapshot.py

The diff of `tests/components/snapshots/` is then the reviewable account of what the change does to
each environment's plan.

These tests are literal on purpose: they pin the plan of the stacks as shipped, every
region, account and name included. A fork that changes its stack values (the README's
"before the first `up`" checklist, a renamed project) regenerates them once with the
command above and commits the result; from then on they pin the fork's own plan.
tests/toolkit/test_fork.py does exactly that in a copy of the project.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from ballast.offline import ProgramRun
from tests.conftest import CLUSTER_STACKS, SHIPPED_STACKS, stack_run

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"
UPDATE_ENV = "BALLAST_UPDATE_SNAPSHOTS"


def plan_snapshot(run: ProgramRun) -> dict[str, Any]:
    """What the snapshot pins: every registration sorted by URN, and the stack outputs."""
    resources = []
    for record in sorted(run.resources, key=lambda r: r.urn):
        resources.append(
            {
                "urn": record.urn,
                "parent": record.parent,
                "provider": record.provider,
                "inputs": record.inputs,
                "options": {
                    "protect": record.protect,
                    "ignoreChanges": sorted(record.ignore_changes),
                    "dependsOn": sorted(record.depends_on),
                    "deleteBeforeReplace": record.delete_before_replace,
                    "retainOnDelete": record.retain_on_delete,
                    "aliases": sorted(record.aliases),
                    "additionalSecretOutputs": sorted(record.additional_secret_outputs),
                },
            }
        )
    return {"stack": run.stack, "resources": resources, "outputs": run.outputs}


def _render(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, indent=1, sort_keys=True, default=str) + "\n"


@pytest.mark.parametrize("stack", SHIPPED_STACKS + CLUSTER_STACKS)
def test_plan_matches_snapshot(stack: str) -> None:
    path = SNAPSHOT_DIR / f"{stack}.json"
    rendered = _render(plan_snapshot(stack_run(stack)))
    if os.environ.get(UPDATE_ENV) == "1":
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(rendered, encoding="utf-8")
        tmp.replace(path)
    assert path.is_file(), f"{path} is missing; create it with {UPDATE_ENV}=1"
    committed = path.read_text(encoding="utf-8")
    if committed != rendered:
        diff = difflib.unified_diff(
            committed.splitlines(), rendered.splitlines(), "committed", "this run", lineterm=""
        )
        lines = list(diff)
        shown = "\n".join(lines[:80]) + ("\n..." if len(lines) > 80 else "")
        pytest.fail(
            f"the {stack} plan differs from {path.name} ({len(lines)} diff lines); if the "
            f"change is intended (a code change, or a fork's own stack values or project "
            f"name), regenerate with {UPDATE_ENV}=1 python -m pytest "
            f"tests/components/test_platform_snapshot.py and commit the diff\n{shown}"
        )
