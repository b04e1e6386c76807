"""`ballast drift`: reading refresh previews, the report, noise, risk, outputs, exit codes.

Fixtures are real engine recordings (`../shared/reference/pulumi-events/`) and AWS-shaped
streams derived from them by editing values only (`drift_fixtures/README.md`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ballast.cli import app
from ballast.drift import noise, paths, risk
from ballast.drift.report import build
from ballast.drift.sources import fold_events, parse_preview_document, read_events
from tests.conftest import ROOT
from tests.reference import reference_dir

FIXTURES = Path(__file__).resolve().parent / "drift_fixtures"
DRIFT, CLEAN, TRUNCATED = (FIXTURES / f"aws-{n}.jsonl" for n in ("drift", "clean", "truncated"))
WHEN = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def events_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def by_name(report):
    return {item.name: item for item in report.drift}


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(
        app, ["drift", *args], env={"SOURCE_DATE_EPOCH": "1772366400", **(env or {})}
    )


# --- sources: recorded engine output ---------------------------------------------------


def test_recorded_refresh_update_and_delete_are_drift_and_same_is_not():
    recorded = reference_dir() / "pulumi-events/TestRefreshBasics/all-0-0/eventstream.json"
    collected = read_events(recorded)
    assert collected.complete and not collected.failures
    ops = sorted(step.op for step in collected.steps)
    assert ops == ["delete", "delete", "update"]
    assert collected.checked == sum(collected.summary.values())  # every outcome seen
    assert collected.diff_kind_field == "diffKind"


def test_recorded_failed_read_is_a_failure_not_drift():
    recorded = reference_dir() / "pulumi-events/TestRefreshV2FailedRead/1/eventstream.json"
    report = build(read_events(recorded), ignore_rules=(), checked_at=WHEN)
    assert report.exit_code == 2 and not report.drift
    assert any(f.urn and f.urn.endswith("::resA") for f in report.failures)


def test_every_recorded_stream_reads_without_error():
    folder = reference_dir() / "pulumi-events"
    streams = sorted(folder.rglob("eventstream.json"))
    assert len(streams) > 50
    for stream in streams:
        collected = read_events(stream)
        build(collected, ignore_rules=(), checked_at=WHEN)  # no exception


def test_the_aws_fixture_report():
    report = build(read_events(DRIFT), ignore_rules=(), checked_at=WHEN)
    items = by_name(report)
    assert set(items) == {
        "prod-endpoints-sg",
        "prod-cluster-role",
        "prod-logs",
        "prod-db",
        "prod-db-failover",
        "prod-secrets-key",
    }
    sg = items["prod-endpoints-sg"]
    assert sg.component.name == "prod-network" and sg.level == "high"
    change = {rc.change.path: rc.change for rc in sg.changes}
    assert change["ingress[0].cidrBlocks[0]"].old == "10.0.0.0/16"
    assert change["ingress[0].cidrBlocks[0]"].new == "0.0.0.0/0"
    assert change["ingress[1]"].old is paths.MISSING and change["ingress[1]"].new["fromPort"] == 22
    assert items["prod-secrets-key"].op == "delete" and items["prod-secrets-key"].level == "high"
    assert [rc.change.replace for rc in items["prod-db-failover"].changes] == [True]
    assert report.collected.providers == {"aws": "7.51.0"}
    assert report.collected.stack == "prod"


def test_secrets_never_appear():
    report = build(read_events(DRIFT), ignore_rules=(), checked_at=WHEN)
    password = next(
        rc.change for rc in by_name(report)["prod-db"].changes if rc.change.path == "password"
    )
    assert password.old == password.new == "[secret]"
    document = json.dumps(report.to_json())
    assert "ciphertext" not in document and paths.SIG_KEY not in document


def test_lookup_stops_at_a_secret_and_masks_inside():
    sig = {paths.SIG_KEY: paths.SECRET_SIG, "plaintext": "hunter2"}
    assert paths.lookup({"a": sig}, ("a", "b", 0)) == "[secret]"
    assert paths.masked({"x": [sig, 1]}) == {"x": ["[secret]", 1]}


@pytest.mark.parametrize(
    "path", ["a.b[0].c", 'tags["kubernetes.io/cluster/dev"]', "ingress[1]", "a"]
)
def test_paths_round_trip(path):
    assert paths.format_path(paths.parse(path)) == path


def test_truncated_stream_gives_a_partial_report_and_exit_2():
    report = build(read_events(TRUNCATED), ignore_rules=(), checked_at=WHEN)
    assert not report.collected.complete and report.exit_code == 2
    assert [item.name for item in report.drift] == ["prod-endpoints-sg"]
    result = run("prod", "--events", str(TRUNCATED), "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["drift"][0]["name"] == "prod-endpoints-sg"


def test_clean_stream_is_exit_0():
    result = run("prod", "--events", str(CLEAN))
    assert result.exit_code == 0, result.output


def test_preview_json_document_gives_the_same_drift_as_the_events():
    """A `--json` document built from the same steps (kind instead of diffKind,
    oldState/newState instead of old/new) reports the same drift."""
    steps = []
    for event in events_of(DRIFT):
        meta = (event.get("resOutputsEvent") or {}).get("metadata")
        if not meta:
            continue
        step = {
            "op": meta["op"],
            "urn": meta["urn"],
            "provider": meta["provider"],
            "oldState": meta["old"],
            "newState": meta["new"],
        }
        if meta.get("detailedDiff"):
            step["detailedDiff"] = {
                p: {"kind": d["diffKind"], "inputDiff": d["inputDiff"]}
                for p, d in meta["detailedDiff"].items()
            }
            step["diffReasons"] = meta["diffs"]
        steps.append(step)
    collected = parse_preview_document({"steps": steps, "changeSummary": {"update": 6}})
    from_json = build(collected, ignore_rules=(), checked_at=WHEN).to_json()
    from_events = build(read_events(DRIFT), ignore_rules=(), checked_at=WHEN).to_json()
    assert from_json["drift"] == from_events["drift"]
    assert collected.diff_kind_field == "kind"


@pytest.mark.parametrize(
    ("content", "flag", "message"),
    [
        ("not json\n", "--events", "line 1 is not JSON"),
        ('{"sequence": 0}\n', "--events", "not an engine event"),
        ('{"steps": [], "changeSummary": {}}\n', "--events", "read it with --preview-json"),
        ('{"sequence":0,"preludeEvent":{}}\n', "--preview-json", "read an event log with --events"),
        ("[1, 2]", "--preview-json", "not a `pulumi refresh --preview-only --json` document"),
    ],
)
def test_wrong_shapes_are_one_sentence_and_exit_2(tmp_path, content, flag, message):
    path = tmp_path / "input.json"
    path.write_text(content)
    result = run("prod", flag, str(path))
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_unreadable_file_is_exit_2(tmp_path):
    result = run("prod", "--events", str(tmp_path / "missing.jsonl"))
    assert result.exit_code == 2 and "cannot read event log" in result.stderr


# --- noise and .driftignore ------------------------------------------------------------


def test_built_in_noise_is_counted_and_shown_with_its_reason():
    report = build(read_events(DRIFT), ignore_rules=(), checked_at=WHEN)
    ignored = {(i.urn.rpartition("::")[2], i.path): i.rule for i in report.ignored}
    assert ("prod-logs", "tagsAll.owner") in ignored
    assert ("prod-system", "scalingConfig.desiredSize") in ignored
    assert report.counts()["ignoredChanges"] == 2
    assert report.counts()["ignoredResources"] == 1  # the node group: nothing else drifted
    assert all(rule.reason for rule in ignored.values())


def test_driftignore_sets_drift_aside_and_ignored_alone_is_exit_0(tmp_path):
    ignore = tmp_path / ".driftignore"
    ignore.write_text("# accepted drift\naws:* | reviewed in the drift drill, ticket #42\n")
    result = run("prod", "--events", str(DRIFT), "--driftignore", str(ignore), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["drift"] == [] and document["counts"]["ignoredChanges"] >= 6
    assert {i["reason"] for i in document["ignored"]} >= {"reviewed in the drift drill, ticket #42"}


def test_driftignore_paths_and_urn_globs():
    rules = noise.parse_ignore_file(
        "urn:pulumi:prod::*::prod-db deletionProtection | DBA toggles it for maintenance\n"
        "aws:ec2/securityGroup:SecurityGroup ingress | the WAF team edits ingress\n",
        ".driftignore",
    )
    report = build(read_events(DRIFT), ignore_rules=rules, checked_at=WHEN)
    items = by_name(report)
    assert "prod-endpoints-sg" not in items
    assert [rc.change.path for rc in items["prod-db"].changes] == ["password"]


def test_expired_entry_no_longer_applies_and_is_reported():
    rules = noise.parse_ignore_file(
        "aws:kms/key:Key | key rotation project | expires 2026-02-01\n", "f"
    )
    report = build(read_events(DRIFT), ignore_rules=rules, checked_at=WHEN)
    assert "prod-secrets-key" in by_name(report)
    assert [rule.source for rule in report.expired] == ["f:1"]
    rules = noise.parse_ignore_file(
        "aws:kms/key:Key | key rotation project | expires 2026-04-01\n", "f"
    )
    assert "prod-secrets-key" not in by_name(
        build(read_events(DRIFT), ignore_rules=rules, checked_at=WHEN)
    )


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("aws:s3/bucketV2:BucketV2 tags", "a reason is required"),
        ("aws:s3/bucketV2:BucketV2 tags |  ", "a reason is required"),
        ("bucket | why", "neither a URN glob"),
        ("aws:* | why | expires tomorrow", "expires YYYY-MM-DD"),
        ("aws:* | why | expires 2026-02-30", "expires YYYY-MM-DD"),
        ("aws:* a b | why", "before the '|'"),
    ],
)
def test_bad_driftignore_lines_name_the_line_and_exit_2(tmp_path, line, fragment):
    ignore = tmp_path / ".driftignore"
    ignore.write_text("# first line is a comment\n" + line + "\n")
    with pytest.raises(noise.IgnoreFileError, match=":2:"):
        noise.parse_ignore_file(ignore.read_text(), str(ignore))
    result = run("prod", "--events", str(CLEAN), "--driftignore", str(ignore))
    assert result.exit_code == 2 and f"{ignore}:2" in result.stderr and fragment in result.stderr


# --- risk ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "path", "level"),
    [
        ("aws:iam/role:Role", "assumeRolePolicy", "high"),
        ("aws:iam/rolePolicy:RolePolicy", "policy", "high"),
        ("aws:ec2/securityGroup:SecurityGroup", "ingress[0].cidrBlocks[0]", "high"),
        ("aws:ec2/networkAclRule:NetworkAclRule", "cidrBlock", "high"),
        ("aws:kms/key:Key", "policy", "high"),
        ("aws:s3/bucketPolicy:BucketPolicy", "policy", "high"),
        ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "blockPublicAcls", "high"),
        ("aws:eks/accessEntry:AccessEntry", "kubernetesGroups[0]", "high"),
        ("aws:eks/cluster:Cluster", "vpcConfig.endpointPublicAccess", "high"),
        ("aws:cloudtrail/trail:Trail", "enableLogFileValidation", "high"),
        ("aws:guardduty/detector:Detector", "enable", "high"),
        ("aws:route53/record:Record", "failoverRoutingPolicies[0].type", "high"),
        ("aws:rds/instance:Instance", "storageEncrypted", "medium"),
        ("aws:eks/cluster:Cluster", "enabledClusterLogTypes[0]", "medium"),
        ("aws:rds/instance:Instance", "backupRetentionPeriod", "medium"),
        ("aws:rds/instance:Instance", "deletionProtection", "medium"),
        ("aws:eks/nodeGroup:NodeGroup", "scalingConfig.maxSize", "low"),
        ("aws:s3/bucketV2:BucketV2", "tags.owner", "low"),
        ("aws:ec2/vpc:Vpc", "enableDnsHostnames", "medium"),
    ],
)
def test_risk_per_category(type_, path, level):
    assert risk.classify(type_, path).level == level


def test_risk_concerns_and_policies_are_the_packs():
    sys.path.insert(0, str(ROOT / "policy-pack"))
    try:
        from ballast_guardrails import data, delivery, eks, iam, kubernetes, network, tagging  # noqa: F401
        from ballast_guardrails.spec import CONCERNS, meta_of, registered
    finally:
        sys.path.remove(str(ROOT / "policy-pack"))
    names = {meta_of(p).name for p in registered()}
    assert risk.referenced_policies() <= names
    assert {r.risk.concern for r in risk.RULES if r.risk.concern} <= set(CONCERNS)


def test_report_is_sorted_by_risk_then_component():
    report = build(read_events(DRIFT), ignore_rules=(), checked_at=WHEN)
    keys = [(risk.rank(i.level), i.component.label if i.component else "") for i in report.drift]
    assert keys == sorted(keys)


# --- outputs ---------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--json", "--markdown"])
def test_outputs_are_byte_stable_and_written_atomically(tmp_path, flag):
    first = run("prod", "--events", str(DRIFT), flag, "--output", str(tmp_path / "a"))
    second = run("prod", "--events", str(DRIFT), flag, "--output", str(tmp_path / "b"))
    assert first.exit_code == second.exit_code == 1
    assert first.stdout == second.stdout
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == first.stdout.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_json_document_fields():
    document = json.loads(run("prod", "--events", str(DRIFT), "--json").stdout)
    assert document["schemaVersion"] == 1 and document["stack"] == "prod"
    assert document["checkedAt"] == "2026-03-01T12:00:00Z"
    assert document["counts"]["byRisk"] == {
        level: sum(1 for d in document["drift"] if d["risk"] == level)
        for level in ("high", "medium", "low")
    }
    assert document["versions"]["providers"] == {"aws": "7.51.0"}
    for item in document["drift"]:
        assert item["remediation"]["restoreCode"]["command"].startswith(
            "pulumi up --stack prod --refresh --target "
        )


def test_markdown_names_every_drifted_resource_and_path():
    out = run("prod", "--events", str(DRIFT), "--markdown", "--remediate").stdout
    assert "### High risk (4)" in out and "`ingress[0].cidrBlocks[0]`" in out
    assert "pulumi refresh --stack prod --target" in out and "ciphertext" not in out


# --- the Automation API path -----------------------------------------------------------

FAKE = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_PULUMI_CALLS"], "a") as calls:
    calls.write(json.dumps(args) + "\\n")
if args[:1] == ["version"]:
    print(os.environ["FAKE_PULUMI_VERSION"])
    sys.exit(0)
args = [a for a in args if a != "--non-interactive"]
if args[:2] == ["stack", "select"]:
    stack = args[args.index("--stack") + 1]
    if stack != "prod":
        sys.stderr.write("error: no stack named '" + stack + "' found\\n")
        sys.exit(255)
    sys.exit(0)
if args[:2] == ["refresh", "--preview-only"]:
    if os.environ.get("FAKE_PULUMI_NO_CREDENTIALS"):
        sys.stderr.write("error: No valid credential sources found\\n")
        sys.exit(255)
    target = args[args.index("--event-log") + 1]
    lines = open(os.environ["FAKE_PULUMI_EVENTS"]).read().splitlines()
    if target.startswith("tcp://"):
        import grpc
        from pulumi.runtime.proto import events_pb2, events_pb2_grpc
        with grpc.insecure_channel(target[len("tcp://"):]) as channel:
            stub = events_pb2_grpc.EventsStub(channel)
            stub.StreamEvents(iter([events_pb2.EventRequest(event=l) for l in lines if l]), timeout=30)
    else:
        with open(target, "a") as log:
            for line in lines:
                log.write(line + "\\n")
    sys.exit(0)
sys.stderr.write("error: unexpected command " + " ".join(args) + "\\n")
sys.exit(2)
"""


@pytest.fixture
def fake_pulumi(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(FAKE.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_CALLS", str(tmp_path / "calls.jsonl"))
    monkeypatch.setenv("FAKE_PULUMI_EVENTS", str(DRIFT))
    monkeypatch.delenv("PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK", raising=False)
    return tmp_path / "calls.jsonl"


@pytest.mark.parametrize("version", ["v3.272.0", "v3.200.0"])  # gRPC event stream / event-log file
def test_automation_api_gives_the_same_report_as_the_event_log(fake_pulumi, monkeypatch, version):
    monkeypatch.setenv("FAKE_PULUMI_VERSION", version)
    live = run("prod", "--json", "--project-dir", str(ROOT))
    recorded = run("prod", "--events", str(DRIFT), "--json")
    assert live.exit_code == recorded.exit_code == 1, live.output
    live_doc, recorded_doc = json.loads(live.stdout), json.loads(recorded.stdout)
    assert live_doc["source"] == "automation" and live_doc["versions"]["pulumi"] == version[1:]
    for key in ("drift", "ignored", "counts"):
        assert live_doc[key] == recorded_doc[key]
    calls = [json.loads(line) for line in fake_pulumi.read_text().splitlines()]
    refresh = next(call for call in calls if "refresh" in call)
    assert "--preview-only" in refresh and refresh[refresh.index("--stack") + 1] == "prod"


def test_automation_api_unknown_stack_and_no_credentials_are_one_sentence(fake_pulumi, monkeypatch):
    monkeypatch.setenv("FAKE_PULUMI_VERSION", "v3.272.0")
    result = run("staging", "--project-dir", str(ROOT))
    assert result.exit_code == 2 and "stack staging does not exist" in result.stderr
    monkeypatch.setenv("FAKE_PULUMI_NO_CREDENTIALS", "1")
    result = run("prod", "--project-dir", str(ROOT))
    assert result.exit_code == 2 and "no usable credentials" in result.stderr
    assert "Traceback" not in result.output


def test_no_pulumi_cli_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run("prod", "--project-dir", str(ROOT))
    assert result.exit_code == 2 and "Pulumi CLI is not installed" in result.stderr


# --- remediation -----------------------------------------------------------------------


def test_yes_refuses_prod_without_allow_prod(fake_pulumi, monkeypatch):
    monkeypatch.setenv("FAKE_PULUMI_VERSION", "v3.272.0")
    result = run("prod", "--remediate", "--yes", "--project-dir", str(ROOT))
    assert result.exit_code == 2 and "--allow-prod" in result.stderr
    calls = [json.loads(line) for line in fake_pulumi.read_text().splitlines()]
    assert not any("up" in call for call in calls)


def test_prod_detection_reads_the_stack_environment():
    from ballast.drift.remediate import is_prod

    assert (
        is_prod(ROOT, "prod") and is_prod(ROOT, "prod-cluster") and is_prod(ROOT, "no-such-stack")
    )
    assert not is_prod(ROOT, "dev") and not is_prod(ROOT, "dev-cluster")


def test_fold_events_progress_counts_resources():
    seen: list[int] = []
    fold_events(events_of(DRIFT), on_checked=seen.append)
    assert seen == list(range(1, len(seen) + 1)) and seen[-1] == 8


@pytest.mark.tool
def test_nightly_workflow_is_actionlint_clean_and_pins_actions_by_sha():
    import re
    import subprocess

    from tests.conftest import require_tool

    workflow = ROOT / ".github" / "workflows" / "drift.yml"
    uses = re.findall(r"uses:\s*(\S+)", workflow.read_text())
    # Third-party actions by commit; the repository's own composite action by path.
    assert uses and all(
        re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) or u.startswith("./.github/actions/")
        for u in uses
    )
    result = subprocess.run(
        [require_tool("actionlint"), str(workflow)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
