"""Customer managed KMS keys, made the one way the platform makes them.

`rotating_key` creates a key with automatic rotation on, a 30-day deletion window, a key
policy whose first statement lets the account administer the key through IAM (the AWS
default) followed by the caller's statements, and by default an alias
`alias/<resource>`. The statement builders below return one key policy statement each,
so that every key that grants the same thing grants it in the same words:
`log_group_statement` (CloudWatch Logs, for one log group and no other),
`s3_access_log_delivery_statement` (S3 server access logging, for this account's buckets)
and `reader_decrypts_statement` (the one principal that may read what the key protects).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam.actions import KEY_ADMIN_ACTIONS

#: Days a key waits between `ScheduleKeyDeletion` and its deletion (the AWS maximum):
#: the longest window in which a mistaken deletion can still be cancelled.
DELETION_WINDOW_DAYS = 30


#: What CloudWatch Logs needs of a key to encrypt and read back a log group.
LOG_GROUP_KEY_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)
#: The same actions in the order of the CloudWatch Logs documentation. The VPC flow-log
#: and EKS control-plane keys were written with it and keep it, so that their key
#: policies stay byte-identical (a reordered list is still a key policy update).
LOG_GROUP_KEY_ACTIONS_DOCUMENTED_ORDER = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
)


def account_root_arn(
    partition: pulumi.Input[str], account_id: pulumi.Input[str]
) -> pulumi.Output[str]:
    """`arn:<partition>:iam::<account>:root`: the account as a key policy principal (which
    delegates to the account's IAM policies)."""
    return pulumi.Output.format("arn:{0}:iam::{1}:root", partition, account_id)


def account_root_statement(
    partition: pulumi.Input[str], account_id: pulumi.Input[str], *, may_use_key: bool = True
) -> dict[str, Any]:
    """The first statement of every platform key policy.

    With `may_use_key` (default True) it is the AWS default, Sid
    `AccountAdministersThroughIam`: `kms:*` for the account root, so IAM policies decide who
    administers and who uses the key (services such as EKS and RDS use it through grants).
    Without it, Sid `AccountAdministersKeyWithoutUsingIt`: only `KEY_ADMIN_ACTIONS`, so no
    IAM policy can grant encrypting or decrypting, nor create a grant that would; only
    the key policy's other statements can. Rewriting the key policy stays an
    administration right: the boundary takes it (and CreateGrant) from every platform
    role on audit-evidence keys.
    """
    actions: str | list[str]
    if may_use_key:
        sid, actions = "AccountAdministersThroughIam", "kms:*"
    else:
        sid, actions = "AccountAdministersKeyWithoutUsingIt", list(KEY_ADMIN_ACTIONS)
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": account_root_arn(partition, account_id)},
        "Action": actions,
        "Resource": "*",
    }


def log_group_statement(
    *,
    region: str,
    log_group_arn: pulumi.Input[str],
    sid: str = "CloudWatchLogsUsesKeyForThisLogGroupOnly",
    actions: Sequence[str] = LOG_GROUP_KEY_ACTIONS,
) -> dict[str, Any]:
    """The key policy statement that lets CloudWatch Logs of `region` use the key for the
    log group `log_group_arn` only (its encryption context must name that group).

    `sid` defaults to `CloudWatchLogsUsesKeyForThisLogGroupOnly`; `actions` defaults to
    `LOG_GROUP_KEY_ACTIONS` (pass `LOG_GROUP_KEY_ACTIONS_DOCUMENTED_ORDER` only to keep an
    existing policy's text unchanged; the grant is the same).
    """
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": list(actions),
        "Resource": "*",
        "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
    }


def s3_access_log_delivery_statement(
    account_id: pulumi.Input[str], *, sid: str = "S3AccessLogDeliveryEncrypts"
) -> dict[str, Any]:
    """The key policy statement that lets S3 server access logging encrypt the log files it
    delivers into a bucket encrypted with this key.

    It grants `logging.s3.amazonaws.com` `kms:GenerateDataKey*` only (log delivery writes;
    it never reads a log back), and only while the service acts for a bucket owned by
    `account_id` (`aws:SourceAccount`, the confused-deputy guard for service principals).
    Which source buckets may log into the target is the target bucket policy's decision,
    not the key's. `sid` defaults to `S3AccessLogDeliveryEncrypts`.
    """
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "kms:GenerateDataKey*",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }


def reader_decrypts_statement(
    reader_arn: pulumi.Input[str], *, sid: str = "OnlyTheSecurityRoleDecrypts"
) -> dict[str, Any]:
    """The key policy statement that lets one principal, `reader_arn`, read what the key
    protects: `kms:Decrypt` and `kms:DescribeKey`, with no condition, directly or through
    any service.

    On a key made with `rotating_key(..., account_may_use_key=False)` the account statement
    grants administration without use (no Decrypt, no CreateGrant), so no IAM policy can
    let anyone else decrypt: `reader_arn` is then the only principal that can decrypt,
    unless another statement of the same policy grants `kms:Decrypt` (the audit key's
    replication statement does, through S3 only) or the policy is rewritten
    (`kms:PutKeyPolicy` stays an administration right; the boundary takes it from
    platform roles on audit-evidence keys). The audit-evidence keys name the
    security-audit role. It grants no encryption and no grant creation. `sid` defaults to
    `OnlyTheSecurityRoleDecrypts`.
    """
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": reader_arn},
        "Action": ["kms:Decrypt", "kms:DescribeKey"],
        "Resource": "*",
    }


def rotating_key(
    resource: str,
    *,
    parent: pulumi.Resource,
    description: str,
    partition: pulumi.Input[str],
    account_id: pulumi.Input[str],
    tags: Mapping[str, str],
    statements: Sequence[Mapping[str, Any]] = (),
    account_may_use_key: bool = True,
    alias: bool = True,
    protect: bool = False,
    provider: pulumi.ProviderResource | None = None,
) -> aws.kms.Key:
    """A customer managed key, made the one way the platform makes keys.

    Automatic rotation is on (yearly) and the deletion window is `DELETION_WINDOW_DAYS`
    (30, the maximum); neither is a parameter. The key policy is
    `account_root_statement(partition, account_id, may_use_key=account_may_use_key)`
    followed by `statements`, in order. `account_may_use_key` defaults to True (the AWS
    default policy); False keeps the account to administration, so only `statements`
    grant use (the audit key: reading the trail is not an administrator's right).

    The key is named `resource` and parented to `parent`, with `tags`, `protect` (default
    False; pass True in prod, a key's deletion loses every byte it encrypted) and
    `provider` (default None: the parent's). With `alias` (default True) an
    `aws.kms.Alias` `alias/<resource>`, also named `resource`, points at it (same parent
    and provider, not protected: it can be recreated at no cost). Returns the key.
    """
    base: dict[str, Any] = {"parent": parent}
    if provider is not None:
        base["provider"] = provider
    key = aws.kms.Key(
        resource,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        policy=pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    account_root_statement(partition, account_id, may_use_key=account_may_use_key),
                    *(dict(statement) for statement in statements),
                ],
            }
        ),
        tags=dict(tags),
        opts=pulumi.ResourceOptions(**base, protect=protect),
    )
    if alias:
        aws.kms.Alias(
            resource,
            name=f"alias/{resource}",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(**base),
        )
    return key
