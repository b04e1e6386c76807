"""`Grafana`: the platform layer's half of Grafana (docs/observability.md, "Grafana"). AWS
resources only:

- the **admin password**: 32 characters from `pulumi-random` (letters, digits and a few
  symbols Grafana's login form accepts), made once and kept in the stack's encrypted
  state; it changes only when the resource is replaced;
- a **Secrets Manager secret** holding it (`<name prefix>-<stack>/grafana/admin`, under
  `PhysicalNames.secret_prefix`, the only secrets the CI roles may read back; JSON
  `{"username": ..., "password": ...}` as AWS's own credential secrets are), encrypted with a customer managed KMS key of
  its own (`components/kms.py`: yearly rotation, 30-day deletion window, protected in
  prod), so an operator reads it with `aws secretsmanager get-secret-value` and nothing
  else needs the stack;
- the stack output `grafanaAdminPassword`, a Pulumi secret, from which the cluster layer
  writes the Kubernetes Secret that the chart's `admin.existingSecret` names
  (components/cluster/addons/grafana.py). The password is never a plain output or value.

The UI's route on the internal ALB is made by `Ingress.route(..., internal=True)` in
`Platform` (never the public ALB); without an internal ALB the UI is reached with
`kubectl port-forward`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.context import AwsContext
from components.kms import rotating_key

#: Length of the generated password (about 190 bits from the alphabet below).
PASSWORD_LENGTH = 32
#: Symbols the password may hold besides letters and digits: none that a shell, a URL or
#: YAML would need quoted.
PASSWORD_SYMBOLS = "-_.~"


@dataclass(kw_only=True)
class GrafanaArgs:
    """Inputs of `Grafana`."""

    context: AwsContext
    """Region, account, names, tags and protection (required). A protected context (prod)
    protects the key: deleting it makes the secret unreadable."""

    url: str
    """Where operators open Grafana (required): `https://grafana.<zone>` on the internal
    ALB where there is one, else the address `kubectl port-forward` gives."""

    admin_user: str
    """Grafana's local administrator's name (required), stored beside the password."""


class Grafana(pulumi.ComponentResource):
    """The admin password, its KMS key and its Secrets Manager secret; see the module
    docstring.

    Outputs: `admin_secret_arn`, `admin_password` (a Pulumi secret), `url`.
    """

    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "grafanaAdminSecretArn": "admin_secret_arn",
        "grafanaAdminPassword": "admin_password",
        "grafanaUrl": "url",
    }

    def __init__(
        self, name: str, args: GrafanaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Grafana", name, None, opts)
        ctx = args.context
        key = rotating_key(
            f"{name}-secrets",
            parent=self,
            description=f"Grafana admin secret ({ctx.environment})",
            partition=ctx.partition,
            account_id=ctx.account_id,
            tags=ctx.tags_for(f"{name}-secrets"),
            protect=ctx.protect,
        )
        # Explicit provider: stacks disable default providers.
        generator = random.Provider(f"{name}-random", opts=pulumi.ResourceOptions(parent=self))
        password = random.RandomPassword(
            f"{name}-admin",
            length=PASSWORD_LENGTH,
            special=True,
            override_special=PASSWORD_SYMBOLS,
            min_lower=1,
            min_upper=1,
            min_numeric=1,
            opts=pulumi.ResourceOptions(parent=self, provider=generator),
        )
        secret = aws.secretsmanager.Secret(
            f"{name}-admin",
            name=ctx.names.secret("grafana/admin"),
            description=f"Grafana's local administrator ({ctx.environment})",
            kms_key_id=key.arn,
            # Prod keeps a deleted secret recoverable for 30 days; elsewhere it goes at
            # once, so a destroyed dev environment can be rebuilt under the same name.
            recovery_window_in_days=30 if ctx.protect else 0,
            tags=ctx.tags_for(f"{name}-admin"),
            opts=ctx.opts(self, stateful=True),
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-admin",
            secret_id=secret.id,
            secret_string=password.result.apply(
                lambda value: secret_document(args.admin_user, value)
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.admin_secret_arn: pulumi.Output[str] = secret.arn
        self.admin_password: pulumi.Output[str] = pulumi.Output.secret(password.result)
        self.url: str = args.url
        self.register_outputs({"adminSecretArn": self.admin_secret_arn, "url": self.url})


def secret_document(user: str, password: str) -> str:
    """The secret's value: `{"username": user, "password": password}`."""
    document: dict[str, Any] = {"username": user, "password": password}
    return json.dumps(document)
