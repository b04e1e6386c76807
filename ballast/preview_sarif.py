"""`ballast preview --format sarif`: the policy findings as SARIF 2.1.0, for code scanning
(GitHub's `upload-sarif`, or any SARIF viewer).

One run, tool `ballast` with one rule per policy that has a finding (its description,
remediation as help, concern and scanner mappings as tags). Each violation is a result
at `error` (mandatory) or `warning` (advisory, remediate); an exempted finding is a
result with an accepted external suppression carrying the exemption's reason, so code
scanning shows it as dismissed rather than losing it. A resource has no source line:
each result points at the stack's config file (`stacks/Pulumi.<stack>.yaml`, relative to
the repository root) and names the resource by its URN as a logical location.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ballast import __version__
from ballast.policy.harness import Diagnostic
from ballast.preview import PreviewResult

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"mandatory": "error", "advisory": "warning", "remediate": "warning"}


def _rule(result: PreviewResult, policy: str) -> dict[str, Any]:
    assert result.policy is not None
    info = result.policy.pack.policies.get(policy)
    rule: dict[str, Any] = {"id": policy, "name": policy}
    if info is None:
        return rule
    rule["shortDescription"] = {"text": info.description}
    if info.remediation:
        rule["help"] = {"text": info.remediation}
    rule["properties"] = {"tags": list(info.tags), "severity": info.severity}
    return rule


def _result(
    result: PreviewResult, d: Diagnostic, rule_index: int, reason: str | None, exempted: bool
) -> dict[str, Any]:
    document = result.violation_json(d)
    location: dict[str, Any] = {}
    if result.stack_file:
        location["physicalLocation"] = {
            "artifactLocation": {"uri": result.stack_file, "uriBaseId": "%SRCROOT%"}
        }
    if d.urn:
        location["logicalLocations"] = [
            {"name": document["name"] or d.urn, "fullyQualifiedName": d.urn, "kind": "resource"}
        ]
    text = d.message if not d.urn else f"{document['name']} ({document['type']}): {d.message}"
    entry: dict[str, Any] = {
        "ruleId": d.policy,
        "ruleIndex": rule_index,
        "level": _LEVELS.get(d.level, "warning"),
        "message": {"text": text},
        "partialFingerprints": {
            "ballastFinding/v1": hashlib.sha256(
                f"{d.policy}\0{document['type']}\0{document['name']}\0{d.message}".encode()
            ).hexdigest()
        },
        "properties": {"enforcementLevel": d.level, "severity": d.severity},
    }
    if location:
        entry["locations"] = [location]
    if exempted:
        suppression: dict[str, Any] = {"kind": "external", "status": "accepted"}
        if reason:
            suppression["justification"] = reason
        entry["suppressions"] = [suppression]
    elif document["exemption"]:
        entry["properties"]["exemption"] = document["exemption"]
    return entry


def sarif(result: PreviewResult) -> dict[str, Any]:
    """The SARIF 2.1.0 log of `result`'s policy findings (no results when the policies
    were not evaluated)."""
    findings: list[tuple[Diagnostic, str | None, bool]] = [
        (d, None, False) for d in result.violations
    ]
    findings += [
        (f.diagnostic, f.exemption.reason if f.exemption else None, True) for f in result.exempted
    ]
    rule_ids = list(dict.fromkeys(d.policy for d, _, _ in findings))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "ballast",
                "version": __version__,
                "rules": [_rule(result, policy) for policy in rule_ids],
            }
        },
        "results": [
            _result(result, d, rule_ids.index(d.policy), reason, exempted)
            for d, reason, exempted in findings
        ],
        "properties": {
            "stack": result.run.stack,
            "policyConfig": result.policy.config_source if result.policy else None,
            "policiesEvaluated": result.policy is not None,
        },
    }
    if result.stack_file:
        run["originalUriBaseIds"] = {"%SRCROOT%": {"description": {"text": "The project root."}}}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
