"""The Ballast CrossGuard pack: run by `pulumi preview --policy-pack policy-pack`.

Only assembles the pack; the policies live in `ballast_guardrails` (importable, tested).
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from ballast_guardrails import PACK_NAME, POLICIES, decode_once

# Decode each request once rather than once per policy (see decode_once's docstring).
decode_once.install()

PolicyPack(
    name=PACK_NAME,
    policies=POLICIES,
    # Each policy declares its own default level; this applies to none of them.
    enforcement_level=EnforcementLevel.ADVISORY,
)
