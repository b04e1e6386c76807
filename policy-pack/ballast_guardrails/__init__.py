"""Ballast guardrails: the policies of the CrossGuard pack, grouped by concern.

Importable without starting a server (`__main__.py` alone builds the `PolicyPack`), and
self-contained: it needs pulumi-policy only, never the Ballast toolkit or pulumi-aws.
"""

from ballast_guardrails import data, delivery, eks, iam, kubernetes, network, tagging

PACK_NAME = "ballast-guardrails"
CONCERNS = {
    "iam": iam.POLICIES,
    "data": data.POLICIES,
    "network": network.POLICIES,
    "eks": eks.POLICIES,
    "kubernetes": kubernetes.POLICIES,
    "delivery": delivery.POLICIES,
    "tagging": tagging.POLICIES,
}
POLICIES = [policy for group in CONCERNS.values() for policy in group]

_names = [p.name for p in POLICIES]
if len(_names) != len(set(_names)):
    raise RuntimeError(
        f"duplicate policy names: {sorted(n for n in _names if _names.count(n) > 1)}"
    )

__all__ = ["CONCERNS", "PACK_NAME", "POLICIES"]
