"""`ballast preview` with the guardrails: the JSON additions, the human view, exit codes
(1 on a mandatory violation, 2 on an unusable policy setup) and the default-config note."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ballast.cli import app
from tests.conftest import ROOT
from tests.policy.conftest import PACK_DIR

runner = CliRunner()

PROGRAM = """
import pulumi
import pulumi_aws as aws

provider = aws.Provider(
    "aws",
    region="us-east-1",
    default_tags={"tags": {"environment": "dev", "owner": "web-team"}},
)
site = aws.s3.Bucket(
    "site", tags={"service": "web", "tier": "tier-3"}, opts=pulumi.ResourceOptions(provider=provider)
)
aws.s3.BucketAcl(
    "site-acl", bucket=site.id, acl="public-read", opts=pulumi.ResourceOptions(provider=provider)
)
"""


def project(tmp_path: Path, stack: str = "dev", pack: bool = True) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: sandbox\nruntime: python\nstackConfigDir: stacks\n"
    )
    (tmp_path / "__main__.py").write_text(PROGRAM)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    if pack:
        shutil.copytree(
            PACK_DIR,
            tmp_path / "policy-pack",
            ignore=shutil.ignore_patterns("venv", "__pycache__"),
        )
    return tmp_path


def test_json_adds_violations_and_the_policy_count(tmp_path):
    result = runner.invoke(
        app, ["preview", "dev", "--json", "--project-dir", str(project(tmp_path))]
    )
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert set(document) >= {"stack", "resources", "outputs", "summary", "violations", "policies"}
    assert document["policyConfig"] == "policy-pack/config/dev.json"
    from ballast_guardrails import POLICIES

    dev = json.loads((PACK_DIR / "config" / "dev.json").read_text())
    disabled = [name for name, value in dev.items() if value == "disabled"]
    assert disabled and document["policies"] == len(POLICIES) - len(disabled)
    assert document["schemaVersion"] == 1
    pack_policies = {p.meta.name: p.meta for p in POLICIES}
    for violation in document["violations"]:
        assert set(violation) == {
            "policy",
            "level",
            "severity",
            "urn",
            "type",
            "name",
            "message",
            "remediation",
            "exemption",
        }
        meta = pack_policies[violation["policy"]]
        assert violation["remediation"] == meta.remediation
        assert violation["severity"] == meta.severity.value
        assert violation["urn"].endswith(f"{violation['type']}::{violation['name']}")
    levels = [v["level"] for v in document["violations"]]
    assert levels == sorted(levels, key=lambda level: level != "mandatory"), "mandatory first"
    mandatory = {
        (v["policy"], v["urn"].rsplit("::", 1)[-1])
        for v in document["violations"]
        if v["level"] == "mandatory"
    }
    assert mandatory == {("s3-public-access-block", "site"), ("s3-no-public-acl", "site-acl")}


def test_human_view_groups_violations_with_remediation(tmp_path):
    result = runner.invoke(
        app, ["preview", "dev", "--project-dir", str(project(tmp_path))], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "Policy violations" in out and "s3-no-public-acl" in out
    assert out.index("Policy violations") < out.index("Resources by type"), "findings first"
    assert "BucketOwnerEnforced" in out  # the policy's remediation sentence
    assert "2 mandatory" in out


def test_a_stack_without_policy_config_uses_the_pack_defaults_and_says_so(tmp_path):
    result = runner.invoke(
        app, ["preview", "sandbox", "--json", "--project-dir", str(project(tmp_path, "sandbox"))]
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["policyConfig"] is None
    assert "no policy config for stack sandbox; evaluated with the pack defaults" in result.stderr


def test_an_unusable_policy_config_is_one_sentence(tmp_path):
    root = project(tmp_path)
    (root / "policy-pack" / "config" / "dev.json").write_text('{"s3-versioning": "strict"}')
    result = runner.invoke(app, ["preview", "dev", "--project-dir", str(root)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: policy-pack/config/dev.json: 's3-versioning' has the enforcement level "
        "'strict'; use one of advisory, mandatory, remediate, disabled"
    )


def test_a_project_without_a_policy_pack_previews_and_warns(tmp_path):
    result = runner.invoke(
        app, ["preview", "dev", "--json", "--project-dir", str(project(tmp_path, pack=False))]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["violations"] == [] and document["policies"] == 0
    assert "no policy pack at" in result.stderr and "were not evaluated" in result.stderr


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "prod-cluster"])
def test_shipped_stacks_exit_code_follows_mandatory_violations(stack):
    result = runner.invoke(app, ["preview", stack, "--json", "--project-dir", str(ROOT)])
    document = json.loads(result.stdout)
    mandatory = [v for v in document["violations"] if v["level"] == "mandatory"]
    assert result.exit_code == (1 if mandatory else 0)
