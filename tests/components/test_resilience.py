"""AWS Backup, the FIS experiments and the bucket helper of every shipped stack, asserted on
the recorded resource graph (and, for the FIS role, evaluated as IAM would)."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from ballast.offline import ProgramError, ProgramRun, run_component
from ballast.offline.mocks import DEFAULT_ACCOUNT_ID
from components.buckets import compliant_bucket
from components.config import TIER_OBJECTIVES, BackupConfig, FaultInjectionConfig
from components.iam import RoleFactory
from components.resilience import (
    FIS_LOG_ACTIONS,
    FIS_NODE_ACTIONS,
    FIS_RDS_ACTIONS,
    Resilience,
    ResilienceArgs,
    same_region_stop_conditions,
)
from components.tags import (
    BACKUP_TAG,
    BACKUP_TAG_VALUE,
    FAULT_INJECTION_TAG,
    FAULT_INJECTION_TAG_VALUE,
)
from tests.conftest import (
    account_of,
    aws_context,
    expected_zones,
    name_prefix,
    platform_boundary,
    platform_config,
    source_offenders,
    stack_run,
)
from tests.iam_eval import ALLOW, IMPLICIT_DENY, evaluate, trust_allows
from tests.tokens import (
    ALARM,
    ATTACHMENT,
    BACKUP_PLAN,
    BACKUP_SELECTION,
    BACKUP_VAULT,
    FIS_TEMPLATE,
    KEY,
    ROLE,
    ROLE_POLICY,
    VAULT_LOCK,
)

#: The offline engine's account, for the stand-alone component runs (their providers
#: name no account).
ACCOUNT = DEFAULT_ACCOUNT_ID
RETENTION = {tier: o.backup_retention_days for tier, o in TIER_OBJECTIVES.items()}


def of_resilience(run: ProgramRun, type_: str) -> list:
    return [r for r in run.of_type(type_) if "ballast:components:Resilience$" in r.urn]


def region_of(run: ProgramRun, record) -> str:
    return run.by_urn()[record.provider].inputs["region"]


def role_named(run: ProgramRun, suffix: str):
    (role,) = [r for r in of_resilience(run, ROLE) if r.name.endswith(suffix)]
    return role


def primary_database(run: ProgramRun):
    (db,) = [
        r for r in run.of_type("aws:rds/instance:Instance") if "replicateSourceDb" not in r.inputs
    ]
    return db


# --- AWS Backup --------------------------------------------------------------------------


def test_vaults_are_encrypted_with_their_own_regional_keys(shipped):
    vaults = of_resilience(shipped, BACKUP_VAULT)
    keys = {k.outputs["arn"]: k for k in of_resilience(shipped, KEY)}
    assert len(vaults) == (2 if shipped.stack == "prod" else 1)
    for vault in vaults:
        key = keys[vault.inputs["kmsKeyArn"]]
        assert region_of(shipped, key) == region_of(shipped, vault)
        assert key.inputs["enableKeyRotation"] is True
        assert vault.inputs["forceDestroy"] is False
        assert vault.protect is key.protect is (shipped.stack == "prod")
    assert shipped.outputs["backupVaultName"] == f"{name_prefix(shipped)}resilience"


def test_vault_lock_only_in_prod_on_both_vaults(shipped):
    locks = of_resilience(shipped, VAULT_LOCK)
    if shipped.stack != "prod":
        assert locks == []
        return
    vaults = {v.outputs["name"]: v for v in of_resilience(shipped, BACKUP_VAULT)}
    assert sorted(lock.inputs["backupVaultName"] for lock in locks) == sorted(vaults)
    for lock in locks:
        assert lock.inputs["minRetentionDays"] == min(RETENTION.values())
        assert lock.inputs["maxRetentionDays"] == max(RETENTION.values())
        assert "changeableForDays" not in lock.inputs  # governance mode
        assert region_of(shipped, lock) == region_of(
            shipped, vaults[lock.inputs["backupVaultName"]]
        )


def test_a_daily_plan_per_tier_keeps_the_tiers_retention(shipped):
    config = platform_config(shipped.stack)
    hour, minute = (int(part) for part in config.backup.daily_at_utc.split(":"))
    plans = {
        p.inputs["rules"][0]["recoveryPointTags"]["tier"]: p
        for p in of_resilience(shipped, BACKUP_PLAN)
    }
    assert sorted(plans) == sorted(TIER_OBJECTIVES)
    (vault,) = [
        v
        for v in of_resilience(shipped, BACKUP_VAULT)
        if region_of(shipped, v) == config.primary_region
    ]
    for tier, plan in plans.items():
        (rule,) = plan.inputs["rules"]
        assert rule["schedule"] == f"cron({minute} {hour} * * ? *)"  # daily
        assert rule["lifecycle"]["deleteAfter"] == RETENTION[tier]
        assert rule["targetVaultName"] == vault.outputs["name"]
        assert plan.inputs["name"] == f"{name_prefix(shipped)}resilience-{tier}"


def test_prod_backups_are_copied_to_the_dr_region():
    dr_region = platform_config("prod").dr_region
    run = stack_run("prod")
    (dr_vault,) = [v for v in of_resilience(run, BACKUP_VAULT) if region_of(run, v) == dr_region]
    assert f":{dr_region}:" in dr_vault.outputs["arn"]
    plans = of_resilience(run, BACKUP_PLAN)
    assert len(plans) == 3
    for plan in plans:
        (rule,) = plan.inputs["rules"]
        (copy,) = rule["copyActions"]
        assert copy["destinationVaultArn"] == dr_vault.outputs["arn"]
        assert copy["lifecycle"]["deleteAfter"] == rule["lifecycle"]["deleteAfter"]
    assert run.outputs["drBackupVaultName"] == dr_vault.outputs["name"]


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_without_a_dr_region_nothing_is_copied(stack):
    run = stack_run(stack)
    for plan in of_resilience(run, BACKUP_PLAN):
        assert "copyActions" not in plan.inputs["rules"][0]
    assert run.outputs.get("drBackupVaultName") is None


def test_selections_take_tagged_rds_and_ebs_of_their_tier(shipped):
    region, account = platform_config(shipped.stack).primary_region, account_of(shipped.stack)
    role = role_named(shipped, "-backup")
    plans = {p.id: p for p in of_resilience(shipped, BACKUP_PLAN)}
    selections = of_resilience(shipped, BACKUP_SELECTION)
    assert len(selections) == len(plans) == 3
    for selection in selections:
        plan = plans[selection.inputs["planId"]]
        tier = plan.inputs["rules"][0]["recoveryPointTags"]["tier"]
        assert selection.inputs["iamRoleArn"] == role.outputs["arn"]
        assert sorted(selection.inputs["resources"]) == [
            f"arn:aws:ec2:{region}:{account}:volume/*",
            f"arn:aws:rds:{region}:{account}:db:*",
        ]
        (condition,) = selection.inputs["conditions"]
        assert {(c["key"], c["value"]) for c in condition["stringEquals"]} == {
            (f"aws:ResourceTag/{BACKUP_TAG}", BACKUP_TAG_VALUE),
            ("aws:ResourceTag/tier", tier),
        }
    # The shipped database is picked up by exactly the plan of its tier.
    tags = primary_database(shipped).inputs["tags"]
    matching = [
        s
        for s in selections
        if all(
            tags.get(c["key"].removeprefix("aws:ResourceTag/")) == c["value"]
            for c in s.inputs["conditions"][0]["stringEquals"]
        )
    ]
    assert len(matching) == 1


def test_the_backup_role_is_for_aws_backup_only(shipped):
    role = role_named(shipped, "-backup")
    trust = role.inputs["assumeRolePolicy"]
    assert trust_allows(
        trust,
        principal=("Service", "backup.amazonaws.com"),
        context={"aws:SourceAccount": account_of(shipped.stack)},
    )
    assert not trust_allows(
        trust, principal=("Service", "backup.amazonaws.com"), context={"aws:SourceAccount": "1"}
    )
    # The trust depends on AWS Backup sending aws:SourceAccount when it assumes the role,
    # which AWS Backup's documentation does not confirm (docs/data-and-dr.md): without
    # the key the role cannot be assumed. Changing this is a deliberate decision.
    assert not trust_allows(trust, principal=("Service", "backup.amazonaws.com"), context={})
    attached = sorted(
        a.inputs["policyArn"]
        for a in of_resilience(shipped, ATTACHMENT)
        if a.inputs["role"] == role.outputs["name"]
    )
    assert attached == [
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    ]
    boundary = platform_boundary(shipped)
    assert role.inputs["permissionsBoundary"] == boundary.outputs["arn"]


# --- AWS FIS -----------------------------------------------------------------------------


def fis_policy(run: ProgramRun) -> dict:
    role = role_named(run, "-fis")
    (policy,) = [p for p in of_resilience(run, ROLE_POLICY) if p.inputs["role"] == role.id]
    return json.loads(policy.inputs["policy"])


def test_the_fis_role_can_do_nothing_beyond_its_actions():
    config = platform_config("prod")
    region, account = config.primary_region, account_of("prod")
    run = stack_run("prod")
    role = role_named(run, "-fis")
    # Nothing attached: the inline policy is all it has.
    assert [
        a for a in of_resilience(run, ATTACHMENT) if a.inputs["role"] == role.outputs["name"]
    ] == []
    document = fis_policy(run)
    allowed = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow" and "NotAction" not in statement
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert not any("*" in a for a in actions), actions
        allowed.update(actions)
    assert allowed == {*FIS_RDS_ACTIONS, *FIS_NODE_ACTIONS, *FIS_LOG_ACTIONS}

    db = primary_database(run).outputs["arn"]
    other_db = f"arn:aws:rds:{region}:{account}:db:someone-elses"
    assert evaluate(document, "rds:RebootDBInstance", db) == ALLOW
    assert evaluate(document, "rds:RebootDBInstance", other_db) == IMPLICIT_DENY
    (replica,) = [
        r for r in run.of_type("aws:rds/instance:Instance") if "replicateSourceDb" in r.inputs
    ]
    assert evaluate(document, "rds:RebootDBInstance", replica.outputs["arn"]) == IMPLICIT_DENY
    for action in ("rds:DeleteDBInstance", "rds:ModifyDBInstance", "rds:PromoteReadReplica"):
        assert evaluate(document, action, db) == IMPLICIT_DENY
    assert evaluate(document, "rds:DescribeDBInstances", other_db) == ALLOW  # read-only
    dr_db = replica.outputs["arn"]
    assert evaluate(document, "rds:DescribeDBInstances", dr_db) == IMPLICIT_DENY  # other region

    instance = f"arn:aws:ec2:{region}:{account}:instance/i-0123456789abcdef0"
    tagged = {
        f"aws:ResourceTag/{FAULT_INJECTION_TAG}": FAULT_INJECTION_TAG_VALUE,
        "aws:ResourceTag/environment": "prod",
    }
    assert evaluate(document, "ec2:TerminateInstances", instance, tagged) == ALLOW
    untagged = {"aws:ResourceTag/environment": "prod"}
    assert evaluate(document, "ec2:TerminateInstances", instance, untagged) == IMPLICIT_DENY
    other_env = {**tagged, "aws:ResourceTag/environment": "dev"}
    assert evaluate(document, "ec2:TerminateInstances", instance, other_env) == IMPLICIT_DENY
    other_region = instance.replace(f":{region}:", f":{config.dr_region}:")
    assert evaluate(document, "ec2:TerminateInstances", other_region, tagged) == IMPLICIT_DENY
    for action in ("ec2:StopInstances", "ec2:RunInstances", "iam:PassRole", "s3:GetObject"):
        assert evaluate(document, action, "*", tagged) == IMPLICIT_DENY

    trust = role.inputs["assumeRolePolicy"]
    experiment = f"arn:aws:fis:{region}:{account}:experiment/EXP123"
    context = {"aws:SourceAccount": account, "aws:SourceArn": experiment}
    assert trust_allows(trust, principal=("Service", "fis.amazonaws.com"), context=context)
    assert not trust_allows(
        trust,
        principal=("Service", "fis.amazonaws.com"),
        context={**context, "aws:SourceArn": f"arn:aws:fis:{region}:{account}:other/x"},
    )
    boundary = platform_boundary(run)
    assert role.inputs["permissionsBoundary"] == boundary.outputs["arn"]


def test_the_failover_experiment_reboots_the_primary_with_a_forced_failover():
    run = stack_run("prod")
    (template,) = [t for t in of_resilience(run, FIS_TEMPLATE) if t.name.endswith("-rds-failover")]
    (action,) = template.inputs["actions"]
    assert action["actionId"] == "aws:rds:reboot-db-instances"
    assert action["parameters"] == [{"key": "forceFailover", "value": "true"}]
    (target,) = template.inputs["targets"]
    assert action["target"] == {"key": "DBInstances", "value": target["name"]}
    assert target["resourceType"] == "aws:rds:db"
    assert target["resourceArns"] == [primary_database(run).outputs["arn"]]
    assert template.inputs["roleArn"] == role_named(run, "-fis").outputs["arn"]


def test_the_node_experiment_terminates_a_share_of_tagged_nodes_in_one_zone(shipped):
    config = platform_config(shipped.stack)
    zones = expected_zones(config.primary_region, config.network)
    (template,) = [
        t for t in of_resilience(shipped, FIS_TEMPLATE) if t.name.endswith("-zone-nodes")
    ]
    (target,) = template.inputs["targets"]
    assert target["resourceType"] == "aws:ec2:instance"
    assert target["selectionMode"] == "PERCENT(33)"
    assert target["resourceTags"] == [
        {"key": FAULT_INJECTION_TAG, "value": FAULT_INJECTION_TAG_VALUE}
    ]
    filters = {f["path"]: f["values"] for f in target["filters"]}
    assert filters == {"Placement.AvailabilityZone": [zones[0]], "State.Name": ["running"]}
    (action,) = template.inputs["actions"]
    assert action["actionId"] == "aws:ec2:terminate-instances"
    assert action["target"] == {"key": "Instances", "value": target["name"]}


def test_every_experiment_stops_on_alarms_and_logs_to_cloudwatch(shipped):
    templates = of_resilience(shipped, FIS_TEMPLATE)
    alarm_arns = {a.outputs["arn"] for a in shipped.of_type(ALARM)}
    (group,) = of_resilience(shipped, "aws:cloudwatch/logGroup:LogGroup")
    for template in templates:
        conditions = template.inputs["stopConditions"]
        assert conditions and all(c["source"] == "aws:cloudwatch:alarm" for c in conditions)
        assert {c["value"] for c in conditions} <= alarm_arns
        logging = template.inputs["logConfiguration"]
        assert logging["cloudwatchLogsConfiguration"]["logGroupArn"] == f"{group.outputs['arn']}:*"
        assert logging["logSchemaVersion"] == 2
    # The database's heartbeat stops both drills. FIS is regional: the prod replica's lag
    # alarm lives in the DR region and is no stop condition of a primary-region template.
    heartbeat = {a.outputs["arn"] for a in shipped.of_type(ALARM) if "heartbeat" in a.name}
    for template in templates:
        values = [c["value"] for c in template.inputs["stopConditions"]]
        assert set(values) == heartbeat
        region = shipped.by_urn()[template.provider].inputs["region"]
        assert {v.split(":")[3] for v in values} == {region}
    lag = [a for a in shipped.of_type(ALARM) if a.name.endswith("-lag")]
    assert len(lag) == (shipped.stack == "prod")
    for alarm in lag:
        assert (
            shipped.by_urn()[alarm.provider].inputs["region"]
            == platform_config(shipped.stack).dr_region
        )
        assert all(
            alarm.outputs["arn"] not in [c["value"] for c in t.inputs["stopConditions"]]
            for t in templates
        )
    assert group.inputs["kmsKeyId"] in {k.outputs["arn"] for k in of_resilience(shipped, KEY)}
    (policy,) = of_resilience(shipped, "aws:cloudwatch/logResourcePolicy:LogResourcePolicy")
    (statement,) = json.loads(policy.inputs["policyDocument"])["Statement"]
    assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert statement["Resource"] == f"{group.outputs['arn']}:log-stream:*"
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": account_of(shipped.stack)
    }


def test_a_single_az_database_gets_no_failover_experiment():
    run = stack_run("dev")
    names = sorted(t.name for t in of_resilience(run, FIS_TEMPLATE))
    assert names == [f"{name_prefix(run)}resilience-zone-nodes"]
    assert set(stack_run("prod").outputs["faultInjectionTemplateIds"]) == {
        "rdsFailover",
        "zoneNodes",
    }
    assert set(run.outputs["faultInjectionTemplateIds"]) == {"zoneNodes"}
    assert not any("rds:" in a for s in fis_policy(run)["Statement"] for a in _actions(s))


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


# --- the component on its own ------------------------------------------------------------

BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/ballast-test-permission-boundary"


def resilience_args(provider, *, node_termination_percent: int = 33, **changes) -> ResilienceArgs:
    values = {
        "context": aws_context(provider, "eu-west-1"),
        "roles": RoleFactory(role_prefix="ballast-test-", boundary_arn=BOUNDARY),
        "backup": BackupConfig(),
        "fault_injection": FaultInjectionConfig(
            target_zone="eu-west-1b", node_termination_percent=node_termination_percent
        ),
        "tier_retention_days": {"tier-2": 14},
        "availability_zones": ["eu-west-1a", "eu-west-1b"],
        **changes,
    }
    return ResilienceArgs(**values)


def test_without_a_database_or_alarms_no_experiment_is_created():
    def program():
        provider = aws.Provider("p", region="eu-west-1")
        Resilience("res", resilience_args(provider), opts=pulumi.ResourceOptions(provider=provider))

    run = run_component(program)
    assert run.of_type(FIS_TEMPLATE) == []
    assert [r.name for r in run.of_type(ROLE)] == ["res-backup"]
    (plan,) = run.of_type(BACKUP_PLAN)
    assert plan.inputs["rules"][0]["lifecycle"]["deleteAfter"] == 14


def test_workload_alarms_stop_the_node_experiment():
    alarm = f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:checkout-slo-burn"

    def program():
        provider = aws.Provider("p", region="eu-west-1")
        Resilience(
            "res",
            resilience_args(provider, workload_alarm_arns=[alarm], node_termination_percent=100),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    (template,) = run_component(program).of_type(FIS_TEMPLATE)
    assert template.inputs["stopConditions"] == [{"source": "aws:cloudwatch:alarm", "value": alarm}]
    assert template.inputs["targets"][0]["selectionMode"] == "PERCENT(100)"


def test_a_compliance_lock_keeps_its_grace_period():
    def program():
        primary = aws.Provider("p", region="eu-west-1")
        dr = aws.Provider("dr", region="eu-central-1")
        Resilience(
            "res",
            resilience_args(
                primary,
                # A compliance lock is set only where the context protects (prod).
                context=aws_context(primary, "eu-west-1", protect=True),
                dr_context=aws_context(dr, "eu-central-1", protect=True),
                backup=BackupConfig(vault_lock_mode="compliance", compliance_grace_days=7),
            ),
            opts=pulumi.ResourceOptions(provider=primary),
        )

    locks = run_component(program).of_type(VAULT_LOCK)
    assert len(locks) == 2 and all(lock.inputs["changeableForDays"] == 7 for lock in locks)


# --- buckets -----------------------------------------------------------------------------


def test_the_bucket_helper_makes_a_compliant_bucket():
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

    def program():
        provider = aws.Provider("p", region="eu-west-1")
        parent = pulumi.ComponentResource(
            "test:index:Owner", "owner", opts=pulumi.ResourceOptions(provider=provider)
        )
        logs = compliant_bucket(
            "ballast-test-access-logs",
            parent=parent,
            bucket_name="ballast-test-access-logs",
            kms_key_arn=key,
            tags={"service": "exports", "tier": "tier-3"},
            access_log_bucket=None,
            receives_access_logs=True,
        )
        compliant_bucket(
            "ballast-test-exports",
            parent=parent,
            bucket_name="ballast-test-exports",
            kms_key_arn=key,
            tags={"service": "exports", "tier": "tier-3"},
            access_log_bucket=logs,
        )

    run = run_component(program)

    def one(kind: str):
        (record,) = [
            r
            for r in run.of_type(f"aws:s3/{kind[0].lower()}{kind[1:]}:{kind}")
            if r.name == "ballast-test-exports"
        ]
        return record

    def target(kind: str):
        (record,) = [
            r
            for r in run.of_type(f"aws:s3/{kind[0].lower()}{kind[1:]}:{kind}")
            if r.name == "ballast-test-access-logs"
        ]
        return record

    assert one("BucketVersioning").inputs["versioningConfiguration"] == {"status": "Enabled"}
    (rule,) = one("BucketServerSideEncryptionConfiguration").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key,
    }
    block = one("BucketPublicAccessBlock").inputs
    assert all(
        block[f] is True
        for f in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    assert one("BucketOwnershipControls").inputs["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"
    }
    logging = one("BucketLogging")
    assert logging.inputs["targetBucket"] == target("Bucket").id
    # Logging waits for the policy that admits S3 log delivery, and the encryption.
    assert target("BucketPolicy").urn in logging.depends_on
    assert target("BucketServerSideEncryptionConfiguration").urn in logging.depends_on
    assert rule["bucketKeyEnabled"] is True
    policy = one("BucketPolicy").inputs["policy"]
    insecure = {"aws:SecureTransport": "false"}
    arn = "arn:aws:s3:::ballast-test-exports/x"
    assert evaluate(policy, "s3:GetObject", arn, insecure) == "Deny"
    assert one("BucketLifecycleConfiguration").inputs["rules"][0]["noncurrentVersionExpiration"]
    assert one("Bucket").parent.endswith("test:index:Owner::owner")


def test_a_bucket_that_logs_nowhere_is_refused():
    def program():
        provider = aws.Provider("p", region="eu-west-1")
        parent = pulumi.ComponentResource(
            "test:index:Owner", "owner", opts=pulumi.ResourceOptions(provider=provider)
        )
        compliant_bucket(
            "ballast-test-quiet",
            parent=parent,
            bucket_name="ballast-test-quiet",
            kms_key_arn="arn:aws:kms:eu-west-1:1:key/x",
            tags={},
            access_log_bucket=None,
        )

    with pytest.raises(ProgramError, match="every bucket logs its access"):
        run_component(program)


def test_components_make_buckets_only_through_the_helper():
    """A source check: `aws.s3.Bucket(` (or BucketV2) appears in components/buckets.py only, in any subpackage."""
    offenders = source_offenders(r"\bs3\.Bucket(V2)?\(", allowed="buckets.py")
    assert offenders == []


def test_only_alarms_of_the_experiments_region_become_stop_conditions():
    here = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:db-heartbeat"
    there = f"arn:aws:cloudwatch:us-west-2:{ACCOUNT}:alarm:db-replica-lag"
    assert same_region_stop_conditions([here, there], "us-east-1") == [
        {"source": "aws:cloudwatch:alarm", "value": here}
    ]
    assert same_region_stop_conditions([], "us-east-1") == []
    with pytest.raises(ValueError, match="no stop-condition alarm in us-east-1"):
        same_region_stop_conditions([there], "us-east-1")
