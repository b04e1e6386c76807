"""The analyzer harness: start-up and shutdown, `Configure` (with "all"), unknown values,
failures reported as one sentence, and config files read with the CLI's semantics."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from ballast.policy.config import PolicyConfigError, load_policy_config, parse_policy_config
from ballast.policy.harness import AnalyzerInput, PolicyPackError, PolicyPackProcess, ProviderInput
from tests.policy.conftest import PACK_DIR, stack_config_file

PROVIDER = ProviderInput(
    urn="urn:pulumi:test::ballast::pulumi:providers:aws::aws",
    type="pulumi:providers:aws",
    name="aws",
    properties={
        "region": "us-east-1",
        "defaultTags": json.dumps({"tags": {"environment": "prod", "owner": "platform"}}),
    },
)


def resource(type_: str, name: str, inputs: dict, provider=PROVIDER) -> AnalyzerInput:
    return AnalyzerInput(
        urn=f"urn:pulumi:test::ballast::{type_}::{name}",
        type=type_,
        name=name,
        inputs=inputs,
        outputs=inputs,
        provider=provider,
    )


def test_configure_expands_all_and_applies_entries_on_top(pack):
    effective = pack.configure(load_policy_config(stack_config_file("staging")))
    assert set(effective) == set(pack.info.policies)
    assert effective["iam-no-admin-wildcard"].level == "mandatory"  # from "all"
    assert effective["rds-multi-az"].level == "advisory"  # its own entry wins
    assert effective["lb-min-subnets"].properties["minSubnets"] == 3
    # Schema defaults fill what the file leaves out.
    assert effective["rds-backup-retention"].properties["minDays"] == 7
    assert effective["iam-role-permission-boundary"].properties["exemptions"] == []


def test_pack_defaults_when_no_config_is_given(pack):
    effective = pack.configure(None)
    assert {n: c.level for n, c in effective.items()} == {
        n: p.level for n, p in pack.info.policies.items()
    }


def test_disabled_policies_do_not_run(pack):
    pack.configure(parse_policy_config({"all": "disabled"}))
    bucket = resource(
        "aws:iam/policy:Policy",
        "admin",
        {"policy": '{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}'},
    )
    assert pack.analyze(bucket) == []


def test_exemptions_excuse_one_resource_only(pack):
    star = '{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
    exempt = resource("aws:iam/policy:Policy", "break-glass", {"policy": star})
    other = resource("aws:iam/policy:Policy", "other", {"policy": star})
    pack.configure(
        parse_policy_config(
            {
                "all": "disabled",
                "iam-no-admin-wildcard": {
                    "enforcementLevel": "mandatory",
                    "exemptions": [
                        {
                            "type": exempt.type,
                            "name": exempt.name,
                            "reason": "INC-42: break-glass role, expires 2027-01-31",
                        }
                    ],
                },
            }
        )
    )
    assert pack.analyze(exempt) == []
    assert [d.policy for d in pack.analyze(other)] == ["iam-no-admin-wildcard"]


def test_unknown_values_skip_the_policy_with_an_advisory_note(pack):
    pack.configure(load_policy_config(stack_config_file("prod")))
    role = resource(
        "aws:iam/role:Role",
        "previewed",
        {
            "assumeRolePolicy": UNKNOWN_STRING_VALUE,
            "permissionsBoundary": UNKNOWN_STRING_VALUE,
            "tags": {"service": "x", "tier": "tier-1"},
        },
    )
    diagnostics = pack.analyze(role)
    assert diagnostics, "the policies that read unknown values must say they were skipped"
    assert all(d.skipped and d.level == "advisory" for d in diagnostics)
    assert {d.policy for d in diagnostics} >= {
        "iam-role-permission-boundary",
        "iam-trust-no-open-principal",
    }
    assert all(d.urn == role.urn for d in diagnostics)
    # Stack policies that read an unknown output are skipped the same way, not a crash;
    # those that do not read it still judge the bucket (it has no versioning resource).
    bucket = resource("aws:s3/bucket:Bucket", "previewed-bucket", {"tags": UNKNOWN_STRING_VALUE})
    found = pack.analyze_stack([bucket])
    skipped = {d.policy for d in found if d.skipped}
    assert skipped >= {"s3-public-access-block", "s3-no-public-acl", "s3-no-public-policy"}
    assert {d.policy for d in found if not d.skipped} >= {"s3-versioning"}


def test_provider_default_tags_count_as_the_resources_tags(pack):
    pack.configure(parse_policy_config({"all": "disabled", "required-tags": "mandatory"}))
    vpc = resource(
        "aws:ec2/vpc:Vpc",
        "vpc",
        {"cidrBlock": "10.0.0.0/16", "tags": {"service": "net", "tier": "tier-1"}},
    )
    assert pack.analyze(vpc) == []
    bare = resource("aws:ec2/vpc:Vpc", "bare", {"cidrBlock": "10.0.0.0/16"}, provider=None)
    [violation] = pack.analyze(bare)
    assert violation.message == "missing tags: environment, owner, service, tier"


def test_a_policy_config_that_does_not_fit_the_schema_is_refused(pack):
    with pytest.raises(
        PolicyConfigError, match=r"rds-backup-retention.minDays: 'seven' is not of type 'number'"
    ):
        pack.configure(
            parse_policy_config({"rds-backup-retention": {"minDays": "seven"}}, "x.json")
        )


def test_unknown_policy_names_and_levels_are_refused(pack):
    with pytest.raises(
        PolicyConfigError, match=r"x\.json: no policy named 'iam-no-admin-wildcards'"
    ):
        pack.configure(
            parse_policy_config({"iam-no-admin-wildcards": "mandatory"}), source="x.json"
        )
    with pytest.raises(PolicyConfigError, match="'all' has the enforcement level 'strict'"):
        parse_policy_config({"all": "strict"}, "x.json")


def test_config_file_errors_name_the_file(tmp_path):
    broken = tmp_path / "prod.json"
    broken.write_text("{ nope")
    with pytest.raises(PolicyConfigError, match=r"^policy-pack/config/prod.json is not valid JSON"):
        load_policy_config(broken, label="policy-pack/config/prod.json")
    empty = tmp_path / "empty.json"
    empty.write_text("\n")
    assert load_policy_config(empty) == {}


def test_shipped_config_files_are_valid_for_the_pack(pack):
    for stack in ("dev", "staging", "prod"):
        effective = pack.configure(load_policy_config(stack_config_file(stack)), source=stack)
        assert set(effective) == set(pack.info.policies)
    prod = pack.configure(load_policy_config(stack_config_file("prod")))
    assert {c.level for c in prod.values()} == {"mandatory"}, "prod is the strictest"


def test_a_pack_that_fails_to_import_is_one_sentence(tmp_path):
    broken = tmp_path / "pack"
    broken.mkdir()
    shutil.copy(PACK_DIR / "PulumiPolicy.yaml", broken)
    (broken / "__main__.py").write_text("import ballast_guardrails_missing\n")
    process = PolicyPackProcess(broken, start_timeout=20)
    with pytest.raises(
        PolicyPackError, match=r"exited with code 1 before serving: .*ModuleNotFoundError"
    ):
        process.start()
    assert process._process is None


def test_a_pack_that_never_serves_times_out_and_is_stopped(tmp_path):
    silent = tmp_path / "pack"
    silent.mkdir()
    shutil.copy(PACK_DIR / "PulumiPolicy.yaml", silent)
    (silent / "__main__.py").write_text("import time\ntime.sleep(60)\n")
    process = PolicyPackProcess(silent, start_timeout=1)
    with pytest.raises(PolicyPackError, match="printed no port within 1s"):
        process.start()
    assert process._process is None


def test_not_a_pack_directory(tmp_path):
    with pytest.raises(PolicyPackError, match="is not a policy pack"):
        PolicyPackProcess(tmp_path).start()


def test_close_ends_the_process():
    with PolicyPackProcess(PACK_DIR) as process:
        child = process._process
        assert child is not None and child.poll() is None
        assert len(process.info.policies) >= 45
    assert child.poll() is not None


def test_the_pack_process_id_is_known_once_spawned(pack):
    assert PolicyPackProcess(PACK_DIR, project="ballast", stack="test").pid is None
    assert pack.pid is not None and pack.pid != os.getpid()
    os.kill(pack.pid, 0)  # raises unless that process is alive
