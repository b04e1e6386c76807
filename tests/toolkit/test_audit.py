"""`ballast audit` end to end against moto's server on 127.0.0.1 (the real HTTP path).

One server and one seeded estate per module (seeding is the slow part): every check
has a positive and a negative case in it (`ballast.audit.seed`), audited across two
accounts (the second entered with sts:AssumeRole) and two regions. Faults are injected
with botocore event hooks on the audit's own clients (answers AWS would give: 403
AccessDenied, 429 throttling, an unparsable body) and with an endpoint nothing listens
on. moto differences handled: every EKS node group gets a default SSH key there (the
seed's `corrections()` hook removes it from groups created without one); ages come from
an audit clock set after the seed's split (moto stamps creations with the current time).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from typer.testing import CliRunner

from ballast.audit import render
from ballast.audit.backlog import build_backlog
from ballast.audit.checks import PRICES, REGISTRY, Thresholds
from ballast.audit.demo import DEMO_STOP_TIMEOUT_S, demo_options
from ballast.audit.run import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INCOMPLETE,
    AuditOptions,
    AuditResult,
    audit,
)
from ballast.audit.scope import ClientSettings, ScopeError
from ballast.audit.seed import CREDENTIALS, SECOND_ACCOUNT, Seeded, seed
from ballast.cli import app
from ballast.emulator import MotoServer, free_port
from tests.conftest import ROOT

#: One session for every audit here: service models load once.
SESSION = boto3.Session(region_name="us-east-1", **CREDENTIALS)


@pytest.fixture(scope="module")
def server():
    # Its state is thrown away: killed after DEMO_STOP_TIMEOUT_S instead of waiting
    # seconds for moto to tear the estate down.
    with MotoServer(stop_timeout=DEMO_STOP_TIMEOUT_S) as moto:
        yield moto


@pytest.fixture(scope="module")
def seeded(server) -> Seeded:
    return seed(server.url, session=SESSION)


def options(server, seeded: Seeded, **changes: Any) -> AuditOptions:
    """The seeded estate's audit options (as --demo builds them), with `changes`;
    `hooks` are added to the seed's corrections, `client` fields go to the client."""
    base = demo_options(AuditOptions(workers=16), server.url, seeded, SESSION)
    client = dataclasses.replace(
        base.client,
        max_attempts=changes.pop("max_attempts", 2),
        hooks=base.client.hooks + tuple(changes.pop("hooks", ())),
        service_endpoints=changes.pop("service_endpoints", {}),
        connect_timeout=1.0,
        read_timeout=10.0,
    )
    return dataclasses.replace(base, client=client, **changes)


@pytest.fixture(scope="module")
def result(server, seeded) -> AuditResult:
    return audit(options(server, seeded))


def flagged(result: AuditResult, check: str) -> set[str]:
    return {f.resource for f in result.findings if f.check == check}


def test_every_check_has_a_seeded_case(seeded):
    assert len(REGISTRY) >= 35
    assert set(REGISTRY) <= set(seeded.cases)


@pytest.mark.parametrize("check", sorted(REGISTRY))
def test_check_flags_the_positive_case_and_not_the_negative(result, seeded, check):
    case = seeded.cases[check]
    found = flagged(result, check)
    assert case["positive"] in found, f"{check} missed {case['positive']}: {sorted(found)}"
    assert case["negative"] not in found, f"{check} flagged the clean {case['negative']}"


def test_wildcard_admin_is_admin(result, seeded):
    case = seeded.cases["iam-admin-access-wildcard"]
    found = flagged(result, "iam-admin-access")
    assert case["positive"] in found and case["negative"] not in found


def test_the_complete_run_has_no_errors_and_exit_one(result, seeded):
    assert result.errors == []
    assert result.exit_code == EXIT_FINDINGS
    assert sorted(result.accounts) == sorted(seeded.accounts)
    assert result.regions == seeded.regions
    assert result.calls > 0


def test_second_account_read_through_its_assumed_role(result, seeded):
    """Findings of the second account carry its id, and its resources are its own
    (the trail bucket named after it), not the caller's."""
    second = [f for f in result.findings if f.account == SECOND_ACCOUNT]
    assert second
    buckets = {r.id for r in result.resources if r.kind == "bucket" and r.account == SECOND_ACCOUNT}
    assert buckets == {f"trail-{SECOND_ACCOUNT}"}


def test_waste_findings_carry_a_monthly_cost(result):
    for f in result.findings:
        if REGISTRY[f.check].theme == "cost":
            assert f.monthly_cost is not None and f.monthly_cost > 0, f
    volume = next(f for f in result.findings if f.check == "ebs-volume-unattached")
    price = PRICES[volume.evidence["type"]]
    assert volume.monthly_cost == pytest.approx(volume.evidence["size_gb"] * price)


def test_prevented_by_names_existing_policies_and_components():
    sys.path.insert(0, str(ROOT / "policy-pack"))
    try:
        from ballast_guardrails import POLICIES
    finally:
        sys.path.remove(str(ROOT / "policy-pack"))
    import pulumi

    import components.audit_trail
    import components.cluster.component
    import components.database
    import components.identity
    import components.network
    import components.org_guardrails
    import components.platform
    import components.resilience

    modules = [components.audit_trail, components.cluster.component, components.database,
               components.identity, components.network, components.org_guardrails,
               components.platform, components.resilience]  # fmt: skip
    classes = {
        name
        for module in modules
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, pulumi.ComponentResource)
    }
    policies = {p.name for p in POLICIES}
    for c in REGISTRY.values():
        for entry in c.prevented_by:
            kind, _, name = entry.partition(":")
            known = policies if kind == "policy" else classes if kind == "component" else set()
            assert name in known, f"{c.id}: prevented_by {entry!r} names nothing that exists"


# --- faults --------------------------------------------------------------------------


class _Body:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_: Any):
        yield self.body


def answer(status: int, body: bytes, **headers: str):
    """A before-send hook body: AWS's answer without sending the request."""

    def hook(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, status, headers, _Body(body))

    return hook


def only_in(region: str, hook):
    def scoped(request: Any, **kwargs: Any) -> AWSResponse | None:
        return (
            hook(request, **kwargs)
            if f".{region}." in request.url
            or region in str(request.headers.get("Authorization", b""))
            else None
        )

    return scoped


def test_access_denied_on_one_service_in_one_region(server, seeded):
    denied = answer(
        403, b'{"message": "not authorized"}', **{"x-amzn-ErrorType": "AccessDeniedException"}
    )
    run = audit(options(server, seeded, services=("guardduty", "backup"),
                        hooks=[("before-send.guardduty.ListDetectors", only_in("eu-west-1", denied))]))  # fmt: skip
    assert [(e.account, e.region, e.service, e.operation, e.kind) for e in run.errors] == [
        (a, "eu-west-1", "guardduty", "ListDetectors", "access-denied")
        for a in sorted(seeded.accounts)
    ]
    # What could not be read is not reported as off; everything else is kept.
    assert {f.region for f in run.findings if f.check == "guardduty-off"} == {"us-east-1"}
    assert seeded.cases["backup-no-plan"]["positive"] in flagged(run, "backup-no-plan")
    assert run.exit_code == EXIT_INCOMPLETE


def test_throttling_is_retried_then_reported(server, seeded):
    calls = []

    def throttled(request: Any, **_: Any) -> AWSResponse:
        calls.append(request.url)
        return answer(
            400, b'{"message": "Rate exceeded"}', **{"x-amzn-ErrorType": "ThrottlingException"}
        )(request)

    run = audit(options(server, seeded, services=("backup",), accounts=[seeded.accounts[0]],
                        regions=["us-east-1"], max_attempts=2,
                        hooks=[("before-send.backup.ListBackupPlans", throttled)]))  # fmt: skip
    assert len(calls) > 1  # retried (adaptive mode) before it gave up
    assert [(e.service, e.kind) for e in run.errors] == [("backup", "throttled")]
    assert run.exit_code == EXIT_INCOMPLETE


def test_unreachable_endpoint_for_one_service(server, seeded):
    closed = f"http://127.0.0.1:{free_port()}"
    run = audit(options(server, seeded, services=("secretsmanager", "guardduty"),
                        accounts=[seeded.accounts[0]], regions=["us-east-1"], max_attempts=1,
                        service_endpoints={"secretsmanager": closed}))  # fmt: skip
    assert [(e.service, e.operation, e.kind) for e in run.errors] == [
        ("secretsmanager", "ListSecrets", "unreachable")
    ]
    assert run.exit_code == EXIT_INCOMPLETE


def test_a_failed_part_of_a_bucket_names_its_call_and_keeps_the_other_buckets(server, seeded):
    """A bucket's seven calls run side by side (a Gather): the one that fails is the
    one named, that bucket is left out rather than judged on half its answers, and every
    other bucket is still read and checked."""
    public = seeded.cases["s3-public-policy"]["positive"].removeprefix("arn:aws:s3:::")
    denied = answer(403, b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>",
                    **{"Content-Type": "application/xml"})  # fmt: skip

    def on_one_bucket(request: Any, **kwargs: Any) -> AWSResponse | None:
        return denied(request, **kwargs) if f"/{public}" in request.url else None

    run = audit(options(server, seeded, services=("s3",), accounts=[seeded.accounts[0]],
                        max_attempts=1,
                        hooks=[("before-send.s3.GetBucketEncryption", on_one_bucket)]))  # fmt: skip
    assert [(e.service, e.operation, e.kind) for e in run.errors] == [
        ("s3", "GetBucketEncryption", "access-denied")
    ]
    buckets = {r.id for r in run.resources if r.kind == "bucket"}
    assert public not in buckets
    assert buckets, "the other buckets were read"
    unversioned = seeded.cases["s3-unversioned"]["positive"]
    if unversioned != f"arn:aws:s3:::{public}":
        assert unversioned in flagged(run, "s3-unversioned")
    assert run.exit_code == EXIT_INCOMPLETE


def test_malformed_answer_is_an_error_not_a_crash(server, seeded):
    garbage = answer(
        200, b"<DescribeVolumesResponse><volumeSet><item>", **{"Content-Type": "text/xml"}
    )
    run = audit(options(server, seeded, services=("ec2",), accounts=[seeded.accounts[0]],
                        regions=["us-east-1"],
                        hooks=[("before-send.ec2.DescribeVolumes", garbage)]))  # fmt: skip
    assert [(e.operation, e.kind) for e in run.errors] == [("DescribeVolumes", "malformed")]
    assert seeded.cases["eip-unassociated"]["positive"] in flagged(run, "eip-unassociated")


def test_an_account_whose_role_cannot_be_assumed(server, seeded):
    def deny_second(request: Any, **_: Any) -> AWSResponse | None:
        body = request.body or b""
        if SECOND_ACCOUNT not in (body.decode() if isinstance(body, bytes) else body):
            return None
        body = (b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                b"<Message>not authorized to perform sts:AssumeRole</Message></Error></ErrorResponse>")  # fmt: skip
        return answer(403, body)(request)

    run = audit(options(server, seeded, services=("guardduty",),
                        hooks=[("before-send.sts.AssumeRole", deny_second)]))  # fmt: skip
    assert [(e.account, e.service, e.kind) for e in run.errors] == [
        (SECOND_ACCOUNT, "sts", "access-denied")
    ]
    assert run.accounts == [seeded.accounts[0]]
    assert run.exit_code == EXIT_INCOMPLETE


def test_no_endpoint_at_all_is_an_environment_error(seeded):
    closed = f"http://127.0.0.1:{free_port()}"
    opts = dataclasses.replace(
        AuditOptions(
            regions=["us-east-1"], session=boto3.Session(region_name="us-east-1", **CREDENTIALS)
        ),
        client=ClientSettings(endpoint_url=closed, max_attempts=1, connect_timeout=1.0),
    )
    with pytest.raises(ScopeError, match="sts:GetCallerIdentity"):
        audit(opts)


def test_clean_scope_exits_zero(server, seeded):
    """Backup in the region that has a plan: nothing to find."""
    run = audit(options(server, seeded, services=("backup",), accounts=[seeded.accounts[0]],
                        regions=["us-east-1"]))  # fmt: skip
    assert run.findings == [] and run.errors == []
    assert run.exit_code == EXIT_CLEAN


def test_age_checks_follow_the_clock(server, seeded):
    """Audited the day of the split, nothing is old yet."""
    run = audit(options(server, seeded, services=("ec2",), accounts=[seeded.accounts[0]],
                        regions=["us-east-1"], now=seeded.split + timedelta(days=1),
                        thresholds=Thresholds(image_days=90, snapshot_days=90)))  # fmt: skip
    assert not flagged(run, "ami-old-unused") and not flagged(run, "ebs-snapshot-old")


# --- outputs -------------------------------------------------------------------------


def test_backlog_groups_and_ranks(result):
    backlog = build_backlog(result.findings)
    assert [b.rank for b in backlog] == list(range(1, len(backlog) + 1))
    assert [b.score for b in backlog] == sorted((b.score for b in backlog), reverse=True)
    assert sum(len(b.resources) for b in backlog) == len(result.findings)
    for b in backlog:
        assert b.type in ("quick win", "medium", "strategic") and b.points >= 1
        assert b.theme in ("security", "reliability", "cost", "delivery")
    tiered = next(b for b in backlog if b.check == "rds-public")
    assert tiered.business_dependency["tier"] == ["tier-1"]
    assert tiered.business_dependency["service"] == ["checkout"]


def test_reports_are_stable_and_complete(result):
    backlog = build_backlog(result.findings)
    doc = render.document(result, backlog, None)
    assert set(doc) >= {"findings", "backlog", "coverage", "errors", "stats"}
    assert set(doc["stats"]) >= {"calls", "seconds", "regions", "accounts"}
    assert render.to_json(doc) == render.to_json(json.loads(render.to_json(doc)))
    rows = list(csv.DictReader(io.StringIO(render.to_csv(backlog))))
    assert len(rows) == len(backlog)
    assert rows[0]["Summary"] == backlog[0].title and rows[0]["Story Points"] == str(
        backlog[0].points
    )
    markdown = render.to_markdown(doc)
    assert render.to_markdown(doc) == markdown
    assert all(f["resource"].replace("|", "\\|") in markdown for f in doc["findings"])


def test_cli_writes_every_report(server, seeded, tmp_path, monkeypatch):
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key.upper(), value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    files = {k: tmp_path / f"report.{k}" for k in ("json", "csv", "md")}
    outcome = CliRunner().invoke(app, [
        "audit", "--endpoint-url", server.url, "--regions", "us-east-1",
        "--services", "s3,backup", "--json", str(files["json"]), "--csv", str(files["csv"]),
        "--markdown", str(files["md"]),
    ])  # fmt: skip
    assert outcome.exit_code == EXIT_FINDINGS, outcome.output
    doc = json.loads(files["json"].read_text())
    assert doc["stats"]["accounts"] == [seeded.accounts[0]]
    assert {f["check"] for f in doc["findings"]} >= {"s3-public-acl"}
    assert files["csv"].read_text().startswith("Rank,Summary")
    assert files["md"].read_text().startswith("# Ballast audit")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--accounts", "12345"], "12 digits"),
        (["--regions", "eu-west-9"], "eu-west-9"),
        (["--services", "ec3"], "ec3"),
        (["--import-file", "x.json"], "--state"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_two(args, message, tmp_path):
    outcome = CliRunner().invoke(app, ["audit", *args, "--json", str(tmp_path / "r.json")])
    assert outcome.exit_code == 2
    assert message in outcome.output
    assert not (tmp_path / "r.json").exists()


# --- IaC coverage --------------------------------------------------------------------


def stack_export(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A `pulumi stack export` document (version 3) holding `resources` (type, name, id,
    outputs) under a stack and an AWS provider, as the CLI writes it."""
    stack = "urn:pulumi:dev::ballast::pulumi:pulumi:Stack::ballast-dev"
    provider = "urn:pulumi:dev::ballast::pulumi:providers:aws::aws-us-east-1"
    entries = [
        {"urn": stack, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {}},
        {"urn": provider, "custom": True, "id": "6a2b1c", "type": "pulumi:providers:aws",
         "inputs": {"region": "us-east-1"}, "outputs": {"region": "us-east-1"}, "parent": stack},
    ]  # fmt: skip
    for r in resources:
        entries.append({
            "urn": f"urn:pulumi:dev::ballast::{r['type']}::{r['name']}", "custom": True,
            "id": r["id"], "type": r["type"], "inputs": {}, "outputs": {"id": r["id"], **r.get("outputs", {})},
            "parent": stack, "provider": f"{provider}::6a2b1c",
        })  # fmt: skip
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-11-30T10:00:00Z", "magic": "x", "version": "v3.272.0"},
            "secrets_providers": {"type": "passphrase", "state": {}},
            "resources": entries,
        },
    }


def test_coverage_and_import_file(result, tmp_path):
    from ballast.audit.coverage import coverage, import_document, managed_ids

    def one(kind: str, name: str):
        return next(r for r in result.resources if r.kind == kind and (r.name or r.id) == name)

    bucket, role, db = (
        one("bucket", "governed-data"),
        one("role", "reader"),
        one("db-instance", "governed-db"),
    )
    lb = one("load-balancer", "governed-alb")
    export = stack_export([
        {"type": "aws:s3/bucket:Bucket", "name": "data", "id": bucket.id, "outputs": {"arn": bucket.arn}},
        {"type": "aws:iam/role:Role", "name": "reader", "id": role.name, "outputs": {"arn": role.arn}},
        {"type": "aws:rds/instance:Instance", "name": "db", "id": "db-ABCDEFG", "outputs": {"arn": db.arn}},
    ])  # fmt: skip
    terraform = {"version": 4, "terraform_version": "1.9.0", "resources": [
        {"mode": "managed", "type": "aws_lb", "name": "web", "instances": [{"attributes": {"id": lb.arn, "arn": lb.arn}}]},
        {"mode": "data", "type": "aws_iam_role", "name": "ro", "instances": [{"attributes": {"id": "legacy-admin"}}]},
    ]}  # fmt: skip
    (tmp_path / "dev.json").write_text(json.dumps(export))
    (tmp_path / "terraform.tfstate").write_text(json.dumps(terraform))
    ids = managed_ids([tmp_path / "dev.json", tmp_path / "terraform.tfstate"])
    report = coverage(result.resources, ids)
    managed_keys = {bucket.key, role.key, db.key, lb.key}
    unmanaged = {u["resource"] for u in report["unmanaged"]}
    assert not managed_keys & unmanaged
    assert report["managed"] == 4 and report["total"] == report["managed"] + len(unmanaged)
    assert report["percent"] == round(100 * 4 / report["total"], 1)
    assert report["by_service"]["rds"]["managed"] == 1
    assert one("role", "legacy-admin").key in unmanaged  # a data source manages nothing
    document = import_document(result.resources, ids)
    ids_imported = {e["id"] for e in document["resources"]}
    assert bucket.id not in ids_imported and lb.arn not in ids_imported
    assert len(document["resources"]) == len(unmanaged)
    assert len({e["name"] for e in document["resources"]}) == len(document["resources"])
    assert all(e["type"].startswith("aws:") for e in document["resources"])


def test_cli_state_and_import_file(server, seeded, tmp_path, monkeypatch):
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key.upper(), value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    export = stack_export([{"type": "aws:s3/bucket:Bucket", "name": "data", "id": "governed-data"}])
    (tmp_path / "dev.json").write_text(json.dumps(export))
    outcome = CliRunner().invoke(app, [
        "audit", "--endpoint-url", server.url, "--regions", "us-east-1", "--services", "s3",
        "--state", str(tmp_path / "dev.json"), "--import-file", str(tmp_path / "import.json"),
        "--json", "-",
    ])  # fmt: skip
    assert outcome.exit_code == EXIT_FINDINGS, outcome.output
    doc = json.loads(outcome.stdout)
    assert doc["coverage"]["by_service"]["s3"]["managed"] == 1
    imported = json.loads((tmp_path / "import.json").read_text())["resources"]
    assert "governed-data" not in {e["id"] for e in imported}
    assert {e["id"] for e in imported} >= {"sprawl-bare", "sprawl-public-acl"}


def test_a_state_file_that_is_neither_shape_is_refused(tmp_path):
    (tmp_path / "bad.json").write_text('{"hello": 1}')
    outcome = CliRunner().invoke(app, ["audit", "--state", str(tmp_path / "bad.json")])
    assert outcome.exit_code == 2
    assert "pulumi stack export" in outcome.output


def test_default_regions_are_the_enabled_ones():
    """moto's DescribeRegions ignores opt-in status, so this one call is stubbed with
    botocore's Stubber: regions not opted in are left out, client-side."""
    from botocore.stub import Stubber

    from ballast.audit.scope import ClientFactory, enabled_regions

    factory = ClientFactory(ClientSettings(endpoint_url="http://127.0.0.1:9"), SESSION)
    factory.add_account("123456789012", None, "us-east-1")
    ec2 = factory.client("123456789012", "us-east-1", "ec2")
    with Stubber(ec2) as stub:
        stub.add_response(
            "describe_regions",
            {"Regions": [
                {"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"},
                {"RegionName": "af-south-1", "OptInStatus": "not-opted-in"},
                {"RegionName": "eu-south-2", "OptInStatus": "opted-in"},
            ]},
            {"AllRegions": True},
        )  # fmt: skip
        assert enabled_regions(factory, "123456789012", "us-east-1") == ["eu-south-2", "us-east-1"]


def test_pages_are_as_large_as_the_api_allows(server, seeded):
    """Paged calls ask for the largest page the service model allows (fewer sequential
    round trips on a big estate); EC2's Describe* calls, which answer everything without
    a limit, are sent without one."""
    asked: dict[str, dict[str, Any]] = {}

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        asked[model.name] = dict(params)

    run = audit(options(server, seeded, services=("iam", "secretsmanager", "ec2"),
                        accounts=[seeded.accounts[0]], regions=["us-east-1"],
                        hooks=[("before-parameter-build", record)]))  # fmt: skip
    assert run.errors == []

    def largest(service: str, operation: str, member: str) -> int:
        shape = SESSION.client(service).meta.service_model.operation_model(operation).input_shape
        return int(shape.members[member].metadata["max"])

    details = asked["GetAccountAuthorizationDetails"]
    assert details["MaxItems"] == largest("iam", "GetAccountAuthorizationDetails", "MaxItems")
    assert asked["ListSecrets"]["MaxResults"] == largest("secretsmanager", "ListSecrets",
                                                         "MaxResults")  # fmt: skip
    assert "MaxResults" not in asked["DescribeVolumes"]
    assert "MaxResults" not in asked["DescribeSecurityGroups"]


@pytest.mark.parametrize("value", [
    "2026-12-02T06:00:00.000Z", "2026-12-02T06:00:00Z", "2026-12-02T06:00:00.123456+00:00",
    "2026-12-02T06:00:00", "2026-12-02T06:00:00.000+0000", "1700000000", 1700000000.5,
    "Wed, 21 Oct 2015 07:28:00 GMT", "2026-12-02T06:00:00+02:00",
])  # fmt: skip
def test_timestamps_read_as_botocore_reads_them(value):
    from botocore.utils import parse_timestamp

    from ballast.audit.scope import read_timestamp

    ours, theirs = read_timestamp(value), parse_timestamp(value)
    assert ours == theirs and str(ours) == str(theirs) and ours.utcoffset() == theirs.utcoffset()


def test_the_iam_checks_do_not_import_the_policy_pack_package():
    """The checks load the pack's parser and escalation lists from their files: the
    package's __init__ would import pulumi-policy and pulumi (a tenth of an audit)."""
    import subprocess

    code = ("import sys; from ballast.audit import checks; document, escalation = "
            "checks._guardrails(); assert document.parse({'Statement': []}) is not None; "
            "assert escalation.PASS_ROLE == 'iam:PassRole'; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pulumi', 'pulumi_policy', 'ballast_guardrails')))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)  # fmt: skip
    assert done.stdout.strip() == "[]"
