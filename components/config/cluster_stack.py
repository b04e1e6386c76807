"""`ClusterStackConfig`: one environment's cluster stack (`ballast:stackKind: cluster`),
the layer that holds every Kubernetes object and Helm release and runs from inside the
VPC (docs/layers.md). It names its platform stack and nothing the platform stack already
says: the cluster, its roles, the environment and the services come from that stack's
outputs, so no setting is written in both files."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from components.config.base import _context, _Section

#: A Pulumi stack name (the CLI accepts letters, digits, '-', '_' and '.').
_STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class ClusterStackConfig(_Section):
    """A cluster stack: the in-cluster layer of one environment, whose cluster, roles,
    environment and services come from its platform stack's outputs."""

    stack_kind: Literal["cluster"] = Field(
        description="'cluster': this stack holds the environment's Kubernetes objects and "
        "Helm releases, and talks only to the Kubernetes API."
    )
    platform_stack: str = Field(
        description="The environment's platform stack in this project (its name, e.g. "
        "prod), read through a StackReference; its `pulumi up` must have run first."
    )

    gitops_webhook_url: str | None = Field(
        default=None,
        description="Webhook the Argo CD notifications controller posts OutOfSync, "
        "Degraded and sync-failure events of every application to, as JSON (unset: no "
        "notifications; the alerts of docs/gitops.md still fire). Must be a Pulumi secret "
        "(`pulumi config set --secret gitopsWebhookUrl https://...`). Needs ballast:gitops "
        "in the platform stack.",
    )

    @field_validator("gitops_webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value

    @field_validator("platform_stack")
    @classmethod
    def _platform_stack(cls, value: str, info: ValidationInfo) -> str:
        if not _STACK_NAME.fullmatch(value):
            raise ValueError(
                "must be a stack name of this project: letters, digits, '-', '_' or '.' "
                f"(got {value!r})"
            )
        if value == _context(info, "stack"):
            raise ValueError(
                f"must name the platform stack, not this cluster stack itself (got {value!r})"
            )
        return value
