"""`TelemetryStorage`: the platform layer's half of logs and traces (docs/observability.md).
AWS resources only:

- a **bucket per store**, Loki's (chunks and index) and Tempo's (trace blocks), each a
  `compliant_bucket` (versioned, SSE-KMS with bucket keys, public access blocked,
  TLS-only, access-logged) encrypted with a rotating KMS key of its own, with a lifecycle
  that expires objects after the store's retention (`ballast:observability.logs/
  traces.retentionDays`), noncurrent versions a day later and incomplete uploads after
  a day. The store's own compactor deletes by retention first; the lifecycle is the
  backstop that keeps an orphaned or misconfigured store from growing forever;
- an **IRSA role per store** (through the role factory, so it carries the permission
  boundary) that only that store's service account can assume and that may list its
  bucket, read, write and delete objects in it, and use its key to encrypt and decrypt:
  nothing in any other bucket and no other key (`store_policy_document`);
- the **access-log bucket** both buckets log their S3 server access to, kept
  `ACCESS_LOG_RETENTION_DAYS`, encrypted with its own key, which S3 log delivery may use
  to encrypt the log files it writes (for buckets of this account only).

The Helm releases that use them are the cluster layer's (components/cluster/addons/
loki.py and tempo.py), which read the bucket names and role ARNs from this stack's
outputs (`STACK_OUTPUTS`). Cost at rest: three KMS keys (about $1 a month each) and the
S3 storage of the retained data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from components.buckets import S3_BUCKET_NAME_MAX, CompliantBucket, compliant_bucket
from components.config import ObservabilityConfig
from components.context import AwsContext
from components.iam import RoleFactory
from components.kms import rotating_key, s3_access_log_delivery_statement

#: What a store does with its bucket itself: list its objects.
BUCKET_ACTIONS = ("s3:ListBucket",)
#: What Loki does with the objects of its bucket (Loki's "Storage" documentation, the
#: S3 permissions of its example policy): write chunks and index files, read them back,
#: and delete what retention or compaction removed.
LOKI_OBJECT_ACTIONS = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")
#: What Tempo does with the objects of its bucket (Tempo's "Amazon S3 permissions"
#: documentation): the same, plus the object tags it reads and writes on blocks.
TEMPO_OBJECT_ACTIONS = (
    "s3:DeleteObject",
    "s3:GetObject",
    "s3:GetObjectTagging",
    "s3:PutObject",
    "s3:PutObjectTagging",
)
#: What a writer and reader of an SSE-KMS bucket needs of its key: a data key to write,
#: decryption to read (S3 asks KMS on the caller's behalf). Nothing else.
KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
#: Days the S3 server access logs of the two buckets are kept.
ACCESS_LOG_RETENTION_DAYS = 90
#: Days after which a store's noncurrent object versions, and incomplete multipart
#: uploads, are removed: a store deletes what it no longer needs, and a deleted object
#: must not linger as a billed version for the bucket default's 90 days.
NONCURRENT_DAYS = 1


def store_policy_document(
    *, bucket_arn: str, key_arn: str, object_actions: Sequence[str]
) -> dict[str, Any]:
    """A store role's only policy: list `bucket_arn`, `object_actions` on its objects, and
    `KEY_ACTIONS` on `key_arn` (only through S3 in the role's own region)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListThisBucketOnly",
                "Effect": "Allow",
                "Action": list(BUCKET_ACTIONS),
                "Resource": bucket_arn,
            },
            {
                "Sid": "ObjectsOfThisBucketOnly",
                "Effect": "Allow",
                "Action": sorted(object_actions),
                "Resource": f"{bucket_arn}/*",
            },
            {
                "Sid": "ThisBucketsKeyThroughS3Only",
                "Effect": "Allow",
                "Action": list(KEY_ACTIONS),
                "Resource": key_arn,
                "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
            },
        ],
    }


@dataclass(frozen=True, kw_only=True)
class StoreSpec:
    """One store's identity: its bucket kind, who uses it and what it does there."""

    kind: str
    """Short name (`loki`, `tempo`): the bucket is `<prefix><kind>-<account>-<region>`."""
    namespace: str
    """Namespace of the service account that may assume the role."""
    service_account: str
    """The service account that may assume the role (and no other)."""
    object_actions: Sequence[str]
    """What the store does with its objects."""
    retention_days: int
    """Days an object lives (the lifecycle's expiry)."""


@dataclass(frozen=True)
class Store:
    """What `TelemetryStorage` made for one store."""

    bucket: CompliantBucket
    key: aws.kms.Key
    role: aws.iam.Role


@dataclass(kw_only=True)
class TelemetryStorageArgs:
    """Inputs of `TelemetryStorage`."""

    context: AwsContext
    """Region, account, tags and protection (required). A protected context (prod)
    protects the buckets and keys: deleting a key makes its bucket unreadable for good."""

    roles: RoleFactory
    """The platform's role factory (required): the stores' IRSA roles."""

    settings: ObservabilityConfig
    """The validated `ballast:observability` section (retention, replicas, volumes);
    defaults in docs/configuration.md."""

    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider (required): the roles' IRSA trust."""

    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer (required)."""

    loki_service_account: tuple[str, str]
    """(namespace, name) of Loki's service account (required): the only one that may
    assume Loki's role."""

    tempo_service_account: tuple[str, str]
    """(namespace, name) of Tempo's service account (required)."""


class TelemetryStorage(pulumi.ComponentResource):
    """Loki's and Tempo's buckets, keys and roles; see the module docstring.

    Outputs: `loki_bucket_name`, `loki_bucket_arn`, `loki_key_arn`, `loki_role_arn`,
    `loki_retention_days`, `loki_replicas`, `loki_wal_storage_gib`, and the same for
    `tempo_` (without replicas), `access_log_bucket_name`.
    """

    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "lokiBucketName": "loki_bucket_name",
        "lokiBucketArn": "loki_bucket_arn",
        "lokiKeyArn": "loki_key_arn",
        "lokiRoleArn": "loki_role_arn",
        "lokiRetentionDays": "loki_retention_days",
        "lokiReplicas": "loki_replicas",
        "lokiWalStorageGib": "loki_wal_storage_gib",
        "tempoBucketName": "tempo_bucket_name",
        "tempoBucketArn": "tempo_bucket_arn",
        "tempoKeyArn": "tempo_key_arn",
        "tempoRoleArn": "tempo_role_arn",
        "tempoRetentionDays": "tempo_retention_days",
        "tempoWalStorageGib": "tempo_wal_storage_gib",
        "telemetryAccessLogBucketName": "access_log_bucket_name",
    }

    def __init__(
        self, name: str, args: TelemetryStorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:TelemetryStorage", name, None, opts)
        self._name = name
        self._args = args
        ctx = args.context
        logs, traces = args.settings.logs, args.settings.traces
        specs = (
            StoreSpec(
                kind="loki",
                namespace=args.loki_service_account[0],
                service_account=args.loki_service_account[1],
                object_actions=LOKI_OBJECT_ACTIONS,
                retention_days=logs.retention_days,
            ),
            StoreSpec(
                kind="tempo",
                namespace=args.tempo_service_account[0],
                service_account=args.tempo_service_account[1],
                object_actions=TEMPO_OBJECT_ACTIONS,
                retention_days=traces.retention_days,
            ),
        )
        access_logs = self._access_log_bucket([s.kind for s in specs])
        loki, tempo = (self._store(spec, access_logs) for spec in specs)

        self.loki_bucket_name: pulumi.Output[str] = loki.bucket.bucket.id
        self.loki_bucket_arn: pulumi.Output[str] = loki.bucket.bucket.arn
        self.loki_key_arn: pulumi.Output[str] = loki.key.arn
        self.loki_role_arn: pulumi.Output[str] = loki.role.arn
        self.loki_retention_days: int = logs.retention_days
        self.loki_replicas: int = logs.replica_count(ctx.environment)
        self.loki_wal_storage_gib: int = logs.wal_storage_gib
        self.tempo_bucket_name: pulumi.Output[str] = tempo.bucket.bucket.id
        self.tempo_bucket_arn: pulumi.Output[str] = tempo.bucket.bucket.arn
        self.tempo_key_arn: pulumi.Output[str] = tempo.key.arn
        self.tempo_role_arn: pulumi.Output[str] = tempo.role.arn
        self.tempo_retention_days: int = traces.retention_days
        self.tempo_wal_storage_gib: int = traces.wal_storage_gib
        self.access_log_bucket_name: pulumi.Output[str] = access_logs.bucket.id
        self.register_outputs(
            {
                "lokiBucketName": self.loki_bucket_name,
                "lokiRoleArn": self.loki_role_arn,
                "tempoBucketName": self.tempo_bucket_name,
                "tempoRoleArn": self.tempo_role_arn,
            }
        )

    def _bucket_name(self, kind: str) -> pulumi.Output[str]:
        """`<prefix><kind>-<account>-<region>`: unique across AWS, stable, and under the
        stack's prefix (the only buckets the CI apply role may manage)."""
        ctx = self._args.context

        def build(account: str) -> str:
            bucket = f"{ctx.names.role_prefix}{kind}-{account}-{ctx.region}"
            if len(bucket) > S3_BUCKET_NAME_MAX:
                raise ValueError(f"{self._name}: bucket name {bucket} is over 63 characters")
            return bucket

        return ctx.account_id.apply(build)

    def _key(
        self, kind: str, description: str, statements: Sequence[Mapping[str, Any]] = ()
    ) -> aws.kms.Key:
        ctx = self._args.context
        resource = f"{self._name}-{kind}"
        return rotating_key(
            resource,
            parent=self,
            description=description,
            partition=ctx.partition,
            account_id=ctx.account_id,
            tags=ctx.tags_for(resource),
            statements=statements,
            protect=ctx.protect,
        )

    def _access_log_bucket(self, kinds: Sequence[str]) -> CompliantBucket:
        """The bucket the stores' buckets log their S3 server access to: only S3's
        logging service may write, and only for those buckets of this account."""
        ctx = self._args.context
        # S3 log delivery encrypts each log file with this key (its default encryption).
        key = self._key(
            "access-logs",
            "S3 server access logs of the log and trace buckets",
            [s3_access_log_delivery_statement(ctx.account_id)],
        )
        sources = [
            pulumi.Output.format("arn:{0}:s3:::{1}", ctx.partition, self._bucket_name(kind))
            for kind in kinds
        ]
        resource = f"{self._name}-access-logs"
        return compliant_bucket(
            resource,
            parent=self,
            bucket_name=self._bucket_name("telemetry-logs"),
            kms_key_arn=key.arn,
            tags=ctx.tags_for(resource),
            access_log_bucket=None,
            receives_access_logs=True,
            lifecycle_rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": ACCESS_LOG_RETENTION_DAYS},
                    "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_DAYS},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            policy_statements=lambda bucket: [
                {
                    "Sid": "S3ServerAccessLogsFromTheTelemetryBuckets",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": pulumi.Output.format("{0}/*", bucket.arn),
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": sources},
                        "StringEquals": {"aws:SourceAccount": ctx.account_id},
                    },
                }
            ],
            protect=ctx.protect,
        )

    def _store(self, spec: StoreSpec, access_logs: CompliantBucket) -> Store:
        """One store's key, bucket (expiring after the retention) and IRSA role."""
        ctx = self._args.context
        key = self._key(spec.kind, f"{spec.kind} ({ctx.environment}): its S3 bucket's objects")
        resource = f"{self._name}-{spec.kind}"
        bucket = compliant_bucket(
            resource,
            parent=self,
            bucket_name=self._bucket_name(spec.kind),
            kms_key_arn=key.arn,
            tags=ctx.tags_for(resource),
            access_log_bucket=access_logs,
            lifecycle_rules=[
                {
                    "id": "expire-after-retention",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": spec.retention_days},
                    "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_DAYS},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": NONCURRENT_DAYS},
                }
            ],
            protect=ctx.protect,
        )
        document = pulumi.Output.all(bucket.bucket.arn, key.arn).apply(
            lambda arns: json.dumps(
                store_policy_document(
                    bucket_arn=arns[0], key_arn=arns[1], object_actions=spec.object_actions
                )
            )
        )
        role = self._args.roles.irsa_role(
            f"{self._name}-{spec.kind}",
            parent=self,
            oidc_provider_arn=self._args.oidc_provider_arn,
            oidc_issuer_url=self._args.oidc_issuer_url,
            namespace=spec.namespace,
            service_account=spec.service_account,
            description=f"{spec.kind}: its own bucket and key only (IRSA)",
            inline_policies={"store": document},
            tags=ctx.tags_for(),
        )
        return Store(bucket=bucket, key=key, role=role)
