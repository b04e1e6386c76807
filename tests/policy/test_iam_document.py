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
