"""`AuditTrail`: who changed what (CloudTrail), what looks malicious (GuardDuty), and a
place a human sees it (an SNS topic).

- A multi-region CloudTrail with log-file validation, encrypted with the *audit key*:
  CloudTrail may encrypt with it, S3 log delivery may encrypt with it, only the
  security-audit role may decrypt to read, and (with a DR region) S3 replication may
  decrypt to copy, through S3 only and for the audit buckets only (key administration
  stays with the account, through IAM, but without the right to decrypt).
- The trail's bucket: versioned, public access blocked, ACLs disabled, SSE-KMS with the
  audit key and no S3 Bucket Key (with one, CloudTrail would require kms:Decrypt for the
  trail's creator, i.e. the pipeline), TLS only, lifecycled (Glacier Instant Retrieval after 90 days, expiry after
  `log_retention_days`), object lock in prod, and server access logging into a second
  bucket (same protections, no object lock; it cannot log to itself).
- With a DR region: both buckets replicated into buckets of the DR region (same
  protections and lifecycle, the trail replica locked like the trail in prod), encrypted
  with a key of the DR region that the replication role may only encrypt with; the role
  (S3 assumes it) reads exactly the two buckets and writes exactly the two replicas.
  Delete markers are not replicated. In a stack that existed before replication, the
  audit key's policy change needs an administrator outside the boundary
  (docs/security-baseline.md, "Replicating the audit trail").
- A CloudWatch Logs copy of the trail (its own key), for alarms and quick queries.
- GuardDuty in the primary and DR regions, each detector created or adopted
  (`guardDutyDetectorIds`), with the configured protection plans (S3 data
  events, EKS audit logs, runtime monitoring with the managed EKS agent, RDS logins);
  every other plan the API offers is set to DISABLED explicitly.
- An EventBridge rule sending findings of `findings_min_severity` and above to one
  KMS-encrypted SNS topic, and a *tamper* rule sending the CloudTrail record of any call
  that stops, blinds or mutes CloudTrail, GuardDuty or Config (including an
  `UpdateDetector` that disables a detector, which IAM cannot deny selectively) to the
  same topic. The DR region forwards both to the primary region's event bus, so one
  topic carries everything. Subscribe the SIEM and the pager to it.

Everything that is evidence carries the `ballast.io/audit-evidence` tag, which the
permission boundary protects from deletion by any platform role.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from components.buckets import (
    S3_BUCKET_NAME_MAX,
    CompliantBucket,
    ObjectLock,
    compliant_bucket,
    replicate,
)
from components.config import GUARDDUTY_FEATURES, AuditConfig
from components.context import AwsContext
from components.iam import (
    ReplicationRoute,
    RoleFactory,
    Trust,
    replication_policy_document,
    security_read_document,
)
from components.kms import (
    account_root_arn,
    log_group_statement,
    reader_decrypts_statement,
    rotating_key,
    s3_access_log_delivery_statement,
)
from components.tags import AUDIT_EVIDENCE_TAG

#: The GuardDuty severity each threshold name starts at (GuardDuty's own bands).
SEVERITY_FLOOR = {"low": 1.0, "medium": 4.0, "high": 7.0, "critical": 9.0}
#: Protection plans with extra configuration: runtime monitoring installs and updates
#: the GuardDuty security agent on EKS clusters itself.
FEATURE_ADDITIONAL_CONFIGURATION = {
    "RUNTIME_MONITORING": ("EKS_ADDON_MANAGEMENT",),
    "EKS_RUNTIME_MONITORING": ("EKS_ADDON_MANAGEMENT",),
}
#: Log files older than this move to Glacier Instant Retrieval, if they are kept at
#: least `ARCHIVE_MIN_RETENTION_DAYS` (Glacier IR bills 90 days minimum).
ARCHIVE_AFTER_DAYS, ARCHIVE_MIN_RETENTION_DAYS = 90, 180
NONCURRENT_VERSION_DAYS = 30
#: S3 Bucket Keys of the audit buckets. The trail bucket has none: with one, CloudTrail
#: would require kms:Decrypt for whoever creates or updates the trail. The access-log
#: bucket has one (only S3 log delivery writes there). The DR replicas have none: with
#: one, the replication role would need kms:Decrypt on the replica key too (S3 User
#: Guide, "Replicating encrypted objects", S3 Bucket Keys and replication).
TRAIL_BUCKET_KEY, ACCESS_LOG_BUCKET_KEY, REPLICA_BUCKET_KEY = False, True, False


#: API calls that stop, blind or mute the audit trail and threat detection, as
#: (event source, event names). The boundary denies most of them to platform roles; the
#: tamper rule makes anyone else's call (or attempt) land on the findings topic.
TAMPER_EVENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "cloudtrail.amazonaws.com",
        ("DeleteTrail", "PutEventSelectors", "StopLogging", "UpdateTrail"),
    ),
    (
        "guardduty.amazonaws.com",
        (
            "CreateFilter",
            "CreateIPSet",
            "DeleteDetector",
            "DeleteMembers",
            "DisassociateFromAdministratorAccount",
            "DisassociateFromMasterAccount",
            "StopMonitoringMembers",
            "UpdateFilter",
            "UpdateIPSet",
        ),
    ),
    (
        "config.amazonaws.com",
        ("DeleteConfigurationRecorder", "DeleteDeliveryChannel", "StopConfigurationRecorder"),
    ),
)


def tamper_pattern() -> dict[str, Any]:
    """EventBridge pattern of CloudTrail-recorded calls that disable or blind auditing,
    including `UpdateDetector` calls that turn a detector off (IAM cannot deny those
    without also denying the feature updates the platform makes)."""
    alternatives: list[dict[str, Any]] = [
        {"eventSource": [source], "eventName": list(names)} for source, names in TAMPER_EVENTS
    ]
    alternatives.append(
        {
            "eventSource": ["guardduty.amazonaws.com"],
            "eventName": ["UpdateDetector"],
            "requestParameters": {"enable": [False]},
        }
    )
    return {"detail-type": ["AWS API Call via CloudTrail"], "detail": {"$or": alternatives}}


def findings_pattern(min_severity: float) -> dict[str, Any]:
    """EventBridge pattern of GuardDuty findings at or above `min_severity`."""
    return {
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", min_severity]}]},
    }


@dataclass(kw_only=True)
class AuditTrailArgs:
    """Inputs of `AuditTrail`: the validated `ballast:audit` section, and who may read."""

    context: AwsContext
    """Primary region, account, tags and protection (required): home of the trail, its
    buckets and the findings topic. A protected context protects the keys, buckets, log
    group, trail and detectors, and creates the trail bucket with object lock (which can
    only be chosen when the bucket is created, and means the bucket cannot be torn
    down before its files' retention ends)."""

    roles: RoleFactory
    """The role factory from `Identity` (required): the trail's CloudWatch delivery role
    and the findings forwarder carry the permission boundary."""

    settings: AuditConfig
    """The validated `ballast:audit` section: retention in S3 and CloudWatch, object lock
    mode and days, GuardDuty protection plans, the findings severity floor. Defaults,
    limits and trade-offs are documented there (docs/configuration.md)."""

    security_role_arn: pulumi.Input[str]
    """The security-audit role (required): the only principal the audit keys let decrypt
    to read (S3 replication decrypts to copy, through S3 only)."""

    security_role_name: pulumi.Input[str]
    """Its name (required): the component grants it read access to the audit buckets."""

    bucket_prefix: str
    """Name prefix of the audit buckets (required; `Identity.audit_bucket_prefix`, which
    the boundary protects)."""

    dr_context: AwsContext | None = None
    """The DR region's context (default None). With it, GuardDuty runs there too, its
    findings are forwarded to the primary region's topic, and the trail and access-log
    buckets are replicated into buckets there (a second copy of the evidence, in a region
    an outage or a compromised primary region does not take with it)."""


class AuditTrail(pulumi.ComponentResource):
    """CloudTrail, GuardDuty and findings routing; see the module docstring.

    Outputs: `trail_name`, `trail_arn`, `trail_bucket_name`, `access_log_bucket_name`,
    `audit_key_arn`, `trail_log_group_name`, `findings_topic_arn`, `detector_ids`
    (region -> detector ID), `bucket_names` (region -> the audit buckets there; the DR
    region's are the replicas).
    """

    #: Stack outputs (export name -> attribute); `__main__.py` exports them.
    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "trailName": "trail_name",
        "trailBucketName": "trail_bucket_name",
        "trailLogGroupName": "trail_log_group_name",
        "findingsTopicArn": "findings_topic_arn",
        "guardDutyDetectorIds": "detector_ids",
    }

    def __init__(
        self, name: str, args: AuditTrailArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:AuditTrail", name, None, opts)
        self._name = name
        self._args = args
        self._ctx = args.context
        self._settings = args.settings
        self.trail_name = f"{name}-trail"
        trail_arn = self._ctx.arn(
            service="cloudtrail", region=self._ctx.region, resource=f"trail/{self.trail_name}"
        )

        # The replication role comes first: the keys name it in their policies, and KMS
        # refuses a key policy whose principal does not exist yet.
        dr = args.dr_context
        replication_role = self._replication_role(dr) if dr is not None else None
        key = self._audit_key(trail_arn, replication_role)
        self.audit_key_arn: pulumi.Output[str] = key.arn
        access_logs = self._access_log_bucket(key)
        trail_bucket = self._trail_bucket(key, access_logs, trail_arn)
        bucket, bucket_policy = trail_bucket.bucket, trail_bucket.policy
        group, delivery_role, delivery_policy = self._cloud_watch_copy()
        #: Region -> the names of the audit buckets there (the DR region's are replicas).
        self.bucket_names: dict[str, list[pulumi.Output[str]]] = {
            self._ctx.region: [bucket.id, access_logs.bucket.id]
        }
        if dr is not None and replication_role is not None:
            replicas = self._replicate_to_dr(dr, replication_role, key, trail_bucket, access_logs)
            self.bucket_names[dr.region] = [r.bucket.id for r in replicas]

        trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=self.trail_name,
            s3_bucket_name=bucket.id,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=key.arn,
            cloud_watch_logs_group_arn=pulumi.Output.format("{0}:*", group.arn),
            cloud_watch_logs_role_arn=delivery_role.arn,
            tags=self._tags(self.trail_name),
            # CloudTrail checks at creation that it may write to the bucket and the group.
            opts=self._ctx.opts(self, stateful=True, depends_on=[bucket_policy, delivery_policy]),
        )
        self.trail_arn: pulumi.Output[str] = trail.arn
        self.trail_bucket_name: pulumi.Output[str] = bucket.id
        self.access_log_bucket_name: pulumi.Output[str] = access_logs.bucket.id
        self.trail_log_group_name: pulumi.Output[str] = group.name

        aws.iam.RolePolicy(
            f"{name}-security-read",
            name=f"{name}-read-audit-logs",
            role=args.security_role_name,
            policy=pulumi.Output.all(
                self._ctx.partition, *[n for names in self.bucket_names.values() for n in names]
            ).apply(lambda v: json.dumps(security_read_document(v[0], v[1:]))),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.detector_ids: dict[str, pulumi.Output[str]] = {
            self._ctx.region: self._guardduty(self._ctx.region, None)
        }
        if args.dr_context is not None:
            dr = args.dr_context
            self.detector_ids[dr.region] = self._guardduty(dr.region, dr.provider)
        self.findings_topic_arn = self._findings()

        self.register_outputs(
            {
                "trailName": self.trail_name,
                "trailArn": self.trail_arn,
                "trailBucketName": self.trail_bucket_name,
                "accessLogBucketName": self.access_log_bucket_name,
                "auditKeyArn": self.audit_key_arn,
                "trailLogGroupName": self.trail_log_group_name,
                "findingsTopicArn": self.findings_topic_arn,
                "detectorIds": self.detector_ids,
                "bucketNames": self.bucket_names,
            }
        )

    # --- helpers -------------------------------------------------------------------------

    def _tags(self, name: str, evidence: bool = False) -> dict[str, str]:
        return self._ctx.tags_for(name, **({AUDIT_EVIDENCE_TAG: "true"} if evidence else {}))

    def _bucket_name(self, kind: str, region: str | None = None) -> pulumi.Output[str]:
        """`<prefix><kind>-<account>-<region>` (`region` defaults to the primary): unique
        across AWS, stable, protected by the boundary through its prefix."""

        def build(account: str) -> str:
            # Config validation checks this length for every platform region
            # (`components.names.base_problems`); this is the last line of defence.
            bucket = f"{self._args.bucket_prefix}{kind}-{account}-{region or self._ctx.region}"
            if len(bucket) > S3_BUCKET_NAME_MAX:
                raise ValueError(f"{self._name}: bucket name {bucket} is over 63 characters")
            return bucket

        return self._ctx.account_id.apply(build)

    # --- keys ----------------------------------------------------------------------------

    def _audit_key(
        self, trail_arn: pulumi.Output[str], replication_role: aws.iam.Role | None
    ) -> aws.kms.Key:
        name = self._name
        trail_context = pulumi.Output.format(
            "arn:{0}:cloudtrail:*:{1}:trail/*", self._ctx.partition, self._ctx.account_id
        )
        statements = [
            {
                "Sid": "CloudTrailEncryptsThisTrailsLogs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceArn": trail_arn},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail_context},
                },
            },
            {
                "Sid": "CloudTrailDescribesKey",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
            },
            s3_access_log_delivery_statement(self._ctx.account_id),
            reader_decrypts_statement(self._args.security_role_arn),
        ]
        if replication_role is not None:
            # Replication reads the log files to copy them, through S3 of this region and
            # for the audit buckets only: the role can open nothing itself.
            statements.append(
                {
                    "Sid": "ReplicationDecryptsTheAuditBucketsThroughS3",
                    "Effect": "Allow",
                    "Principal": {"AWS": replication_role.arn},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"s3.{self._ctx.region}.amazonaws.com"},
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": self._source_contexts()},
                    },
                }
            )
        return rotating_key(
            f"{name}-trail",
            parent=self,
            description=f"Encrypts {name}'s CloudTrail logs; only the security role reads",
            partition=self._ctx.partition,
            account_id=self._ctx.account_id,
            statements=statements,
            # Administration through IAM, but no Encrypt/Decrypt: reading the trail is
            # not an administrator's right, only the security role's.
            account_may_use_key=False,
            tags=self._tags(f"{name}-trail", evidence=True),
            protect=self._ctx.protect,
        )

    # --- buckets -------------------------------------------------------------------------

    def _lifecycle(self) -> list[aws.s3.BucketLifecycleConfigurationRuleArgsDict]:
        """Log files expire after `log_retention_days`; kept long enough, they move to
        Glacier Instant Retrieval first."""
        retention = self._settings.log_retention_days
        rule: aws.s3.BucketLifecycleConfigurationRuleArgsDict = {
            "id": "expire-audit-logs",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "expiration": {"days": retention},
            "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_VERSION_DAYS},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        }
        if retention >= ARCHIVE_MIN_RETENTION_DAYS:
            rule["transitions"] = [{"days": ARCHIVE_AFTER_DAYS, "storage_class": "GLACIER_IR"}]
        return [rule]

    def _access_log_bucket(self, key: aws.kms.Key) -> CompliantBucket:
        resource = f"{self._name}-access-logs"
        # Only the trail bucket logs here (its name is known before it exists).
        source = pulumi.Output.format(
            "arn:{0}:s3:::{1}", self._ctx.partition, self._bucket_name("trail")
        )
        made = compliant_bucket(
            resource,
            parent=self,
            bucket_name=self._bucket_name("access-logs"),
            kms_key_arn=key.arn,
            tags=self._tags(resource, evidence=True),
            access_log_bucket=None,
            receives_access_logs=True,
            bucket_key=ACCESS_LOG_BUCKET_KEY,
            lifecycle_rules=self._lifecycle(),
            policy_statements=lambda bucket: [
                {
                    "Sid": "S3ServerAccessLogsFromTheTrailBucket",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": pulumi.Output.format("{0}/*", bucket.arn),
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": source},
                        "StringEquals": {"aws:SourceAccount": self._ctx.account_id},
                    },
                }
            ],
            protect=self._ctx.protect,
        )
        return made

    def _object_lock(self) -> ObjectLock | None:
        """The trail's object lock: prod only (a locked bucket outlives its stack)."""
        if not self._ctx.protect:
            return None
        return ObjectLock(
            mode=self._settings.object_lock_mode, days=self._settings.object_lock_days
        )

    def _trail_bucket(
        self, key: aws.kms.Key, access_logs: CompliantBucket, trail_arn: pulumi.Output[str]
    ) -> CompliantBucket:
        resource = f"{self._name}-trail"
        made = compliant_bucket(
            resource,
            parent=self,
            bucket_name=self._bucket_name("trail"),
            kms_key_arn=key.arn,
            # No S3 Bucket Key: with one, CloudTrail requires kms:Decrypt on the audit key
            # for whoever creates or updates the trail (CloudTrail User Guide, "Configure
            # AWS KMS key policies for CloudTrail": "If you are using an existing S3 bucket
            # with an S3 Bucket Key, kms:Decrypt permissions are required to create or
            # update a trail with SSE-KMS encryption enabled"), else CreateTrail fails with
            # InsufficientEncryptionPolicyException. Granting the pipeline Decrypt would
            # end the separation of duties; trail volume makes the extra KMS calls cheap.
            bucket_key=TRAIL_BUCKET_KEY,
            tags=self._tags(resource, evidence=True),
            access_log_bucket=access_logs,
            lifecycle_rules=self._lifecycle(),
            object_lock=self._object_lock(),
            policy_statements=lambda bucket: [
                {
                    "Sid": "CloudTrailReadsTheAcl",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:GetBucketAcl",
                    "Resource": bucket.arn,
                    "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
                },
                {
                    "Sid": "CloudTrailWritesThisAccountsLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": pulumi.Output.format(
                        "{0}/AWSLogs/{1}/*", bucket.arn, self._ctx.account_id
                    ),
                    "Condition": {
                        "StringEquals": {
                            "s3:x-amz-acl": "bucket-owner-full-control",
                            "aws:SourceArn": trail_arn,
                        }
                    },
                },
            ],
            protect=self._ctx.protect,
        )
        return made

    # --- replication to the DR region ----------------------------------------------------

    def _routes(self, region: str) -> pulumi.Output[list[ReplicationRoute]]:
        """The two audit buckets and their replicas in `region`."""
        locked = self._ctx.protect
        return pulumi.Output.all(
            self._bucket_name("trail"),
            self._bucket_name("trail", region),
            self._bucket_name("access-logs"),
            self._bucket_name("access-logs", region),
        ).apply(
            lambda n: [
                ReplicationRoute(
                    source=n[0],
                    destination=n[1],
                    source_locked=locked,
                    source_bucket_key=TRAIL_BUCKET_KEY,
                ),
                ReplicationRoute(
                    source=n[2], destination=n[3], source_bucket_key=ACCESS_LOG_BUCKET_KEY
                ),
            ]
        )

    def _source_contexts(self) -> pulumi.Output[list[str]]:
        """The KMS encryption contexts of the audit buckets' objects: the object's ARN,
        or the bucket's where the bucket uses an S3 Bucket Key."""
        return pulumi.Output.all(
            self._ctx.partition, self._bucket_name("trail"), self._bucket_name("access-logs")
        ).apply(
            lambda v: [
                f"arn:{v[0]}:s3:::{v[1]}" + ("" if TRAIL_BUCKET_KEY else "/*"),
                f"arn:{v[0]}:s3:::{v[2]}" + ("" if ACCESS_LOG_BUCKET_KEY else "/*"),
            ]
        )

    def _replication_role(self, dr: AwsContext) -> aws.iam.Role:
        """The role S3 assumes to copy the audit buckets into `dr`'s region. Its policy
        comes later (`_replicate_to_dr`): it names the keys, whose policies name it."""
        return self._args.roles.role(
            f"{self._name}-replication",
            parent=self,
            description=f"Lets S3 replicate {self._name}'s audit buckets to {dr.region}",
            # S3 documents no source context for this trust (components/iam/actions.py,
            # PASSED_ROLE_SERVICES): PutBucketReplication passes it, PassRole guards it.
            trust=[Trust.passed_role("s3.amazonaws.com")],
            tags=self._ctx.tags_for(),
        )

    def _replica_key(self, dr: AwsContext, replication_role: aws.iam.Role) -> aws.kms.Key:
        """The DR region's evidence key: replication encrypts with it, S3 log delivery
        (the trail replica's access logs) encrypts with it, the security role decrypts;
        the account administers it without using it, like the audit key."""
        name, s3 = self._name, f"s3.{dr.region}.amazonaws.com"
        replicas = pulumi.Output.all(
            self._ctx.partition,
            self._bucket_name("trail", dr.region),
            self._bucket_name("access-logs", dr.region),
        ).apply(lambda v: [f"arn:{v[0]}:s3:::{b}/*" for b in v[1:]])
        return rotating_key(
            f"{name}-trail-replica",
            parent=self,
            description=f"Encrypts the {dr.region} replicas of {name}'s audit buckets; "
            "only the security role reads",
            partition=self._ctx.partition,
            account_id=self._ctx.account_id,
            statements=[
                {
                    "Sid": "ReplicationEncryptsReplicasThroughS3",
                    "Effect": "Allow",
                    "Principal": {"AWS": replication_role.arn},
                    "Action": "kms:Encrypt",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"kms:ViaService": s3},
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": replicas},
                    },
                },
                s3_access_log_delivery_statement(self._ctx.account_id),
                reader_decrypts_statement(self._args.security_role_arn),
            ],
            account_may_use_key=False,
            tags=self._tags(f"{name}-trail-replica", evidence=True),
            protect=self._ctx.protect,
            provider=dr.provider,
        )

    def _replicate_to_dr(
        self,
        dr: AwsContext,
        replication_role: aws.iam.Role,
        key: aws.kms.Key,
        trail_bucket: CompliantBucket,
        access_logs: CompliantBucket,
    ) -> tuple[CompliantBucket, CompliantBucket]:
        """Replicas of the trail and access-log buckets in `dr`'s region, encrypted with
        a key there, the trail's with the same object lock (prod), and the replication
        that fills them. Returns (trail replica, access-log replica)."""
        name, region = self._name, dr.region
        replica_key = self._replica_key(dr, replication_role)
        trail_replica_name = self._bucket_name("trail", region)
        log_replica = compliant_bucket(
            f"{name}-access-logs-{region}",
            parent=self,
            bucket_name=self._bucket_name("access-logs", region),
            kms_key_arn=replica_key.arn,
            tags=self._tags(f"{name}-access-logs-{region}", evidence=True),
            access_log_bucket=None,
            receives_access_logs=True,
            bucket_key=REPLICA_BUCKET_KEY,
            lifecycle_rules=self._lifecycle(),
            policy_statements=lambda bucket: [
                {
                    "Sid": "S3ServerAccessLogsFromTheTrailReplica",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": pulumi.Output.format("{0}/*", bucket.arn),
                    "Condition": {
                        "ArnLike": {
                            "aws:SourceArn": pulumi.Output.format(
                                "arn:{0}:s3:::{1}", self._ctx.partition, trail_replica_name
                            )
                        },
                        "StringEquals": {"aws:SourceAccount": self._ctx.account_id},
                    },
                }
            ],
            protect=self._ctx.protect,
            provider=dr.provider,
        )
        trail_replica = compliant_bucket(
            f"{name}-trail-{region}",
            parent=self,
            bucket_name=trail_replica_name,
            kms_key_arn=replica_key.arn,
            tags=self._tags(f"{name}-trail-{region}", evidence=True),
            access_log_bucket=log_replica,
            bucket_key=REPLICA_BUCKET_KEY,
            lifecycle_rules=self._lifecycle(),
            # S3 replicates objects of a locked bucket only into a locked bucket, and
            # the replica keeps each file's retention.
            object_lock=self._object_lock(),
            protect=self._ctx.protect,
            provider=dr.provider,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-replication",
            name="replicate-audit-buckets",
            role=replication_role.id,
            policy=pulumi.Output.all(
                self._ctx.partition, self._routes(region), key.arn, replica_key.arn
            ).apply(
                lambda v: json.dumps(
                    replication_policy_document(
                        partition=v[0],
                        source_region=self._ctx.region,
                        destination_region=region,
                        routes=v[1],
                        source_key_arn=v[2],
                        replica_key_arn=v[3],
                    )
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        pairs = {"trail": (trail_bucket, trail_replica), "access-logs": (access_logs, log_replica)}
        for kind, (source, replica) in pairs.items():
            replicate(
                f"{name}-{kind}-to-{region}",
                parent=self,
                source=source,
                destination=replica,
                role_arn=replication_role.arn,
                replica_kms_key_arn=replica_key.arn,
                # The role's policy, and both keys whose policies name the role.
                depends_on=[policy, key, replica_key],
            )
        return trail_replica, log_replica

    # --- CloudWatch Logs copy ------------------------------------------------------------

    def _cloud_watch_copy(
        self,
    ) -> tuple[aws.cloudwatch.LogGroup, aws.iam.Role, aws.iam.RolePolicy]:
        name, region = self._name, self._ctx.region
        group_name = self._ctx.names.log_group(name, "cloudtrail")
        group_arn = self._ctx.arn(service="logs", region=region, resource=f"log-group:{group_name}")
        key = rotating_key(
            f"{name}-trail-logs",
            parent=self,
            description=f"Encrypts the CloudWatch Logs copy of {name}'s CloudTrail",
            partition=self._ctx.partition,
            account_id=self._ctx.account_id,
            statements=[log_group_statement(region=region, log_group_arn=group_arn)],
            tags=self._tags(f"{name}-trail-logs", evidence=True),
            protect=self._ctx.protect,
        )
        group = aws.cloudwatch.LogGroup(
            f"{name}-trail-logs",
            name=group_name,
            retention_in_days=self._settings.cloud_watch_retention_days,
            kms_key_id=key.arn,
            tags=self._tags(group_name, evidence=True),
            opts=self._ctx.opts(self, stateful=True),
        )
        role = self._args.roles.role(
            f"{name}-trail-logs",
            parent=self,
            description=f"Lets CloudTrail deliver {self.trail_name} to CloudWatch Logs",
            # CloudTrail sends no aws:SourceArn/aws:SourceAccount when it assumes this
            # role (CloudTrail User Guide, "Role policy document for CloudTrail to use
            # CloudWatch Logs for monitoring"), so a conditioned trust would stop
            # delivery. The guard is PassRole: only CreateTrail/UpdateTrail by a principal
            # of this account that may pass the role hands it to CloudTrail, and the
            # boundary allows passing this environment's roles only.
            trust=[Trust.passed_role("cloudtrail.amazonaws.com")],
            tags=self._ctx.tags_for(),
        )
        policy = aws.iam.RolePolicy(
            f"{name}-trail-logs",
            name="deliver-to-log-group",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "WriteThisLogGroupOnly",
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": pulumi.Output.format("{0}:log-stream:*", group.arn),
                        }
                    ],
                }
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return group, role, policy

    # --- GuardDuty -----------------------------------------------------------------------

    def _guardduty(
        self, region: str, provider: pulumi.ProviderResource | None
    ) -> pulumi.Output[str]:
        """The region's detector ID, and every protection plan set explicitly on it.

        A region listed in `guardDutyDetectorIds` adopts that detector (AWS allows one per
        account and region); any other region gets a detector of this stack, which is then
        the account's standalone or administrator detector. Only such a detector sets
        `finding_publishing_frequency`: a member account's detector takes the
        administrator's setting and cannot change it.
        """
        prefix = f"{self._name}-guardduty-{region}"
        base: dict[str, Any] = {"provider": provider} if provider else {}
        adopted = self._settings.guard_duty_detector_ids.get(region)
        detector_id: pulumi.Output[str]
        if adopted is not None:
            detector_id = pulumi.Output.from_input(adopted)
        else:
            detector = aws.guardduty.Detector(
                prefix,
                enable=True,
                # New findings are published at once; this is how often updates to existing
                # findings reach EventBridge (standalone or administrator detector only).
                finding_publishing_frequency="FIFTEEN_MINUTES",
                tags=self._tags(prefix),
                opts=self._ctx.opts(self, stateful=True, **base),
            )
            detector_id = detector.id
        enabled = set(self._settings.guard_duty_features)
        # CreateDetector turns on every optional plan it is not told about (Runtime
        # Monitoring excepted), so a plan the config leaves out is disabled explicitly.
        for feature in GUARDDUTY_FEATURES:
            on = feature in enabled
            extra = FEATURE_ADDITIONAL_CONFIGURATION.get(feature, ()) if on else ()
            aws.guardduty.DetectorFeature(
                f"{prefix}-{feature.lower().replace('_', '-')}",
                detector_id=detector_id,
                name=feature,
                status="ENABLED" if on else "DISABLED",
                additional_configurations=[{"name": e, "status": "ENABLED"} for e in extra] or None,
                opts=pulumi.ResourceOptions(parent=self, **base),
            )
        return detector_id

    # --- findings ------------------------------------------------------------------------

    def _rules(self) -> dict[str, tuple[str, str]]:
        """suffix -> (description, event pattern) of the rules that feed the topic."""
        return {
            "findings": (
                f"GuardDuty findings of severity {self._settings.findings_min_severity} and up",
                json.dumps(findings_pattern(SEVERITY_FLOOR[self._settings.findings_min_severity])),
            ),
            "tamper": (
                "API calls that stop, blind or mute CloudTrail, GuardDuty or Config",
                json.dumps(tamper_pattern()),
            ),
        }

    def _findings(self) -> pulumi.Output[str]:
        name = self._name
        child = pulumi.ResourceOptions(parent=self)
        topic_name = f"{name}-findings"
        topic_arn = self._ctx.arn(service="sns", region=self._ctx.region, resource=topic_name)
        rules = self._rules()
        rule_arns = [
            self._ctx.arn(service="events", region=self._ctx.region, resource=f"rule/{name}-{s}")
            for s in rules
        ]

        key = rotating_key(
            f"{name}-findings",
            parent=self,
            description=f"Encrypts {name}'s security findings topic",
            partition=self._ctx.partition,
            account_id=self._ctx.account_id,
            statements=[
                {
                    "Sid": "EventBridgePublishesToTheFindingsTopic",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": rule_arns},
                        "StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn},
                    },
                }
            ],
            tags=self._tags(f"{name}-findings"),
            protect=self._ctx.protect,
        )
        topic = aws.sns.Topic(
            f"{name}-findings",
            name=topic_name,
            display_name=f"Security findings ({self._ctx.environment})",
            kms_master_key_id=key.arn,
            tags=self._tags(topic_name),
            opts=child,
        )
        created = {
            suffix: aws.cloudwatch.EventRule(
                f"{name}-{suffix}",
                name=f"{name}-{suffix}",
                description=f"{description}, from every platform region, to the findings topic",
                event_pattern=pattern,
                state="ENABLED",
                tags=self._tags(f"{name}-{suffix}"),
                opts=child,
            )
            for suffix, (description, pattern) in rules.items()
        }
        policy = aws.sns.TopicPolicy(
            f"{name}-findings",
            arn=topic.arn,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountManagesSubscriptions",
                            "Effect": "Allow",
                            "Principal": {
                                "AWS": account_root_arn(self._ctx.partition, self._ctx.account_id)
                            },
                            "Action": [
                                "sns:GetTopicAttributes",
                                "sns:ListSubscriptionsByTopic",
                                "sns:Subscribe",
                            ],
                            "Resource": topic.arn,
                        },
                        {
                            "Sid": "TheSecurityRulesPublish",
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": topic.arn,
                            "Condition": {
                                "ArnEquals": {"aws:SourceArn": [r.arn for r in created.values()]}
                            },
                        },
                    ],
                }
            ),
            opts=child,
        )
        for suffix, rule in created.items():
            aws.cloudwatch.EventTarget(
                f"{name}-{suffix}",
                rule=rule.name,
                target_id="findings-topic",
                arn=topic.arn,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
            )
        if self._args.dr_context is not None:
            self._forward_to_primary(rules, self._args.dr_context)
        return topic.arn

    def _forward_to_primary(
        self, rules: Mapping[str, tuple[str, str]], dr_context: AwsContext
    ) -> None:
        """The DR region's matching events go to the primary region's default event bus,
        where the same rules pick them up (their `region` field still names the DR
        region)."""
        args, name = self._args, self._name
        dr_region = dr_context.region
        dr = self._ctx.opts(self, provider=dr_context.provider)
        forwards = {
            suffix: aws.cloudwatch.EventRule(
                f"{name}-{suffix}-{dr_region}",
                name=f"{name}-{suffix}-{dr_region}",
                description=f"Forwards {dr_region} {description[0].lower()}{description[1:]} "
                f"to {self._ctx.region}",
                event_pattern=pattern,
                state="ENABLED",
                tags=self._tags(f"{name}-{suffix}-{dr_region}"),
                opts=dr,
            )
            for suffix, (description, pattern) in rules.items()
        }
        primary_bus = self._ctx.arn(
            service="events", region=self._ctx.region, resource="event-bus/default"
        )
        role = args.roles.role(
            f"{name}-findings-forward",
            parent=self,
            description=f"Lets EventBridge in {dr_region} put findings on {self._ctx.region}'s bus",
            trust=[
                Trust.service(
                    "events.amazonaws.com",
                    source_account=self._ctx.account_id,
                    source_arn=[r.arn for r in forwards.values()],
                )
            ],
            inline_policies={
                "put-on-primary-bus": pulumi.Output.json_dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "PutOnThePrimaryDefaultBus",
                                "Effect": "Allow",
                                "Action": "events:PutEvents",
                                "Resource": primary_bus,
                            }
                        ],
                    }
                )
            },
            tags=self._ctx.tags_for(),
        )
        for suffix, rule in forwards.items():
            aws.cloudwatch.EventTarget(
                f"{name}-{suffix}-{dr_region}",
                rule=rule.name,
                target_id="primary-region-bus",
                arn=primary_bus,
                role_arn=role.arn,
                opts=dr,
            )
