"""`ballast verify` end to end with the real Terraform and AWS provider: every shipped
platform stack validates and plans with no API call; planted invalid values exit 1
naming each resource; a listed emulator gap that starts working is reported."""

from __future__ import annotations

import dataclasses
import json

import pytest
from typer.testing import CliRunner

from ballast.cli import app
from ballast.offline import ProgramRun
from ballast.verify.classify import Failure, Gap, classify, load_gaps, stale_gaps
from ballast.verify.convert import convert
from ballast.verify.run import verify_run
from tests.conftest import ROOT, SHIPPED_STACKS, stack_run
from tests.toolkit.verify_fixtures import provider_schema, require_toolchain

pytestmark = pytest.mark.tool
runner = CliRunner()


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_shipped_stack_validates_and_plans_without_calling_an_api(stack):
    run = stack_run(stack)
    result = verify_run(run, toolchain=require_toolchain(), schema=provider_schema())
    assert result.validate.failures == []
    assert result.plan.failures == []
    assert result.plan.api_calls == 0
    assert result.plan.count == result.converted > 0
    assert result.defects == []


def _planted(run: ProgramRun) -> tuple[ProgramRun, dict[str, str]]:
    """`run` with four values the provider's validators reject; returns the run and,
    per planted resource name, the argument that is wrong."""
    plants = {
        "aws:cloudwatch/logGroup:LogGroup": ("retentionInDays", 366, "retention_in_days"),
        "aws:eks/nodeGroup:NodeGroup": ("capacityType", "SPOTT", "capacity_type"),
        "aws:ec2/flowLog:FlowLog": ("trafficType", "EVERYTHING", "traffic_type"),
        "aws:kms/key:Key": ("deletionWindowInDays", 45, "deletion_window_in_days"),
    }
    planted: dict[str, str] = {}
    resources = []
    for record in run.resources:
        plant = plants.pop(record.type, None)
        if plant is not None:
            key, value, argument = plant
            record = dataclasses.replace(record, inputs={**record.inputs, key: value})
            planted[record.urn] = argument
        resources.append(record)
    assert not plants, f"the dev stack no longer has {sorted(plants)}"
    return dataclasses.replace(run, resources=resources), planted


def test_planted_invalid_values_exit_1_naming_each(monkeypatch):
    require_toolchain()
    run, planted = _planted(stack_run("dev"))
    monkeypatch.setattr("ballast.offline.run_stack_with_references", lambda *a, **k: run)
    result = runner.invoke(app, ["verify", "dev", "--json", "--project-dir", str(ROOT)])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    conversion = convert(run, provider_schema())
    failures = document["validate"]["failures"]
    for urn, argument in planted.items():
        address = conversion.addresses[urn]
        assert any(f["address"] == address and argument in f["message"] for f in failures), (
            f"{address} {argument} not reported: {failures}"
        )
    assert document["counts"]["defects"] >= len(planted)


def test_cluster_stack_is_refused_with_exit_2():
    require_toolchain()
    result = runner.invoke(app, ["verify", "dev-cluster", "--project-dir", str(ROOT)])
    assert result.exit_code == 2
    assert "no AWS resources" in result.output


def test_missing_plugin_mirror_exits_2(monkeypatch, tmp_path):
    require_toolchain()  # Terraform itself is there; only the mirror is missing
    monkeypatch.setenv("BALLAST_TF_PLUGIN_DIR", str(tmp_path))
    result = runner.invoke(app, ["verify", "dev", "--project-dir", str(ROOT)])
    assert result.exit_code == 2
    assert "BALLAST_TF_PLUGIN_DIR" in result.output


def test_gap_list_entries_name_provider_types_and_reasons():
    types = provider_schema().resource_types
    for gap in load_gaps():
        assert gap.type in types, f"{gap.type} is not a resource type of the provider"
        assert gap.reason.strip() and gap.moto.strip()


def test_unlisted_failure_is_a_defect_and_a_listed_one_a_gap():
    gap = Gap("aws_route53_zone", r"private zone", "moto infers no VPC", "5.2.5")
    listed = classify(Failure("apply", "aws_route53_zone.a", "error: private zone X"), (gap,))
    other = classify(Failure("apply", "aws_route53_zone.a", "InvalidParameterValue"), (gap,))
    elsewhere = classify(Failure("apply", "aws_vpc.a", "error: private zone X"), (gap,))
    assert (listed.kind, listed.gap) == ("gap", gap)
    assert other.kind == "defect"
    assert elsewhere.kind == "defect"
    assert stale_gaps((gap,), {"aws_route53_zone.a"}, [listed]) == []
    assert stale_gaps((gap,), {"aws_route53_zone.a"}, []) == [gap]
    assert stale_gaps((gap,), {"aws_vpc.a"}, []) == []


def _small_run(stack: str, type_: str) -> ProgramRun:
    """The stack's providers and its first resource of `type_` only."""
    run = stack_run(stack)
    target = next(r for r in run.resources if r.type == type_)
    keep = [r for r in run.resources if r.is_provider and r.urn == target.provider] + [
        dataclasses.replace(target, property_dependencies={}, depends_on=())
    ]
    return dataclasses.replace(run, resources=keep)


def test_a_listed_gap_that_starts_working_is_reported():
    run = _small_run("dev", "aws:cloudwatch/logGroup:LogGroup")
    gap = Gap("aws_cloudwatch_log_group", "never matches", "pretend moto lacks log groups", "0")
    result = verify_run(
        run, emulator=True, toolchain=require_toolchain(), schema=provider_schema(), gaps=(gap,)
    )
    assert result.apply is not None
    assert result.apply.count == 1
    assert result.apply.stale_gaps == [gap]
    assert any("now works" in f.message for f in result.defects)


def test_a_gap_about_one_situation_neither_hides_nor_goes_stale_elsewhere():
    gap = Gap(
        "aws_route53_zone",
        "PublicZoneVPCAssociation",
        "moto infers no private zone",
        "5.2.5",
        when_path="vpc[1]",
    )
    two_vpcs = {"vpc": [{"vpc_id": "a"}, {"vpc_id": "b"}]}
    one_vpc = {"vpc": [{"vpc_id": "a"}]}
    failure = Failure("apply", "aws_route53_zone.z", "x PublicZoneVPCAssociation y")
    assert classify(failure, (gap,), two_vpcs).kind == "gap"
    assert classify(failure, (gap,), one_vpc).kind == "defect"
    # A one-VPC zone that creates says nothing about the two-VPC case ...
    assert stale_gaps((gap,), {"aws_route53_zone.z"}, [], {"aws_route53_zone.z": one_vpc}) == []
    # ... a two-VPC zone that creates does.
    assert stale_gaps((gap,), {"aws_route53_zone.z"}, [], {"aws_route53_zone.z": two_vpcs}) == [gap]


def test_an_intermittent_gap_is_never_reported_stale():
    gap = Gap("aws_guardduty_detector_feature", "empty result", "race", "5.2.5", intermittent=True)
    assert stale_gaps((gap,), {"aws_guardduty_detector_feature.f"}, []) == []


def test_every_situational_gap_applies_to_a_shipped_resource():
    """A `when` that matches nothing in any shipped stack would never classify anything."""
    schema = provider_schema()
    bodies = []
    for stack in SHIPPED_STACKS:
        conversion = convert(stack_run(stack), schema, mode="linked")
        bodies += [
            (tf_type, body)
            for tf_type, named in conversion.config["resource"].items()
            for body in named.values()
        ]
    for gap in load_gaps():
        assert any(gap.applies(tf_type, body) for tf_type, body in bodies), gap


def test_a_gap_can_require_a_literal_value():
    gap = Gap(
        "aws_route53_record",
        "couldn't find",
        "zone looked up by name",
        "5.2.5",
        when_path="zone_id",
        when_lacks="${",
    )
    literal = {"zone_id": "Z123"}
    linked = {"zone_id": "${aws_route53_zone.z.id}"}
    failure = Failure("apply", "aws_route53_record.r", "couldn't find resource")
    assert classify(failure, (gap,), literal).kind == "gap"
    assert classify(failure, (gap,), linked).kind == "defect"
