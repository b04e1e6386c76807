"""Alerting: every CloudWatch alarm notifies the encrypted alert topic of its own region,
each region with alarms has one, and the pager's webhook (a secret) is subscribed to
every topic when set, and appears nowhere in clear."""

from __future__ import annotations

import dataclasses
import json

import pytest

from ballast.offline import load_stack_config, run_stack
from ballast.offline.records import SECRET_PLACEHOLDER
from ballast.offline.stack_config import load_project
from components.alerting import CONFIRMATION_TIMEOUT_MINUTES
from tests.conftest import ROOT, SHIPPED_STACKS, platform_config, stack_run
from tests.tokens import ALARM, KEY

TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
#: A pager URL as a fork would set it (`pulumi config set --secret alertWebhookUrl ...`).
WEBHOOK = "https://events.pager.example/integration/0123456789abcdef/enqueue"


def region_of(run, record) -> str:
    return run.by_urn()[record.provider].inputs["region"]


def alert_topics(run) -> dict[str, object]:
    """region -> the alert topic there (the findings topic is the audit trail's)."""
    topics = [t for t in run.of_type(TOPIC) if "Alerting" in t.urn]
    by_region = {region_of(run, t): t for t in topics}
    assert len(by_region) == len(topics), "two alert topics in one region"
    return by_region


def with_webhook(stack: str):
    """`stack` run as the CLI runs it once the secret is decrypted: the value known to
    the program, its key flagged secret."""
    base = load_stack_config(load_project(ROOT), stack)
    config = {**base.config, "ballast:alertWebhookUrl": WEBHOOK}
    keys = tuple(sorted({*base.secret_keys, "ballast:alertWebhookUrl"}))
    return run_stack(dataclasses.replace(base, config=config, secret_keys=keys))


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_alarm_notifies_the_alert_topic_of_its_own_region(stack):
    run = stack_run(stack)
    topics = alert_topics(run)
    alarms = run.of_type(ALARM)
    assert alarms
    for alarm in alarms:
        topic = topics[region_of(run, alarm)]
        assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]]
        assert alarm.inputs["okActions"] == [topic.outputs["arn"]]
    # A topic in each region with alarms, and in the primary region in any case.
    assert set(topics) == {region_of(run, a) for a in alarms} | {
        platform_config(stack).primary_region
    }
    assert run.outputs["alertTopicArns"] == {r: t.outputs["arn"] for r, t in topics.items()}


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_each_topic_is_encrypted_with_a_key_of_its_region_that_cloudwatch_may_use(stack):
    run = stack_run(stack)
    keys = {k.outputs["arn"]: k for k in run.of_type(KEY)}
    for region, topic in alert_topics(run).items():
        key = keys[topic.inputs["kmsMasterKeyId"]]
        assert region_of(run, key) == region
        statements = json.loads(key.inputs["policy"])["Statement"]
        (cloudwatch,) = [
            s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        ]
        condition = cloudwatch["Condition"]["StringEquals"]
        assert condition == {"kms:EncryptionContext:aws:sns:topicArn": topic.outputs["arn"]}
        assert key.inputs["enableKeyRotation"] is True


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_only_this_accounts_alarms_of_the_region_may_publish(stack):
    run = stack_run(stack)
    policies = {p.inputs["arn"]: p for p in run.of_type(TOPIC_POLICY)}
    for region, topic in alert_topics(run).items():
        document = json.loads(policies[topic.outputs["arn"]].inputs["policy"])
        (publish,) = [s for s in document["Statement"] if s["Action"] == "sns:Publish"]
        assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        source = publish["Condition"]["ArnLike"]["aws:SourceArn"]
        account = publish["Condition"]["StringEquals"]["aws:SourceAccount"]
        assert source.split(":")[3:6] == [region, account, "alarm"]
        assert source.endswith(":alarm:*")


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_without_a_webhook_nothing_subscribes(stack):
    assert platform_config(stack).alert_webhook_url is None
    assert stack_run(stack).of_type(SUBSCRIPTION) == []


@pytest.fixture(scope="module")
def paged():
    """The stack with a DR replica (the most regions with alarms), with the webhook."""
    stack = max(SHIPPED_STACKS, key=lambda s: len(alert_topics(stack_run(s))))
    return stack, with_webhook(stack)


def test_with_a_webhook_every_topic_pages_it_over_https(paged):
    _, run = paged
    topics = alert_topics(run)
    subscriptions = run.of_type(SUBSCRIPTION)
    assert sorted(s.inputs["topic"] for s in subscriptions) == sorted(
        t.outputs["arn"] for t in topics.values()
    )
    for subscription in subscriptions:
        assert subscription.inputs["protocol"] == "https"
        # Pager endpoints confirm on their own; `up` waits for it and fails otherwise.
        assert subscription.inputs["endpointAutoConfirms"] is True
        assert subscription.inputs["confirmationTimeoutInMinutes"] == CONFIRMATION_TIMEOUT_MINUTES
        assert region_of(run, subscription) == region_of(
            run,
            next(t for t in topics.values() if t.outputs["arn"] == subscription.inputs["topic"]),
        )


def test_the_webhook_stays_secret_in_every_record_and_output(paged):
    _, run = paged
    for subscription in run.of_type(SUBSCRIPTION):
        assert subscription.inputs["endpoint"] == SECRET_PLACEHOLDER
    assert WEBHOOK not in json.dumps(run.to_json())
    assert "0123456789abcdef" not in json.dumps(run.to_json())
