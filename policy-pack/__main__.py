"""The Ballast CrossGuard pack: run by `pulumi preview --policy-pack policy-pack`.

Only assembles the pack; the policies live in `ballast_guardrails` (importable, tested).
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from ballast_guardrails import PACK_NAME, POLICIES, analyzer_speedups

# Decode each request once, and only run the policies for its type (see the module).
analyzer_speedups.install()

PolicyPack(
    name=PACK_NAME,
    # A list of the SDK's base class (lists are invariant, so not ours as it is).
    policies=list(POLICIES),
    # Each policy declares its own default level; this applies to none of them.
    enforcement_level=EnforcementLevel.ADVISORY,
)
