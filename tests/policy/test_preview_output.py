"""`ballast preview` output for CI: whole policy IDs, URNs and snippets at 80 columns,
data printed verbatim (no markup, no emoji), Markdown and SARIF forms, errors as JSON,
the program's file and line on failure, and exemptions that match nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ballast.cli import app
from tests.policy.test_preview_cli import PROGRAM, project

runner = CliRunner()

#: Data that Rich would read as an emoji code and as markup if it were not told not to.
ODD = (
    PROGRAM
    + """
pulumi.export("dbSecretArn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf")
aws.s3.BucketAcl(
    "[bold]odd-acl", bucket=site.id, acl="public-read",
    opts=pulumi.ResourceOptions(provider=provider),
)
"""
)


def preview(root: Path, *args: str, columns: int = 80):
    return runner.invoke(
        app, ["preview", "dev", *args, "--project-dir", str(root)], env={"COLUMNS": str(columns)}
    )


def odd_project(tmp_path: Path) -> Path:
    root = project(tmp_path)
    (root / "__main__.py").write_text(ODD)
    return root


def test_at_80_columns_every_policy_id_urn_and_snippet_is_whole(tmp_path):
    root = project(tmp_path)
    document = json.loads(preview(root, "--json").stdout)
    result = preview(root)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert document["violations"]
    for v in document["violations"]:
        assert any(v["policy"] in line.split() for line in lines), v["policy"]
        assert any(line.split()[-1:] == [v["urn"]] for line in lines), v["urn"]
        snippet = json.dumps(v["exemption"], ensure_ascii=False)
        assert any(line.endswith(snippet) for line in lines), snippet
    # Prose wraps at the width; only whole lines (URN, snippet) run past it.
    long = [line for line in lines if len(line) > 80]
    assert all(line.lstrip().startswith(("urn ", "exempt ", "by ")) for line in long), long


def test_violations_come_first_and_violations_only_drops_the_plan(tmp_path):
    root = project(tmp_path)
    full = preview(root).stdout
    assert full.index("MANDATORY") < full.index("Resources by type")
    only = preview(root, "--violations-only")
    assert only.exit_code == 1
    assert "MANDATORY" in only.stdout and "Resources by type" not in only.stdout
    assert "Stack outputs" not in only.stdout


def test_data_is_printed_verbatim_without_markup_or_emoji(tmp_path):
    root = odd_project(tmp_path)
    result = preview(root, columns=200)
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf" in out
    assert "[bold]odd-acl" in out
    assert "\N{CIRCLED IDEOGRAPH SECRET}" not in out  # what Rich makes of :secret:
    markdown = preview(root, "--format", "markdown").stdout
    assert "[bold]odd-acl" in markdown


def test_markdown_is_a_pr_comment_with_snippets_and_exempted_findings(tmp_path):
    root = project(tmp_path)
    result = preview(root, "--format", "markdown")
    assert result.exit_code == 1, result.output
    text = result.stdout
    assert text.startswith("### Ballast preview: stack `dev`")
    assert "**blocked**: **2 mandatory**" in text
    table = [line for line in text.splitlines() if line.startswith("| **mandatory** |")]
    assert len(table) == 2 and all(line.count(" | ") == 4 for line in table)
    assert "`s3-no-public-acl`" in text and '"name": "site-acl"' in text
    assert "<details>" in text and "</details>" in text


SARIF_LEVELS = {"error", "warning", "note", "none"}


def check_sarif_structure(log: dict) -> None:
    """What SARIF 2.1.0 requires of the parts this log uses (sarif-schema-2.1.0.json:
    `version` and `runs`; a run's `tool.driver.name`; a result's `message` with `text`;
    a rule's `id`; `level` and a suppression's `kind` from their enums)."""
    assert log["version"] == "2.1.0" and isinstance(log["runs"], list)
    for run in log["runs"]:
        driver = run["tool"]["driver"]
        assert isinstance(driver["name"], str) and driver["name"]
        rules = driver.get("rules", [])
        assert all(isinstance(rule["id"], str) for rule in rules)
        for result in run["results"]:
            assert isinstance(result["message"]["text"], str)
            assert result["level"] in SARIF_LEVELS
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            for location in result.get("locations", []):
                assert set(location) <= {"physicalLocation", "logicalLocations"}
            for suppression in result.get("suppressions", []):
                assert suppression["kind"] in {"inSource", "external"}


def test_sarif_has_every_violation_and_the_exempted_as_suppressed(tmp_path):
    root = project(tmp_path)
    # An exemption in the stack's own config: its finding becomes a suppressed result.
    config = root / "policy-pack" / "config" / "dev.json"
    data = json.loads(config.read_text())
    data["s3-no-public-acl"] = {
        "enforcementLevel": "mandatory",
        "exemptions": [
            {"type": "aws:s3/bucketAcl:BucketAcl", "name": "site-acl", "reason": "WEB-1"}
        ],
    }
    config.write_text(json.dumps(data))
    document = json.loads(preview(root, "--json").stdout)
    result = preview(root, "--format", "sarif")
    assert result.exit_code == 1, result.output
    log = json.loads(result.stdout)
    check_sarif_structure(log)
    schema_path = os.environ.get("BALLAST_SARIF_SCHEMA")
    if schema_path:  # the official schema, where a machine has it (nothing is vendored)
        from jsonschema import Draft4Validator

        Draft4Validator(json.loads(Path(schema_path).read_text())).validate(log)
    (run,) = log["runs"]
    open_results = [r for r in run["results"] if "suppressions" not in r]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert len(open_results) == len(document["violations"])
    assert {
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] for r in open_results
    } == {v["urn"] for v in document["violations"]}
    assert [(r["ruleId"], r["suppressions"][0]["justification"]) for r in suppressed] == [
        ("s3-no-public-acl", "WEB-1")
    ]
    assert [e["reason"] for e in document["exempted"]] == ["WEB-1"]
    assert all(
        r["level"] == "error"
        for r in open_results
        if r["properties"]["enforcementLevel"] == "mandatory"
    )


def test_a_config_error_is_json_with_json(tmp_path):
    root = project(tmp_path)
    (root / "policy-pack" / "config" / "dev.json").write_text('{"s3-versioning": {"minDay": 1}}')
    result = preview(root, "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "policyConfig"
    assert "s3-versioning.minDay is not a known key" in error["message"]


FAILING = (
    PROGRAM
    + """

def tag_of(bucket):
    return bucket.missing_attribute


tag_of(site)
"""
)


def test_a_program_error_names_its_file_and_line_and_debug_prints_the_traceback(tmp_path):
    root = project(tmp_path)
    (root / "__main__.py").write_text(FAILING)
    line = FAILING.splitlines().index("    return bucket.missing_attribute") + 1
    plain = preview(root)
    assert plain.exit_code == 2
    assert f"at __main__.py:{line}" in plain.stderr
    assert "Traceback" not in plain.stderr and "--debug" in plain.stderr
    debug = preview(root, "--debug")
    assert debug.exit_code == 2
    assert "Traceback (most recent call last)" in debug.stderr
    assert f'__main__.py", line {line}, in tag_of' in debug.stderr
    as_json = json.loads(preview(root, "--json").stdout)["error"]
    assert as_json["kind"] == "program" and f"at __main__.py:{line}" in as_json["message"]


def test_an_exemption_matching_nothing_in_the_stacks_own_config_warns(tmp_path):
    root = project(tmp_path)
    result = preview(root, "--json")
    document = json.loads(result.stdout)
    # dev.json's shipped exemptions name the platform's CI role, which the sandbox lacks.
    assert document["unmatchedExemptions"]
    for entry in document["unmatchedExemptions"]:
        assert entry["sharedConfig"] is False
        assert (
            f"{entry['entry']} (" in result.stderr
            and "matches no resource of stack dev" in result.stderr
        )


@pytest.mark.parametrize("stack", ["dev-cluster"])
def test_a_shared_config_lists_unmatched_exemptions_without_warning(stack):
    from tests.conftest import ROOT

    result = runner.invoke(app, ["preview", stack, "--json", "--project-dir", str(ROOT)])
    document = json.loads(result.stdout)
    assert document["unmatchedExemptions"] and all(
        e["sharedConfig"] for e in document["unmatchedExemptions"]
    )
    assert "matches no resource" not in result.stderr
