"""docs/configuration.md is rendered from the config models: it must be current, every
link into it must land on a heading, and its limits must read as the parser's messages."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from pydantic import Field

from ballast import config_docs
from components.config import ConfigError, NetworkConfig, parse_platform_config
from components.config.errors import limits_text
from tests.conftest import ROOT

REGENERATE = f"regenerate with: {config_docs.COMMAND}"
#: The documents that used to repeat configuration tables and now link to the reference.
LINKING_DOCS = ("README.md", "docs/cluster.md", "docs/data-and-dr.md", "docs/security-baseline.md")


def test_reference_matches_the_models():
    committed = config_docs.REFERENCE.read_text(encoding="utf-8")
    assert committed == config_docs.render(), REGENERATE


def _anchors(markdown: str) -> set[str]:
    return {
        config_docs.anchor(line.lstrip("#"))
        for line in markdown.splitlines()
        if re.match(r"#{1,6} ", line)
    }


@pytest.mark.parametrize("doc", LINKING_DOCS)
def test_links_into_the_reference_land_on_a_heading(doc):
    anchors = _anchors(config_docs.render())
    text = (ROOT / doc).read_text(encoding="utf-8")
    fragments = re.findall(r"configuration\.md#([\w-]+)", text)
    assert fragments, f"{doc} does not link to the configuration reference"
    assert sorted(set(fragments) - anchors) == []


def test_anchor_is_githubs():
    assert config_docs.anchor("ballast:cluster.nodeGroups[].taints[]") == (
        "ballastclusternodegroupstaints"
    )
    assert config_docs.anchor("Top-level keys") == "top-level-keys"


def test_write_replaces_the_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "configuration.md"
    target.write_text("old\n")
    config_docs.write(target)
    assert target.read_text(encoding="utf-8") == config_docs.render()

    def broken() -> str:
        raise RuntimeError("render failed")

    monkeypatch.setattr(config_docs, "render", broken)
    with pytest.raises(RuntimeError):
        config_docs.write(target)
    assert [p.name for p in tmp_path.iterdir()] == ["configuration.md"]
    assert target.read_text(encoding="utf-8").startswith("# Configuration reference")


def test_reference_limit_and_error_message_say_the_same():
    field = NetworkConfig.model_fields["az_count"]
    limits = limits_text(field)
    assert limits == "between 2 and 6"
    row = next(
        line
        for line in config_docs.render().splitlines()
        if line.startswith("| `ballast:network.azCount`")
    )
    assert f"| {limits} |" in row
    raw = {
        "ballast:environment": "dev",
        "ballast:owner": "t",
        "ballast:primaryRegion": "eu-west-1",
        "ballast:network": '{"cidr": "10.1.0.0/16", "azCount": 9}',
    }
    with pytest.raises(ConfigError) as error:
        parse_platform_config(raw, source="s")
    assert error.value.problems == [f"s: ballast:network.azCount must be {limits} (got 9)"]


def test_a_constraint_without_wording_is_refused():
    """A limit the reference (and the message rule) cannot word fails loudly, rather than
    disappearing from both."""
    with pytest.raises(TypeError, match="no wording for the constraint"):
        limits_text(Field(default=1, gt=0))
    assert limits_text(Field(default=(), max_length=3)) == "at most 3"


def test_config_parsing_imports_nothing_heavy():
    """The config package reads components/versions.py and components/tags.py for its
    defaults; neither may pull in the Pulumi SDK (~1 s and more per import)."""
    code = (
        "import sys, components.config\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('pulumi')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
