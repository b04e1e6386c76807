"""The GitHub workflows read as data: every job, with a call of the reusable
`pulumi-stack.yml` resolved to what the called job does (its environment, role, stack,
mode and runner), and every matrix row expanded."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONS = ROOT / ".github" / "actions"
REUSABLE = "./.github/workflows/pulumi-stack.yml"
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as the boolean true.
    if True in data:
        data["on"] = data.pop(True)
    return data


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def action_files() -> list[Path]:
    return sorted(ACTIONS.rglob("action.yml")) + sorted(ACTIONS.rglob("action.yaml"))


def all_uses() -> list[tuple[str, str]]:
    """(file, uses) of every step and every job that calls something."""
    found = []
    for path in workflow_files() + action_files():
        data = load(path)
        name = str(path.relative_to(ROOT))
        for job in (data.get("jobs") or {}).values():
            if "uses" in job:
                found.append((name, job["uses"]))
            for step in job.get("steps") or []:
                if "uses" in step:
                    found.append((name, step["uses"]))
        for step in (data.get("runs") or {}).get("steps") or []:
            if "uses" in step:
                found.append((name, step["uses"]))
    return found


def _rows(job: dict[str, Any]) -> list[dict[str, Any]]:
    matrix = (job.get("strategy") or {}).get("matrix")
    if not matrix:
        return [{}]
    assert set(matrix) <= {"include"}, "matrices here list their rows under include"
    return list(matrix["include"])


def _fill(value: Any, row: dict[str, Any]) -> Any:
    """`${{ matrix.x }}` replaced by the row's value (only a whole-value expression)."""
    if isinstance(value, str):
        match = re.fullmatch(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}", value)
        if match:
            return row[match.group(1)]
    return value


@dataclass
class StackJob:
    """A job that runs Pulumi for one stack under one CI role."""

    workflow: str
    job: str
    stack: str
    environment: str
    role: str  # plan or apply
    mode: str
    policy_config: str | None
    in_vpc: bool
    needs: list[str] = field(default_factory=list)


def _role_of(role_to_assume: str) -> str:
    """plan, apply, or push (an image push role of the registry)."""
    if "REGISTRY_PUSH_ROLE_ARNS" in role_to_assume:
        return "push"
    if "CI_APPLY_ROLE_ARN" in role_to_assume and "CI_PLAN_ROLE_ARN" not in role_to_assume:
        return "apply"
    if "CI_PLAN_ROLE_ARN" in role_to_assume and "CI_APPLY_ROLE_ARN" not in role_to_assume:
        return "plan"
    raise AssertionError(f"cannot tell the role of {role_to_assume!r}")


def stack_jobs(path: Path) -> list[StackJob]:
    """Every (job, matrix row) of a workflow that assumes a CI role, directly or through
    the reusable workflow."""
    data = load(path)
    if set(data["on"]) == {"workflow_call"}:
        return []  # the reusable workflow: read through its callers
    found = []
    for name, job in (data.get("jobs") or {}).items():
        needs = job.get("needs") or []
        needs = [needs] if isinstance(needs, str) else list(needs)
        for row in _rows(job):
            if job.get("uses") == REUSABLE:
                inputs = {k: _fill(v, row) for k, v in (job.get("with") or {}).items()}
                found.append(
                    StackJob(
                        workflow=path.name,
                        job=name,
                        stack=inputs["stack"],
                        environment=inputs["environment"],
                        role=inputs["role"],
                        mode=inputs["mode"],
                        policy_config=inputs["policy-config"],
                        in_vpc=bool(inputs.get("runner-label")),
                        needs=needs,
                    )
                )
                continue
            steps = job.get("steps") or []
            assume = [s for s in steps if str(s.get("uses", "")).startswith(CREDENTIALS)]
            if not assume:
                continue
            env = job.get("env") or {}
            role = _role_of(assume[0]["with"]["role-to-assume"])
            if role == "push":
                continue  # an image job: tests/delivery/test_image.py
            found.append(
                StackJob(
                    workflow=path.name,
                    job=name,
                    stack=_fill(env.get("STACK"), row),
                    environment=_fill(job.get("environment"), row),
                    role=role,
                    mode="drift" if "drift" in path.name else "other",
                    policy_config=None,
                    in_vpc="ubuntu" not in str(job.get("runs-on")),
                    needs=needs,
                )
            )
    return found


CREDENTIALS = "aws-actions/configure-aws-credentials@"


def expressions(text: str) -> list[str]:
    return _EXPR.findall(text)
