"""Physical names: every name the platform gives an AWS resource starts with one base,
`<namePrefix>-<stack>` (`ballast-dev`), so two stacks never share a name, even two
stacks of the same environment in one account (a `qa` stack copied from `staging` makes
`ballast-qa-*`, not a second `ballast-staging-*`).

`namePrefix` is the stack setting `ballast:namePrefix`; unset, it is the Pulumi project
name (`name:` in `Pulumi.yaml`). The shipped stacks are named after their environments
(`dev`, `staging`, `prod`), so with the project `ballast` their names are the ones they
had when names followed the environment (`ballast-dev-*`).

The composition root names its component `base`; every child's name derives from its
parent's (`ballast-dev-audit-trail`), and the names that are not resource names (log
group paths, the private DNS zone, IAM name prefixes) come from here.

A name must satisfy the strictest service it is used by: S3 bucket and RDS identifiers
(lowercase letters, digits and hyphens, starting with a letter, no double hyphen, not
ending in one) and S3's 63 characters for the audit buckets, whose names also carry the
account and region. `base_problems` says what is wrong with a prefix and stack before
anything is created; this module imports no Pulumi SDK, so config parsing can call it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: S3 (and RDS identifiers): lowercase letters, digits and hyphens, a letter first.
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
#: A program-written secret's path below the stack's base: `/`-separated parts of what
#: Secrets Manager accepts in a name, none empty.
_SECRET_PATH = re.compile(r"[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*")
#: The longest a bucket name may be (S3).
S3_BUCKET_NAME_MAX = 63
#: The kinds of audit bucket the audit trail creates (`AuditTrail`), whose names are
#: the longest the platform derives from the base.
AUDIT_BUCKET_KINDS = ("trail", "access-logs")
#: What stands for an account ID when a name's length is checked before any lookup.
_ANY_ACCOUNT = "0" * 12


@dataclass(frozen=True)
class PhysicalNames:
    """How one stack names its AWS resources."""

    prefix: str
    """`ballast:namePrefix`, or the project name when it is unset (`ballast`)."""

    stack: str
    """The Pulumi stack name (`dev`)."""

    @property
    def base(self) -> str:
        """`<prefix>-<stack>`: the composition root's name, so the start of every name."""
        return f"{self.prefix}-{self.stack}"

    @property
    def role_prefix(self) -> str:
        """Every platform role's (and bucket's) name starts with this; PassRole, the
        boundary and the CI apply role are scoped to it (`ballast-dev-`)."""
        return f"{self.base}-"

    @property
    def boundary_policy(self) -> str:
        """The permission boundary of every platform role."""
        return f"{self.base}-permission-boundary"

    @property
    def audit_boundary_policy(self) -> str:
        """The security-audit role's own, read-only boundary (named so the policy pack,
        which knows boundaries by `<base>-...-permission-boundary`, recognises it)."""
        return f"{self.base}-audit-permission-boundary"

    @property
    def audit_bucket_prefix(self) -> str:
        """The audit trail's buckets are named with this prefix (the boundary protects
        them)."""
        return f"{self.base}-audit-"

    def audit_bucket(self, kind: str, account: str, region: str) -> str:
        """`<base>-audit-<kind>-<account>-<region>`: unique across AWS and stable."""
        return f"{self.audit_bucket_prefix}{kind}-{account}-{region}"

    @property
    def secret_prefix(self) -> str:
        """Every Secrets Manager secret the program writes is named under this
        (`ballast-dev/`). The CI apply and plan roles may read back exactly these secrets'
        values (the provider reads a secret version after writing it and on refresh),
        and no other; the slash keeps another stack's base that merely starts like this
        one (`ballast-dev-2/...`) out."""
        return f"{self.base}/"

    def secret(self, path: str) -> str:
        """The name of a secret the program writes: `<base>/<path>`
        (`ballast-dev/grafana/admin`). `path` is one or more `/`-separated parts of the
        characters Secrets Manager accepts in names (letters, digits, `_+=.@-`), none
        empty; anything else raises `ValueError`."""
        if not _SECRET_PATH.fullmatch(path):
            raise ValueError(
                f"a secret path must be /-separated parts of letters, digits and _+=.@- "
                f"with no empty part (got {path!r})"
            )
        return f"{self.secret_prefix}{path}"

    def log_group(self, owner: str, kind: str) -> str:
        """A CloudWatch log group of the component named `owner`: `/<prefix>/<owner>/<kind>`
        (`/ballast/ballast-dev-audit/cloudtrail`)."""
        return f"/{self.prefix}/{owner}/{kind}"

    @property
    def private_zone(self) -> str:
        """The default private DNS zone, `<stack>.<prefix>.internal`."""
        return f"{self.stack}.{self.prefix}.internal"


def prefix_problem(prefix: str) -> str | None:
    """Why `prefix` cannot start physical names (None when it can)."""
    if not _NAME.fullmatch(prefix) or "--" in prefix or prefix.endswith("-"):
        return (
            "must be lowercase letters, digits and single hyphens, starting with a letter "
            f"and not ending in a hyphen, as S3 bucket and RDS names require (got {prefix!r})"
        )
    return None


def base_problems(
    names: PhysicalNames, *, regions: tuple[str, ...], prefix_key: str, prefix_is_default: bool
) -> list[str]:
    """Why `names` cannot name this stack's resources in `regions`, as messages that start
    with `prefix_key` (`ballast:namePrefix`). `prefix_is_default`: the prefix is the
    project name, which the message then names as where it came from."""
    where = (
        f"{prefix_key} is unset, so the project name {names.prefix!r} is the name prefix"
        if prefix_is_default
        else f"{prefix_key} is {names.prefix!r}"
    )
    problem = prefix_problem(names.prefix)
    if problem is not None:
        return [f"{where}; it {problem}; set {prefix_key} to such a name"]
    if prefix_problem(names.stack) is not None:
        return [
            f"{where}, and the stack name follows it in every physical name: the stack "
            "name must be lowercase letters, digits and single hyphens, starting with a "
            f"letter (got {names.stack!r}); rename the stack (`pulumi stack rename`)"
        ]
    if not regions:
        return []
    # The longest region name makes the longest bucket name: one message, for it.
    region = max(regions, key=len)
    longest = max(
        (names.audit_bucket(kind, _ANY_ACCOUNT, region) for kind in AUDIT_BUCKET_KINDS), key=len
    )
    if len(longest) <= S3_BUCKET_NAME_MAX:
        return []
    room = S3_BUCKET_NAME_MAX - (len(longest) - len(names.base))
    return [
        f"{where}, which with the stack name makes the audit bucket "
        f"{names.audit_bucket('access-logs', '<account>', region)} {len(longest)} characters "
        f"long; S3 accepts at most {S3_BUCKET_NAME_MAX}, so <namePrefix>-<stack> "
        f"({names.base!r}) may have at most {room} characters in {region} "
        f"(it has {len(names.base)})"
    ]
