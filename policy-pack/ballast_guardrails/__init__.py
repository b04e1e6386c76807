"""Ballast guardrails: the policies of the CrossGuard pack, one module per concern.

Importable without starting a server (`__main__.py` alone builds the `PolicyPack`), and
self-contained: it needs pulumi-policy only, never the Ballast toolkit or pulumi-aws.
Importing a concern module declares its policies (`spec.resource_policy` and
`spec.stack_policy` register them); `POLICIES` is every one of them.
"""

# Imported for their declarations.
from ballast_guardrails import (  # noqa: F401
    data,
    delivery,
    eks,
    gitops,
    iam,
    kubernetes,
    network,
    observability,
    secrets,
    tagging,
)
from ballast_guardrails.spec import CONCERNS, registered

PACK_NAME = "ballast-guardrails"
POLICIES = registered()

__all__ = ["CONCERNS", "PACK_NAME", "POLICIES"]
