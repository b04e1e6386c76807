"""Ballast: one environment per stack. Load and validate the stack's config, build the
platform, export what operators and the toolkit need (each component declares its own
outputs: `STACK_OUTPUTS`).

The management account's organization stack (`ballast:stackKind: organization`) builds
only the service control policies."""

import pulumi

from components.config import ConfigError, load_from_pulumi_runtime
from components.platform import Organization, Platform

try:
    config = load_from_pulumi_runtime()
except ConfigError as error:
    # RunError: the CLI prints the message alone, without a traceback.
    raise pulumi.RunError(f"invalid stack configuration:\n{error}") from None

pulumi.export("stackKind", config.stack_kind)
root = (
    Organization("ballast-org", config)
    if config.stack_kind == "organization"
    else Platform(f"ballast-{config.environment}", config)
)
for key, value in root.stack_outputs().items():
    pulumi.export(key, value)
