"""Forking is a non-event: a copy of the project with the README's "before the first `up`"
checklist applied (own project name, regions, account ids, repository, dev's API
allowlist; tests/forking.py) previews every shipped stack clean and passes a
representative part of the suite.

Everything runs in a temporary copy, in subprocesses started there (`python -m ...`
puts the copy first on `sys.path`), so the copy's code and stack files are what is
tested and nothing is written into this checkout.

The plan snapshots (tests/components/test_platform_snapshot.py) pin the shipped plan
literally, so a fork regenerates them once, as the README tells it to; the copy does the
same before its suite runs, and the suite then checks that a second run reproduces them.

Runtime: about a minute and a half on two cores (the subset below is chosen for that);
deselect with `-m "not slow"` while iterating.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ballast.offline.stack_config import list_stacks, load_project
from tests.conftest import ROOT
from tests.forking import ForkValues, apply_checklist, copy_project

pytestmark = pytest.mark.slow

#: Set in the copy's environment: the copy's own fork test then skips instead of forking
#: again.
INSIDE_A_FORK = "BALLAST_INSIDE_FORK_TEST"
#: Bounds each subprocess (a preview takes seconds; the suite subset about a minute).
TIMEOUT_SECONDS = 240
#: The part of the suite run in the copy: every module whose tests read the stack
#: files (the components of the platform stacks, their snapshots, the preview CLI), and
#: the shipped-stack policy verdicts. test_identity.py and the pack's case modules are
#: left out for time: identity reads the same helpers as the modules here, and the
#: policy cases build their own resources, independent of the stack files.
SUITE = (
    "tests/components/test_platform_snapshot.py",
    "tests/components/test_network.py",
    "tests/components/test_cluster.py",
    "tests/components/test_database.py",
    "tests/components/test_audit_trail.py",
    "tests/components/test_resilience.py",
    "tests/policy/test_shipped_stacks.py",
    "tests/toolkit/test_preview.py",
)

VALUES = ForkValues()


def _environment() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "BALLAST_UPDATE_SNAPSHOTS", "PYTEST_ADDOPTS")
    }
    env[INSIDE_A_FORK] = "1"
    return env


def _run(fork: Path, *args: str, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, *args],
        cwd=fork,
        env={**_environment(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )


def _tracked_state() -> str:
    """What git sees of this checkout: the test must leave it exactly as it found it."""
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


@pytest.fixture(scope="module")
def fork(tmp_path_factory) -> Path:
    if os.environ.get(INSIDE_A_FORK) == "1":
        pytest.skip("already running inside a fork copy made by this test")
    before = _tracked_state()
    directory = tmp_path_factory.mktemp("fork")
    copy_project(ROOT, directory)
    apply_checklist(directory, VALUES)
    assert _tracked_state() == before, "making the fork changed this checkout"
    return directory


def test_the_fork_runs_its_own_code(fork):
    result = _run(fork, "-c", "import ballast, components; print(ballast.__file__)")
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).resolve().is_relative_to(fork.resolve()), result.stdout


def test_the_checklist_changed_every_shipped_value(fork):
    """The copy no longer holds the values the checklist replaces (so a green suite
    below means the tests follow the config, not that nothing changed)."""
    assert yaml.safe_load((fork / "Pulumi.yaml").read_text())["name"] == VALUES.project
    for path in sorted((fork / "stacks").glob("Pulumi.*.yaml")):
        values = json.dumps(yaml.safe_load(path.read_text(encoding="utf-8"))["config"])
        for shipped in ("us-east-1", "us-west-2", "your-org--set-me", "203.0.113.0/24"):
            assert shipped not in values, (path.name, shipped)


@pytest.mark.parametrize("stack", list_stacks(load_project(ROOT)))
def test_every_shipped_stack_previews_clean_in_the_fork(fork, stack):
    result = _run(fork, "-m", "ballast.cli", "preview", stack, "--json")
    assert result.returncode in (0, 1), result.stderr[-2000:]
    document = json.loads(result.stdout)
    mandatory = [
        f"{v['policy']}: {v['urn']}" for v in document["violations"] if v["level"] == "mandatory"
    ]
    assert mandatory == [], f"{stack} in the fork: {mandatory}"
    assert result.returncode == 0
    urns = [r["urn"] for r in document["resources"]]
    assert urns and all(u.startswith(f"urn:pulumi:{stack}::{VALUES.project}::") for u in urns)
    regions = {
        r["inputs"]["region"] for r in document["resources"] if r["type"] == "pulumi:providers:aws"
    }
    assert regions <= {VALUES.primary_region, VALUES.dr_region}


def test_the_forks_suite_passes(fork):
    regenerate = _run(
        fork,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/components/test_platform_snapshot.py",
        env={"BALLAST_UPDATE_SNAPSHOTS": "1"},
    )
    assert regenerate.returncode == 0, regenerate.stdout[-3000:]
    suite = _run(fork, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short", *SUITE)
    summary = suite.stdout.strip().splitlines()[-1] if suite.stdout.strip() else ""
    assert suite.returncode == 0, f"{summary}\n{suite.stdout[-6000:]}"
    assert " passed" in summary and "failed" not in summary, summary
