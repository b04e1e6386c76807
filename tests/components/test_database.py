"""The database of every shipped stack, asserted on the recorded resource graph: where it
runs, how it is protected, its cross-region replica, the failover DNS and the promotion
runbook's time budget."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest
import yaml

from ballast.offline import ProgramError, ProgramRun, run_component
from ballast.offline.mocks import DEFAULT_ACCOUNT_ID
from ballast.offline.stack_config import load_project, load_stack_config
from components.config import TIER_OBJECTIVES, ConfigError, DatabaseConfig, parse_platform_config
from components.database import (
    CONNECTION_LOG_PARAMETERS,
    EXPORTED_LOGS,
    HEALTH_ALARM_MINUTES,
    MONITORING_LOG_GROUP,
    POSTGRES_PORT,
    Database,
    DatabaseArgs,
    ReplicaArgs,
)
from components.iam import RoleFactory
from components.network import plan_subnets
from components.tags import BACKUP_TAG, BACKUP_TAG_VALUE
from components.versions import POSTGRES_ENGINE_VERSION, postgres_family
from tests.conftest import (
    ROOT,
    SHIPPED_STACKS,
    account_of,
    aws_context,
    expected_zones,
    name_prefix,
    platform_boundary,
    platform_config,
    regions_of,
    stack_run,
)
from tests.iam_eval import ALLOW, IMPLICIT_DENY, evaluate, trust_allows
from tests.tokens import (
    ALARM,
    DB_INSTANCE,
    DNS_RECORD,
    HEALTH_CHECK,
    INGRESS_RULE,
    KEY,
    LOG_GROUP,
)

#: The offline engine's account, for the stand-alone component runs (their providers
#: name no account).
ACCOUNT = DEFAULT_ACCOUNT_ID
RUNBOOK = ROOT / "runbooks" / "database-promotion.md"
#: The platform stacks, each with a database.
EXPECTED = SHIPPED_STACKS


def database_config(stack: str):
    """The stack's `ballast:database` settings, as the program reads them."""
    return platform_config(stack).database


def zone_name(run: ProgramRun) -> str:
    """The private hosted zone the database's record lives in."""
    (zone,) = of_database(run, "aws:route53/zone:Zone")
    return zone.inputs["name"]


def of_database(run: ProgramRun, type_: str) -> list:
    return [r for r in run.of_type(type_) if "ballast:components:Database$" in r.urn]


def region_of(run: ProgramRun, record) -> str:
    return run.by_urn()[record.provider].inputs["region"]


def primary(run: ProgramRun):
    (record,) = [r for r in of_database(run, DB_INSTANCE) if "replicateSourceDb" not in r.inputs]
    return record


def replicas(run: ProgramRun) -> list:
    return [r for r in of_database(run, DB_INSTANCE) if "replicateSourceDb" in r.inputs]


def network_records(run: ProgramRun, component: str, type_: str) -> list:
    (network,) = [r for r in run.of_type("ballast:components:Network") if r.name == component]
    return [r for r in run.of_type(type_) if r.parent == network.urn]


# --- the primary -------------------------------------------------------------------------


@pytest.mark.parametrize("stack", EXPECTED)
def test_shape_follows_the_stack_and_its_tier(stack):
    run = stack_run(stack)
    settings = database_config(stack)
    tier, multi_az, has_replica = settings.tier, settings.multi_az, settings.replica
    retention = settings.backup_retention_days or TIER_OBJECTIVES[tier].backup_retention_days
    db = primary(run)
    assert db.inputs["multiAz"] is multi_az
    assert db.inputs["instanceClass"] == settings.instance_class
    assert (
        db.inputs["backupRetentionPeriod"]
        == retention
        >= TIER_OBJECTIVES[tier].backup_retention_days
    )
    assert len(replicas(run)) == int(has_replica)
    # AWS Backup's plan of the database's tier selects it by these two tags.
    assert db.inputs["tags"]["tier"] == tier
    assert db.inputs["tags"][BACKUP_TAG] == BACKUP_TAG_VALUE
    opted_in = [
        r.urn
        for r in run.resources
        if "ballast:components:Database$" in r.urn and BACKUP_TAG in r.inputs.get("tags", {})
    ]
    assert opted_in == [db.urn]  # the replica and the supporting resources stay out
    assert db.inputs["engine"] == "postgres"
    assert db.inputs["engineVersion"] == POSTGRES_ENGINE_VERSION
    assert db.inputs["autoMinorVersionUpgrade"] is False


def test_prod_is_multi_az_deletion_protected_snapshotted_and_protected():
    run = stack_run("prod")
    db = primary(run)
    assert db.inputs["multiAz"] is True
    assert db.inputs["deletionProtection"] is True
    assert db.inputs["skipFinalSnapshot"] is False
    assert db.inputs["finalSnapshotIdentifier"] == f"{db.name}-final"
    assert db.inputs["deleteAutomatedBackups"] is False
    assert db.protect is True
    (replica,) = replicas(run)
    assert replica.inputs["deletionProtection"] is True and replica.protect is True
    keys = of_database(run, KEY)
    # Each instance's own key, and one per exported log group of each instance.
    assert len(keys) == 2 * (1 + len(EXPORTED_LOGS))
    assert all(k.protect and k.inputs["enableKeyRotation"] for k in keys)


def test_dev_stays_cheap():
    run = stack_run("dev")
    db = primary(run)
    assert db.inputs["multiAz"] is False
    assert replicas(run) == []
    assert [r.name for r in run.of_type("ballast:components:Network")] == [f"{name_prefix(run)}net"]
    assert db.inputs["deletionProtection"] is False and db.inputs["skipFinalSnapshot"] is True
    assert db.protect is False
    assert db.inputs["allocatedStorage"] == database_config("dev").allocated_storage_gb
    assert of_database(run, HEALTH_CHECK) == []


@pytest.mark.parametrize("stack", EXPECTED)
def test_primary_runs_in_the_isolated_subnets_and_is_never_public(stack):
    run = stack_run(stack)
    db = primary(run)
    (group,) = [g for g in of_database(run, "aws:rds/subnetGroup:SubnetGroup") if g.name == db.name]
    isolated = network_records(run, f"{name_prefix(run)}net", "aws:ec2/subnet:Subnet")
    isolated_ids = sorted(
        s.id for s in isolated if s.inputs["tags"]["ballast.io/subnet-tier"] == "isolated"
    )
    assert sorted(group.inputs["subnetIds"]) == isolated_ids
    assert db.inputs["dbSubnetGroupName"] == group.outputs["name"]
    assert db.inputs["publiclyAccessible"] is False
    assert region_of(run, db) == platform_config(stack).primary_region


@pytest.mark.parametrize("stack", EXPECTED)
def test_storage_insights_and_secret_use_the_databases_own_key(stack):
    run = stack_run(stack)
    db = primary(run)
    (key,) = [k for k in of_database(run, KEY) if k.name == db.name]
    for field in ("kmsKeyId", "performanceInsightsKmsKeyId", "masterUserSecretKmsKeyId"):
        assert db.inputs[field] == key.outputs["arn"], field
    assert db.inputs["storageEncrypted"] is True
    assert db.inputs["performanceInsightsEnabled"] is True
    assert db.inputs["iamDatabaseAuthenticationEnabled"] is True


@pytest.mark.parametrize("stack", EXPECTED)
def test_the_master_password_is_managed_by_rds_never_config(stack):
    region, account = platform_config(stack).primary_region, account_of(stack)
    run = stack_run(stack)
    db = primary(run)
    assert db.inputs["manageMasterUserPassword"] is True
    assert "password" not in db.inputs and "passwordWo" not in db.inputs
    secret = run.outputs["databaseSecretArn"]
    assert secret == db.outputs["masterUserSecrets"][0]["secretArn"]
    assert secret.startswith(f"arn:aws:secretsmanager:{region}:{account}:secret:rds!db-")
    stack_file = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    assert not re.search(r"password", json.dumps(stack_file["config"]), re.IGNORECASE)


@pytest.mark.parametrize("stack", EXPECTED)
def test_the_parameter_group_refuses_unencrypted_connections(stack):
    run = stack_run(stack)
    groups = of_database(run, "aws:rds/parameterGroup:ParameterGroup")
    assert len(groups) == len(of_database(run, DB_INSTANCE))
    for group in groups:
        parameters = {p["name"]: p["value"] for p in group.inputs["parameters"]}
        assert parameters["rds.force_ssl"] == "1"
        assert parameters["ssl_min_protocol_version"] == "TLSv1.2"
        # Connection logging: who connected, from where, and when they left.
        assert parameters["log_connections"] == "1"
        assert parameters["log_disconnections"] == "1"
        assert group.inputs["family"] == postgres_family(POSTGRES_ENGINE_VERSION)
    by_name = {g.outputs["name"] for g in groups}
    assert {i.inputs["parameterGroupName"] for i in of_database(run, DB_INSTANCE)} == by_name


@pytest.mark.parametrize("stack", EXPECTED)
def test_engine_logs_go_to_encrypted_expiring_groups_made_before_the_instance(stack):
    """RDS exports `postgresql` and `upgrade` into `/aws/rds/instance/<id>/<log>` and
    creates a missing group itself (no key, no expiry): every instance, the replica in its
    own region included, finds its groups made first, encrypted with a key of that region
    that CloudWatch Logs may use for that group only, and kept the configured days."""
    run = stack_run(stack)
    settings = platform_config(stack)
    assert settings.database is not None
    retention = settings.database.log_retention_days
    keys = {k.outputs["arn"]: k for k in run.of_type(KEY)}
    groups = {g.inputs["name"]: g for g in of_database(run, LOG_GROUP)}
    instances = of_database(run, DB_INSTANCE)
    assert len(instances) == (2 if settings.database.replica else 1)
    for instance in instances:
        assert instance.inputs["enabledCloudwatchLogsExports"] == list(EXPORTED_LOGS)
        region = region_of(run, instance)
        for log in EXPORTED_LOGS:
            group = groups[f"/aws/rds/instance/{instance.inputs['identifier']}/{log}"]
            assert group.urn in instance.depends_on
            assert region_of(run, group) == region
            assert group.inputs["retentionInDays"] == retention
            assert group.protect is (stack == "prod")
            key = keys[group.inputs["kmsKeyId"]]
            assert region_of(run, key) == region and key.inputs["enableKeyRotation"]
            assert key.outputs["arn"] != instance.inputs["kmsKeyId"]
            context = {"kms:EncryptionContext:aws:logs:arn": group.outputs["arn"]}
            logs = ("Service", f"logs.{region}.amazonaws.com")
            policy = json.loads(key.inputs["policy"])
            assert trust_allows(policy, principal=logs, action="kms:Encrypt", context=context)
            other = {"kms:EncryptionContext:aws:logs:arn": group.outputs["arn"] + "-other"}
            assert not trust_allows(policy, principal=logs, action="kms:Encrypt", context=other)
    assert len(groups) == len(instances) * len(EXPORTED_LOGS)


def test_connection_logging_parameters_apply_without_a_restart():
    run = stack_run("prod")
    for group in of_database(run, "aws:rds/parameterGroup:ParameterGroup"):
        methods = {p["name"]: p["applyMethod"] for p in group.inputs["parameters"]}
        assert {methods[name] for name in CONNECTION_LOG_PARAMETERS} == {"immediate"}


def test_log_retention_must_be_a_cloudwatch_period():
    with pytest.raises(ConfigError) as error:
        parse_platform_config(prod_config_with(logRetentionDays=42))
    assert any("logRetentionDays" in p and "42" in p for p in error.value.problems)


@pytest.mark.parametrize("stack", EXPECTED)
def test_postgres_is_reachable_only_from_the_cluster(stack):
    """Every shipped stack has a cluster: only its nodes and pods (the cluster security
    group) reach the primary, not everything else in the workload subnets."""
    run = stack_run(stack)
    db = primary(run)
    (group,) = [
        g for g in of_database(run, "aws:ec2/securityGroup:SecurityGroup") if g.name == db.name
    ]
    assert db.inputs["vpcSecurityGroupIds"] == [group.id]
    assert "egress" not in group.inputs or group.inputs["egress"] == []
    rules = [r for r in of_database(run, INGRESS_RULE) if r.inputs["securityGroupId"] == group.id]
    (cluster,) = run.of_type("aws:eks/cluster:Cluster")
    cluster_group = cluster.outputs["vpcConfig"]["clusterSecurityGroupId"]
    assert [r.inputs.get("referencedSecurityGroupId") for r in rules] == [cluster_group]
    assert not [r for r in rules if "cidrIpv4" in r.inputs]
    for rule in rules:
        assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (POSTGRES_PORT, POSTGRES_PORT)
        assert rule.inputs["ipProtocol"] == "tcp"


def stack_file_network(stack: str) -> dict:
    config = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    return config["ballast:network"]


@pytest.mark.parametrize("stack", EXPECTED)
def test_enhanced_monitoring_role_writes_only_the_os_metrics_group(stack):
    config, account = platform_config(stack), account_of(stack)
    run = stack_run(stack)
    db = primary(run)
    (role,) = [r for r in of_database(run, "aws:iam/role:Role")]
    assert db.inputs["monitoringRoleArn"] == role.outputs["arn"]
    assert db.inputs["monitoringInterval"] == 60
    boundary = platform_boundary(run)
    assert role.inputs["permissionsBoundary"] == boundary.outputs["arn"]
    assert trust_allows(
        role.inputs["assumeRolePolicy"],
        principal=("Service", "monitoring.rds.amazonaws.com"),
        context={
            "aws:SourceAccount": account,
            "aws:SourceArn": f"arn:aws:rds:{config.primary_region}:{account}:db:{db.name}",
        },
    )
    assert not trust_allows(
        role.inputs["assumeRolePolicy"],
        principal=("Service", "monitoring.rds.amazonaws.com"),
        context={"aws:SourceAccount": "999999999999", "aws:SourceArn": "arn:aws:rds:x"},
    )
    (policy,) = [p for p in of_database(run, "aws:iam/rolePolicy:RolePolicy")]
    document = policy.inputs["policy"]
    stream = f"arn:aws:logs:{config.primary_region}:{account}:log-group:{MONITORING_LOG_GROUP}:log-stream:i-1"
    assert evaluate(document, "logs:PutLogEvents", stream) == ALLOW
    other = (
        f"arn:aws:logs:{config.primary_region}:{account}:log-group:RDSAnythingElse:log-stream:i-1"
    )
    assert evaluate(document, "logs:PutLogEvents", other) == IMPLICIT_DENY
    assert evaluate(document, "logs:DeleteLogGroup", stream.rsplit(":log-stream", 1)[0]) == (
        IMPLICIT_DENY
    )
    statements = json.loads(document)["Statement"]
    assert all(s["Resource"] != "*" for s in statements)
    if config.database.replica:  # the replica publishes in the DR region
        dr_stream = stream.replace(f":{config.primary_region}:", f":{config.dr_region}:")
        assert evaluate(document, "logs:PutLogEvents", dr_stream) == ALLOW


# --- the replica -------------------------------------------------------------------------


def test_prod_replica_is_in_the_dr_region_encrypted_with_a_key_of_that_region():
    config = platform_config("prod")
    run = stack_run("prod")
    db = primary(run)
    (replica,) = replicas(run)
    assert region_of(run, db) == config.primary_region
    assert region_of(run, replica) == config.dr_region
    assert replica.inputs["replicateSourceDb"] == db.outputs["arn"]
    assert db.outputs["arn"].startswith(f"arn:aws:rds:{config.primary_region}:")
    # The trap: the replica's key must be a key of the replica's region.
    keys = {k.outputs["arn"]: k for k in run.of_type(KEY)}
    key = keys[replica.inputs["kmsKeyId"]]
    assert region_of(run, key) == config.dr_region
    assert f":{config.dr_region}:" in key.outputs["arn"]
    assert replica.inputs["storageEncrypted"] is True
    assert replica.inputs["performanceInsightsKmsKeyId"] == key.outputs["arn"]
    assert replica.inputs["kmsKeyId"] != db.inputs["kmsKeyId"]


def test_the_replica_lives_in_the_dr_network():
    config = platform_config("prod")
    run = stack_run("prod")
    (replica,) = replicas(run)
    (group,) = [
        g for g in of_database(run, "aws:rds/subnetGroup:SubnetGroup") if g.name == replica.name
    ]
    assert region_of(run, group) == config.dr_region
    dr_subnets = network_records(run, f"{name_prefix(run)}dr-net", "aws:ec2/subnet:Subnet")
    isolated = sorted(
        s.id for s in dr_subnets if s.inputs["tags"]["ballast.io/subnet-tier"] == "isolated"
    )
    assert sorted(group.inputs["subnetIds"]) == isolated
    assert replica.inputs["dbSubnetGroupName"] == group.outputs["name"]
    (sg,) = [
        g for g in of_database(run, "aws:ec2/securityGroup:SecurityGroup") if g.name == replica.name
    ]
    (vpc,) = network_records(run, f"{name_prefix(run)}dr-net", "aws:ec2/vpc:Vpc")
    assert sg.inputs["vpcId"] == vpc.id and region_of(run, sg) == config.dr_region
    dr_private = [
        p.cidr
        for p in plan_subnets(config.dr_network.cidr, config.dr_network.az_count)
        if p.tier == "private"
    ]
    rules = [r for r in of_database(run, INGRESS_RULE) if r.inputs["securityGroupId"] == sg.id]
    assert sorted(r.inputs["cidrIpv4"] for r in rules) == sorted(dr_private)
    assert replica.inputs["backupRetentionPeriod"] == primary(run).inputs["backupRetentionPeriod"]
    assert replica.inputs["iamDatabaseAuthenticationEnabled"] is True
    assert replica.inputs["publiclyAccessible"] is False
    assert BACKUP_TAG not in replica.inputs["tags"]


def test_the_dr_network_is_smaller_and_in_the_dr_region():
    config = platform_config("prod")
    settings = config.dr_network
    run = stack_run("prod")
    dr_net = f"{name_prefix(run)}dr-net"
    (vpc,) = network_records(run, dr_net, "aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == settings.cidr
    assert region_of(run, vpc) == config.dr_region
    subnets = network_records(run, dr_net, "aws:ec2/subnet:Subnet")
    zones = expected_zones(config.dr_region, settings)
    assert {s.inputs["availabilityZone"] for s in subnets} == set(zones)
    nats = network_records(run, dr_net, "aws:ec2/natGateway:NatGateway")
    assert len(nats) == (1 if settings.nat_mode == "single" else len(zones))
    assert len(network_records(run, dr_net, "aws:ec2/flowLog:FlowLog")) == 1
    # Smaller: no larger a block, and no more zones, than the primary network.
    primary_vpc = ipaddress.ip_network(config.network.cidr)
    assert ipaddress.ip_network(settings.cidr).num_addresses <= primary_vpc.num_addresses
    assert len(zones) <= config.network.az_count


def test_replica_lag_alarm_fires_above_the_tier_rpo():
    run = stack_run("prod")
    (replica,) = replicas(run)
    (alarm,) = [a for a in of_database(run, ALARM) if a.name.endswith("-lag")]
    assert region_of(run, alarm) == platform_config("prod").dr_region
    assert alarm.inputs["metricName"] == "ReplicaLag"
    assert alarm.inputs["dimensions"] == {"DBInstanceIdentifier": replica.outputs["identifier"]}
    assert (
        alarm.inputs["threshold"] == TIER_OBJECTIVES[database_config("prod").tier].rpo_minutes * 60
    )
    assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"
    assert alarm.inputs["treatMissingData"] == "breaching"


# --- failover DNS --------------------------------------------------------------------------


def test_prod_failover_records_are_a_primary_secondary_pair_with_a_health_check():
    config = platform_config("prod")
    run = stack_run("prod")
    db, (replica,) = primary(run), replicas(run)
    records = of_database(run, DNS_RECORD)
    assert len(records) == 2
    by_role = {r.inputs["failoverRoutingPolicies"][0]["type"]: r for r in records}
    assert set(by_role) == {"PRIMARY", "SECONDARY"}
    first, second = by_role["PRIMARY"], by_role["SECONDARY"]
    dns_name = f"{config.database.name}.db.{zone_name(run)}"
    assert first.inputs["name"] == second.inputs["name"] == dns_name
    assert first.inputs["type"] == second.inputs["type"] == "CNAME"
    assert first.inputs["zoneId"] == second.inputs["zoneId"]
    assert all(r.inputs["ttl"] <= 60 for r in records)
    assert first.inputs["records"] == [db.outputs["address"]]
    assert second.inputs["records"] == [replica.outputs["address"]]
    assert {first.inputs["setIdentifier"], second.inputs["setIdentifier"]} == {
        "primary",
        "secondary",
    }
    # The primary's health follows the CloudWatch alarm on its heartbeat.
    (check,) = of_database(run, HEALTH_CHECK)
    assert first.inputs["healthCheckId"] == check.id
    assert "healthCheckId" not in second.inputs
    assert check.inputs["type"] == "CLOUDWATCH_METRIC"
    (health,) = [a for a in of_database(run, ALARM) if a.name.endswith("-primary-heartbeat")]
    assert check.inputs["cloudwatchAlarmName"] == health.outputs["name"]
    assert check.inputs["cloudwatchAlarmRegion"] == region_of(run, health) == config.primary_region
    assert check.inputs["insufficientDataHealthStatus"] == "Unhealthy"
    assert health.inputs["dimensions"] == {"DBInstanceIdentifier": db.outputs["identifier"]}
    assert health.inputs["evaluationPeriods"] * health.inputs["period"] == HEALTH_ALARM_MINUTES * 60
    assert health.inputs["treatMissingData"] == "breaching"
    # Both VPCs resolve the private zone.
    (zone,) = of_database(run, "aws:route53/zone:Zone")
    assert first.inputs["zoneId"] == zone.outputs["zoneId"]
    assert sorted(v["vpcRegion"] for v in zone.inputs["vpcs"]) == sorted(regions_of("prod"))
    assert run.outputs["databaseDnsName"] == dns_name


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_without_a_replica_the_record_is_plain(stack):
    run = stack_run(stack)
    (record,) = of_database(run, DNS_RECORD)
    assert "failoverRoutingPolicies" not in record.inputs
    assert record.inputs["records"] == [primary(run).outputs["address"]]
    assert record.inputs["ttl"] <= 60
    assert of_database(run, HEALTH_CHECK) == []
    assert run.outputs["databaseDnsName"] == record.inputs["name"]
    assert record.inputs["name"] == f"{database_config(stack).name}.db.{zone_name(run)}"


def test_exports_give_operators_what_a_failover_needs():
    run = stack_run("prod")
    outputs, config = run.outputs, platform_config("prod")
    (replica,) = replicas(run)
    (health,) = [a for a in of_database(run, ALARM) if a.name.endswith("-primary-heartbeat")]
    region, dr_region = config.primary_region, config.dr_region
    assert outputs["databaseEndpoint"].endswith(f".{region}.rds.amazonaws.com:{POSTGRES_PORT}")
    assert outputs["databaseReplicaIdentifier"] == replica.outputs["identifier"]
    assert f".{dr_region}.rds.amazonaws.com" in outputs["databaseReplicaAddress"]
    assert outputs["databaseHealthCheckAlarm"] == health.outputs["arn"]


# --- config: tiers ----------------------------------------------------------------------


def prod_config_with(**database) -> dict[str, str]:
    stack = load_stack_config(load_project(ROOT), "prod")
    raw = dict(stack.config)
    current = json.loads(raw["ballast:database"])
    raw["ballast:database"] = json.dumps({**current, **database})
    return raw


def test_the_shipped_prod_database_meets_tier_1():
    config = parse_platform_config(prod_config_with())
    assert config.database is not None and config.database.tier == "tier-1"
    assert config.database.replica and config.database.multi_az


def test_a_tier_1_database_without_a_replica_is_rejected_with_a_clear_error():
    with pytest.raises(ConfigError) as error:
        parse_platform_config(prod_config_with(replica=False), source="stacks/Pulumi.prod.yaml")
    assert error.value.problems == [
        "stacks/Pulumi.prod.yaml: ballast:database.replica must be true for a tier-1 database: "
        "only promoting a cross-region replica recovers a region failure within its RTO of "
        "15 min and RPO of 5 min; restoring a backup copy takes hours and loses up to a day "
        "(got false)"
    ]


def test_tier_objectives():
    assert {t: (o.rto_minutes, o.rpo_minutes) for t, o in TIER_OBJECTIVES.items()} == {
        "tier-1": (15, 5),
        "tier-2": (240, 60),
        "tier-3": (1440, 1440),
    }
    retention = [TIER_OBJECTIVES[t].backup_retention_days for t in ("tier-1", "tier-2", "tier-3")]
    assert retention == sorted(retention, reverse=True) and all(7 <= d <= 35 for d in retention)


# --- the component on its own --------------------------------------------------------------

BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/ballast-test-permission-boundary"


def database_args(provider, *, replica=None, **changes) -> DatabaseArgs:
    """A stand-alone database's args; `changes` go to its settings or its wiring."""
    wiring = {
        key: changes.pop(key)
        for key in ("client_cidrs", "client_security_group_ids")
        if key in changes
    }
    return DatabaseArgs(
        context=aws_context(provider, "eu-west-1"),
        roles=RoleFactory(role_prefix="ballast-test-", boundary_arn=BOUNDARY),
        settings=DatabaseConfig(
            name="orders", tier="tier-2", dns_zone_name="test.example.internal", **changes
        ),
        vpc_id="vpc-0123456789abcdef0",
        subnet_ids=["subnet-a", "subnet-b"],
        client_cidrs=wiring.get("client_cidrs", ["10.0.0.0/19"]),
        client_security_group_ids=wiring.get("client_security_group_ids", ()),
        replica=replica,
    )


def test_an_existing_zone_and_client_security_groups():
    def program():
        provider = aws.Provider("p", region="eu-west-1")
        Database(
            "orders",
            database_args(
                provider,
                dns_zone_id="Z0123456789ABCDEFGHIJ",
                client_cidrs=[],
                client_security_group_ids=["sg-0aaaabbbbccccdddd"],
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    run = run_component(program)
    assert run.of_type("aws:route53/zone:Zone") == []
    (record,) = run.of_type(DNS_RECORD)
    assert record.inputs["zoneId"] == "Z0123456789ABCDEFGHIJ"
    assert record.inputs["name"] == "orders.db.test.example.internal"
    (rule,) = run.of_type(INGRESS_RULE)
    assert rule.inputs["referencedSecurityGroupId"] == "sg-0aaaabbbbccccdddd"
    assert "cidrIpv4" not in rule.inputs
    (db,) = run.of_type(DB_INSTANCE)
    assert db.inputs["dbName"] == "orders"
    assert db.inputs["tags"]["tier"] == "tier-2"


def test_a_replica_in_the_primary_region_is_refused():
    def program():
        provider = aws.Provider("p", region="eu-west-1")
        Database(
            "orders",
            database_args(
                provider,
                replica=ReplicaArgs(
                    context=aws_context(provider, "eu-west-1"),
                    vpc_id="vpc-1",
                    subnet_ids=["subnet-c", "subnet-d"],
                    client_cidrs=["10.1.0.0/22"],
                ),
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    with pytest.raises(ProgramError, match="the replica must be in another region than eu-west-1"):
        run_component(program)


# --- the promotion runbook --------------------------------------------------------------


def runbook_budget(path: Path) -> dict[str, int]:
    """Step -> minutes, from the runbook's time-budget table (`| step | minutes | ...`)."""
    budget: dict[str, int] = {}
    in_table = False
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| Step") or line.startswith("| step"):
            in_table = True
            continue
        if in_table and line.startswith("|") and not set(line) <= set("|-: "):
            if cells[0].lower().startswith("total"):
                break
            budget[cells[0]] = int(cells[1])
        elif in_table and not line.startswith("|"):
            break
    return budget


def test_the_promotion_runbook_fits_the_tier_1_rto():
    budget = runbook_budget(RUNBOOK)
    steps = [step.split(".", 1)[-1].strip().lower() for step in budget]
    assert steps == ["detection", "decision", "promotion", "dns", "verification"]
    assert sum(budget.values()) == TIER_OBJECTIVES["tier-1"].rto_minutes
    # Detection cannot be faster than the heartbeat alarm that drives it.
    assert next(iter(budget.values())) >= HEALTH_ALARM_MINUTES
    text = RUNBOOK.read_text(encoding="utf-8")
    for heading in ("Detection", "Promotion", "DNS", "Verification", "Failback"):
        assert re.search(rf"^##+ .*{heading}", text, re.MULTILINE), heading
    assert "aws rds promote-read-replica" in text
    assert "change-resource-record-sets" in text  # the DNS step pins the name
