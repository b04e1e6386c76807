"""`ballast:registry`: the ECR repositories the environment's images are pushed to, one
per service, and the GitHub OIDC role that pushes to each (docs/delivery.md)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from components.config.base import _Section

#: ECR repository names: lowercase letters and digits, separated by '.', '_', '-' or '/'
#: (the ECR API's pattern); one service name per repository here, so no '/'.
_REPOSITORY = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
#: The most images a lifecycle rule may keep by count (ECR's own limit for countNumber
#: is far higher; this keeps a typo from disabling expiry).
MAX_KEEP_IMAGES = 10_000
#: GitHub environment names: 1-255 characters, no wildcards (as ballast:ci accepts them).
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9._-]{1,255}$")


class RegistryConfig(_Section):
    """`ballast:registry`: ECR repositories with immutable tags, scan on push, KMS
    encryption and a lifecycle policy; a push role per repository, trusted through GitHub
    OIDC. Needs ballast:ci (the repository whose workflows push)."""

    repositories: list[str] | None = Field(
        default=None,
        description="Services that get a repository, each named in ballast:services "
        "(unset: every service). One repository and one push role per service, so a "
        "service's workflow can push only its own images.",
    )
    keep_images: int = Field(
        default=200,
        ge=1,
        le=MAX_KEEP_IMAGES,
        description="Tagged images kept per repository, newest first; older ones expire. "
        "cosign stores each signature and SBOM attestation as a tagged artifact beside "
        "its image, so three per build count here: 200 keeps about 66 builds. Keep more "
        "than any environment can be behind, or a rollback finds its image gone.",
    )
    untagged_expire_days: int = Field(
        default=14,
        ge=1,
        le=3650,
        description="Days an untagged image (a layer set no tag names any more) is kept "
        "before it expires.",
    )
    push_environment: str | None = Field(
        default=None,
        description="GitHub environment whose jobs may assume the push roles (token "
        "subject repo:<org>/<repo>:environment:<env>; unset: ci.environment, else the "
        "stack's environment). Restrict it to the default branch in GitHub, so only "
        "reviewed code builds images.",
    )

    @field_validator("repositories")
    @classmethod
    def _repositories(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        if not value:
            raise ValueError("must name at least one service (or be left unset: every service)")
        for name in value:
            if not _REPOSITORY.fullmatch(name) or len(name) > 200:
                raise ValueError(
                    "must be ECR repository names: lowercase letters and digits, separated "
                    f"by '.', '_' or '-' (got {name!r})"
                )
        duplicates = sorted({name for name in value if value.count(name) > 1})
        if duplicates:
            raise ValueError(f"names {', '.join(duplicates)} more than once")
        return value

    @field_validator("push_environment")
    @classmethod
    def _environment(cls, value: str | None) -> str | None:
        if value is not None and not _ENVIRONMENT.fullmatch(value):
            raise ValueError(
                "must be a GitHub environment name of 1-255 letters, digits, '.', '_' or "
                f"'-' (got {value!r})"
            )
        return value
