"""Shared fixtures: the project root, offline runs of the shipped stacks (cached per
session: a run is deterministic), and the external-tool gate."""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest

from ballast.offline import ProgramRun, load_stack_config, run_stack
from ballast.offline.mocks import DEFAULT_ACCOUNT_ID
from ballast.offline.stack_config import load_project
from components.config import PlatformConfig, StackConfig, parse_stack_config
from components.context import AwsContext
from components.names import PhysicalNames

ROOT = Path(__file__).resolve().parent.parent
#: The shipped platform stacks, one per environment.
SHIPPED_STACKS = ("dev", "staging", "prod")
#: Their cluster layers (docs/layers.md), each reading its platform stack.
CLUSTER_STACKS = tuple(f"{stack}-cluster" for stack in SHIPPED_STACKS)

_RUNS: dict[str, ProgramRun] = {}

#: Environment variables the Vault SDK and provider read (`VAULT_SKIP_VERIFY` becomes a
#: provider input, `VAULT_TOKEN` a credential): none may leak from the developer's shell
#: into a recorded plan or a test server's client.
_VAULT_ENVIRONMENT = re.compile(r"^(VAULT_|TERRAFORM_VAULT_|BAO_)")


@pytest.fixture(scope="session", autouse=True)
def _no_vault_environment():
    """Every test runs without `VAULT_*` (and OpenBao's `BAO_*`) variables; restored after."""
    saved = {k: v for k, v in os.environ.items() if _VAULT_ENVIRONMENT.match(k)}
    for key in saved:
        del os.environ[key]
    yield
    os.environ.update(saved)


def stack_run(stack: str) -> ProgramRun:
    """The offline run of a shipped stack, computed once per test session; a cluster
    stack's platform stack is answered from (and added to) the same cache."""
    if stack not in _RUNS:
        run = run_stack(load_stack_config(load_project(ROOT), stack), references=dict(_RUNS))
        for name, referenced in run.references.items():
            _RUNS.setdefault(name, referenced)
        _RUNS[stack] = run
    return _RUNS[stack]


@functools.cache
def stack_config(stack: str) -> StackConfig:
    """A shipped stack's config, read and validated by the project's own parser: what
    the program itself builds from. Tests compare a run with it (the provider's region
    is the configured region), so a fork that changes the values keeps them green."""
    flat = load_stack_config(load_project(ROOT), stack)
    return parse_stack_config(
        dict(flat.config), secret_keys=flat.secret_keys, source=flat.label, stack=stack
    )


def platform_config(stack: str) -> PlatformConfig:
    """`stack_config` of a platform stack (a cluster stack: of the platform stack it reads)."""
    config = stack_config(stack)
    if isinstance(config, PlatformConfig):
        return config
    return platform_config(config.platform_stack)


def account_of(stack: str) -> str:
    """The account a stack's resources live in: its `ballast:accountId`, or the offline
    engine's stand-in when the stack does not set one."""
    return platform_config(stack).account_id or DEFAULT_ACCOUNT_ID


def regions_of(stack: str) -> list[str]:
    """The platform's regions, primary first, then the DR region when configured."""
    config = platform_config(stack)
    return [config.primary_region] + ([config.dr_region] if config.dr_region else [])


def expected_zones(region: str, network) -> list[str]:
    """The zones a `Network` with these settings uses in `region`: the configured
    `availabilityZones`, else the first `azCount` the region offers (offline: the
    engine's stand-ins `<region>a`, `b`, ..., as the README says)."""
    if network.availability_zones is not None:
        return sorted(network.availability_zones)
    return [f"{region}{letter}" for letter in "abcdef"[: network.az_count]]


#: Regions a case may use as "outside the platform": the first one no shipped stack uses
#: is taken, so a fork that moves into one of them still gets a region outside its own.
_OTHER_REGIONS = ("ap-southeast-2", "sa-east-1", "ca-central-1", "ap-northeast-3")


def region_outside() -> str:
    """A region none of the shipped stacks configures."""
    used = {region for stack in SHIPPED_STACKS for region in regions_of(stack)}
    return next(region for region in _OTHER_REGIONS if region not in used)


def name_prefix(run: ProgramRun) -> str:
    """The prefix of every physical name in a run: its root component's name and a
    hyphen (children derive their names from the component's, DESIGN.md)."""
    (stack,) = run.of_type("pulumi:pulumi:Stack")
    (root,) = [r for r in run.resources if not r.custom and r.parent == stack.urn]
    return f"{root.name}-"


@pytest.fixture(params=SHIPPED_STACKS)
def shipped(request) -> ProgramRun:
    """Each shipped stack's offline run in turn."""
    return stack_run(request.param)


def require_tool(name: str) -> str:
    """Path of an external tool, or skip; under BALLAST_REQUIRE_TOOLS=1 a missing tool fails.
    A tool installed into the test interpreter's environment (a pinned PyPI package that
    ships a binary, e.g. actionlint) counts, whether or not that environment is on PATH."""
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
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
