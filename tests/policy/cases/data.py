"""Data protection (S3, RDS, EBS, KMS), through the analyzer protocol."""

from __future__ import annotations

import json

import pulumi_aws as aws

from tests.policy.casebook import ACCOUNT, EXTRA_CONFIGS, Case, document, tags


def bucket(**overrides):
    def build(env, name):
        env.bucket(name, **overrides)

    return build


def bucket_with_acl(env, name):
    target = env.bucket(name)
    aws.s3.BucketAcl(f"{name}-acl", bucket=target.id, acl="public-read", opts=env.opts())


def bucket_with_public_policy(env, name):
    target = env.bucket(name)
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::site/*",
    }
    aws.s3.BucketPolicy(
        f"{name}-policy", bucket=target.id, policy=json.dumps(document(statement)), opts=env.opts()
    )


def bucket_with_private_policy(env, name):
    target = env.bucket(name)
    statements = [
        # Deny without TLS: a condition, and a Deny, so not public.
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::site/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/reader"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::site/*",
        },
    ]
    aws.s3.BucketPolicy(
        f"{name}-policy",
        bucket=target.id,
        policy=json.dumps(document(*statements)),
        opts=env.opts(),
    )


def public_testing_bucket(env, name):
    env.bucket(
        name,
        block_flags={"block_public_policy": False, "restrict_public_buckets": False},
        bucket_tags=tags(**{"public-access": "testing"}),
    )


def database(replica_region: str | None = "dr", replica_multi_az: bool = True, **overrides):
    """A compliant PostgreSQL primary and (by default) its DR-region replica."""

    def build(env, name):
        args = {
            "engine": "postgres",
            "engine_version": "16.4",
            "instance_class": "db.r6g.large",
            "allocated_storage": 100,
            "username": "ballast",
            "manage_master_user_password": True,
            "storage_encrypted": True,
            "kms_key_id": env.key.arn,
            "publicly_accessible": False,
            "backup_retention_period": 7,
            "iam_database_authentication_enabled": True,
            "multi_az": True,
            "deletion_protection": True,
            "skip_final_snapshot": False,
            "final_snapshot_identifier": f"{name}-final",
            "tags": tags(),
            **overrides,
        }
        primary = aws.rds.Instance(name, **args, opts=env.opts(protect=True))
        if replica_region:
            dr = replica_region == "dr"
            aws.rds.Instance(
                f"{name}-replica",
                replicate_source_db=primary.arn,
                instance_class="db.r6g.large",
                storage_encrypted=True,
                kms_key_id=(env.key_dr if dr else env.key).arn,
                publicly_accessible=False,
                backup_retention_period=7,
                iam_database_authentication_enabled=True,
                multi_az=replica_multi_az,
                deletion_protection=True,
                tags=tags(),
                opts=env.opts(env.aws_dr if dr else None, protect=True),
            )

    return build


def volume(encrypted: bool):
    def build(env, name):
        aws.ebs.Volume(
            name,
            availability_zone="us-east-1a",
            size=20,
            encrypted=encrypted,
            tags=tags(),
            opts=env.opts(protect=True),
        )

    return build


def launch_template(encrypted: str):
    def build(env, name):
        aws.ec2.LaunchTemplate(
            name,
            instance_type="m6i.large",
            metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 2},
            block_device_mappings=[
                {"device_name": "/dev/xvda", "ebs": {"volume_size": 50, "encrypted": encrypted}}
            ],
            tags=tags(),
            opts=env.opts(),
        )

    return build


def key(rotation: bool):
    def build(env, name):
        env.kms_key(name, enable_key_rotation=rotation)

    return build


def trail(validation: bool = True, multi_region: bool = True):
    def build(env, name):
        aws.cloudtrail.Trail(
            name,
            s3_bucket_name="ballast-test-audit",
            kms_key_id=env.key.arn,
            include_global_service_events=True,
            is_multi_region_trail=multi_region,
            enable_log_file_validation=validation,
            tags=tags(),
            opts=env.opts(),
        )

    return build


S3_POLICIES = (
    "s3-public-access-block",
    "s3-no-public-acl",
    "s3-no-public-policy",
    "s3-public-bucket-exception",
    "s3-versioning",
    "s3-kms-encryption",
    "s3-access-logging",
)
EXTRA_CONFIGS["single-az-replica-exempt"] = (
    "prod",
    {
        "rds-multi-az": {
            "exemptions": [
                {
                    "type": "aws:rds/instance:Instance",
                    "name": "rds-ok-single-az-replica-exempt-replica",
                    "reason": "Approved: single-AZ DR replica",
                }
            ]
        }
    },
)

RDS_POLICIES = (
    "rds-storage-encrypted",
    "rds-not-public",
    "rds-backup-retention",
    "rds-iam-auth",
    "rds-multi-az",
    "rds-deletion-protection",
    "rds-final-snapshot",
    "rds-cross-region-replica",
)

CASES = [
    # --- S3 -------------------------------------------------------------------------
    Case("s3-baseline", bucket(), passes=S3_POLICIES),
    Case("s3-ok-private-policy", bucket_with_private_policy, passes=("s3-no-public-policy",)),
    Case(
        "s3-testing-staging",
        public_testing_bucket,
        passes=("s3-public-bucket-exception", "s3-public-access-block"),
        config="staging",
    ),
    Case("s3-no-pab", bucket(public_access_block=False), fails="s3-public-access-block"),
    Case(
        "s3-pab-off",
        bucket(block_flags={"ignore_public_acls": False}),
        fails="s3-public-access-block",
    ),
    Case("s3-acl-public", bucket_with_acl, fails="s3-no-public-acl"),
    Case("s3-policy-public", bucket_with_public_policy, fails="s3-no-public-policy"),
    Case("s3-testing-prod", public_testing_bucket, fails="s3-public-bucket-exception"),
    Case("s3-no-versioning", bucket(versioning=False), fails="s3-versioning"),
    Case("s3-sse-s3", bucket(sse="AES256"), fails="s3-kms-encryption"),
    Case("s3-no-sse", bucket(sse=None), fails="s3-kms-encryption"),
    Case("s3-no-logging", bucket(logging=False), fails="s3-access-logging"),
    # --- RDS ------------------------------------------------------------------------
    Case("rds-ok", database(), passes=RDS_POLICIES),
    Case(
        "rds-plain",
        database(storage_encrypted=False, kms_key_id=None),
        fails="rds-storage-encrypted",
    ),
    Case("rds-public", database(publicly_accessible=True), fails="rds-not-public"),
    Case("rds-short-backup", database(backup_retention_period=3), fails="rds-backup-retention"),
    Case(
        "rds-no-iam-auth", database(iam_database_authentication_enabled=False), fails="rds-iam-auth"
    ),
    Case("rds-single-az", database(multi_az=False), fails="rds-multi-az"),
    Case("rds-replica-single-az", database(replica_multi_az=False), fails="rds-multi-az"),
    Case(
        "rds-ok-single-az-replica-exempt",
        # The recorded trade-off: this replica, by URN, with its reason.
        database(replica_multi_az=False),
        passes=("rds-multi-az",),
        config="single-az-replica-exempt",
    ),
    Case("rds-unprotected", database(deletion_protection=False), fails="rds-deletion-protection"),
    Case(
        "rds-skip-snapshot",
        database(skip_final_snapshot=True, final_snapshot_identifier=None),
        fails="rds-final-snapshot",
    ),
    Case("rds-no-replica", database(replica_region=None), fails="rds-cross-region-replica"),
    Case("rds-local-replica", database(replica_region="primary"), fails="rds-cross-region-replica"),
    # --- EBS and KMS ----------------------------------------------------------------
    Case("ebs-ok", volume(True), passes=("ebs-volume-encrypted",)),
    Case("ebs-plain", volume(False), fails="ebs-volume-encrypted"),
    Case("lt-ok", launch_template("true"), passes=("ec2-volumes-encrypted", "ec2-imdsv2-required")),
    Case("lt-plain", launch_template("false"), fails="ec2-volumes-encrypted"),
    Case("kms-ok", key(True), passes=("kms-key-rotation",)),
    Case("kms-no-rotation", key(False), fails="kms-key-rotation"),
    Case("trail-ok", trail(), passes=("cloudtrail-log-validation", "cloudtrail-multi-region")),
    Case("trail-unvalidated", trail(validation=False), fails="cloudtrail-log-validation"),
    Case("trail-one-region", trail(multi_region=False), fails="cloudtrail-multi-region"),
    Case(
        # The legacy inline `policy` of the bucket gets the same check as a BucketPolicy.
        "s3-inline-public-policy",
        bucket(
            policy=json.dumps(
                document(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::site/*",
                    }
                )
            )
        ),
        fails="s3-no-public-policy",
    ),
]
