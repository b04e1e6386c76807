"""`Database`: the environment's PostgreSQL on RDS, shaped by its recovery tier.

Primary (in the primary region):

- runs in the network's isolated subnets (its own subnet group), Multi-AZ where asked
  (staging and prod), never publicly accessible;
- storage, Performance Insights and the RDS-managed master password secret are
  encrypted with the database's own KMS key; the password never appears in config or
  state (`manage_master_user_password`);
- a parameter group that refuses unencrypted connections (`rds.force_ssl=1`, TLS 1.2+)
  and logs every connection and disconnection (`log_connections`, `log_disconnections`);
- the engine logs (`postgresql`, `upgrade`) exported to CloudWatch Logs, into log groups
  Ballast creates first (`/aws/rds/instance/<id>/<log>`, each with its own KMS key and
  the configured retention): RDS would otherwise create them itself, unencrypted and
  kept forever;
- IAM database authentication, Performance Insights, enhanced monitoring through a role
  that may write only the `RDSOSMetrics` log group;
- automated backups for the tier's retention (7-35 days), in a window an hour clear of
  AWS Backup's daily job; deletion protection, a final snapshot and `protect` in prod;
- a security group admitting PostgreSQL (5432) only from the workload (private)
  subnets' CIDRs, or from the given client security groups.

Replica (with `replica`, in the DR region through the DR provider):

- a cross-region read replica whose source is the primary's ARN, in its own subnet
  group of the DR network, encrypted with a KMS key *of the DR region* (a key of the
  primary region cannot encrypt there: the known trap); its engine logs go to log groups
  of the DR region, made the same way;
- a CloudWatch alarm when its lag exceeds the tier's RPO.

Failover DNS (Route 53, private zone):

- `<name>.db.<zone>`: with a replica, a failover pair (PRIMARY on the primary, tied to a
  health check that follows a CloudWatch alarm on the primary's heartbeat; SECONDARY on
  the replica); without one, a plain record. TTL at most 60 s. Promotion of the replica
  is a decision, not automatic: runbooks/database-promotion.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from components.config import DATABASE_BACKUP_WINDOW_UTC, DatabaseConfig
from components.context import AwsContext
from components.iam import RoleFactory, Trust
from components.kms import rotating_key
from components.log_groups import encrypted_log_group
from components.tags import BACKUP_TAG, BACKUP_TAG_VALUE, TIER_TAG
from components.versions import RDS_CA_CERTIFICATE, postgres_family

POSTGRES_PORT = 5432
MASTER_USERNAME = "dbadmin"
#: Minutes without a heartbeat (any CloudWatch datapoint from the primary) before the
#: primary counts as down and DNS fails over. Longer than a Multi-AZ failover (1-2 min),
#: so that one never moves DNS; the promotion runbook's detection step budgets it.
HEALTH_ALARM_MINUTES = 5
#: Parameters of every Ballast database's parameter group.
TLS_PARAMETERS = {"rds.force_ssl": "1", "ssl_min_protocol_version": "TLSv1.2"}
#: Connection logging: who connected from where, and when they left (RDS for
#: PostgreSQL parameters; both dynamic, so they apply without a restart).
CONNECTION_LOG_PARAMETERS = {"log_connections": "1", "log_disconnections": "1"}
#: Engine logs RDS for PostgreSQL exports to CloudWatch Logs (its only two besides
#: `iam-db-auth-error`), each into `/aws/rds/instance/<identifier>/<log>`.
EXPORTED_LOGS = ("postgresql", "upgrade")
#: Enhanced monitoring writes here in each region (a name RDS fixes).
MONITORING_LOG_GROUP = "RDSOSMetrics"
#: Weekly maintenance window, UTC: clear of the automated backup window and AWS Backup's
#: daily job.
MAINTENANCE_WINDOW_UTC = "sun:07:00-sun:08:00"


@dataclass(kw_only=True)
class ReplicaArgs:
    """Where the cross-region read replica runs (its size comes from the settings)."""

    context: AwsContext
    """The DR region's context (required): every replica resource uses its provider, and
    its region must differ from the primary's."""

    vpc_id: pulumi.Input[str]
    """VPC of the DR network (required)."""

    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Isolated subnets of the DR network (required; two zones at least)."""

    client_cidrs: Sequence[str]
    """CIDRs that may connect once the replica is promoted (required; the DR network's
    private subnets)."""

    alarm_actions: Sequence[pulumi.Input[str]] = ()
    """SNS topics of the DR region the replica's lag alarm notifies (default none: it
    then pages nobody). An alarm can only notify topics of its own region."""


@dataclass(kw_only=True)
class DatabaseArgs:
    """Inputs of `Database`: the validated settings, and where the database is wired in."""

    context: AwsContext
    """Primary region, account, tags and protection (required). A protected context also
    turns on RDS deletion protection and a final snapshot, keeps automated backups after
    a delete, and defers modifications to the maintenance window (an unprotected one
    applies them at once: a restart mid-day costs nothing in dev)."""

    roles: RoleFactory
    """The platform's role factory (required): the enhanced-monitoring role carries the
    permission boundary."""

    settings: DatabaseConfig
    """The validated `ballast:database` section: name, tier (and from it the RPO and the
    backup retention), size, engine version, Multi-AZ, replica size, DNS. Defaults,
    limits and trade-offs are documented there (docs/configuration.md)."""

    vpc_id: pulumi.Input[str]
    """VPC of the primary (required)."""

    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Isolated subnets of the primary's network (required; two zones at least)."""

    client_cidrs: Sequence[str] = ()
    """CIDRs that may connect on 5432 (default none). Never a public range."""

    client_security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups whose members may connect (default none), e.g. the cluster's
    security group: tighter than subnet CIDRs."""

    replica: ReplicaArgs | None = None
    """The cross-region read replica (default None: no replica, no failover pair)."""

    alarm_actions: Sequence[pulumi.Input[str]] = ()
    """SNS topics of the primary region the primary's heartbeat alarm notifies, on ALARM
    and OK (default none: the alarm still stops experiments and drives the failover DNS,
    but pages nobody). The replica's lag alarm notifies `ReplicaArgs.alarm_actions`."""


class Database(pulumi.ComponentResource):
    """PostgreSQL with its replica and failover DNS; see the module docstring.

    Outputs: `identifier`, `arn`, `address`, `port`, `endpoint`, `dns_name` (what
    applications connect to), `master_user_secret_arn`, `security_group_id`,
    `kms_key_arn`, `zone_id`, `database_name`, `health_alarm_arn`, `alarm_arns` (health,
    and lag with a replica), `multi_az`, and with a replica `replica_identifier`, `replica_arn`,
    `replica_address`, `replica_kms_key_arn`, `replica_lag_alarm_arn` (None otherwise).
    """

    #: Stack outputs (export name -> attribute); `__main__.py` exports them.
    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "databaseEndpoint": "endpoint",
        "databaseDnsName": "dns_name",
        "databaseName": "database_name",
        "databasePort": "port",
        "databaseSecretArn": "master_user_secret_arn",
        "databaseReplicaAddress": "replica_address",
        "databaseReplicaIdentifier": "replica_identifier",
        "databaseHealthCheckAlarm": "health_alarm_arn",
    }

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Database", name, None, opts)
        self._name = name
        self._args = args
        self._ctx = ctx = args.context
        self._settings = settings = args.settings
        if args.replica is not None and args.replica.context.region == ctx.region:
            raise ValueError(f"{name}: the replica must be in another region than {ctx.region}")
        self._zone_name = settings.dns_zone_name or ctx.names.private_zone
        self.identifier = name
        self.port = POSTGRES_PORT
        #: The database the instance creates (`ballast:database.name`).
        self.database_name: str = settings.name
        self.multi_az = self._settings.multi_az
        self._ctx = ctx = ctx.with_tags({TIER_TAG: settings.tier})

        monitoring = self._monitoring_role()
        key = self._key(name, self._ctx.region, None)
        self.kms_key_arn: pulumi.Output[str] = key.arn
        family = postgres_family(self._settings.engine_version)
        subnet_group = self._subnet_group(name, args.subnet_ids, None)
        security_group = self._security_group(
            name, args.vpc_id, args.client_cidrs, args.client_security_group_ids, None
        )
        parameter_group = self._parameter_group(name, family, None)
        log_groups = self._log_groups(name, self._ctx, None)
        primary = aws.rds.Instance(
            name,
            identifier=name,
            engine="postgres",
            engine_version=self._settings.engine_version,
            instance_class=self._settings.instance_class,
            db_name=self._settings.name,
            username=MASTER_USERNAME,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key.arn,
            allocated_storage=self._settings.allocated_storage_gb,
            max_allocated_storage=self._settings.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=key.arn,
            multi_az=self._settings.multi_az,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            parameter_group_name=parameter_group.name,
            **self._hardening(key, monitoring),
            enabled_cloudwatch_logs_exports=list(EXPORTED_LOGS),
            # Automated backups outlive a deleted instance in prod (point-in-time restore
            # of the last days stays possible after a mistaken delete).
            delete_automated_backups=not self._ctx.protect,
            deletion_protection=self._ctx.protect,
            skip_final_snapshot=not self._ctx.protect,
            final_snapshot_identifier=f"{name}-final" if self._ctx.protect else None,
            auto_minor_version_upgrade=False,
            allow_major_version_upgrade=False,
            apply_immediately=(not self._ctx.protect),
            # The `tier` tag and this opt-in put it in AWS Backup's plan of its tier.
            tags={**self._ctx.tags_for(name), BACKUP_TAG: BACKUP_TAG_VALUE},
            # After its log groups: RDS creates a missing one itself (no key, no expiry).
            opts=pulumi.ResourceOptions(
                parent=self, protect=self._ctx.protect, depends_on=log_groups
            ),
        )
        self.arn: pulumi.Output[str] = primary.arn
        self.address: pulumi.Output[str] = primary.address
        self.endpoint: pulumi.Output[str] = primary.endpoint
        self.master_user_secret_arn: pulumi.Output[str | None] = primary.master_user_secrets.apply(
            lambda secrets: secrets[0].secret_arn if secrets else None
        )
        self.security_group_id: pulumi.Output[str] = security_group.id

        health = self._health_alarm(primary)
        self.health_alarm_arn: pulumi.Output[str] = health.arn

        self.replica_identifier: str | None = None
        self.replica_arn: pulumi.Output[str] | None = None
        self.replica_address: pulumi.Output[str] | None = None
        self.replica_kms_key_arn: pulumi.Output[str] | None = None
        self.replica_lag_alarm_arn: pulumi.Output[str] | None = None
        replica = None
        if args.replica is not None:
            replica = self._replica(args.replica, primary, monitoring, family)
        self.alarm_arns: list[pulumi.Output[str]] = [self.health_alarm_arn] + (
            [self.replica_lag_alarm_arn] if self.replica_lag_alarm_arn is not None else []
        )

        self.zone_id, self.dns_name = self._dns(primary, replica, health)

        self.register_outputs(
            {
                "identifier": self.identifier,
                "arn": self.arn,
                "address": self.address,
                "endpoint": self.endpoint,
                "dnsName": self.dns_name,
                "masterUserSecretArn": self.master_user_secret_arn,
                "securityGroupId": self.security_group_id,
                "kmsKeyArn": self.kms_key_arn,
                "zoneId": self.zone_id,
                "healthAlarmArn": self.health_alarm_arn,
                "replicaArn": self.replica_arn,
                "replicaAddress": self.replica_address,
                "replicaKmsKeyArn": self.replica_kms_key_arn,
                "replicaLagAlarmArn": self.replica_lag_alarm_arn,
            }
        )

    # --- helpers -------------------------------------------------------------------------

    def _key(
        self, resource: str, region: str, provider: pulumi.ProviderResource | None
    ) -> aws.kms.Key:
        """A customer managed key of `region` (RDS encrypts only with a key of the
        instance's own region)."""
        # The account administers and grants use of the key through IAM (the AWS
        # default); RDS uses it through grants.
        return rotating_key(
            resource,
            parent=self,
            description=(
                f"Encrypts the storage, Performance Insights and master secret of {resource} "
                f"({region})"
            ),
            partition=self._ctx.partition,
            account_id=self._ctx.account_id,
            tags=self._ctx.tags_for(resource),
            protect=self._ctx.protect,
            provider=provider,
        )

    def _subnet_group(
        self,
        resource: str,
        subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
        provider: pulumi.ProviderResource | None,
    ) -> aws.rds.SubnetGroup:
        return aws.rds.SubnetGroup(
            resource,
            name=resource,
            description=f"Isolated subnets of {resource}",
            subnet_ids=subnet_ids,
            tags=self._ctx.tags_for(resource),
            opts=self._ctx.opts(self, provider=provider),
        )

    def _log_groups(
        self, identifier: str, ctx: AwsContext, provider: pulumi.ProviderResource | None
    ) -> list[aws.cloudwatch.LogGroup]:
        """The groups RDS exports `identifier`'s engine logs to, in `ctx`'s region: made
        before the instance, each encrypted with a key of its own, kept for the
        configured retention."""
        groups = []
        for log in EXPORTED_LOGS:
            resource = f"{identifier}-{log}-logs"
            _, group = encrypted_log_group(
                ctx,
                self,
                key_resource=resource,
                key_description=f"Encrypts the {log} log {identifier} exports ({ctx.region})",
                group_resource=resource,
                group_name=f"/aws/rds/instance/{identifier}/{log}",
                retention_days=self._settings.log_retention_days,
                provider=provider,
            )
            groups.append(group)
        return groups

    def _parameter_group(
        self, resource: str, family: str, provider: pulumi.ProviderResource | None
    ) -> aws.rds.ParameterGroup:
        return aws.rds.ParameterGroup(
            resource,
            name=resource,
            family=family,
            description=f"{resource}: TLS 1.2+ only",
            parameters=[
                {"name": key, "value": value, "apply_method": "immediate"}
                for key, value in sorted({**TLS_PARAMETERS, **CONNECTION_LOG_PARAMETERS}.items())
            ],
            tags=self._ctx.tags_for(resource),
            opts=self._ctx.opts(self, provider=provider),
        )

    def _security_group(
        self,
        resource: str,
        vpc_id: pulumi.Input[str],
        cidrs: Sequence[str],
        groups: Sequence[pulumi.Input[str]],
        provider: pulumi.ProviderResource | None,
    ) -> aws.ec2.SecurityGroup:
        group = aws.ec2.SecurityGroup(
            resource,
            name=resource,
            vpc_id=vpc_id,
            description=f"PostgreSQL clients of {resource}",
            tags=self._ctx.tags_for(resource),
            opts=self._ctx.opts(self, provider=provider),
        )
        for index, cidr in enumerate(cidrs):
            rule = f"{resource}-postgres-cidr-{index}"
            aws.vpc.SecurityGroupIngressRule(
                rule,
                security_group_id=group.id,
                description=f"PostgreSQL from workload subnet {cidr}",
                cidr_ipv4=cidr,
                ip_protocol="tcp",
                from_port=POSTGRES_PORT,
                to_port=POSTGRES_PORT,
                tags=self._ctx.tags_for(rule),
                opts=self._ctx.opts(self, provider=provider),
            )
        for index, source in enumerate(groups):
            rule = f"{resource}-postgres-sg-{index}"
            aws.vpc.SecurityGroupIngressRule(
                rule,
                security_group_id=group.id,
                description="PostgreSQL from a client security group",
                referenced_security_group_id=source,
                ip_protocol="tcp",
                from_port=POSTGRES_PORT,
                to_port=POSTGRES_PORT,
                tags=self._ctx.tags_for(rule),
                opts=self._ctx.opts(self, provider=provider),
            )
        return group

    def _monitoring_role(self) -> aws.iam.Role:
        """Enhanced monitoring's role: it may create and write the `RDSOSMetrics` log
        group of the database's regions, nothing else (the AWS managed policy allows any
        `RDS*` group of any region)."""
        args, name = self._args, self._name
        regions = [self._ctx.region] + ([args.replica.context.region] if args.replica else [])
        groups = [
            self._ctx.arn(
                service="logs", region=region, resource=f"log-group:{MONITORING_LOG_GROUP}"
            )
            for region in regions
        ]
        streams = [pulumi.Output.format("{0}:log-stream:*", group) for group in groups]
        return args.roles.role(
            f"{name}-monitoring",
            parent=self,
            description=f"Lets RDS enhanced monitoring publish OS metrics of {name}",
            trust=[
                Trust.service(
                    "monitoring.rds.amazonaws.com",
                    source_account=self._ctx.account_id,
                    source_arn_like=self._ctx.arn(
                        service="rds", region="*", resource=f"db:{name}*"
                    ),
                )
            ],
            inline_policies={
                "publish-os-metrics": pulumi.Output.json_dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "CreateTheMetricsLogGroup",
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
                                "Resource": groups,
                            },
                            {
                                "Sid": "WriteTheMetricsLogStreams",
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:DescribeLogStreams",
                                    "logs:GetLogEvents",
                                    "logs:PutLogEvents",
                                ],
                                "Resource": streams,
                            },
                        ],
                    }
                )
            },
            tags=self._ctx.tags_for(),
        )

    # --- health and lag ------------------------------------------------------------------

    def _health_alarm(self, primary: aws.rds.Instance) -> aws.cloudwatch.MetricAlarm:
        """ALARM when the primary has sent no metric for `HEALTH_ALARM_MINUTES` minutes:
        the instance is gone, or its region is."""
        args, name = self._args, self._name
        alarm = f"{name}-primary-heartbeat"
        return aws.cloudwatch.MetricAlarm(
            alarm,
            name=alarm,
            alarm_description=(
                f"{name} has published no metrics for {HEALTH_ALARM_MINUTES} minutes: the "
                "primary (or its region) is down. Route 53 fails the database record over "
                "to the replica; runbook: runbooks/database-promotion.md"
            ),
            namespace="AWS/RDS",
            metric_name="CPUUtilization",
            dimensions={"DBInstanceIdentifier": primary.identifier},
            statistic="SampleCount",
            period=60,
            evaluation_periods=HEALTH_ALARM_MINUTES,
            datapoints_to_alarm=HEALTH_ALARM_MINUTES,
            threshold=1,
            comparison_operator="LessThanThreshold",
            treat_missing_data="breaching",
            alarm_actions=list(args.alarm_actions),
            ok_actions=list(args.alarm_actions),
            tags=self._ctx.tags_for(alarm),
            opts=self._ctx.opts(self),
        )

    def _hardening(self, key: aws.kms.Key, monitoring: aws.iam.Role) -> dict[str, Any]:
        """Settings the primary and its replica share, so a promoted replica is as
        locked down and as observable as the primary it replaces: private, TLS with the
        pinned CA, IAM auth, Performance Insights and enhanced monitoring, and the
        tier's backups."""
        return {
            "publicly_accessible": False,
            "port": POSTGRES_PORT,
            "ca_cert_identifier": RDS_CA_CERTIFICATE,
            "iam_database_authentication_enabled": True,
            "performance_insights_enabled": True,
            "performance_insights_kms_key_id": key.arn,
            "performance_insights_retention_period": self._settings.performance_insights_retention_days,
            "monitoring_interval": self._settings.monitoring_interval_seconds,
            "monitoring_role_arn": monitoring.arn,
            "backup_retention_period": self._settings.retention_days,
            "backup_window": DATABASE_BACKUP_WINDOW_UTC,
            "maintenance_window": MAINTENANCE_WINDOW_UTC,
            "copy_tags_to_snapshot": True,
        }

    def _replica(
        self,
        replica: ReplicaArgs,
        primary: aws.rds.Instance,
        monitoring: aws.iam.Role,
        family: str,
    ) -> aws.rds.Instance:
        resource = f"{self._name}-replica"
        dr = replica.context.provider
        # The trap: an encrypted cross-region replica needs a key of *its* region.
        key = self._key(resource, replica.context.region, dr)
        log_groups = self._log_groups(resource, self._ctx.in_region(replica.context.region, dr), dr)
        instance = aws.rds.Instance(
            resource,
            identifier=resource,
            replicate_source_db=primary.arn,
            instance_class=self._settings.replica_instance_class or self._settings.instance_class,
            storage_type="gp3",
            max_allocated_storage=self._settings.max_allocated_storage_gb,
            storage_encrypted=True,
            kms_key_id=key.arn,
            multi_az=self._settings.replica_multi_az,
            db_subnet_group_name=self._subnet_group(resource, replica.subnet_ids, dr).name,
            vpc_security_group_ids=[
                self._security_group(resource, replica.vpc_id, replica.client_cidrs, (), dr).id
            ],
            parameter_group_name=self._parameter_group(resource, family, dr).name,
            # Including backups: once promoted, the replica has point-in-time recovery
            # from the first minute.
            **self._hardening(key, monitoring),
            enabled_cloudwatch_logs_exports=list(EXPORTED_LOGS),
            deletion_protection=self._ctx.protect,
            # A replica's data is the primary's; nothing to keep at its deletion.
            skip_final_snapshot=True,
            auto_minor_version_upgrade=False,
            apply_immediately=(not self._ctx.protect),
            # No AWS Backup opt-in: the plans cover the primary region; a promoted replica
            # keeps its own automated backups (35 days for tier-1).
            tags=self._ctx.tags_for(resource),
            opts=self._ctx.opts(self, provider=dr, stateful=True, depends_on=log_groups),
        )
        self.replica_identifier = resource
        self.replica_arn = instance.arn
        self.replica_address = instance.address
        self.replica_kms_key_arn = key.arn

        alarm = f"{resource}-lag"
        lag = aws.cloudwatch.MetricAlarm(
            alarm,
            name=alarm,
            alarm_description=(
                f"{resource} is more than {self._settings.objective.rpo_minutes} minutes behind the primary "
                f"(the {self._settings.tier} RPO), or reports no lag at all: a failover now would "
                "lose more data than the tier allows. Runbook: runbooks/database-promotion.md"
            ),
            namespace="AWS/RDS",
            metric_name="ReplicaLag",
            dimensions={"DBInstanceIdentifier": instance.identifier},
            statistic="Maximum",
            period=60,
            evaluation_periods=1,
            threshold=self._settings.objective.rpo_minutes * 60,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="breaching",
            alarm_actions=list(replica.alarm_actions),
            ok_actions=list(replica.alarm_actions),
            tags=self._ctx.tags_for(alarm),
            opts=self._ctx.opts(self, provider=dr),
        )
        self.replica_lag_alarm_arn = lag.arn
        return instance

    # --- DNS -----------------------------------------------------------------------------

    def _dns(
        self,
        primary: aws.rds.Instance,
        replica: aws.rds.Instance | None,
        health: aws.cloudwatch.MetricAlarm,
    ) -> tuple[pulumi.Output[str], str]:
        args, name = self._args, self._name
        fqdn = f"{self._settings.name.replace('_', '-')}.db.{self._zone_name}"
        if self._settings.dns_zone_id is not None:
            zone_id: pulumi.Output[str] = pulumi.Output.from_input(self._settings.dns_zone_id)
        else:
            vpcs: list[aws.route53.ZoneVpcArgsDict] = [
                {"vpc_id": args.vpc_id, "vpc_region": self._ctx.region}
            ]
            if args.replica is not None:
                vpcs.append(
                    {"vpc_id": args.replica.vpc_id, "vpc_region": args.replica.context.region}
                )
            zone = aws.route53.Zone(
                name,
                name=self._zone_name,
                comment=f"Private names of {self._ctx.environment}'s databases",
                vpcs=vpcs,
                force_destroy=False,
                tags=self._ctx.tags_for(self._zone_name),
                opts=self._ctx.opts(self),
            )
            zone_id = zone.zone_id
        common: dict[str, Any] = {
            "zone_id": zone_id,
            "name": fqdn,
            "type": "CNAME",
            "ttl": self._settings.dns_ttl_seconds,
        }
        if replica is None:
            aws.route53.Record(name, records=[primary.address], **common, opts=self._ctx.opts(self))
            return zone_id, fqdn
        check = aws.route53.HealthCheck(
            f"{name}-primary",
            type="CLOUDWATCH_METRIC",
            cloudwatch_alarm_name=health.name,
            cloudwatch_alarm_region=self._ctx.region,
            # No alarm state at all (the primary region's CloudWatch unreachable) counts
            # as down: that is what a region failure looks like from Route 53.
            insufficient_data_health_status="Unhealthy",
            tags=self._ctx.tags_for(f"{name}-primary"),
            opts=self._ctx.opts(self),
        )
        aws.route53.Record(
            f"{name}-primary",
            records=[primary.address],
            set_identifier="primary",
            failover_routing_policies=[{"type": "PRIMARY"}],
            health_check_id=check.id,
            **common,
            opts=self._ctx.opts(self),
        )
        aws.route53.Record(
            f"{name}-secondary",
            records=[replica.address],
            set_identifier="secondary",
            failover_routing_policies=[{"type": "SECONDARY"}],
            **common,
            opts=self._ctx.opts(self),
        )
        return zone_id, fqdn
