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
from components.alerting import CONFIRMATION_TIMEOUT_MINUTES, SEVERITIES
from tests.conftest import ROOT, SHIPPED_STACKS, platform_config, stack_run
from tests.tokens import ALARM, KEY

TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
#: A pager URL as a fork would set it (`pulumi config set --secret alertWebhookUrl ...`).
WEBHOOK = "https://events.pager.example/integration/0123456789abcdef/enqueue"
TICKET_WEBHOOK = "https://tickets.example/hooks/sns/fedcba9876543210"


def region_of(run, record) -> str:
    return run.by_urn()[record.provider].inputs["region"]


def severity_of(topic) -> str:
    return "ticket" if topic.name.endswith("-ticket") else "page"


def alert_topics(run, severity: str = "page") -> dict[str, object]:
    """region -> the alert topic of `severity` there (the findings topic is the audit
    trail's)."""
    topics = [t for t in run.of_type(TOPIC) if "Alerting" in t.urn and severity_of(t) == severity]
    by_region = {region_of(run, t): t for t in topics}
    assert len(by_region) == len(topics), f"two {severity} topics in one region"
    return by_region


def all_topics(run) -> list[tuple[str, object]]:
    """(region, topic) of every alert topic, of every severity."""
    return [(r, t) for sev in SEVERITIES for r, t in alert_topics(run, sev).items()]


def with_webhook(stack: str, **extra: str):
    """`stack` run as the CLI runs it once the secrets are decrypted: the values known to
    the program, their keys flagged secret. `extra`: further secret keys (unqualified)."""
    base = load_stack_config(load_project(ROOT), stack)
    secrets = {"ballast:alertWebhookUrl": WEBHOOK, **{f"ballast:{k}": v for k, v in extra.items()}}
    config = {**base.config, **secrets}
    keys = tuple(sorted({*base.secret_keys, *secrets}))
    return run_stack(dataclasses.replace(base, config=config, secret_keys=keys))


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_alarm_notifies_the_topic_of_its_severity_in_its_own_region(stack):
    run = stack_run(stack)
    alarms = run.of_type(ALARM)
    assert alarms
    for alarm in alarms:
        # The primary's heartbeat means it is down (page); the replica's lag is a risk to
        # the RPO with nothing down (ticket). Both name their runbook.
        severity = "ticket" if alarm.inputs["name"].endswith("-lag") else "page"
        topic = alert_topics(run, severity)[region_of(run, alarm)]
        assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]]
        assert alarm.inputs["okActions"] == [topic.outputs["arn"]]
        assert "runbooks/database-promotion.md" in alarm.inputs["alarmDescription"]
        assert (ROOT / "runbooks" / "database-promotion.md").is_file()
    # A topic of each severity in each region with alarms, and in the primary region.
    regions = {region_of(run, a) for a in alarms} | {platform_config(stack).primary_region}
    for severity, output in (("page", "alertTopicArns"), ("ticket", "alertTicketTopicArns")):
        topics = alert_topics(run, severity)
        assert set(topics) == regions
        assert run.outputs[output] == {r: t.outputs["arn"] for r, t in topics.items()}


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_each_topic_is_encrypted_with_a_key_of_its_region_that_cloudwatch_may_use(stack):
    run = stack_run(stack)
    keys = {k.outputs["arn"]: k for k in run.of_type(KEY)}
    topics = all_topics(run)
    # One key per topic: the key admits CloudWatch for that topic only.
    assert len({t.inputs["kmsMasterKeyId"] for _, t in topics}) == len(topics)
    for region, topic in topics:
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
    for region, topic in all_topics(run):
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
    assert platform_config(stack).alert_ticket_webhook_url is None
    assert stack_run(stack).of_type(SUBSCRIPTION) == []


@pytest.fixture(scope="module")
def paged():
    """The stack with a DR replica (the most regions with alarms), with the webhook."""
    stack = max(SHIPPED_STACKS, key=lambda s: len(alert_topics(stack_run(s))))
    return stack, with_webhook(stack)


def test_the_ticket_webhook_subscribes_to_the_ticket_topics_only_the_pager_to_the_page_topics(
    paged,
):
    stack, only_pager = paged
    page = {t.outputs["arn"] for t in alert_topics(only_pager, "page").values()}
    assert {s.inputs["topic"] for s in only_pager.of_type(SUBSCRIPTION)} == page
    both = with_webhook(stack, alertTicketWebhookUrl=TICKET_WEBHOOK)
    subscriptions = both.of_type(SUBSCRIPTION)
    ticket = {t.outputs["arn"] for t in alert_topics(both, "ticket").values()}
    assert sorted(s.inputs["topic"] for s in subscriptions) == sorted(page | ticket)
    assert len(subscriptions) == len(page) + len(ticket)
    assert TICKET_WEBHOOK not in json.dumps(both.to_json())


def test_with_a_webhook_every_page_topic_pages_it_over_https(paged):
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
