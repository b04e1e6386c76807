"""`Resilience`: the backups and failure experiments that make the recovery design real.

- **AWS Backup.** A vault in the primary region (and, with a DR region, a second vault
  there), each encrypted with its own KMS key and, in prod, under vault lock. One daily
  plan per tier keeps recovery points for the tier's retention (tier-1 35 days, tier-2
  14, tier-3 7) and copies each to the DR vault. A plan's selection takes every RDS
  instance and EBS volume of the region tagged `ballast.io/backup=true` whose `tier` tag
  names the plan's tier: a resource opts in with one tag and gets the schedule its tier
  needs.
- **AWS FIS.** Two experiment templates: an RDS reboot with forced failover (Multi-AZ
  databases only) and the termination of a share of the nodes in one zone (EC2
  instances carrying `ballast.io/fault-injection=allowed`). Each stops when a
  CloudWatch alarm of its own region fires (FIS is regional: the DR replica's lag alarm
  is no stop condition), runs as a role that can do only its own actions and only to
  those targets, and logs every step to an encrypted CloudWatch log group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from components.config import BackupConfig, FaultInjectionConfig
from components.context import AwsContext
from components.iam import RoleFactory, Trust
from components.kms import rotating_key
from components.log_groups import encrypted_log_group
from components.tags import (
    BACKUP_TAG,
    BACKUP_TAG_VALUE,
    ENVIRONMENT_TAG,
    FAULT_INJECTION_TAG,
    FAULT_INJECTION_TAG_VALUE,
    TIER_TAG,
)

#: AWS managed policies of the AWS Backup service role (backups and restores of every
#: resource type AWS Backup supports; the selections decide what it touches).
BACKUP_MANAGED_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
)
#: Minutes a backup job may wait to start, and to complete, before AWS Backup cancels it.
BACKUP_START_WINDOW_MINUTES, BACKUP_COMPLETION_WINDOW_MINUTES = 60, 360
#: Version of the FIS experiment log schema the templates request.
FIS_LOG_SCHEMA_VERSION = 2
#: Retention of the experiment log group: long enough to compare a quarter's drills.
FIS_LOG_RETENTION_DAYS = 90
#: What each experiment's role may do, by experiment (the test reads this).
FIS_RDS_ACTIONS = ("rds:DescribeDBInstances", "rds:RebootDBInstance")
FIS_NODE_ACTIONS = ("ec2:DescribeInstances", "ec2:TerminateInstances")
FIS_LOG_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
)


# --- the component ---------------------------------------------------------------------


@dataclass(kw_only=True)
class ResilienceArgs:
    """Inputs of `Resilience`: the validated backup and fault-injection settings, and what
    the experiments target."""

    context: AwsContext
    """Primary region, account, tags and protection (required): the vault, the plans and
    the experiments live there. A protected context protects the vaults and keys (a
    deleted vault key makes every recovery point in the vault unreadable) and puts both
    vaults under the configured vault lock."""

    roles: RoleFactory
    """The platform's role factory (required): the AWS Backup and FIS roles carry the
    permission boundary."""

    backup: BackupConfig
    """The validated `ballast:backup` section: schedule, DR copies, vault lock mode and
    grace. Defaults and trade-offs are documented there (docs/configuration.md)."""

    fault_injection: FaultInjectionConfig
    """The validated `ballast:faultInjection` section: the node experiment's zone and
    share of nodes."""

    tier_retention_days: Mapping[str, int]
    """Recovery-point retention per tier (required; from the tier objectives). One plan
    is created per tier listed."""

    availability_zones: Sequence[str]
    """The primary network's zones (required): the node experiment targets the configured
    zone, or the first of these."""

    dr_context: AwsContext | None = None
    """The DR region's context (default None: backups stay in the primary region, and a
    region failure takes them along)."""

    database_arn: pulumi.Input[str] | None = None
    """ARN of the primary database (default None: no RDS experiment)."""

    database_multi_az: bool = False
    """Whether that database is Multi-AZ (default false). The forced-failover experiment
    exists only for a Multi-AZ database: a single-AZ one has nothing to fail over to."""

    database_alarm_arns: Sequence[pulumi.Input[str]] = ()
    """Alarms that mean the database is unhealthy or its replica behind its RPO (default
    none): stop conditions of both experiments, those of the primary region only (FIS is
    regional; the replica's lag alarm lives in the DR region and is left out)."""

    workload_alarm_arns: Sequence[pulumi.Input[str]] = ()
    """Alarms on the workloads' steady state, e.g. an SLO burn rate (default none): stop
    conditions of the node experiment. Without any alarm at all, the node experiment is
    not created: an experiment that cannot stop itself is not run."""


def same_region_stop_conditions(
    alarm_arns: Sequence[str], region: str
) -> list[aws.fis.ExperimentTemplateStopConditionArgsDict]:
    """FIS stop conditions for the alarms among `alarm_arns` that live in `region`
    (`arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>`)."""
    conditions: list[aws.fis.ExperimentTemplateStopConditionArgsDict] = [
        {"source": "aws:cloudwatch:alarm", "value": arn}
        for arn in alarm_arns
        if arn.split(":")[3:4] == [region]
    ]
    if alarm_arns and not conditions:
        # An experiment that cannot stop itself is not run.
        raise ValueError(
            f"no stop-condition alarm in {region}: FIS cannot stop on alarms of another "
            f"region (got {', '.join(alarm_arns)})"
        )
    return conditions


class Resilience(pulumi.ComponentResource):
    """AWS Backup vaults and per-tier plans, and the FIS experiments; see the module
    docstring.

    Outputs: `vault_name`, `vault_arn`, `dr_vault_name`, `dr_vault_arn` (None without a
    DR copy), `plan_ids` (tier -> plan ID), `backup_role_arn`, `fis_role_arn`,
    `fis_log_group_name`, `experiment_template_ids` (experiment -> template ID).
    """

    #: Stack outputs (export name -> attribute); `__main__.py` exports them.
    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "backupVaultName": "vault_name",
        "drBackupVaultName": "dr_vault_name",
        "faultInjectionTemplateIds": "experiment_template_ids",
    }

    def __init__(
        self, name: str, args: ResilienceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Resilience", name, None, opts)
        if not args.tier_retention_days:
            raise ValueError(f"{name}: tier_retention_days must name at least one tier")
        self._name = name
        self._args = args
        self._ctx = args.context
        self._dr = args.dr_context
        self._vault_lock = args.backup.vault_lock_mode if self._ctx.protect else None
        self._target_zone = args.fault_injection.target_zone or args.availability_zones[0]

        vault = self._vault(name, self._ctx.region, None)
        self.vault_name: pulumi.Output[str] = vault.name
        self.vault_arn: pulumi.Output[str] = vault.arn
        self.dr_vault_name: pulumi.Output[str] | None = None
        self.dr_vault_arn: pulumi.Output[str] | None = None
        if self._dr is not None and args.backup.copy_to_dr_region:
            dr = self._dr
            dr_vault = self._vault(f"{name}-{dr.region}", dr.region, dr.provider)
            self.dr_vault_name, self.dr_vault_arn = dr_vault.name, dr_vault.arn

        backup_role = args.roles.role(
            f"{name}-backup",
            parent=self,
            description=f"Lets AWS Backup back up and restore {self._ctx.environment}'s tagged data",
            # aws:SourceAccount on this trust is not confirmed by AWS Backup's documentation
            # (its confused-deputy guidance covers resource policies, not the passed
            # service role); if AWS Backup sends no source account, jobs cannot assume the
            # role. See docs/data-and-dr.md, *Verified (and not confirmed)*.
            trust=[Trust.service("backup.amazonaws.com", source_account=self._ctx.account_id)],
            managed_policy_arns=[
                self._ctx.managed_policy_arn(policy) for policy in BACKUP_MANAGED_POLICIES
            ],
            tags=self._ctx.tags,
        )
        self.backup_role_arn: pulumi.Output[str] = backup_role.arn
        self.plan_ids = {
            tier: self._plan(tier, days, vault, backup_role)
            for tier, days in sorted(args.tier_retention_days.items())
        }

        self.fis_log_group_name, log_group_arn = self._experiment_logs()
        self.fis_role_arn, self.experiment_template_ids = self._experiments(log_group_arn)

        self.register_outputs(
            {
                "vaultName": self.vault_name,
                "vaultArn": self.vault_arn,
                "drVaultName": self.dr_vault_name,
                "drVaultArn": self.dr_vault_arn,
                "planIds": self.plan_ids,
                "backupRoleArn": self.backup_role_arn,
                "fisRoleArn": self.fis_role_arn,
                "fisLogGroupName": self.fis_log_group_name,
                "experimentTemplateIds": self.experiment_template_ids,
            }
        )

    # --- helpers -------------------------------------------------------------------------

    # --- AWS Backup ----------------------------------------------------------------------

    def _vault(
        self, resource: str, region: str, provider: pulumi.ProviderResource | None
    ) -> aws.backup.Vault:
        args = self._args
        key = rotating_key(
            f"{resource}-vault",
            parent=self,
            description=f"Encrypts the recovery points of {resource}",
            partition=self._ctx.partition,
            account_id=self._ctx.account_id,
            tags=self._ctx.tags_for(f"{resource}-vault"),
            protect=self._ctx.protect,
            provider=provider,
        )
        vault = aws.backup.Vault(
            resource,
            name=resource,
            kms_key_arn=key.arn,
            force_destroy=False,
            tags=self._ctx.tags_for(resource),
            opts=self._ctx.opts(self, provider=provider, stateful=True),
        )
        if self._vault_lock is not None:
            retention = args.tier_retention_days.values()
            aws.backup.VaultLockConfiguration(
                resource,
                backup_vault_name=vault.name,
                min_retention_days=min(retention),
                max_retention_days=max(retention),
                changeable_for_days=(
                    self._args.backup.compliance_grace_days
                    if self._vault_lock == "compliance"
                    else None
                ),
                opts=self._ctx.opts(self, provider=provider),
            )
        return vault

    def _plan(
        self, tier: str, days: int, vault: aws.backup.Vault, role: aws.iam.Role
    ) -> pulumi.Output[str]:
        name = f"{self._name}-{tier}"
        rule: aws.backup.PlanRuleArgsDict = {
            "rule_name": f"daily-{tier}",
            "target_vault_name": vault.name,
            "schedule": self._args.backup.schedule,
            "start_window": BACKUP_START_WINDOW_MINUTES,
            "completion_window": BACKUP_COMPLETION_WINDOW_MINUTES,
            "lifecycle": {"delete_after": days},
            "recovery_point_tags": {**self._ctx.tags, TIER_TAG: tier},
        }
        if self.dr_vault_arn is not None:
            rule["copy_actions"] = [
                {"destination_vault_arn": self.dr_vault_arn, "lifecycle": {"delete_after": days}}
            ]
        plan = aws.backup.Plan(
            name, name=name, rules=[rule], tags=self._ctx.tags_for(name), opts=self._ctx.opts(self)
        )
        aws.backup.Selection(
            name,
            name=name,
            plan_id=plan.id,
            iam_role_arn=role.arn,
            # Only RDS instances and EBS volumes of this region, and only those that opted
            # in and name this tier.
            resources=[
                self._ctx.arn(service="rds", resource="db:*"),
                self._ctx.arn(service="ec2", resource="volume/*"),
            ],
            conditions=[
                {
                    "string_equals": [
                        {"key": f"aws:ResourceTag/{BACKUP_TAG}", "value": BACKUP_TAG_VALUE},
                        {"key": f"aws:ResourceTag/{TIER_TAG}", "value": tier},
                    ]
                }
            ],
            opts=self._ctx.opts(self),
        )
        return plan.id

    # --- AWS FIS -------------------------------------------------------------------------

    def _experiment_logs(self) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """The encrypted log group every experiment logs to, and the resource policy that
        lets CloudWatch Logs' delivery service write into it for FIS."""
        name = self._name
        _, group = encrypted_log_group(
            self._ctx,
            self,
            key_resource=f"{name}-fis-logs",
            key_description=f"Encrypts the AWS FIS experiment logs of {name}",
            group_resource=f"{name}-fis-experiments",
            group_name=self._ctx.names.log_group(name, "fis-experiments"),
            retention_days=FIS_LOG_RETENTION_DAYS,
        )
        aws.cloudwatch.LogResourcePolicy(
            f"{name}-fis-log-delivery",
            policy_name=f"{name}-fis-log-delivery",
            policy_document=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "LogDeliveryWritesTheExperimentLogs",
                            "Effect": "Allow",
                            "Principal": {"Service": "delivery.logs.amazonaws.com"},
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": pulumi.Output.format("{0}:log-stream:*", group.arn),
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": self._ctx.account_id},
                                "ArnLike": {
                                    "aws:SourceArn": self._ctx.arn(service="logs", resource="*")
                                },
                            },
                        }
                    ],
                }
            ),
            opts=self._ctx.opts(self),
        )
        return group.name, group.arn

    def _stop_conditions(
        self, alarms: Sequence[pulumi.Input[str]]
    ) -> pulumi.Output[list[aws.fis.ExperimentTemplateStopConditionArgsDict]]:
        """The alarms of this region as stop conditions; others are left out.

        FIS is regional, and its user guide documents a stop condition as a CloudWatch
        alarm ARN without any cross-region form (docs/data-and-dr.md, *FIS stop
        conditions*), so an alarm of another region (the replica's lag alarm in the DR
        region) is not handed to a template of this region: the experiment would at best
        never see it fire.
        """
        region = self._ctx.region
        return pulumi.Output.all(*alarms).apply(
            lambda arns: same_region_stop_conditions(arns, region)
        )

    def _experiments(
        self, log_group_arn: pulumi.Output[str]
    ) -> tuple[pulumi.Output[str] | None, dict[str, pulumi.Output[str]]]:
        args, name = self._args, self._name
        failover = args.database_arn is not None and args.database_multi_az
        node_alarms = [*args.workload_alarm_arns, *args.database_alarm_arns]
        if failover and not args.database_alarm_arns:
            raise ValueError(f"{name}: the RDS experiment needs database_alarm_arns to stop on")
        if not failover and not node_alarms:
            return None, {}

        statements: list[dict[str, Any]] = []
        if failover:
            statements += [
                {
                    # Target resolution lists instances; read-only, this region's only.
                    "Sid": "FindTheDatabase",
                    "Effect": "Allow",
                    "Action": FIS_RDS_ACTIONS[0],
                    "Resource": self._ctx.arn(service="rds", resource="db:*"),
                },
                {
                    "Sid": "RebootThePrimaryWithFailover",
                    "Effect": "Allow",
                    "Action": FIS_RDS_ACTIONS[1],
                    "Resource": args.database_arn,
                },
            ]
        if node_alarms:
            statements += [
                {
                    "Sid": "FindInstances",
                    "Effect": "Allow",
                    "Action": FIS_NODE_ACTIONS[0],
                    "Resource": "*",
                },
                {
                    "Sid": "TerminateOnlyInstancesTaggedForExperiments",
                    "Effect": "Allow",
                    "Action": FIS_NODE_ACTIONS[1],
                    "Resource": self._ctx.arn(service="ec2", resource="instance/*"),
                    "Condition": {
                        "StringEquals": {
                            f"aws:ResourceTag/{FAULT_INJECTION_TAG}": FAULT_INJECTION_TAG_VALUE,
                            f"aws:ResourceTag/{ENVIRONMENT_TAG}": self._ctx.environment,
                        }
                    },
                },
            ]
        statements += [
            {
                # Vended-log delivery has no resource-level permission.
                "Sid": "SetUpExperimentLogDelivery",
                "Effect": "Allow",
                "Action": FIS_LOG_ACTIONS[0],
                "Resource": "*",
            },
            {
                "Sid": "CheckTheExperimentLogGroup",
                "Effect": "Allow",
                "Action": list(FIS_LOG_ACTIONS[1:]),
                "Resource": self._ctx.arn(service="logs", resource="*"),
            },
        ]
        role = args.roles.role(
            f"{name}-fis",
            parent=self,
            description=f"Lets AWS FIS run {self._ctx.environment}'s failure experiments, nothing else",
            trust=[
                Trust.service(
                    "fis.amazonaws.com",
                    source_account=self._ctx.account_id,
                    source_arn_like=self._ctx.arn(service="fis", resource="experiment/*"),
                )
            ],
            inline_policies={
                "run-experiments": pulumi.Output.json_dumps(
                    {"Version": "2012-10-17", "Statement": statements}
                )
            },
            tags=self._ctx.tags,
        )
        logging: aws.fis.ExperimentTemplateLogConfigurationArgsDict = {
            "log_schema_version": FIS_LOG_SCHEMA_VERSION,
            "cloudwatch_logs_configuration": {
                "log_group_arn": pulumi.Output.format("{0}:*", log_group_arn)
            },
        }
        templates: dict[str, pulumi.Output[str]] = {}
        database_arn = args.database_arn
        if failover and database_arn is not None:
            resource = f"{name}-rds-failover"
            template = aws.fis.ExperimentTemplate(
                resource,
                description="Reboot the primary database with a forced Multi-AZ failover",
                role_arn=role.arn,
                stop_conditions=self._stop_conditions(args.database_alarm_arns),
                targets=[
                    {
                        "name": "primary-database",
                        "resource_type": "aws:rds:db",
                        "selection_mode": "ALL",
                        "resource_arns": [database_arn],
                    }
                ],
                actions=[
                    {
                        "name": "reboot-with-failover",
                        "action_id": "aws:rds:reboot-db-instances",
                        "parameters": [{"key": "forceFailover", "value": "true"}],
                        "target": {"key": "DBInstances", "value": "primary-database"},
                    }
                ],
                experiment_options={
                    "account_targeting": "single-account",
                    "empty_target_resolution_mode": "fail",
                },
                log_configuration=logging,
                tags=self._ctx.tags_for(resource),
                opts=self._ctx.opts(self),
            )
            templates["rdsFailover"] = template.id
        if node_alarms:
            resource = f"{name}-zone-nodes"
            percent = args.fault_injection.node_termination_percent
            template = aws.fis.ExperimentTemplate(
                resource,
                description=(
                    f"Terminate {percent}% of the instances tagged "
                    f"{FAULT_INJECTION_TAG}={FAULT_INJECTION_TAG_VALUE} in {self._target_zone}"
                ),
                role_arn=role.arn,
                stop_conditions=self._stop_conditions(node_alarms),
                targets=[
                    {
                        "name": "nodes-in-zone",
                        "resource_type": "aws:ec2:instance",
                        "selection_mode": f"PERCENT({percent})",
                        # The role adds the environment tag to the condition, so even a
                        # mis-tagged instance of another environment cannot be hit.
                        "resource_tags": [
                            {"key": FAULT_INJECTION_TAG, "value": FAULT_INJECTION_TAG_VALUE}
                        ],
                        "filters": [
                            {
                                "path": "Placement.AvailabilityZone",
                                "values": [self._target_zone],
                            },
                            {"path": "State.Name", "values": ["running"]},
                        ],
                    }
                ],
                actions=[
                    {
                        "name": "terminate-nodes",
                        "action_id": "aws:ec2:terminate-instances",
                        "target": {"key": "Instances", "value": "nodes-in-zone"},
                    }
                ],
                experiment_options={
                    "account_targeting": "single-account",
                    "empty_target_resolution_mode": "fail",
                },
                log_configuration=logging,
                tags=self._ctx.tags_for(resource),
                opts=self._ctx.opts(self),
            )
            templates["zoneNodes"] = template.id
        return role.arn, templates
