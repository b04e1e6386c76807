"""`ballast promote`: the target overlay gets the source's digest and Git SHA and no other
change; a digest the source does not run, a missing overlay or a malformed one is one
sentence and exit 2, with nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ballast.cli import app
from tests.conftest import ROOT

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "gitops", tmp_path / "gitops")
    return tmp_path


def overlay(project: Path, env: str) -> Path:
    return project / "gitops" / "envs" / env / "checkout.yaml"


def image(project: Path, env: str) -> dict:
    document = yaml.safe_load(overlay(project, env).read_text())
    return document["spec"]["source"]["helm"]["valuesObject"]["image"]


def invoke(project: Path, *args: str):
    return runner.invoke(
        app, ["promote", "--service", "checkout", "--project-dir", str(project), *args]
    )


def test_promotion_rewrites_only_the_digest_and_sha_lines(project):
    before = overlay(project, "staging").read_text().splitlines()
    source = image(project, "dev")
    assert source["digest"] != image(project, "staging")["digest"], "the fixture must differ"
    result = invoke(project, "--from", "dev", "--to", "staging")
    assert result.exit_code == 0, result.output
    after = overlay(project, "staging").read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert [b.split(":", 1)[0].strip() for _, b in changed] == ["digest", "gitSha"]
    promoted = image(project, "staging")
    assert (promoted["digest"], promoted["gitSha"]) == (source["digest"], source["gitSha"])
    # Everything else in the file is as it was (the repository line included).
    assert promoted["repository"] != source["repository"]


def test_a_digest_the_source_does_not_run_is_refused_and_nothing_is_written(project):
    before = overlay(project, "prod").read_text()
    other = "sha256:" + "0" * 64
    result = invoke(project, "--from", "staging", "--to", "prod", "--digest", other)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: digest {other} is not the one staging runs")
    assert overlay(project, "prod").read_text() == before


def test_the_source_digest_named_explicitly_is_accepted(project):
    staging = image(project, "staging")
    result = invoke(
        project, "--from", "staging", "--to", "prod", "--digest", staging["digest"], "--json"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["digest"] == staging["digest"] and document["changed"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "prod", "--to", "prod"), "--from and --to must differ (both are 'prod')"),
        (("--from", "qa", "--to", "prod"), "qa has no overlay for this service"),
        (("--from", "Staging", "--to", "prod"), "--from must be a lowercase name"),
    ],
)
def test_bad_arguments_are_one_sentence_and_exit_2(project, args, message):
    result = invoke(project, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_source_with_a_tag_instead_of_a_digest_is_refused(project):
    path = overlay(project, "staging")
    path.write_text(path.read_text().replace("digest: sha256:", "digest: latest-", 1))
    result = invoke(project, "--from", "staging", "--to", "prod")
    assert result.exit_code == 2
    assert "image.digest must be sha256:<64 hex digits>" in result.stderr


def test_dry_run_writes_nothing(project):
    before = overlay(project, "staging").read_text()
    result = invoke(project, "--from", "dev", "--to", "staging", "--dry-run")
    assert result.exit_code == 0 and "would rewrite" in result.stdout
    assert overlay(project, "staging").read_text() == before
