"""The converter's mapping rules (ballast/verify/convert.py), one test per rule, over the
shipped stacks' offline runs and the AWS provider's own schema."""

from __future__ import annotations

import json
import re

import pytest

from ballast.verify.convert import (
    _escape,
    convert,
    endpoint_service,
    singulars,
    snake,
    terraform_type,
)
from ballast.verify.skew import V6_ONLY
from tests.conftest import CLUSTER_STACKS, SHIPPED_STACKS, stack_run
from tests.toolkit.verify_fixtures import provider_schema

pytestmark = pytest.mark.tool


def _resources(conversion) -> dict[str, dict]:
    return {
        f"{tf_type}.{name}": body
        for tf_type, bodies in conversion.config["resource"].items()
        for name, body in bodies.items()
    }


def _record(run, type_: str):
    return next(r for r in run.resources if r.type == type_)


def test_names_turn_snake_case_and_plurals_singular():
    assert snake("enableDnsSupport") == "enable_dns_support"
    assert snake("kmsKeyId") == "kms_key_id"
    assert singulars("rules")[0] == "rule"
    assert "policy" in singulars("policies")


def test_literal_dollar_braces_are_escaped():
    assert _escape("arn:aws:s3:::b/${aws:username}/*") == "arn:aws:s3:::b/$${aws:username}/*"
    assert _escape("%{x}") == "%%{x}"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_aws_token_maps_to_a_provider_type(stack):
    schema = provider_schema()
    for type_ in {r.type for r in stack_run(stack).resources if r.type.startswith("aws:")}:
        assert terraform_type(type_, schema) in schema.resource_types


def test_token_irregulars():
    schema = provider_schema()
    assert terraform_type("aws:rds/instance:Instance", schema) == "aws_db_instance"
    assert terraform_type("aws:cloudtrail/trail:Trail", schema) == "aws_cloudtrail"
    assert (
        terraform_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider", schema)
        == "aws_iam_openid_connect_provider"
    )
    assert terraform_type("aws:ec2/vpc:Vpc", schema) == "aws_vpc"
    assert terraform_type("aws:s3/bucketLogging:BucketLogging", schema) == "aws_s3_bucket_logging"


def test_plural_pulumi_names_become_the_schemas_block_names():
    run = stack_run("prod")
    conversion = convert(run, provider_schema())
    record = _record(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    body = _resources(conversion)[conversion.addresses[record.urn]]
    assert "rules" not in body
    assert [rule["id"] for rule in body["rule"]] == [rule["id"] for rule in record.inputs["rules"]]
    assert (
        body["rule"][0]["transition"][0]["storage_class"]
        == (record.inputs["rules"][0]["transitions"][0]["storageClass"])
    )


def test_renamed_properties():
    run = stack_run("dev")
    conversion = convert(run, provider_schema())
    record = _record(run, "aws:cloudwatch/metricAlarm:MetricAlarm")
    body = _resources(conversion)[conversion.addresses[record.urn]]
    assert body["alarm_name"] == record.inputs["name"]
    assert "name" not in body


def test_json_documents_are_strings_and_maps_keep_their_keys():
    run = stack_run("dev")
    conversion = convert(run, provider_schema())
    for record in run.of_type("aws:iam/role:Role"):
        body = _resources(conversion)[conversion.addresses[record.urn]]
        assert json.loads(body["assume_role_policy"]) == json.loads(
            record.inputs["assumeRolePolicy"]
        )
        assert body["tags"] == record.inputs["tags"]


def test_v6_only_arguments_are_dropped_with_a_note():
    run = stack_run("prod")
    conversion = convert(run, provider_schema())
    cluster = _record(run, "aws:eks/cluster:Cluster")
    body = _resources(conversion)[conversion.addresses[cluster.urn]]
    assert "deletionProtection" in cluster.inputs
    assert "deletion_protection" not in body
    assert ("aws_eks_cluster", "deletion_protection") in V6_ONLY
    assert any(
        n.address == conversion.addresses[cluster.urn] and n.argument == "deletion_protection"
        for n in conversion.notes
    )


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_providers_become_aliased_blocks_with_their_region(stack):
    run = stack_run(stack)
    conversion = convert(run, provider_schema(), endpoint="http://127.0.0.1:9")
    blocks = {b["alias"]: b for b in conversion.config["provider"]["aws"]}
    providers = [r for r in run.resources if r.type == "pulumi:providers:aws"]
    assert len(blocks) == len(providers)
    for record in providers:
        (block,) = [b for b in blocks.values() if b["region"] == record.inputs["region"]]
        services = block["endpoints"][0]
        assert set(services.values()) == {"http://127.0.0.1:9"}
        assert {"sts", "iam", "ec2", "s3", "rds"} <= set(services)
        assert block["skip_requesting_account_id"] is True
    for address, body in _resources(conversion).items():
        record = next(r for r in run.resources if conversion.addresses.get(r.urn) == address)
        expected = f"aws.{next(b for b in blocks if blocks[b]['region'] == _region(run, record))}"
        assert body["provider"] == expected


def _region(run, record) -> str:
    return run.by_urn()[record.provider].inputs["region"]


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_linked_mode_writes_every_dependency_as_a_reference_or_depends_on(stack):
    run = stack_run(stack)
    conversion = convert(run, provider_schema(), mode="linked")
    resources = _resources(conversion)
    assert conversion.references > 0
    for record in run.resources:
        address = conversion.addresses.get(record.urn)
        if address is None:
            continue
        body = resources[address]
        text = json.dumps({k: v for k, v in body.items() if k != "depends_on"})
        for urns in record.property_dependencies.values():
            for urn in urns:
                target = conversion.addresses.get(urn)
                if target is None or target == address:
                    continue
                assert f"${{{target}." in text or target in body.get("depends_on", []), (
                    f"{address} loses its dependency on {target}"
                )
        # A reference is one whole expression: none nested inside another.
        assert not re.search(r"\$\{[^}]*\$\{", text)


def test_linked_references_point_at_the_dependencys_attribute():
    run = stack_run("dev")
    conversion = convert(run, provider_schema(), mode="linked")
    record = _record(run, "aws:ec2/routeTableAssociation:RouteTableAssociation")
    body = _resources(conversion)[conversion.addresses[record.urn]]
    (subnet,) = record.property_dependencies["subnetId"]
    (table,) = record.property_dependencies["routeTableId"]
    assert body["subnet_id"] == f"${{{conversion.addresses[subnet]}.id}}"
    assert body["route_table_id"] == f"${{{conversion.addresses[table]}.id}}"


def test_literal_mode_writes_no_references():
    conversion = convert(stack_run("prod"), provider_schema())
    text = json.dumps(conversion.config["resource"])
    assert not re.search(r"(?<!\$)\$\{", text)
    assert conversion.references == 0


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_components_and_the_stack_are_counted_not_converted(stack):
    run = stack_run(stack)
    conversion = convert(run, provider_schema())
    components = sum(1 for r in run.resources if not r.custom and r.type != "pulumi:pulumi:Stack")
    assert conversion.skipped["component"] == components
    assert conversion.skipped["stack"] == 1
    custom = [r for r in run.resources if r.custom and not r.is_provider and not r.read]
    # Resources of other packages (Grafana's random password) are counted by package.
    others = sum(conversion.skipped[p] for p in {r.package for r in custom} - {"aws"})
    assert others == sum(1 for r in custom if r.package != "aws")
    assert len(conversion.addresses) + conversion.skipped["provider skew"] + others == len(custom)


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_cluster_stacks_have_nothing_to_convert(stack):
    conversion = convert(stack_run(stack), provider_schema())
    assert conversion.addresses == {}
    assert conversion.skipped["kubernetes"] > 0


def test_endpoint_prefixes_match_whole_words():
    schema = provider_schema()
    assert endpoint_service("aws_route_table_association", schema) == "ec2"
    assert endpoint_service("aws_route", schema) == "ec2"
    assert endpoint_service("aws_route53_zone", schema) == "route53"
    assert endpoint_service("aws_db_instance", schema) == "rds"
    assert endpoint_service("aws_cloudwatch_log_group", schema) == "logs"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_converted_type_has_an_endpoint(stack):
    conversion = convert(stack_run(stack), provider_schema(), endpoint="http://127.0.0.1:9")
    for block in conversion.config["provider"]["aws"]:
        services = set(block["endpoints"][0])
        for tf_type in conversion.config["resource"]:
            assert endpoint_service(tf_type, provider_schema()) in services


def test_references_reach_into_nested_blocks():
    run = stack_run("dev")
    conversion = convert(run, provider_schema(), mode="linked")
    cluster = _record(run, "aws:eks/cluster:Cluster")
    cluster_sg = cluster.outputs["vpcConfig"]["clusterSecurityGroupId"]
    rules = [
        r
        for r in run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs.get("securityGroupId") == cluster_sg
    ]
    assert rules, "the dev stack has no rule on the cluster security group"
    for rule in rules:
        body = _resources(conversion)[conversion.addresses[rule.urn]]
        assert body["security_group_id"] == (
            f"${{{conversion.addresses[cluster.urn]}.vpc_config[0].cluster_security_group_id}}"
        )
