"""Trust policies, built only from `Trust` statements: no `*` principals, service
principals scoped to this account (confused-deputy guard), web identities pinned on
`sub` and `aud`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.iam.actions import PASSED_ROLE_SERVICES, STS_AUDIENCE

_WILDCARD = re.compile(r"[*?]")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def _scoped_principal(value: Any, what: str) -> str:
    text = str(value)
    if _WILDCARD.search(text):
        raise ValueError(f"{what} {text!r} is a wildcard: trust must name one principal")
    return text


def _check_statement(statement: dict[str, Any]) -> dict[str, Any]:
    """Refuse an unscoped trust statement (this runs at deployment, on resolved values)."""
    principal = statement.get("Principal")
    if not isinstance(principal, dict) or not principal:
        raise ValueError(f"a trust statement needs a named principal, not {principal!r}")
    conditions = statement.get("Condition") or {}
    for kind, values in principal.items():
        for value in values if isinstance(values, list) else [values]:
            text = _scoped_principal(value, f"{kind} principal")
            if kind == "AWS" and not text.startswith("arn:"):
                raise ValueError(f"AWS principal {text!r} must be an ARN")
            if kind == "Federated" and ":oidc-provider/" not in text:
                raise ValueError(f"federated principal {text!r} must be an OIDC provider ARN")
    if "Federated" in principal:
        exact = conditions.get("StringEquals", {})
        for claim in ("sub", "aud"):
            keys = [k for k in exact if k.endswith(f":{claim}")]
            if not keys:
                raise ValueError(f"a web identity trust needs an exact {claim!r} condition")
            for key in keys:
                _scoped_principal(exact[key], f"{claim} condition")
    if "Service" in principal and "aws:SourceAccount" not in conditions.get("StringEquals", {}):
        services = principal["Service"]
        services = services if isinstance(services, list) else [services]
        if conditions or not set(services) <= set(PASSED_ROLE_SERVICES):
            raise ValueError("a service trust needs an aws:SourceAccount condition")
    return statement


@dataclass(frozen=True)
class Trust:
    """One statement of a role's trust policy. Build it with a constructor below; the
    role factory accepts nothing else, so no role can trust `*` or an unconditioned
    identity provider."""

    statement: pulumi.Output[dict[str, Any]]

    @classmethod
    def service(
        cls,
        service: str,
        *,
        source_account: pulumi.Input[str],
        source_arn: pulumi.Input[str] | Sequence[pulumi.Input[str]] | None = None,
        source_arn_like: pulumi.Input[str] | None = None,
        actions: Sequence[str] = ("sts:AssumeRole",),
        string_equals: Mapping[str, pulumi.Input[str]] | None = None,
    ) -> Trust:
        """An AWS service acting for this account only (and, given, for the named
        resources: `source_arn` takes one ARN or a list)."""
        if _WILDCARD.search(service) or not service.endswith((".amazonaws.com", ".com.cn")):
            raise ValueError(f"service principal {service!r} must be one AWS service")
        condition: dict[str, Any] = {
            "StringEquals": {"aws:SourceAccount": source_account, **(string_equals or {})}
        }
        if source_arn is not None:
            condition["ArnEquals"] = {"aws:SourceArn": source_arn}
        if source_arn_like is not None:
            condition["ArnLike"] = {"aws:SourceArn": source_arn_like}
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": list(actions) if len(actions) > 1 else actions[0],
            "Condition": condition,
        }
        return cls(pulumi.Output.from_input(statement).apply(_check_statement))

    @classmethod
    def passed_role(cls, service: str) -> Trust:
        """One of `PASSED_ROLE_SERVICES` (EKS for a cluster role, EC2 for a node role,
        CloudTrail for its CloudWatch Logs delivery role, S3 for a replication role), with
        no source context to condition on: the role is only ever assumed after a
        principal of this account passed it (iam:PassRole)."""
        if service not in PASSED_ROLE_SERVICES:
            raise ValueError(
                f"{service!r} sends aws:SourceAccount; use Trust.service with a condition"
            )
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
        }
        return cls(pulumi.Output.from_input(statement).apply(_check_statement))

    @classmethod
    def web_identity(
        cls,
        *,
        provider_arn: pulumi.Input[str],
        issuer: pulumi.Input[str],
        subject: pulumi.Input[str],
        audience: pulumi.Input[str] = STS_AUDIENCE,
    ) -> Trust:
        """Tokens of one OIDC issuer whose `sub` and `aud` equal these values exactly."""

        def build(values: list[Any]) -> dict[str, Any]:
            arn, url, sub, aud = values
            host = re.sub(r"^https://", "", str(url)).rstrip("/")
            return {
                "Effect": "Allow",
                "Principal": {"Federated": arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{host}:sub": sub, f"{host}:aud": aud}},
            }

        statement = pulumi.Output.all(provider_arn, issuer, subject, audience).apply(build)
        return cls(statement.apply(_check_statement))

    @classmethod
    def principals(cls, arns: Sequence[pulumi.Input[str]], *, require_mfa: bool = False) -> Trust:
        """Named IAM principals (roles, users, or an account root with `require_mfa`)."""
        if not arns:
            raise ValueError("a principal trust needs at least one ARN")
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": list(arns)},
            "Action": "sts:AssumeRole",
        }
        if require_mfa:
            statement["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        return cls(pulumi.Output.from_input(statement).apply(_check_statement))


def trust_policy(trusts: Sequence[Trust]) -> pulumi.Output[str]:
    if not trusts or not all(isinstance(t, Trust) for t in trusts):
        raise TypeError("a role's trust must be a non-empty list of Trust statements")
    return pulumi.Output.json_dumps(
        {"Version": "2012-10-17", "Statement": [t.statement for t in trusts]}
    )


def irsa_subject(namespace: str, service_account: str) -> str:
    """The `sub` claim of a Kubernetes service account token."""
    for what, value in (("namespace", namespace), ("service account", service_account)):
        if not _K8S_NAME.fullmatch(value):
            raise ValueError(
                f"{what} {value!r} must be a Kubernetes name: lowercase letters, digits, "
                "'-' and '.', no wildcards"
            )
    return f"system:serviceaccount:{namespace}:{service_account}"


def github_subject(repository: str, environment: str) -> str:
    """The `sub` claim GitHub issues to a job that runs in `environment`."""
    return f"repo:{repository}:environment:{environment}"
