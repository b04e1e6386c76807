"""`encrypted_log_group`: a CloudWatch log group encrypted with a key of its own that only
CloudWatch Logs of the group's region may use, and only for that group (the encryption
context names it). The platform's VPC flow logs, EKS control-plane logs, FIS experiment
logs and CI job logs are all made this way."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from components.context import AwsContext
from components.kms import LOG_GROUP_KEY_ACTIONS, log_group_statement, rotating_key


def encrypted_log_group(
    ctx: AwsContext,
    parent: pulumi.Resource,
    *,
    key_resource: str,
    key_description: str,
    group_resource: str,
    group_name: str,
    retention_days: int,
    key_sid: str | None = None,
    key_actions: Sequence[str] = LOG_GROUP_KEY_ACTIONS,
    provider: pulumi.ProviderResource | None = None,
) -> tuple[aws.kms.Key, aws.cloudwatch.LogGroup]:
    """The key (`key_resource`, via `rotating_key`) and the log group (`group_resource`,
    named `group_name`, kept `retention_days`), both children of `parent` and protected
    when `ctx` protects (a deleted key makes every log it encrypted unreadable).
    `key_sid` and `key_actions` only keep an existing key policy's text unchanged (see
    `log_group_statement`); the grant is the same. `provider` (default None: the
    parent's) builds both in another region; it must be `ctx`'s region's provider."""
    statement = log_group_statement(
        region=ctx.region,
        log_group_arn=ctx.arn(service="logs", resource=f"log-group:{group_name}"),
        actions=key_actions,
        **({"sid": key_sid} if key_sid else {}),
    )
    key = rotating_key(
        key_resource,
        parent=parent,
        description=key_description,
        partition=ctx.partition,
        account_id=ctx.account_id,
        statements=[statement],
        tags=ctx.tags_for(key_resource),
        protect=ctx.protect,
        provider=provider,
    )
    group = aws.cloudwatch.LogGroup(
        group_resource,
        name=group_name,
        retention_in_days=retention_days,
        kms_key_id=key.arn,
        tags=ctx.tags_for(group_name),
        opts=ctx.opts(parent, stateful=True, provider=provider),
    )
    return key, group
