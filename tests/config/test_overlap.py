"""VPC blocks across a project's stacks (`components.config.overlap`, `ballast.networks`):
an overlap within one account is an error before anything runs (exit 2, one sentence per
overlap); across accounts, a warning."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ballast.cli import app
from ballast.networks import check_project_networks
from ballast.offline.stack_config import load_project
from components.config import parse_platform_config
from components.config.overlap import vpc_overlaps
from tests.conftest import ROOT


def config(environment: str, cidr: str, *, account: str | None = None, dr: str | None = None):
    raw = {
        "ballast:environment": environment,
        "ballast:owner": "platform-team",
        "ballast:primaryRegion": "eu-west-1",
        "ballast:network": json.dumps({"cidr": cidr}),
    }
    if account:
        raw["ballast:accountId"] = account
    if environment == "prod" or dr:
        raw["ballast:drRegion"] = "eu-central-1"
    if dr:
        raw["ballast:drNetwork"] = json.dumps({"cidr": dr})
    return parse_platform_config(raw)


A, B = "111111111111", "222222222222"

#: (stack a, stack b, error?) for two stacks whose blocks overlap.
RELATIONS = [
    pytest.param(config("staging", "10.20.0.0/16"), config("staging", "10.20.0.0/16"), True, id="same-environment"),
    pytest.param(config("dev", "10.20.0.0/16", account=A), config("staging", "10.20.128.0/17", account=A), True, id="same-account"),
    pytest.param(config("staging", "10.20.0.0/16", account=A), config("staging", "10.20.0.0/16", account=B), False, id="same-environment-other-accounts"),
    pytest.param(config("dev", "10.20.0.0/16"), config("prod", "10.20.0.0/16"), False, id="other-environments"),
    pytest.param(config("prod", "10.30.0.0/16", dr="10.31.0.0/20"), config("prod", "10.31.0.0/16"), True, id="dr-network"),
]  # fmt: skip


@pytest.mark.parametrize(("a", "b", "error"), RELATIONS)
def test_an_overlap_is_an_error_only_within_an_account(a, b, error):
    (overlap,) = vpc_overlaps({"a": a, "b": b})
    assert overlap.stacks == ("a", "b")
    assert overlap.same_account is error
    assert "stack a overlaps" in overlap.message and "of stack b" in overlap.message


def test_distinct_blocks_do_not_overlap():
    configs = {"a": config("staging", "10.20.0.0/16"), "b": config("staging", "10.21.0.0/16")}
    assert vpc_overlaps(configs) == []


def test_the_shipped_stacks_use_distinct_blocks():
    """What the stack files' comments promise: no overlap at all, error or warning."""
    project = load_project(ROOT)
    check = check_project_networks(project)
    assert (check.errors, check.warnings) == ((), ())


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project with its stack files."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path)
    shutil.copytree(
        ROOT / "components", tmp_path / "components", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    return tmp_path


def test_a_copied_stack_in_the_same_account_is_refused_before_it_runs(project):
    """The README's "Adding a stack" without its first edit (a distinct network.cidr)."""
    staging = yaml.safe_load((project / "stacks" / "Pulumi.staging.yaml").read_text())
    (project / "stacks" / "Pulumi.qa.yaml").write_text(yaml.safe_dump(staging))
    cidr = staging["config"]["ballast:network"]["cidr"]
    result = CliRunner().invoke(app, ["preview", "qa", "--project-dir", str(project)])
    assert result.exit_code == 2, result.output
    assert (
        f"ballast:network.cidr {cidr} of stack qa overlaps ballast:network.cidr {cidr} of "
        "stack staging (both staging, so one account unless accountId says otherwise)"
    ) in " ".join(result.output.split())
