"""`ballast preview` as a user runs it: the JSON contract, the human view, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ballast.cli import app
from tests.conftest import ROOT, expected_zones, platform_config

runner = CliRunner()


def preview_json(stack: str) -> dict:
    result = runner.invoke(app, ["preview", stack, "--json", "--project-dir", str(ROOT)])
    document = json.loads(result.stdout)
    # Exit 1 means mandatory policy violations (tests/policy judges which); the plan
    # itself is complete either way.
    mandatory = [v for v in document["violations"] if v["level"] == "mandatory"]
    assert result.exit_code == (1 if mandatory else 0), result.output
    return document


@pytest.fixture(scope="module")
def prod() -> dict:
    return preview_json("prod")


def of_type(doc: dict, type_: str) -> list[dict]:
    return [r for r in doc["resources"] if r["type"] == type_]


def test_json_document_shape(prod):
    assert set(prod) >= {"stack", "resources", "outputs", "summary"}
    assert prod["stack"] == "prod"
    for resource in prod["resources"]:
        assert set(resource) == {
            "urn",
            "type",
            "name",
            "id",
            "parent",
            "provider",
            "inputs",
            "options",
        }
        assert set(resource["options"]) == {"protect", "ignoreChanges", "dependsOn"}
    urns = {r["urn"] for r in prod["resources"]}
    assert all(r["parent"] in urns for r in prod["resources"] if r["parent"])


def in_primary_network(preview: dict, type_: str) -> list[dict]:
    """Resources of `type_` in the primary region's network (prod also has a DR one)."""
    (stack,) = of_type(preview, "pulumi:pulumi:Stack")
    (root,) = [r for r in preview["resources"] if r["parent"] == stack["urn"]]
    parent = f"ballast:components:Network::{root['name']}-net"
    return [r for r in of_type(preview, type_) if (r["parent"] or "").endswith(parent)]


def zones_of(stack: str) -> set[str]:
    """The zones the stack's config gives its primary network."""
    config = platform_config(stack)
    return set(expected_zones(config.primary_region, config.network))


def test_prod_network_spans_its_configured_zones(prod):
    subnets = in_primary_network(prod, "aws:ec2/subnet:Subnet")
    tiers = {}
    for subnet in subnets:
        tiers.setdefault(subnet["inputs"]["tags"]["ballast.io/subnet-tier"], set()).add(
            subnet["inputs"]["availabilityZone"]
        )
    zones = zones_of("prod")
    assert tiers == {tier: zones for tier in ("public", "private", "isolated")}
    per_az = platform_config("prod").network.nat_mode == "per-az"
    nats = in_primary_network(prod, "aws:ec2/natGateway:NatGateway")
    assert len(nats) == (len(zones) if per_az else 1)
    private_tables = [
        t
        for t in in_primary_network(prod, "aws:ec2/routeTable:RouteTable")
        if "-private-" in t["name"]
    ]
    assert len(private_tables) == len(zones)
    assert len(in_primary_network(prod, "aws:ec2/flowLog:FlowLog")) == 1


def test_prod_has_no_resource_on_a_default_provider(prod):
    providers = {r["urn"] for r in prod["resources"] if r["type"].startswith("pulumi:providers:")}
    custom = [r for r in prod["resources"] if r["id"] is not None and r["urn"] not in providers]
    assert custom and all(r["provider"] in providers for r in custom)


def test_dev_network_follows_its_config():
    dev = preview_json("dev")
    zones = {s["inputs"]["availabilityZone"] for s in of_type(dev, "aws:ec2/subnet:Subnet")}
    assert zones == zones_of("dev")
    single = platform_config("dev").network.nat_mode == "single"
    assert len(of_type(dev, "aws:ec2/natGateway:NatGateway")) == (1 if single else len(zones))


def test_mock_ids_are_what_other_resources_see(prod):
    (vpc,) = in_primary_network(prod, "aws:ec2/vpc:Vpc")
    assert vpc["id"].startswith("vpc-")
    subnets = in_primary_network(prod, "aws:ec2/subnet:Subnet")
    assert {s["inputs"]["vpcId"] for s in subnets} == {vpc["id"]}
    assert prod["outputs"]["vpcId"] == vpc["id"]


def test_human_view_shows_tree_counts_and_outputs():
    result = runner.invoke(app, ["preview", "dev", "--project-dir", str(ROOT)])
    assert result.exit_code in (0, 1), result.output  # 1: mandatory policy violations
    out = result.stdout
    assert "stack dev" in out and "ballast:components:Network" in out
    assert "Resources by type" in out and "aws:ec2/natGateway:NatGateway" in out
    assert "Stack outputs" in out and "vpcId" in out
    assert "resources to create" in out


def test_unknown_stack_names_the_stacks_that_exist():
    result = runner.invoke(app, ["preview", "qa", "--project-dir", str(ROOT)])
    assert result.exit_code == 2
    stacks = sorted(
        f.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for f in (ROOT / "stacks").glob("Pulumi.*.yaml")
    )
    assert "dev-cluster" in stacks
    assert result.stderr.strip() == (
        "error: unknown stack 'qa': there is no stacks/Pulumi.qa.yaml; "
        f"the stacks are: {', '.join(stacks)}"
    )


def test_project_dir_without_a_project(tmp_path: Path):
    result = runner.invoke(app, ["preview", "dev", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {tmp_path} is not a Pulumi project: it has no Pulumi.yaml "
        "(pass --project-dir with the checkout that has one)"
    )


def test_stack_file_that_is_not_yaml(tmp_path: Path):
    (tmp_path / "Pulumi.yaml").write_text("name: broken\nruntime: python\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text("config:\n  ballast:owner: [unclosed\n")
    result = runner.invoke(app, ["preview", "dev", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "stacks/Pulumi.dev.yaml is not valid YAML at line" in result.stderr


def test_installed_console_script_runs_the_default_stack():
    """The README's entry point, as a separate process: `ballast preview dev`."""
    script = Path(sys.executable).with_name("ballast")
    if not script.exists():
        pytest.skip("the ballast console script is not installed in this environment")
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run(
        [str(script), "preview", "dev"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr  # 1: mandatory policy violations
    assert "resources to create" in done.stdout
    assert "Policy pack ballast-guardrails" in done.stdout


def test_a_platform_preview_points_at_its_cluster_layer():
    """`make preview` shows dev's platform layer and says how to preview the other."""
    result = runner.invoke(app, ["preview", "dev", "--project-dir", str(ROOT)])
    assert result.exit_code == 0, result.output
    assert "stack dev-cluster builds on this one: ballast preview dev-cluster" in result.stdout
    document = json.loads(
        runner.invoke(app, ["preview", "dev", "--json", "--project-dir", str(ROOT)]).stdout
    )
    assert document["builtOnBy"] == ["dev-cluster"]
    cluster = json.loads(
        runner.invoke(app, ["preview", "dev-cluster", "--json", "--project-dir", str(ROOT)]).stdout
    )
    assert cluster["builtOnBy"] == [] and cluster["references"] == ["dev"]
