"""A small IAM policy evaluator for tests: enough of AWS's evaluation logic to ask what a
boundary, an SCP or a trust policy actually allows, instead of asserting on its shape.

Covers Action/NotAction, Resource/NotResource, Principal, and the condition operators
Ballast's documents use (String*, Arn*, Bool, Null, ForAnyValue:, ...IfExists), with
AWS's rules for a key missing from the request: a positive operator fails, a negated one
(`StringNotEquals`, `ArnNotLike`, ...) holds, `...IfExists` holds, `Null` tests presence.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from collections.abc import Mapping
from typing import Any

ALLOW, DENY, IMPLICIT_DENY = "Allow", "Deny", "ImplicitDeny"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@functools.lru_cache(maxsize=8192)
def _compiled(pattern: str, case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, 0 if case else re.IGNORECASE)


def _glob(pattern: str, value: str, *, case: bool) -> bool:
    return _compiled(pattern, case).fullmatch(value) is not None


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "Action" in statement:
        return any(_glob(p, action, case=False) for p in _as_list(statement["Action"]))
    return not any(_glob(p, action, case=False) for p in _as_list(statement["NotAction"]))


def _resource_matches(statement: Mapping[str, Any], resource: str) -> bool:
    if "Resource" in statement:
        return any(_glob(p, resource, case=True) for p in _as_list(statement["Resource"]))
    if "NotResource" in statement:
        return not any(_glob(p, resource, case=True) for p in _as_list(statement["NotResource"]))
    return True  # trust policies name no resource


def _compare(base: str, expected: str, actual: str) -> bool:
    if base in ("StringEquals", "ArnEquals"):
        return expected == actual
    if base == "StringEqualsIgnoreCase":
        return expected.lower() == actual.lower()
    if base in ("StringLike", "ArnLike"):
        return fnmatch.fnmatchcase(actual, expected)
    if base == "Bool":
        return expected.lower() == actual.lower()
    raise NotImplementedError(f"condition operator {base}")


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, Any]) -> bool:
    expected_values = [str(v) for v in _as_list(expected)]
    present = key in context
    if operator == "Null":
        return (expected_values[0].lower() == "true") == (not present)
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if not present:
        return if_exists or base in _NEGATED
    actual_values = [str(v) for v in _as_list(context[key])]
    negated = base in _NEGATED
    positive = _NEGATED.get(base, base)

    def any_match(actual: str) -> bool:
        return any(_compare(positive, e, actual) for e in expected_values)

    if qualifier == "ForAnyValue":
        hit = any(any_match(a) for a in actual_values)
    elif qualifier == "ForAllValues":
        hit = all(any_match(a) for a in actual_values)
    else:
        hit = any_match(actual_values[0])
    return not hit if negated else hit


def _conditions_hold(statement: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, block in (statement.get("Condition") or {}).items()
        for key, expected in block.items()
    )


def _statements(policy: Mapping[str, Any] | str) -> list[Mapping[str, Any]]:
    document = json.loads(policy) if isinstance(policy, str) else policy
    return _as_list(document["Statement"])


def evaluate(
    policy: Mapping[str, Any] | str,
    action: str,
    resource: str = "*",
    context: Mapping[str, Any] | None = None,
) -> str:
    """Allow, Deny (an explicit Deny matched) or ImplicitDeny, for one request."""
    context = context or {}
    matched = [
        s
        for s in _statements(policy)
        if _action_matches(s, action)
        and _resource_matches(s, resource)
        and _conditions_hold(s, context)
    ]
    if any(s["Effect"] == DENY for s in matched):
        return DENY
    if any(s["Effect"] == ALLOW for s in matched):
        return ALLOW
    return IMPLICIT_DENY


def _principal_matches(statement: Mapping[str, Any], kind: str, value: str) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return any(_glob(p, value, case=True) for p in _as_list((principal or {}).get(kind)))


def trust_allows(
    policy: Mapping[str, Any] | str,
    *,
    principal: tuple[str, str],
    action: str = "sts:AssumeRole",
    context: Mapping[str, Any] | None = None,
) -> bool:
    """Whether a trust policy lets `principal` (kind, value), e.g. ("Federated", arn) or
    ("Service", "events.amazonaws.com"), perform `action` with the given request context
    (token claims as `<issuer>:sub`, `aws:SourceArn`, ...)."""
    context = context or {}
    kind, value = principal
    matched = [
        s
        for s in _statements(policy)
        if _principal_matches(s, kind, value)
        and _action_matches(s, action)
        and _conditions_hold(s, context)
    ]
    return any(s["Effect"] == ALLOW for s in matched) and not any(
        s["Effect"] == DENY for s in matched
    )


def irsa_trust_allows(
    policy: Mapping[str, Any] | str, outputs: Mapping[str, Any], subject: str
) -> bool:
    """Whether an IRSA trust policy lets the Kubernetes `subject`
    (`system:serviceaccount:<namespace>:<name>`) assume the role with a token of the
    stack's cluster OIDC provider (`outputs`: a platform stack's) for the STS audience."""
    issuer = outputs["clusterOidcIssuerUrl"].removeprefix("https://")
    return trust_allows(
        policy,
        principal=("Federated", outputs["clusterOidcProviderArn"]),
        action="sts:AssumeRoleWithWebIdentity",
        context={f"{issuer}:sub": subject, f"{issuer}:aud": "sts.amazonaws.com"},
    )
