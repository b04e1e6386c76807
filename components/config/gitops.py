"""`ballast:gitops`: Argo CD and the App-of-Apps of one environment (docs/gitops.md).

The section lives in the platform stack's file, beside `ballast:ci` and `ballast:ingress`
whose values it defaults from. The platform stack resolves it (`GitOpsConfig.settings`)
into `GitOpsSettings`, makes the UI's route on the internal ALB, and exports the
settings as the `gitops` output; the cluster stack reads that output and installs Argo
CD, the project, the root application and the signature policy from it, so no setting
is written in both stack files.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from components.config.base import _context, _Section

#: A Git URL Argo CD can clone: https://host/path or git@host:path (SSH).
_GIT_URL = re.compile(r"^(https://[A-Za-z0-9.-]+(:\d+)?/\S+|git@[A-Za-z0-9.-]+:\S+)$")
#: A relative path inside the repository, no `..`, no leading `/`.
_REPO_PATH = re.compile(r"^(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._/-]{1,255}$")
#: A GitHub repository as owner/name.
_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
#: A workflow file of that repository.
_WORKFLOW = re.compile(r"^\.github/workflows/[A-Za-z0-9._-]+\.ya?ml$")
#: A Git ref a workflow runs on.
_GIT_REF = re.compile(r"^refs/(heads|tags)/[A-Za-z0-9._/-]+$")
#: A revision Argo CD tracks: a branch, a tag or a commit.
_REVISION = re.compile(r"^[A-Za-z0-9._/-]{1,255}$")
#: A five-field cron schedule (each field digits, `*`, ranges, lists and steps).
_CRON = re.compile(r"^([0-9*,/-]+\s+){4}[0-9*,/-]+$")
#: A sync window's duration as Argo CD parses it (Go duration: 1h, 30m, 1h30m).
_DURATION = re.compile(r"^(\d+h)?(\d+m)?$")
#: An SSO group name as an identity provider sends it in the groups claim.
_GROUP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:@/-]{0,127}$")

#: The GitHub Actions OIDC issuer whose keyless signatures the policy trusts.
GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
#: The workflow that builds and signs images, unless `signing.workflow` says otherwise.
DEFAULT_SIGNING_WORKFLOW = ".github/workflows/image.yml"


class SyncWindowConfig(_Section):
    """One Argo CD sync window of the environment's project."""

    kind: Literal["allow", "deny"] = Field(
        description="allow: syncs may run only inside this window (and other allow "
        "windows); deny: no sync runs inside it."
    )
    schedule: str = Field(description="When the window opens, as a five-field cron schedule.")
    duration: str = Field(description="How long it stays open, e.g. 2h or 1h30m.")
    time_zone: str = Field(default="UTC", description="Time zone of the schedule (default UTC).")
    manual_sync: bool = Field(
        default=True,
        description="Whether a person may still sync by hand outside an allow window or "
        "inside a deny window (default true: an emergency fix is never locked out; "
        "automated syncs still wait).",
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if not _CRON.fullmatch(value.strip()):
            raise ValueError(
                f"must be a five-field cron schedule such as '0 9 * * 1-5' (got {value!r})"
            )
        return value.strip()

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not value or not _DURATION.fullmatch(value):
            raise ValueError(f"must be hours and/or minutes such as 2h or 1h30m (got {value!r})")
        return value


class OidcConfig(_Section):
    """`gitops.oidc`: single sign-on for the Argo CD UI and CLI (PKCE, no client secret)."""

    issuer: str = Field(description="The identity provider's OIDC issuer URL (https).")
    client_id: str = Field(description="The public client registered for Argo CD.")
    scopes: tuple[str, ...] = Field(
        default=("openid", "profile", "email", "groups"),
        description="Scopes requested (default openid, profile, email, groups; the groups "
        "claim is what the RBAC policy matches).",
    )

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?(/\S*)?", value):
            raise ValueError(f"must be an https:// URL (got {value!r})")
        return value.rstrip("/")


class SigningConfig(_Section):
    """`gitops.signing`: whose keyless Sigstore signatures an image must carry."""

    repository: str | None = Field(
        default=None,
        description="GitHub repository (owner/name) whose workflow signs images (unset: "
        "ballast:ci.repository).",
    )
    workflow: str = Field(
        default=DEFAULT_SIGNING_WORKFLOW,
        description="The workflow file that builds and signs images (default "
        f"{DEFAULT_SIGNING_WORKFLOW}).",
    )
    ref: str = Field(
        default="refs/heads/main",
        description="The ref that workflow must run on (default refs/heads/main: images "
        "built from a pull request's branch are not trusted).",
    )

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str | None) -> str | None:
        if value is not None and not _GITHUB_REPOSITORY.fullmatch(value):
            raise ValueError(f"must be a GitHub repository as owner/name (got {value!r})")
        return value

    @field_validator("workflow")
    @classmethod
    def _workflow(cls, value: str) -> str:
        if not _WORKFLOW.fullmatch(value):
            raise ValueError(
                f"must be a workflow file such as .github/workflows/image.yml (got {value!r})"
            )
        return value

    @field_validator("ref")
    @classmethod
    def _ref(cls, value: str) -> str:
        if not _GIT_REF.fullmatch(value):
            raise ValueError(f"must be a full ref such as refs/heads/main (got {value!r})")
        return value


class GitOpsSettings(_Section):
    """The resolved `ballast:gitops` section as the platform stack exports it (`gitops`)
    and the cluster stack reads it: every default filled in."""

    environment: Literal["dev", "staging", "prod"]
    repo_url: str
    path: str
    target_revision: str
    sync_windows: tuple[SyncWindowConfig, ...] = ()
    sync_group: str | None = None
    oidc: OidcConfig | None = None
    signing_issuer: str = GITHUB_ACTIONS_ISSUER
    signing_subject: str
    """The certificate identity a signature must carry:
    https://github.com/<repository>/<workflow>@<ref>."""
    ui_host: str | None = None
    """Where the UI is reached on the internal ALB (None: no internal ALB; port-forward)."""


class GitOpsConfig(_Section):
    """`ballast:gitops`: Argo CD and the environment's App-of-Apps."""

    repo_url: str | None = Field(
        default=None,
        description="Git repository Argo CD reads this environment from: https://... or "
        "git@host:path (unset: https://github.com/<ballast:ci.repository>.git). Point each "
        "environment at its own repository for the repository-per-environment option.",
    )
    path: str | None = Field(
        default=None,
        description="Folder of the environment's App-of-Apps in that repository (unset: "
        "gitops/envs/<environment>).",
    )
    target_revision: str = Field(
        default="main",
        description="Branch, tag or commit Argo CD tracks (default main).",
    )
    sync_windows: tuple[SyncWindowConfig, ...] = Field(
        default=(),
        description="Sync windows of the environment's project (default none). prod syncs "
        "only by hand anyway; windows keep even that to agreed hours.",
    )
    sync_group: str | None = Field(
        default=None,
        description="The SSO group that may sync applications (required in prod, where "
        "nobody else may; in dev and staging Argo CD syncs by itself and everyone signed "
        "in may sync). Everyone else is read-only.",
    )
    oidc: OidcConfig | None = Field(
        default=None,
        description="Single sign-on (unset: no SSO; the local admin stays only in dev, so "
        "staging and prod are then reachable with the CLI's port-forward and the cluster's "
        "RBAC alone).",
    )
    signing: SigningConfig = Field(
        default_factory=SigningConfig,
        description="Whose keyless Sigstore signatures images must carry (enforced in "
        "prod's service namespaces, warn-only in staging, off in dev).",
    )

    @field_validator("repo_url")
    @classmethod
    def _repo_url(cls, value: str | None) -> str | None:
        if value is not None and not _GIT_URL.fullmatch(value):
            raise ValueError(
                "must be a Git URL such as https://github.com/org/repo.git or "
                f"git@github.com:org/repo.git (got {value!r})"
            )
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not _REPO_PATH.fullmatch(value):
            raise ValueError(
                f"must be a folder inside the repository: relative, without '..' (got {value!r})"
            )
        return value

    @field_validator("target_revision")
    @classmethod
    def _revision(cls, value: str) -> str:
        if not _REVISION.fullmatch(value):
            raise ValueError(f"must be a branch, tag or commit (got {value!r})")
        return value

    @field_validator("sync_group")
    @classmethod
    def _sync_group(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not _GROUP.fullmatch(value):
            raise ValueError(f"must be a group name of the identity provider (got {value!r})")
        return value

    @model_validator(mode="after")
    def _prod_needs_sync_group(self, info: ValidationInfo) -> GitOpsConfig:
        if _context(info, "environment") == "prod" and self.sync_group is None:
            raise ValueError(
                "needs syncGroup in prod: prod never syncs by itself, so a named SSO group "
                "must be the only one allowed to"
            )
        return self

    def settings(
        self, *, environment: str, ci_repository: str | None, ui_host: str | None
    ) -> GitOpsSettings:
        """Every default filled in. Raises ValueError when a default needs
        `ballast:ci.repository` and there is none (the platform config checks that)."""
        repository = self.signing.repository or ci_repository
        repo_url = self.repo_url or (
            f"https://github.com/{ci_repository}.git" if ci_repository else None
        )
        if repository is None or repo_url is None:
            raise ValueError("gitops needs repoUrl and signing.repository, or ballast:ci")
        return GitOpsSettings(
            environment=environment,  # type: ignore[arg-type]
            repo_url=repo_url,
            path=self.path or f"gitops/envs/{environment}",
            target_revision=self.target_revision,
            sync_windows=self.sync_windows,
            sync_group=self.sync_group,
            oidc=self.oidc,
            signing_subject=(
                f"https://github.com/{repository}/{self.signing.workflow}@{self.signing.ref}"
            ),
            ui_host=ui_host,
        )
