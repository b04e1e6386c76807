"""`compliant_bucket`: the one way the platform makes an S3 bucket.

Versioned, KMS-encrypted (bucket keys on), public access blocked, ACLs disabled, TLS-only,
server access logging and a lifecycle; every component that needs a bucket calls it (the
audit trail's buckets, for instance), so the policy pack's S3 rules hold by construction.
`replicate` copies one such bucket into another (in another region, say), created only
once everything the first replicated object needs exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.names import S3_BUCKET_NAME_MAX

__all__ = [
    "S3_BUCKET_NAME_MAX",
    "CompliantBucket",
    "ObjectLock",
    "compliant_bucket",
    "tls_only_statement",
]
#: Days a noncurrent object version is kept, unless the caller passes its own lifecycle.
NONCURRENT_VERSION_DAYS = 90


@dataclass(frozen=True)
class ObjectLock:
    """Default retention of a bucket created with object lock."""

    mode: Literal["GOVERNANCE", "COMPLIANCE"]
    days: int


@dataclass(frozen=True)
class CompliantBucket:
    """What `compliant_bucket` made: the bucket, its policy (depend on the policy when
    a service checks its access at creation, as CloudTrail does) and its default
    encryption (a writer's objects are encrypted as intended only once it exists)."""

    bucket: aws.s3.Bucket
    policy: aws.s3.BucketPolicy
    encryption: aws.s3.BucketServerSideEncryptionConfiguration
    versioning: aws.s3.BucketVersioning
    object_lock: aws.s3.BucketObjectLockConfiguration | None = None

    def ready_for_writers(self) -> list[pulumi.Resource]:
        """What a configuration that makes a service write into this bucket (server
        access logging into it, say) must wait for: the policy that lets the service
        write, and the default encryption."""
        return [self.policy, self.encryption]

    def ready_as_replica(self) -> list[pulumi.Resource]:
        """What a replication configuration that writes into this bucket must wait for:
        versioning (S3 refuses a destination without it), the policy, the default
        encryption and, where there is one, the object lock retention."""
        lock = [self.object_lock] if self.object_lock is not None else []
        return [self.versioning, *self.ready_for_writers(), *lock]


def tls_only_statement(bucket: aws.s3.Bucket) -> dict[str, Any]:
    """Deny every request to the bucket that does not use TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket.arn, pulumi.Output.format("{0}/*", bucket.arn)],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def compliant_bucket(
    resource: str,
    *,
    parent: pulumi.Resource,
    bucket_name: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str] | None,
    tags: Mapping[str, str],
    access_log_bucket: CompliantBucket | None,
    receives_access_logs: bool = False,
    lifecycle_rules: Sequence[aws.s3.BucketLifecycleConfigurationRuleArgsDict] | None = None,
    policy_statements: Callable[[aws.s3.Bucket], Sequence[Mapping[str, Any]]] | None = None,
    object_lock: ObjectLock | None = None,
    bucket_key: bool = True,
    protect: bool = False,
    provider: pulumi.ProviderResource | None = None,
) -> CompliantBucket:
    """A bucket the policy pack accepts, made the one way the platform makes buckets.

    Versioned; SSE-KMS with `kms_key_arn` (bucket keys on); public access blocked on all
    four flags; ACLs disabled (`BucketOwnerEnforced`); a bucket policy denying non-TLS
    requests, plus `policy_statements(bucket)`; server access logging into
    `access_log_bucket` (another `compliant_bucket`) under `<bucket>/`, created only after
    that bucket's policy and encryption (`ready_for_writers`): S3 checks the target's
    policy when logging is configured and delivers logs from then on; a lifecycle (`lifecycle_rules`, or by default
    noncurrent versions expire after 90 days and incomplete uploads after 7). `bucket_name`
    should start with the stack's prefix (`PhysicalNames.role_prefix`, `<namePrefix>-<stack>-`), the only buckets the
    CI apply role may manage. Child names are all `resource`, parented to `parent`.

    A bucket that is itself the access-log target passes `access_log_bucket=None` and
    `receives_access_logs=True` (it cannot log into itself); any other bucket must log.
    `protect` protects the bucket (do so in prod); `object_lock` can only be chosen when
    the bucket is created.

    `kms_key_arn` None encrypts with S3-managed keys (SSE-S3) instead: only for a bucket
    a service writes that accepts nothing else (ALB access logs); such a bucket needs an
    exemption from the pack's s3-kms-encryption, with that reason.

    `bucket_key` (default True) turns S3 Bucket Keys on: far fewer KMS requests (and
    their cost) for busy buckets. Pass False for a bucket a service writes with a key it
    may not decrypt with: CloudTrail, for one, requires `kms:Decrypt` on the key to
    create or update a trail whose bucket uses a Bucket Key (CloudTrail User Guide,
    "Configure AWS KMS key policies for CloudTrail", required elements for trails).
    """
    if access_log_bucket is None and not receives_access_logs:
        raise ValueError(
            f"{resource}: every bucket logs its access; pass access_log_bucket, or "
            "receives_access_logs=True for the access-log bucket itself"
        )
    base: dict[str, Any] = {"parent": parent}
    if provider is not None:
        base["provider"] = provider
    child = pulumi.ResourceOptions(**base)
    bucket = aws.s3.Bucket(
        resource,
        bucket=bucket_name,
        object_lock_enabled=object_lock is not None,
        force_destroy=False,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(**base, protect=protect),
    )
    aws.s3.BucketOwnershipControls(
        resource, bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child
    )
    aws.s3.BucketPublicAccessBlock(
        resource,
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    versioning = aws.s3.BucketVersioning(
        resource, bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=child
    )
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        resource,
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": kms_key_arn,
                },
                "bucket_key_enabled": bucket_key,
            }
            if kms_key_arn is not None
            else {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}
        ],
        opts=child,
    )
    rules: Sequence[aws.s3.BucketLifecycleConfigurationRuleArgsDict] = lifecycle_rules or [
        {
            "id": "expire-old-versions",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_VERSION_DAYS},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        }
    ]
    aws.s3.BucketLifecycleConfiguration(resource, bucket=bucket.id, rules=list(rules), opts=child)
    lock = None
    if object_lock is not None:
        lock = aws.s3.BucketObjectLockConfiguration(
            resource,
            bucket=bucket.id,
            rule={"default_retention": {"mode": object_lock.mode, "days": object_lock.days}},
            opts=child,
        )
    if access_log_bucket is not None:
        aws.s3.BucketLogging(
            resource,
            bucket=bucket.id,
            target_bucket=access_log_bucket.bucket.id,
            target_prefix=pulumi.Output.format("{0}/", bucket.id),
            target_object_key_format={"partitioned_prefix": {"partition_date_source": "EventTime"}},
            # The target's policy grants logging.s3.amazonaws.com; without the dependency
            # the engine may configure logging first (both only need the target bucket).
            opts=pulumi.ResourceOptions(**base, depends_on=access_log_bucket.ready_for_writers()),
        )
    statements = [
        tls_only_statement(bucket),
        *(policy_statements(bucket) if policy_statements else ()),
    ]
    policy = aws.s3.BucketPolicy(
        resource,
        bucket=bucket.id,
        policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}),
        opts=child,
    )
    return CompliantBucket(
        bucket=bucket, policy=policy, encryption=encryption, versioning=versioning, object_lock=lock
    )


def replicate(
    resource: str,
    *,
    parent: pulumi.Resource,
    source: CompliantBucket,
    destination: CompliantBucket,
    role_arn: pulumi.Input[str],
    replica_kms_key_arn: pulumi.Input[str],
    depends_on: Sequence[pulumi.Resource] = (),
    provider: pulumi.ProviderResource | None = None,
) -> aws.s3.BucketReplicationConfig:
    """Live replication of every new object version of `source` into `destination`
    (two `compliant_bucket`s), as the role `role_arn` (which S3 assumes).

    SSE-KMS objects are replicated too (S3 skips them unless the rule opts in) and each
    replica is encrypted with `replica_kms_key_arn`, a key in the destination's region.
    Delete markers are not replicated: deleting in the source never deletes in the
    replica. Objects written before the configuration exists are not replicated (that
    takes S3 Batch Replication). The configuration is created after the source's
    versioning, everything `destination.ready_as_replica()` lists and `depends_on` (the
    role's policy, the keys whose policies let the role decrypt and encrypt), so the
    first replicated object finds every permission in place. `provider` is the source
    region's (default None: the parent's); the name is `resource`, parented to `parent`.
    """
    base: dict[str, Any] = {"parent": parent}
    if provider is not None:
        base["provider"] = provider
    return aws.s3.BucketReplicationConfig(
        resource,
        bucket=source.bucket.id,
        role=role_arn,
        rules=[
            {
                "id": "replicate-every-object",
                "status": "Enabled",
                "priority": 1,
                "filter": {"prefix": ""},
                "delete_marker_replication": {"status": "Disabled"},
                "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
                "destination": {
                    "bucket": destination.bucket.arn,
                    "encryption_configuration": {"replica_kms_key_id": replica_kms_key_arn},
                },
            }
        ],
        opts=pulumi.ResourceOptions(
            **base,
            depends_on=[source.versioning, *destination.ready_as_replica(), *depends_on],
        ),
    )
