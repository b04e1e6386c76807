"""Ballast: one stack per environment and layer. Load and validate the stack's config,
build what its kind composes, export what operators, the other layer and the toolkit
need (each component declares its own outputs: `STACK_OUTPUTS`).

Stack kinds (`ballast:stackKind`): `platform` (an environment's AWS resources), `cluster`
(its in-cluster layer, built on the platform stack's outputs; docs/layers.md), and
`organization` (the management account's service control policies)."""

import pulumi

from components.config import ClusterStackConfig, ConfigError, load_from_pulumi_runtime
from components.platform import ClusterLayer, Organization, Platform

try:
    config = load_from_pulumi_runtime()
except ConfigError as error:
    # RunError: the CLI prints the message alone, without a traceback.
    raise pulumi.RunError(f"invalid stack configuration:\n{error}") from None

pulumi.export("stackKind", config.stack_kind)
root: Platform | Organization | ClusterLayer
project, stack = pulumi.get_project(), pulumi.get_stack()
# The root's name starts every child's: `<namePrefix>-<stack>` (components/names.py). A
# cluster stack's physical names (the cluster's) come from its platform stack's outputs.
if isinstance(config, ClusterStackConfig):
    root = ClusterLayer(f"{project}-{stack}", config)
else:
    names = config.physical_names(project, stack)
    if config.stack_kind == "organization":
        root = Organization(names.base, config)
    else:
        root = Platform(names.base, config, names=names)
for key, value in root.stack_outputs().items():
    pulumi.export(key, value)
