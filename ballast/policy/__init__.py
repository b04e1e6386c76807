"""Run the CrossGuard policy pack (`policy-pack/`) the way the Pulumi CLI does: as a
separate analyzer process driven over gRPC. `ballast preview` and the tests use it; the
pack itself knows nothing of this package."""

from ballast.policy.harness import (
    AnalyzerInput,
    Diagnostic,
    PolicyInfo,
    PolicyPackError,
    PolicyPackProcess,
    PolicyReport,
)

__all__ = [
    "AnalyzerInput",
    "Diagnostic",
    "PolicyInfo",
    "PolicyPackError",
    "PolicyPackProcess",
    "PolicyReport",
]
