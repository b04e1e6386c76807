"""The key helper every component makes its KMS keys with: rotation on, a 30-day deletion
window, the account-root statement first, the caller's statements after it, an alias."""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi
import pulumi_aws as aws
import pytest

from ballast.offline import ProgramRun, run_component
from components.kms import (
    KEY_ADMIN_ACTIONS,
    LOG_GROUP_KEY_ACTIONS,
    log_group_statement,
    reader_decrypts_statement,
    rotating_key,
    s3_access_log_delivery_statement,
)
from tests.conftest import SHIPPED_STACKS, source_offenders, stack_run
from tests.iam_eval import ALLOW, IMPLICIT_DENY, evaluate, trust_allows
from tests.tokens import ALIAS, BUCKET_ENCRYPTION, BUCKET_LOGGING, KEY

ACCOUNT = "123456789012"
ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
READER_ARN = f"arn:aws:iam::{ACCOUNT}:role/test-security-audit"
LOG_DELIVERY = ("Service", "logging.s3.amazonaws.com")
GROUP_ARN = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/ballast/test/app"
TOPIC_STATEMENT = {
    "Sid": "SnsUsesTheKey",
    "Effect": "Allow",
    "Principal": {"Service": "sns.amazonaws.com"},
    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
    "Resource": "*",
}


def run_key(made_in_program: Callable[[], dict] | None = None, **overrides) -> ProgramRun:
    """`rotating_key("test-key", ...)` under a component with an explicit provider (default
    providers are disabled); `made_in_program()` returns more arguments, made in the
    program (providers, outputs)."""

    def program():
        provider = aws.Provider("p", region="eu-west-1")
        owner = pulumi.ComponentResource(
            "test:index:Owner", "owner", opts=pulumi.ResourceOptions(provider=provider)
        )
        rotating_key(
            "test-key",
            parent=owner,
            description="Encrypts the test",
            partition="aws",
            account_id=ACCOUNT,
            tags={"Name": "test-key"},
            **(made_in_program() if made_in_program else {}),
            **overrides,
        )

    return run_component(program)


def policy_of(run: ProgramRun) -> dict:
    (key,) = run.of_type(KEY)
    return json.loads(key.inputs["policy"])


def test_the_key_rotates_and_waits_30_days_before_deletion():
    run = run_key()
    (key,) = run.of_type(KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert key.inputs["description"] == "Encrypts the test"
    assert key.inputs["tags"] == {"Name": "test-key"}
    assert key.parent.endswith("test:index:Owner::owner")
    assert key.protect is False


def test_the_account_root_statement_comes_first_and_caller_statements_follow_in_order():
    second = {**TOPIC_STATEMENT, "Sid": "Second"}
    statements = policy_of(run_key(statements=[TOPIC_STATEMENT, second]))["Statement"]
    assert statements == [
        {
            "Sid": "AccountAdministersThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": ROOT_ARN},
            "Action": "kms:*",
            "Resource": "*",
        },
        TOPIC_STATEMENT,
        second,
    ]


def test_an_administer_only_key_lets_the_account_administer_but_not_use_it():
    policy = policy_of(run_key(account_may_use_key=False))
    (admin,) = policy["Statement"]
    assert admin["Sid"] == "AccountAdministersKeyWithoutUsingIt"
    assert admin["Principal"] == {"AWS": ROOT_ARN}
    assert admin["Action"] == list(KEY_ADMIN_ACTIONS)
    for action in ("kms:Decrypt", "kms:Encrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey"):
        assert evaluate({"Statement": [admin]}, action) == IMPLICIT_DENY
    assert evaluate({"Statement": [admin]}, "kms:PutKeyPolicy") == ALLOW
    # A grant can hand Decrypt to anyone, so administering does not include granting.
    assert evaluate({"Statement": [admin]}, "kms:CreateGrant") == IMPLICIT_DENY
    assert not any("*" in action for action in KEY_ADMIN_ACTIONS)


def test_the_alias_names_the_key_and_shares_its_parent():
    run = run_key()
    (key,), (alias,) = run.of_type(KEY), run.of_type(ALIAS)
    assert alias.name == "test-key"
    assert alias.inputs["name"] == "alias/test-key"
    assert alias.inputs["targetKeyId"] == key.outputs["keyId"]
    assert alias.parent == key.parent
    assert alias.provider == key.provider


def test_no_alias_when_asked():
    assert run_key(alias=False).of_type(ALIAS) == []


def test_protect_applies_to_the_key_only():
    run = run_key(protect=True)
    (key,), (alias,) = run.of_type(KEY), run.of_type(ALIAS)
    assert key.protect is True
    assert alias.protect is False


def test_an_explicit_provider_places_key_and_alias_in_its_region():
    run = run_key(lambda: {"provider": aws.Provider("dr", region="eu-central-1")})
    (key,), (alias,) = run.of_type(KEY), run.of_type(ALIAS)
    assert key.provider == alias.provider
    assert run.by_urn()[key.provider].inputs["region"] == "eu-central-1"
    # Without one, the key uses its parent's provider.
    inherited = run_key().of_type(KEY)[0]
    assert inherited.provider is not None and inherited.provider.endswith("::p")


def test_the_log_group_statement_lets_cloudwatch_logs_use_the_key_for_that_group_only():
    statement = log_group_statement(region="eu-west-1", log_group_arn=GROUP_ARN)
    assert statement == {
        "Sid": "CloudWatchLogsUsesKeyForThisLogGroupOnly",
        "Effect": "Allow",
        "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
        "Action": list(LOG_GROUP_KEY_ACTIONS),
        "Resource": "*",
        "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": GROUP_ARN}},
    }
    document = {"Statement": [statement]}
    own = {"kms:EncryptionContext:aws:logs:arn": GROUP_ARN}
    other = {"kms:EncryptionContext:aws:logs:arn": f"{GROUP_ARN}-other"}
    assert evaluate(document, "kms:GenerateDataKey", "*", own) == ALLOW
    assert evaluate(document, "kms:GenerateDataKey", "*", other) == IMPLICIT_DENY


def test_the_log_group_statement_in_a_key_policy_resolves_outputs():
    def statements() -> dict:
        arn = pulumi.Output.from_input(GROUP_ARN)
        return {"statements": [log_group_statement(region="eu-west-1", log_group_arn=arn)]}

    _, logs = policy_of(run_key(statements))["Statement"]
    assert logs["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": GROUP_ARN}}


def _key_allows(statements: list, principal: tuple[str, str], action: str, **context) -> bool:
    """Whether a key policy of `statements` lets `principal` call `action` (KMS key
    policies name their principals, so the trust evaluator answers)."""
    return trust_allows(
        {"Statement": statements}, principal=principal, action=action, context=context
    )


def test_s3_log_delivery_may_only_encrypt_and_only_for_the_accounts_buckets():
    statement = s3_access_log_delivery_statement(ACCOUNT)
    assert statement["Sid"] == "S3AccessLogDeliveryEncrypts"
    own = {"aws:SourceAccount": ACCOUNT}
    for action in ("kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"):
        assert _key_allows([statement], LOG_DELIVERY, action, **own)
    assert not _key_allows([statement], LOG_DELIVERY, "kms:GenerateDataKey")
    assert not _key_allows(
        [statement], LOG_DELIVERY, "kms:GenerateDataKey", **{"aws:SourceAccount": "999988887777"}
    )
    for action in ("kms:Decrypt", "kms:Encrypt", "kms:CreateGrant", "kms:ReEncryptFrom"):
        assert not _key_allows([statement], LOG_DELIVERY, action, **own)
    for other in (("Service", "cloudtrail.amazonaws.com"), ("AWS", ROOT_ARN)):
        assert not _key_allows([statement], other, "kms:GenerateDataKey", **own)
    assert s3_access_log_delivery_statement(ACCOUNT, sid="Other")["Sid"] == "Other"


def test_the_reader_may_decrypt_and_describe_and_nothing_else():
    statement = reader_decrypts_statement(READER_ARN)
    assert statement["Sid"] == "OnlyTheSecurityRoleDecrypts"
    reader = ("AWS", READER_ARN)
    for action in ("kms:Decrypt", "kms:DescribeKey"):
        assert _key_allows([statement], reader, action)
    for action in ("kms:Encrypt", "kms:GenerateDataKey", "kms:CreateGrant", "kms:PutKeyPolicy"):
        assert not _key_allows([statement], reader, action)
    assert not _key_allows([statement], ("AWS", ROOT_ARN), "kms:Decrypt")
    assert reader_decrypts_statement(READER_ARN, sid="Other")["Sid"] == "Other"


def test_on_an_administer_only_key_the_reader_is_the_only_principal_that_decrypts():
    """The audit keys' shape: the account administers without using, log delivery
    encrypts, one reader decrypts; neither the account (and so no IAM policy) nor the
    log delivery service can decrypt or grant decryption."""
    statements = policy_of(
        run_key(
            statements=[
                s3_access_log_delivery_statement(ACCOUNT),
                reader_decrypts_statement(READER_ARN),
            ],
            account_may_use_key=False,
        )
    )["Statement"]
    context = {"aws:SourceAccount": ACCOUNT}
    deciders = {
        ("AWS", READER_ARN): True,
        ("AWS", ROOT_ARN): False,
        LOG_DELIVERY: False,
    }
    for principal, may_decrypt in deciders.items():
        assert _key_allows(statements, principal, "kms:Decrypt", **context) is may_decrypt
        assert not _key_allows(statements, principal, "kms:CreateGrant", **context)


def test_builders_resolve_outputs_in_a_key_policy():
    def statements() -> dict:
        account = pulumi.Output.from_input(ACCOUNT)
        reader = pulumi.Output.from_input(READER_ARN)
        return {
            "statements": [
                s3_access_log_delivery_statement(account),
                reader_decrypts_statement(reader),
            ],
            "account_may_use_key": False,
        }

    _, delivery, reader = policy_of(run_key(statements))["Statement"]
    assert delivery == s3_access_log_delivery_statement(ACCOUNT)
    assert reader == reader_decrypts_statement(READER_ARN)


def test_components_build_log_delivery_and_reader_statements_only_through_kms():
    """A source check: the two statements' Sids are spelled in components/kms.py only, so
    a key policy that grants either does so through the builder, in the same words."""
    for sid in ("S3AccessLogDeliveryEncrypts", "OnlyTheSecurityRoleDecrypts"):
        assert source_offenders(sid, allowed="kms.py") == [], sid


def test_components_make_keys_only_through_the_helper():
    """A source check: `aws.kms.Key(` appears in components/kms.py only, in any subpackage."""
    offenders = source_offenders(r"\bkms\.Key\(", allowed="kms.py")
    assert offenders == []


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_server_access_log_target_lets_s3_log_delivery_use_its_key(stack):
    """S3 server access logging writes with the target bucket's default encryption: when
    that is a customer managed key, the key policy must let `logging.s3.amazonaws.com`
    generate data keys for this account, or no log file is ever delivered."""
    run = stack_run(stack)
    keys = {k.outputs["arn"]: k for k in run.of_type(KEY)}
    encryption = {
        r.inputs["bucket"]: r.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        for r in run.of_type(BUCKET_ENCRYPTION)
    }
    targets = {r.inputs["targetBucket"] for r in run.of_type(BUCKET_LOGGING)}
    assert targets, f"{stack} has buckets that log their access"
    for target in sorted(targets):
        default = encryption[target]
        if default["sseAlgorithm"] != "aws:kms":
            continue
        key = keys[default["kmsMasterKeyId"]]
        account = key.outputs["arn"].split(":")[4]
        assert _key_allows(
            json.loads(key.inputs["policy"])["Statement"],
            LOG_DELIVERY,
            "kms:GenerateDataKey",
            **{"aws:SourceAccount": account},
        ), f"{target}: S3 log delivery cannot encrypt with {key.name}"
