"""Exemptions that survive a rename: the matching rules (the pack's and the toolkit's
agree), the checks on a config's exemptions and keys, what a preview shows of excused
findings and of entries that match nothing, and a renamed copy of the project that
previews as clean as the original."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ballast.cli import app
from ballast.policy.config import PolicyConfigError, parse_policy_config, reconcile
from ballast.policy.exemptions import Exemption, parse_exemptions, snippet, urn_parts
from ballast.preview import preview_stack
from tests.conftest import ROOT
from tests.policy.conftest import PACK_DIR  # noqa: F401  (puts the pack on sys.path)

from ballast_guardrails import exemptions as pack_exemptions  # isort: skip

WORD = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
TYPE = st.sampled_from(["aws:s3/bucket:Bucket", "aws:iam/role:Role", "kubernetes:core/v1:Pod"])
PARENTS = st.lists(st.sampled_from(["ballast:components:Platform", "ballast:x:Y"]), max_size=2)


@st.composite
def urns(draw) -> str:
    stack, project = draw(WORD), draw(WORD)
    chain = "$".join([*draw(PARENTS), draw(TYPE)])
    name = "-".join(draw(st.lists(st.one_of(WORD, st.just(stack)), min_size=1, max_size=4)))
    return f"urn:pulumi:{stack}::{project}::{chain}::{name}"


@st.composite
def entries(draw, urn: str) -> dict:
    """An entry built from `urn` (placeholders put in, parts swapped) or a stranger's."""
    stack, project, kind, name = urn_parts(urn)
    if draw(st.booleans()):
        pattern = urn.replace(f":{stack}::", ":{stack}::", 1) if draw(st.booleans()) else urn
        pattern = pattern.replace(f"::{project}::", "::{project}::", 1)
        if draw(st.booleans()):
            pattern = pattern.rsplit("::", 1)[0] + "::" + draw(WORD)
        return {"urn": pattern, "reason": "r"}
    shown = name.replace(stack, "{stack}") if draw(st.booleans()) else name
    return {"type": draw(st.one_of(st.just(kind), TYPE)), "name": shown, "reason": "r"}


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_toolkit_and_the_pack_match_the_same_resources(data):
    urn = data.draw(urns())
    entry = data.draw(entries(urn))
    (mine,) = parse_exemptions("p", [entry], "test")
    other = data.draw(urns())
    for target in (urn, other):
        assert mine.matches(target) == pack_exemptions.matches(entry, target)


@settings(max_examples=200, deadline=None)
@given(urn=urns())
def test_a_violations_snippet_excuses_it_in_any_stack_and_project(urn):
    stack, project, kind, name = urn_parts(urn)
    entry = snippet(urn)
    (exemption,) = parse_exemptions("p", [entry], "test")
    assert exemption.matches(urn)
    assert pack_exemptions.matches(entry, urn)
    # A renamed project renames what its name prefix (by default the project) starts.
    head = urn.rpartition("::")[0].replace(f"::{project}::", "::renamed::", 1)
    moved = "renamed" + name[len(project) :] if name.startswith(f"{project}-") else name
    assert exemption.matches(f"{head}::{moved}")
    # Another stack's resource of the same shape: the stack's word in the name follows it.
    elsewhere = f"urn:pulumi:qa9::{project}::{kind}::{name}"
    if stack not in name.split("-"):
        assert exemption.matches(elsewhere)


def test_placeholders_are_filled_from_the_resource_not_wildcards():
    urn = "urn:pulumi:dev::acme::ballast:components:Platform$aws:s3/bucket:Bucket::acme-dev-logs"
    by_name = Exemption("p", 0, "r", type="aws:s3/bucket:Bucket", name="{project}-{stack}-logs")
    assert by_name.matches(urn)
    assert not by_name.matches(urn.replace("pulumi:dev::", "pulumi:prod::"))
    parents = "urn:pulumi:{stack}::{project}::ballast:components:Platform$aws:s3/bucket:Bucket"
    assert Exemption("p", 0, "r", urn=f"{parents}::{{project}}-{{stack}}-logs").matches(urn)
    # A URN pattern is whole: without the parent chain it names another resource.
    assert not Exemption(
        "p", 0, "r", urn="urn:pulumi:{stack}::{project}::aws:s3/bucket:Bucket::acme-dev-logs"
    ).matches(urn)
    assert not Exemption("p", 0, "r", type="aws:s3/bucket:Bucket", name="acme-dev-log").matches(urn)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"urn:pulumi:dev::b::t::n": "why"}, r"is a map; it is a list of \{type, name, reason\}"),
        ([{"type": "t", "name": "n"}], r"exemptions\[0\] has no reason"),
        (
            [{"type": "t", "name": "n", "reason": " "}],
            r"exemptions\[0\]\.reason must be a non-empty",
        ),
        ([{"type": "t", "reason": "r"}], r"exemptions\[0\] must name a resource either by type"),
        ([{"urn": "u", "type": "t", "name": "n", "reason": "r"}], "not both"),
        ([{"type": "t", "name": "{env}-x", "reason": "r"}], r"only placeholders are \{project\}"),
    ],
)
def test_an_unusable_exemption_is_named_with_what_is_accepted(value, expected):
    with pytest.raises(PolicyConfigError, match=expected):
        reconcile(
            {"p": ("mandatory", {"exemptions": pack_exemptions.EXEMPTIONS})},
            parse_policy_config({"p": {"exemptions": value}}),
            source="c.json",
        )


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"p": {"exemptons": []}},
            "c.json: p.exemptons is not a known key; did you mean 'exemptions'?",
        ),
        ({"p": {"enforcmentLevel": "advisory"}}, "did you mean 'enforcementLevel'?"),
        (
            {"p": {"exemptions": [{"type": "t", "name": "n", "resaon": "r"}]}},
            "c.json: p.exemptions[0].resaon is not a known key; did you mean 'reason'?",
        ),
        ({"pp": "advisory"}, "c.json: no policy named 'pp' in the pack; did you mean 'p'?"),
    ],
)
def test_unknown_keys_anywhere_are_errors_with_the_closest_name(config, expected):
    with pytest.raises(PolicyConfigError) as raised:
        reconcile(
            {"p": ("mandatory", {"exemptions": pack_exemptions.EXEMPTIONS, "minDays": {}})},
            parse_policy_config(config),
            source="c.json",
        )
    assert expected in str(raised.value)


def test_a_misspelt_key_in_a_stack_config_exits_2_naming_it(tmp_path):
    copy = copy_project(tmp_path)
    path = copy / "policy-pack" / "config" / "prod.json"
    data = json.loads(path.read_text())
    data["rds-multi-az"]["exemptions"][0]["reasn"] = data["rds-multi-az"]["exemptions"][0].pop(
        "reason"
    )
    path.write_text(json.dumps(data))
    result = CliRunner().invoke(app, ["preview", "prod", "--project-dir", str(copy)])
    assert result.exit_code == 2, result.output
    assert (
        "rds-multi-az.exemptions[0].reasn is not a known key; did you mean 'reason'?"
        in result.stderr
    )


def copy_project(tmp_path: Path, name: str | None = None) -> Path:
    copy = tmp_path / "fork"
    copy.mkdir()
    for item in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / item, copy / item)
    for folder in ("components", "stacks", "policy-pack"):
        shutil.copytree(
            ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__", "venv")
        )
    if name:
        project = copy / "Pulumi.yaml"
        text = project.read_text()
        assert "name: ballast\n" in text
        project.write_text(text.replace("name: ballast\n", f"name: {name}\n"))
    return copy


def test_a_renamed_project_keeps_its_exemptions(tmp_path):
    """The README's rename: every exemption of prod still excuses the same findings,
    none matches nothing, and nothing mandatory is left."""
    original = preview_stack(ROOT, "prod").policy
    renamed = preview_stack(copy_project(tmp_path, "acme-platform"), "prod").policy
    assert original is not None and renamed is not None
    assert not renamed.mandatory and not renamed.unmatched_exemptions

    def found(report, project: str) -> list[tuple[str, str]]:
        # Names start with the name prefix, which follows the project by default.
        return sorted(
            (f.diagnostic.policy, urn_parts(f.diagnostic.urn)[3].replace(project, "<p>", 1))
            for f in report.exempted
        )

    seen = found(renamed, "acme-platform")
    assert seen == found(original, "ballast")
    assert seen, "prod has reviewed exemptions"
    assert all(urn_parts(f.diagnostic.urn)[1] == "acme-platform" for f in renamed.exempted)
    assert all(f.exemption is not None and f.exemption.reason for f in renamed.exempted)


def test_an_exemption_that_matches_nothing_is_reported(tmp_path):
    copy = copy_project(tmp_path)
    path = copy / "policy-pack" / "config" / "prod.json"
    data = json.loads(path.read_text())
    data["rds-multi-az"]["exemptions"].append(
        {"type": "aws:rds/instance:Instance", "name": "gone-{stack}-db", "reason": "SEC-9"}
    )
    path.write_text(json.dumps(data))
    report = preview_stack(copy, "prod").policy
    assert report is not None
    assert [e.where for e in report.unmatched_exemptions] == ["rds-multi-az.exemptions[1]"]
    assert not report.config_shared
