"""`ballast:runner`: the in-VPC CI runner, a CodeBuild-hosted GitHub Actions runner in the
private subnets (docs/runner.md has the decision and its trade-offs)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from components.config.base import _Section

#: The on-demand Linux compute types a runner may use: (vCPUs, memory GB) as the CodeBuild
#: User Guide's "Build environment compute modes and types" lists them for LINUX_CONTAINER.
RUNNER_COMPUTE_TYPES = ("BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE")
RunnerComputeType = Literal["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"]
#: A project's build timeout, in minutes, as CodeBuild accepts it (5 to 2160, 36 hours).
MIN_BUILD_TIMEOUT_MINUTES, MAX_BUILD_TIMEOUT_MINUTES = 5, 2160

#: A CodeConnections connection: the current `codeconnections` prefix, or the
#: `codestar-connections` one that connections created before July 2024 keep.
_CONNECTION_ARN = re.compile(
    r"^arn:aws(-cn|-us-gov)?:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:"
    r"connection/[0-9a-f-]{36}$"
)


class RunnerConfig(_Section):
    """`ballast:runner`: a CodeBuild-hosted GitHub Actions runner inside the VPC, for the
    jobs that need the cluster's private API endpoint (the cluster layer)."""

    compute_type: RunnerComputeType = Field(
        default="BUILD_GENERAL1_SMALL",
        description="CodeBuild compute type of each job: BUILD_GENERAL1_SMALL (2 vCPUs, "
        "3 GB), _MEDIUM (4 vCPUs, 7 GB) or _LARGE (8 vCPUs, 15 GB). A Pulumi preview or "
        "up of the cluster layer is network-bound and fits SMALL; each step up roughly "
        "doubles the per-minute price.",
    )
    connection_arn: str | None = Field(
        default=None,
        description="ARN of an existing CodeConnections connection to GitHub (unset: the "
        "stack creates one, which stays PENDING until someone completes the GitHub App "
        "handshake in the console once). Share one connection between environments of an "
        "account to do that handshake once.",
    )
    build_timeout_minutes: int = Field(
        default=60,
        ge=MIN_BUILD_TIMEOUT_MINUTES,
        le=MAX_BUILD_TIMEOUT_MINUTES,
        description="Minutes a job may run before CodeBuild stops it. Long enough for the "
        "slowest cluster-layer `pulumi up` (a Helm release waiting on its pods); a hung "
        "job is billed until then.",
    )
    concurrent_build_limit: int | None = Field(
        default=None,
        ge=1,
        description="Most jobs of this runner at once (unset: the account's CodeBuild "
        "quota for the compute type, as low as 5 in a new account). Above the limit "
        "CodeBuild refuses the job instead of queueing it, so set it only to keep this "
        "runner from starving other projects of the quota.",
    )

    @field_validator("connection_arn")
    @classmethod
    def _connection(cls, value: str | None) -> str | None:
        if value is not None and not _CONNECTION_ARN.fullmatch(value):
            raise ValueError(
                "must be a CodeConnections connection ARN such as "
                "arn:aws:codeconnections:us-east-1:111111111111:connection/"
                f"1234abcd-12ab-34cd-56ef-1234567890ab (got {value!r})"
            )
        return value
