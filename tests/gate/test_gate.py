"""`ballast gate`: each rule fails its failing fixture and passes its passing one, an
approval pasted from a finding makes the plan pass, and unusable input exits 2.

The fixtures are `PreviewDigest` documents written from Pulumi's Go structs
(fixtures/README.md); `test_reference_events_read_as_steps` holds their step shape to
the engine's recorded events."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from ballast.cli import app
from ballast.gate.command import environment_of
from ballast.gate.plan import REMOVING_OPS, PlanError, load_plan, parse_plan
from ballast.gate.report import MARKER
from ballast.gate.rules import (
    DOWNSIZE,
    NODE_GROUP_MAX,
    PASSROLE,
    STATEFUL,
    STATEFUL_REMOVAL,
    passrole_grants,
    size_rank,
)
from tests.conftest import CLUSTER_STACKS, ROOT, SHIPPED_STACKS, platform_config

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def run_gate(*args: str, project: Path = ROOT):
    return runner.invoke(app, ["gate", *args, "--project-dir", str(project)])


def gate_json(fixture: str, *args: str, project: Path = ROOT) -> tuple[int, dict]:
    result = run_gate(str(FIXTURES / fixture), "--json", *args, project=project)
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize(
    ("fixture", "rule", "count"),
    [
        ("downsize-fail.json", DOWNSIZE, 3),
        ("node-group-max-fail.json", NODE_GROUP_MAX, 1),
        ("stateful-fail.json", STATEFUL_REMOVAL, 2),
        ("protected-dev-fail.json", STATEFUL_REMOVAL, 1),
        ("passrole-fail.json", PASSROLE, 1),
    ],
)
def test_each_rule_fails_its_fixture(fixture, rule, count):
    code, document = gate_json(fixture)
    assert code == 1
    assert document["passed"] is False
    assert [f["rule"] for f in document["findings"]] == [rule] * count
    steps = {s.urn: s for s in load_plan((FIXTURES / fixture).read_text())}
    for finding in document["findings"]:
        # The finding names a resource of the plan, and how to approve it.
        assert finding["urn"] in steps
        assert finding["old"] and finding["new"] and finding["old"] != finding["new"]
        approve = finding["approve"]
        assert approve["key"].endswith(".exemptions")
        assert approve["entry"]["type"] == steps[finding["urn"]].type
        assert approve["entry"]["reason"]


@pytest.mark.parametrize(
    "fixture",
    [
        "downsize-pass.json",
        "node-group-max-pass.json",
        "stateful-pass.json",
        "passrole-pass.json",
        "passrole-approved.json",
    ],
)
def test_each_rule_passes_its_fixture(fixture):
    code, document = gate_json(fixture)
    assert (code, document["passed"], document["findings"]) == (0, True, [])


def test_a_plan_without_changes_passes():
    code, document = gate_json("no-changes.json", "--stack", "prod")
    assert (code, document["steps"], document["findings"]) == (0, 0, [])


def test_downsizes_are_a_prod_rule():
    for fixture in ("downsize-fail.json", "node-group-max-fail.json"):
        code, document = gate_json(fixture, "--environment", "staging")
        assert (code, document["findings"]) == (0, [])


def test_stateful_deletes_outside_prod_pass_unless_protected():
    code, document = gate_json("stateful-fail.json", "--environment", "staging")
    # The database is protected (flagged in any environment); the key is only stateful.
    assert code == 1
    assert [f["name"] for f in document["findings"]] == ["ballast-prod-db"]


def test_every_removing_op_of_a_stateful_type_is_found():
    for op in sorted(REMOVING_OPS):
        for kind in sorted(STATEFUL):
            urn = f"urn:pulumi:prod::p::{kind}::thing"
            state = {"urn": urn, "type": kind, "inputs": {}}
            digest = {"steps": [{"op": op, "urn": urn, "oldState": state}]}
            from ballast.gate.rules import evaluate

            findings, _ = evaluate(parse_plan(digest), "prod")
            assert [f.rule for f in findings] == [STATEFUL_REMOVAL], (op, kind)


def test_an_approval_pasted_from_the_finding_passes(tmp_path):
    """The entry a finding prints, written where it says, approves exactly that change."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "policy-pack" / "config", project / "policy-pack" / "config")
    code, document = gate_json("downsize-fail.json", "--environment", "prod", project=project)
    assert code == 1
    gate_config: dict = {}
    for finding in document["findings"]:
        approve = finding["approve"]
        key = approve["key"].removesuffix(".exemptions")
        entry = dict(approve["entry"], reason="CHG-42: the load moved to the new batch pool")
        entries = gate_config.setdefault(key, {"exemptions": []})["exemptions"]
        if entry not in entries:
            entries.append(entry)
        target = project / approve["file"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(gate_config))
    code, approved = gate_json("downsize-fail.json", "--environment", "prod", project=project)
    assert code == 0, approved
    assert len(approved["approved"]) == len(document["findings"])
    assert {a["approvedBy"]["reason"] for a in approved["approved"]} == {
        "CHG-42: the load moved to the new batch pool"
    }
    # The same approval does not excuse another resource's downsize.
    code, other = gate_json("node-group-max-fail.json", "--environment", "prod", project=project)
    assert code == 1
    assert [a["entry"] for a in other["unusedApprovals"]] == [
        f"{DOWNSIZE}.exemptions[0]",
        f"{DOWNSIZE}.exemptions[1]",
    ]


def test_the_ci_apply_grant_is_approved_by_the_shipped_policy_config():
    code, document = gate_json("passrole-approved.json")
    assert code == 0
    (approved,) = document["approved"]
    assert approved["rule"] == PASSROLE
    assert approved["approvedBy"]["entry"] == "iam-passrole-requires-approval.exemptions[0]"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("{", "is not valid JSON"),
        ('{"prod-shrink": {"exemptions": []}}', "unknown gate rule 'prod-shrink'"),
        ('{"passrole-added": {"exemptions": []}}', "approved in the policy config"),
        ('{"prod-downsize": []}', 'must be {"exemptions": [...]}'),
        ('{"prod-downsize": {"exemptions": [{"type": "x", "name": "y"}]}}', "has no reason"),
    ],
)
def test_a_bad_gate_config_is_a_usage_error(tmp_path, config, message):
    (tmp_path / "policy-pack" / "gate").mkdir(parents=True)
    (tmp_path / "policy-pack" / "gate" / "prod.json").write_text(config)
    result = run_gate(
        str(FIXTURES / "downsize-fail.json"), "--environment", "prod", project=tmp_path
    )
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def _truncations() -> list[int]:
    size = len((FIXTURES / "downsize-fail.json").read_text().rstrip())
    return [1, 40, size // 3, size // 2, size - 2]


@pytest.mark.parametrize("cut", _truncations())
def test_a_truncated_plan_is_a_clear_usage_error(tmp_path, cut):
    text = (FIXTURES / "downsize-fail.json").read_text()[:cut]
    plan = tmp_path / "plan.json"
    plan.write_text(text)
    result = run_gate(str(plan))
    assert result.exit_code == 2
    assert "is not valid JSON" in result.stderr
    assert "pulumi preview --json" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("error: no stack named 'prod' found\n", "is not valid JSON"),
        ("[]", "is a JSON list"),
        ('{"resources": []}', "has none of the keys"),
        ('{"steps": {"op": "update"}}', "`steps` must be a list"),
        ('{"steps": [{"op": "update"}]}', "steps[0] has no `op` or `urn`"),
        ('{"steps": [{"op": "update", "urn": "u", "oldState": 3}]}', "oldState must be an object"),
    ],
)
def test_a_document_that_is_no_preview_is_a_usage_error(tmp_path, content, message):
    plan = tmp_path / "plan.json"
    plan.write_text(content)
    result = run_gate(str(plan), "--stack", "prod")
    assert result.exit_code == 2
    assert message in result.stderr
    as_json = run_gate(str(plan), "--stack", "prod", "--json")
    assert as_json.exit_code == 2
    assert json.loads(as_json.stdout)["error"]["kind"] == "plan"


def test_a_missing_plan_file_and_an_unknown_stack_are_usage_errors(tmp_path):
    result = run_gate(str(tmp_path / "absent.json"))
    assert result.exit_code == 2 and "cannot read" in result.stderr
    result = run_gate(str(FIXTURES / "downsize-fail.json"), "--stack", "nowhere")
    assert result.exit_code == 2 and "--environment" in result.stderr


def test_the_plan_can_come_from_standard_input():
    text = (FIXTURES / "passrole-fail.json").read_text()
    result = runner.invoke(app, ["gate", "-", "--json", "--project-dir", str(ROOT)], input=text)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["findings"][0]["rule"] == PASSROLE


@pytest.mark.parametrize("stack", SHIPPED_STACKS + CLUSTER_STACKS)
def test_the_environment_comes_from_the_stack_files(stack):
    assert environment_of(ROOT, stack) == platform_config(stack).environment


def test_the_markdown_comment_carries_the_marker_and_escapes_data():
    result = run_gate(str(FIXTURES / "stateful-fail.json"), "--markdown")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == MARKER
    rows = [line for line in lines if line.startswith("| `stateful")]
    assert len(rows) == 2
    # Every row has exactly the four columns (no unescaped `|` from the data).
    for row in rows:
        assert len(row.replace("\\|", "").split("|")) == 6


def test_the_table_names_resource_change_and_approval():
    result = run_gate(str(FIXTURES / "node-group-max-fail.json"))
    assert result.exit_code == 1
    out = result.stdout
    assert "BLOCKED prod-node-group-max-below-current" in out
    assert "6 -> 4" in out
    assert "policy-pack/gate/prod.json: add to prod-node-group-max-below-current.exemptions" in out


# --- the rules' building blocks -------------------------------------------------------------


def test_size_ranks_are_ordered():
    order = ["t3.nano", "t3.micro", "t3.small", "t3.medium", "m7i.large", "m7i.xlarge"]
    order += ["m7i.2xlarge", "db.r6g.12xlarge", "m7i.metal-48xl"]
    ranks = [size_rank(t) for t in order]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    assert size_rank("not-a-type") is None


_ARNS = st.from_regex(r"arn:aws:iam::[0-9]{12}:role/[a-z]{1,8}", fullmatch=True)
_OTHER = st.sampled_from(["s3:GetObject", "ec2:Describe*", "kms:Decrypt", "iam:GetRole"])
_STATEMENTS = st.lists(
    st.builds(
        lambda action, resource: {"Effect": "Allow", "Action": action, "Resource": resource},
        _OTHER,
        _ARNS,
    ),
    max_size=4,
)


@given(statements=_STATEMENTS, arn=_ARNS, action=st.sampled_from(["iam:PassRole", "iam:*", "*"]))
def test_a_statement_that_covers_passrole_is_a_new_grant(statements, arn, action):
    before = {"Statement": statements}
    after = {"Statement": [*statements, {"Effect": "Allow", "Action": action, "Resource": arn}]}
    assert passrole_grants(before) == set()
    assert passrole_grants(after) == {arn}
    # Order and unrelated statements do not change the grants.
    assert passrole_grants({"Statement": list(reversed(after["Statement"]))}) == {arn}


def test_notaction_and_deny_statements():
    assert passrole_grants(
        {"Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]}
    ) == {"*"}
    assert (
        passrole_grants(
            {"Statement": [{"Effect": "Allow", "NotAction": "iam:Pass*", "Resource": "*"}]}
        )
        == set()
    )
    assert (
        passrole_grants(
            {"Statement": [{"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}]}
        )
        == set()
    )


# --- the fixtures against the engine's own events -------------------------------------------


def _event_steps(path: Path) -> list[dict]:
    """`resourcePreEvent` step metadata of a recorded `apitype.EngineEvent` stream turned
    into `PreviewStep`s: `old`/`new` -> `oldState`/`newState`, `diffKind` -> `kind`."""
    steps = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        event = json.loads(line).get("resourcePreEvent")
        if not event:
            continue
        meta = event["metadata"]
        step = {"op": meta["op"], "urn": meta["urn"]}
        for old, new in (("old", "oldState"), ("new", "newState")):
            if meta.get(old):
                step[new] = meta[old]
        step["detailedDiff"] = {
            k: {"kind": v.get("diffKind", v.get("kind")), "inputDiff": v.get("inputDiff", False)}
            for k, v in (meta.get("detailedDiff") or {}).items()
        }
        steps.append(step)
    return steps


def test_reference_events_read_as_steps(reference_dir):
    """The state objects of the fixtures use the field names the engine writes
    (`apitype.StepEventStateMetadata`, which mirrors `ResourceV3`), and the gate reads
    real AWS states (an EC2 replacement, EKS updates) recorded by the engine."""
    recorded = reference_dir / "pulumi-json" / "not-truncated"
    engine_fields: set[str] = set()
    engine_ops: set[str] = set()
    for name in ("webserver-userdata.json", "template-body.json", "up-4.json"):
        steps = _event_steps(recorded / name)
        parsed = parse_plan({"steps": steps}, name)
        assert len(parsed) == len(steps) > 0
        for step in steps:
            engine_ops.add(step["op"])
            for side in ("oldState", "newState"):
                engine_fields |= set(step.get(side) or {})
    replaced = [
        s for s in _event_steps(recorded / "webserver-userdata.json") if s["op"] == "replace"
    ]
    (step,) = parse_plan({"steps": replaced})
    assert step.type == "aws:ec2/instance:Instance" and step.old and step.old.inputs["instanceType"]
    # `protect` is omitted by the engine when false; every other field is one it writes.
    for fixture in sorted(FIXTURES.glob("*.json")):
        for raw in json.loads(fixture.read_text()).get("steps", []):
            for side in ("oldState", "newState"):
                extra = set(raw.get(side) or {}) - engine_fields - {"protect"}
                assert not extra, (fixture.name, side, extra)
            assert raw["op"] in engine_ops | {"create", "delete"}, (fixture.name, raw["op"])
            for diff in (raw.get("detailedDiff") or {}).values():
                assert set(diff) == {"kind", "inputDiff"}


def test_planerror_names_the_source():
    with pytest.raises(PlanError, match=r"plan\.json is not valid JSON"):
        load_plan("{", "plan.json")
