"""`Alerting`: where the platform's CloudWatch alarms go. One KMS-encrypted SNS topic per
severity (`SEVERITIES`: `page` and `ticket`, as in Alertmanager's routing) in each
region that has alarms (the primary region always; the DR region when the database's
replica, and so its lag alarm, lives there), since an alarm can only notify a topic of
its own region. Each shipped alarm notifies the topic of its severity in its region, on
ALARM and on OK: the database's primary heartbeat pages (the primary is down), the
replica's lag opens a ticket (a failover now would lose more than the tier's RPO, but
nothing is down). Both alarms name their runbook (runbooks/database-promotion.md).

With `ballast:alertWebhookUrl` set, each page topic gets an `https` subscription to that
URL, which pages whoever is behind it; with `ballast:alertTicketWebhookUrl`, each ticket
topic gets one to that URL. Without them the topics have no subscriber and notify
nobody (the alarms still drive the failover DNS and stop FIS experiments).

The URLs are secrets end to end: it is read from a Pulumi secret, handed to the
subscription as a secret Output (so the state, the engine's events and `ballast preview`
show `[secret]`), and never logged or exported.

SNS confirms an HTTPS subscription by POSTing a `SubscriptionConfirmation` message to
the URL, which must visit the `SubscribeURL` in it. Pager integrations made for SNS
(PagerDuty's and Opsgenie's Amazon CloudWatch/SNS integrations) do that on their own;
the subscription sets `endpoint_auto_confirms`, so `pulumi up` waits for the
confirmation (`CONFIRMATION_TIMEOUT_MINUTES`) and fails when none comes. A Slack
incoming webhook never confirms (nor understands SNS's message format): put a relay
(e.g. AWS Chatbot, or a function) between the topic and Slack instead.

Why not the audit trail's findings topic: that topic is security evidence for the SIEM
and the security on-call, lives in the primary region only (the DR region forwards
findings through EventBridge, which alarms cannot use), and its key admits EventBridge
only. Operational alarms have another audience and need a topic in each alarm's region.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import pulumi
import pulumi_aws as aws

from components.context import AwsContext
from components.kms import account_root_arn, rotating_key

#: Minutes `pulumi up` waits for the webhook to confirm its subscription before it fails.
CONFIRMATION_TIMEOUT_MINUTES = 5
#: The severities, each with a topic per region; the first is the default of
#: `topic_arn_of`, and its topics keep the names they had when there was one topic.
SEVERITIES = ("page", "ticket")


@dataclass(kw_only=True)
class AlertingArgs:
    """Inputs of `Alerting`."""

    context: AwsContext
    """The primary region, account, tags and protection (required): the primary
    region's topic lives there."""

    other_regions: Sequence[AwsContext] = ()
    """Further regions with alarms, each with its provider (default none), e.g. the DR
    region when the database's replica is there."""

    webhook_url: pulumi.Input[str] | None = None
    """The pager's HTTPS endpoint, subscribed to the page topics (default None: no
    subscription, the alarms page nobody). Pass it as a secret Output; it is made secret
    here in any case."""

    ticket_webhook_url: pulumi.Input[str] | None = None
    """The ticket system's HTTPS endpoint, subscribed to the ticket topics (default
    None: no subscription). A secret, like `webhook_url`."""


class Alerting(pulumi.ComponentResource):
    """The alert topics; see the module docstring.

    Outputs: `topic_arns` (region -> page topic ARN), `ticket_topic_arns` (region ->
    ticket topic ARN), `topic_arn_of(region, severity)`.
    """

    #: Stack outputs (export name -> attribute).
    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "alertTopicArns": "topic_arns",
        "alertTicketTopicArns": "ticket_topic_arns",
    }

    def __init__(
        self, name: str, args: AlertingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Alerting", name, None, opts)
        webhooks = {
            severity: None if url is None else pulumi.Output.secret(url)
            for severity, url in zip(
                SEVERITIES, (args.webhook_url, args.ticket_webhook_url), strict=True
            )
        }
        contexts = [args.context, *args.other_regions]
        regions = [c.region for c in contexts]
        if len(set(regions)) != len(regions):
            raise ValueError(f"{name}: a region is listed twice ({', '.join(regions)})")
        self._topics: dict[str, dict[str, pulumi.Output[str]]] = {s: {} for s in SEVERITIES}
        for index, ctx in enumerate(contexts):
            # The primary region's resources keep the bare name; others carry the region.
            base = name if index == 0 else f"{name}-{ctx.region}"
            for severity in SEVERITIES:
                # Page topics keep the names of the single topic there used to be.
                resource = base if severity == SEVERITIES[0] else f"{base}-{severity}"
                self._topics[severity][ctx.region] = self._topic(
                    resource, ctx, webhooks[severity], severity
                )
        self.topic_arns: pulumi.Output[dict[str, str]] = pulumi.Output.all(
            **self._topics["page"]
        ).apply(dict)
        self.ticket_topic_arns: pulumi.Output[dict[str, str]] = pulumi.Output.all(
            **self._topics["ticket"]
        ).apply(dict)
        self.register_outputs(
            {"topicArns": self.topic_arns, "ticketTopicArns": self.ticket_topic_arns}
        )

    def topic_arn_of(self, region: str, severity: str = SEVERITIES[0]) -> pulumi.Output[str]:
        """The ARN of `region`'s topic for `severity` (default page; KeyError naming what
        there is when it has none)."""
        if severity not in self._topics:
            raise KeyError(f"no severity {severity}; there are {', '.join(SEVERITIES)}")
        try:
            return self._topics[severity][region]
        except KeyError:
            raise KeyError(
                f"no alert topic in {region}; there are topics in "
                f"{', '.join(self._topics[severity])}"
            ) from None

    def _topic(
        self, resource: str, ctx: AwsContext, webhook: pulumi.Output[str] | None, severity: str
    ) -> pulumi.Output[str]:
        child = ctx.opts(self, provider=ctx.provider)
        topic_name = resource
        topic_arn = ctx.arn(service="sns", resource=topic_name)
        key = rotating_key(
            resource,
            parent=self,
            description=f"Encrypts the alert topic {topic_name}",
            partition=ctx.partition,
            account_id=ctx.account_id,
            statements=[
                {
                    # CloudWatch encrypts each alarm notification with the topic's key.
                    "Sid": "CloudWatchAlarmsUseTheKeyForThisTopicOnly",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}
                    },
                }
            ],
            tags=ctx.tags_for(resource),
            protect=ctx.protect,
            provider=ctx.provider,
        )
        topic = aws.sns.Topic(
            resource,
            name=topic_name,
            display_name=(
                f"Platform alerts ({ctx.environment}, {ctx.region})"
                if severity == SEVERITIES[0]
                else f"Platform alerts, {severity} ({ctx.environment}, {ctx.region})"
            ),
            kms_master_key_id=key.arn,
            tags=ctx.tags_for(topic_name),
            opts=child,
        )
        aws.sns.TopicPolicy(
            resource,
            arn=topic.arn,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountManagesSubscriptions",
                            "Effect": "Allow",
                            "Principal": {"AWS": account_root_arn(ctx.partition, ctx.account_id)},
                            "Action": [
                                "sns:GetTopicAttributes",
                                "sns:ListSubscriptionsByTopic",
                                "sns:Subscribe",
                            ],
                            "Resource": topic.arn,
                        },
                        {
                            "Sid": "ThisAccountsAlarmsInThisRegionPublish",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": topic.arn,
                            "Condition": {
                                "ArnLike": {
                                    "aws:SourceArn": ctx.arn(
                                        service="cloudwatch", resource="alarm:*"
                                    )
                                },
                                "StringEquals": {"aws:SourceAccount": ctx.account_id},
                            },
                        },
                    ],
                }
            ),
            opts=child,
        )
        if webhook is not None:
            aws.sns.TopicSubscription(
                f"{resource}-webhook",
                topic=topic.arn,
                protocol="https",
                endpoint=webhook,
                endpoint_auto_confirms=True,
                confirmation_timeout_in_minutes=CONFIRMATION_TIMEOUT_MINUTES,
                opts=child,
            )
        return topic.arn
