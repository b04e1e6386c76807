"""Shared fixtures: the project root, offline runs of the shipped stacks (cached per
session: a run is deterministic), and the external-tool gate."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pulumi
import pytest

from ballast.offline import ProgramRun, load_stack_config, run_stack
from ballast.offline.stack_config import load_project
from components.context import AwsContext
from components.names import PhysicalNames

ROOT = Path(__file__).resolve().parent.parent
#: The shipped platform stacks, one per environment.
SHIPPED_STACKS = ("dev", "staging", "prod")
#: Their cluster layers (docs/layers.md), each reading its platform stack.
CLUSTER_STACKS = tuple(f"{stack}-cluster" for stack in SHIPPED_STACKS)

_RUNS: dict[str, ProgramRun] = {}


def stack_run(stack: str) -> ProgramRun:
    """The offline run of a shipped stack, computed once per test session; a cluster
    stack's platform stack is answered from (and added to) the same cache."""
    if stack not in _RUNS:
        run = run_stack(load_stack_config(load_project(ROOT), stack), references=dict(_RUNS))
        for name, referenced in run.references.items():
            _RUNS.setdefault(name, referenced)
        _RUNS[stack] = run
    return _RUNS[stack]


@pytest.fixture(params=SHIPPED_STACKS)
def shipped(request) -> ProgramRun:
    """Each shipped stack's offline run in turn."""
    return stack_run(request.param)


def require_tool(name: str) -> str:
    """Path of an external tool, or skip; under BALLAST_REQUIRE_TOOLS=1 a missing tool fails."""
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("BALLAST_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{name} is required (BALLAST_REQUIRE_TOOLS=1) but is not on PATH")
    pytest.skip(f"{name} is not installed")


def source_offenders(pattern: str, *, allowed: str) -> list[str]:
    """Modules under `components/` (every subpackage, walked recursively) whose source
    matches `pattern`, except the one module `allowed` (a path relative to components/).

    The guards that keep one way of making a resource (roles through the role factory,
    keys through the KMS helper, buckets through the bucket helper) use this, so a module
    moved into a subpackage stays covered."""
    base = ROOT / "components"
    regex = re.compile(pattern)
    return [
        str(path.relative_to(base))
        for path in sorted(base.rglob("*.py"))
        if str(path.relative_to(base)) != allowed and regex.search(path.read_text(encoding="utf-8"))
    ]


def aws_context(
    provider: pulumi.ProviderResource, region: str, *, environment: str = "test", **kw: Any
) -> AwsContext:
    """The context a stand-alone component test hands its component (inside a program:
    it looks the account up through `provider`, as the composition root does). Its names
    (`names=`) default to the mock program's project and `environment` as the stack."""
    kw.setdefault("names", PhysicalNames(prefix=pulumi.get_project(), stack=environment))
    return AwsContext.lookup(environment=environment, region=region, provider=provider, **kw)


def platform_boundary(run):
    """The environment's permission boundary policy in a recorded run (not the
    security-audit role's own, `-audit-permission-boundary`)."""
    (policy,) = [
        p
        for p in run.of_type("aws:iam/policy:Policy")
        if p.inputs["name"].endswith("-permission-boundary")
        and not p.inputs["name"].endswith("-audit-permission-boundary")
    ]
    return policy
