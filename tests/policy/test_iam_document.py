"""The IAM document parser, in-process and with Hypothesis: every shape AWS accepts,
never a crash, never a missed `*` on `*`. A sample of generated documents also goes
through the analyzer protocol."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ballast.policy.config import parse_policy_config
from ballast.policy.harness import AnalyzerInput
from tests.policy.conftest import PACK_DIR  # noqa: F401  (puts the pack on sys.path)

from ballast_guardrails import iam_document as doc  # isort: skip


def test_shapes_aws_accepts():
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    for shape in (
        {"Statement": statement},
        {"Statement": [statement]},
        json.dumps({"Statement": [statement]}),
        {
            "Statement": [
                {**statement, "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}
            ]
        },
    ):
        parsed = doc.parse(shape)
        assert not parsed.errors
        assert [s.actions for s in parsed.statements] == [("s3:GetObject",)]


def test_matching_ignores_case_and_understands_wildcards():
    assert doc.action_matches("IAM:Put*", "iam:PutRolePolicy")
    assert doc.action_matches("iam:?assRole", "iam:PassRole")
    assert doc.action_matches("*", "ec2:RunInstances")
    assert not doc.action_matches("iam:Put*", "iam:PassRole")
    assert doc.is_full_wildcard("*") and doc.is_full_wildcard("*:*")
    assert doc.is_service_wildcard("s3:*") and doc.is_service_wildcard("*:Get*")
    assert not doc.is_service_wildcard("s3:Get*")


def test_a_deny_is_not_a_grant_and_takes_grants_away():
    parsed = doc.parse(
        {
            "Statement": [
                {"Effect": "Deny", "Action": "*", "Resource": "*"},
                {"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::1:role/x"},
            ]
        }
    )
    assert parsed.star_on_star() == []
    assert parsed.granting("iam:PassRole") == []


def test_malformed_documents_are_reported_not_raised():
    for bad in (
        "{",
        "[]",
        '"text"',
        {"Statement": 3},
        {"Statement": [{"Action": "*"}]},
        {},
        None,
        7,
    ):
        assert doc.parse(bad).errors


# --- Hypothesis -----------------------------------------------------------------------

services = st.sampled_from(["s3", "iam", "ec2", "kms", "lambda", "sts"])
names = st.sampled_from(["GetObject", "PassRole", "Put*", "RunInstances", "Describe*", "*"])
actions = st.one_of(
    st.just("*"),
    st.builds(lambda s, n: f"{s}:{n}", services, names),
    st.builds(lambda s, n: f"{s.upper()}:{n.lower()}", services, names),
)
resources = st.one_of(st.just("*"), st.sampled_from(["arn:aws:s3:::b/*", "arn:aws:iam::1:role/r"]))
junk = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)


def one_or_list(items):
    return st.one_of(items, st.lists(items, min_size=1, max_size=3))


def keyed(name: str):
    """An element name as AWS spells it, or in another case (the parser ignores case)."""
    return st.sampled_from([name, name.lower(), name.upper()])


@st.composite
def statements(draw):
    body = {}
    body[draw(keyed("Effect"))] = draw(st.sampled_from(["Allow", "Deny", "allow"]))
    if draw(st.booleans()):
        body[draw(keyed("Action"))] = draw(one_or_list(actions))
    else:
        body[draw(keyed("NotAction"))] = draw(one_or_list(actions))
    if draw(st.booleans()):
        body[draw(keyed("Resource"))] = draw(one_or_list(resources))
    else:
        body[draw(keyed("NotResource"))] = draw(one_or_list(resources))
    if draw(st.booleans()):
        body["Condition"] = {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}
    if draw(st.integers(0, 9)) == 0:
        body["Sid"] = draw(junk)
    return body


@st.composite
def documents(draw):
    listed = draw(st.lists(st.one_of(statements(), junk), min_size=1, max_size=4))
    statement = listed[0] if len(listed) == 1 and draw(st.booleans()) else listed
    document = {draw(keyed("Statement")): statement, "Version": "2012-10-17"}
    return json.dumps(document) if draw(st.booleans()) else document


def _lower_keys(value):
    return {str(k).lower(): v for k, v in value.items()} if isinstance(value, dict) else {}


def _as_list(value):
    return value if isinstance(value, list) else [value]


def grants_star_on_star(document) -> bool:
    """The oracle, written independently of the parser."""
    decoded = json.loads(document) if isinstance(document, str) else document
    top = _lower_keys(decoded)
    for raw in _as_list(top.get("statement")):
        s = _lower_keys(raw)
        if str(s.get("effect", "")).lower() != "allow":
            continue
        if "*" in _as_list(s.get("action")) and "*" in _as_list(s.get("resource")):
            return True
    return False


@settings(max_examples=400, deadline=None)
@given(documents())
def test_parser_never_crashes_and_never_misses_star_on_star(document):
    parsed = doc.parse(document)
    if grants_star_on_star(document):
        assert parsed.star_on_star(), document
    # Every statement reported as * on * really is one.
    for statement in parsed.star_on_star():
        assert statement.allows


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(junk, st.dictionaries(st.text(max_size=8), junk, max_size=3), st.text(max_size=40))
)
def test_parser_never_crashes_on_garbage(value):
    doc.parse(value)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(documents(), min_size=1, max_size=8))
def test_generated_documents_through_the_analyzer(pack, batch):
    """What the parser decides is what the pack reports over gRPC."""
    pack.configure(parse_policy_config({"all": "disabled", "iam-no-admin-wildcard": "mandatory"}))
    inputs = [
        AnalyzerInput(
            urn=f"urn:pulumi:test::ballast::aws:iam/policy:Policy::generated-{i}",
            type="aws:iam/policy:Policy",
            name=f"generated-{i}",
            inputs={"policy": d if isinstance(d, str) else json.dumps(d)},
        )
        for i, d in enumerate(batch)
    ]
    flagged = {d.urn for d in pack.analyze_many(inputs)}
    for resource, document in zip(inputs, batch, strict=True):
        assert (resource.urn in flagged) == grants_star_on_star(document), document


# --- condition wildcards (Hypothesis) ---------------------------------------------------
#
# Conditions that look restrictive but are not. Every value and operator is drawn with
# what it does, by construction, so the oracle needs no parser: a `*` principal is
# pinned when one condition under a narrowing operator names only exact accounts,
# organisations or source ARNs.

from ballast_guardrails import iam  # noqa: E402  isort: skip

#: Key kind -> (value, does it name known accounts rather than match any?).
CONDITION_VALUES = {
    "account": [
        ("123456789012", True),
        ("*", False),
        ("12345678901?", False),
        ("1234*", False),
    ],
    "org": [("o-a1b2c3d4e5", True), ("o-*", False), ("*", False)],
    "org-path": [
        ("o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*", True),
        ("o-a1b2c3d4e5/*", True),
        ("o-*/r-ab12/*", False),
        ("*", False),
    ],
    "arn": [
        ("arn:aws:iam::123456789012:role/ci", True),
        ("arn:aws:iam::123456789012:role/*", True),
        ("arn:aws:sns:*:123456789012:*", True),
        ("arn:aws:s3:::ballast-logs", True),
        ("arn:aws:iam::*:role/ci", False),
        ("arn:aws:iam::12345678901?:role/ci", False),
        ("arn:aws:s3:::ballast-logs*", False),
        ("arn:aws:*", False),
        ("*", False),
    ],
    "other": [("true", False), ("10.0.0.0/8", False), ("platform", False)],
}
CONDITION_KEYS = {
    "aws:PrincipalAccount": "account",
    "aws:SourceAccount": "account",
    "kms:CallerAccount": "account",
    "AWS:principalaccount": "account",
    "aws:SourceOwner": "account",
    "aws:PrincipalOrgID": "org",
    "aws:SourceOrgID": "org",
    "aws:PrincipalOrgPaths": "org-path",
    "aws:PrincipalArn": "arn",
    "aws:SourceArn": "arn",
    "aws:sourcearn": "arn",
    # Keys that say nothing about who the principal is.
    "aws:SecureTransport": "other",
    "aws:SourceIp": "other",
    "aws:PrincipalTag/team": "other",
    "aws:PrincipalIsAWSService": "other",
}
#: Operator -> does it admit only requests whose key matches a listed value?
CONDITION_OPERATORS = {
    "StringEquals": True,
    "stringequals": True,
    "StringLike": True,
    "StringEqualsIgnoreCase": True,
    "ArnEquals": True,
    "ArnLike": True,
    "ForAnyValue:StringLike": True,
    "ForAllValues:StringEquals": False,
    "StringEqualsIfExists": False,
    "ArnLikeIfExists": False,
    "StringNotEquals": False,
    "StringNotLike": False,
    "ArnNotLike": False,
    "Null": False,
    "Bool": False,
}


@st.composite
def conditions(draw):
    """(Condition block, does it pin the principal?)"""
    block: dict[str, dict[str, list[str]]] = {}
    for _ in range(draw(st.integers(1, 3))):
        operator = draw(st.sampled_from(sorted(CONDITION_OPERATORS)))
        key = draw(st.sampled_from(sorted(CONDITION_KEYS)))
        choices = CONDITION_VALUES[CONDITION_KEYS[key]]
        block.setdefault(operator, {})[key] = draw(
            st.lists(st.sampled_from(choices), min_size=1, max_size=3)
        )
    pinned = any(
        CONDITION_OPERATORS[operator]
        and CONDITION_KEYS[key] != "other"
        and all(exact for _, exact in drawn)
        for operator, keys in block.items()
        for key, drawn in keys.items()
    )
    written = {
        operator: {
            key: [v for v, _ in drawn] if len(drawn) > 1 or draw(st.booleans()) else drawn[0][0]
            for key, drawn in keys.items()
        }
        for operator, keys in block.items()
    }
    return written, pinned


def open_statement(condition) -> dict:
    return {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": condition}


@settings(max_examples=400, deadline=None)
@given(conditions())
def test_only_exact_narrowing_conditions_pin_a_public_principal(drawn):
    condition, pinned = drawn
    (statement,) = doc.parse({"Statement": [open_statement(condition)]}).statements
    assert iam.restricts_principal(statement) == pinned, condition
    restricting = {k.lower() for keys in condition.values() for k in keys} & (
        iam.PRINCIPAL_RESTRICTING_KEYS
    )
    if restricting and not pinned:
        # The report says which condition only looked restrictive.
        assert iam.loose_principal_conditions(statement), condition


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(conditions(), min_size=1, max_size=8))
def test_generated_trust_conditions_through_the_analyzer(pack, batch):
    """An open trust policy is reported over gRPC exactly when its conditions pin nothing."""
    pack.configure(
        parse_policy_config({"all": "disabled", "iam-trust-no-open-principal": "mandatory"})
    )
    inputs = [
        AnalyzerInput(
            urn=f"urn:pulumi:test::ballast::aws:iam/role:Role::trust-{i}",
            type="aws:iam/role:Role",
            name=f"trust-{i}",
            inputs={"assumeRolePolicy": json.dumps({"Statement": [open_statement(c)]})},
        )
        for i, (c, _) in enumerate(batch)
    ]
    flagged = {d.urn for d in pack.analyze_many(inputs)}
    for resource, (condition, pinned) in zip(inputs, batch, strict=True):
        assert (resource.urn in flagged) == (not pinned), condition


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [
            ("StringEquals", "system:serviceaccount:apps:api", True),
            ("StringLike", "system:serviceaccount:apps:api", True),
            ("StringEquals", "repo:example-org/app:environment:prod", True),
            ("StringLike", "repo:example-org/app:*", False),
            ("StringLike", "repo:example-org/*:ref:refs/heads/main", False),
            ("StringLike", "system:serviceaccount:apps:*", False),
            ("StringLike", "system:serviceaccount:?pps:api", False),
            ("StringLike", "*", False),
            ("StringNotEquals", "system:serviceaccount:apps:api", False),
            ("StringEqualsIfExists", "system:serviceaccount:apps:api", False),
            ("ForAllValues:StringEquals", "system:serviceaccount:apps:api", False),
        ]
    ),
    st.sampled_from([("StringEquals", "sts.amazonaws.com", True), ("StringLike", "sts.*", False)]),
)
def test_oidc_claims_pinned_only_by_exact_values(sub, aud):
    """The sub and aud claims of a web-identity trust: exact values under a narrowing
    operator, or the trust admits any repository, branch or service account that fits."""
    (sub_op, sub_value, sub_exact), (aud_op, aud_value, aud_exact) = sub, aud
    issuer = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
    condition: dict[str, dict[str, str]] = {}
    condition.setdefault(sub_op, {})[f"{issuer}:sub"] = sub_value
    condition.setdefault(aud_op, {})[f"{issuer}:aud"] = aud_value
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{issuer}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        ]
    }
    reports: list[str] = []
    args = type("Args", (), {"resource_type": iam.ROLE, "props": {"assumeRolePolicy": trust}})
    iam._oidc_conditions(args, lambda message, urn=None: reports.append(message), {})
    assert (not reports) == (sub_exact and aud_exact), (condition, reports)
