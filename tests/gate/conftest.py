"""The reference data the gate's fixtures are checked against: Pulumi's recorded engine
events (`../shared/reference/` beside the repository, or `BALLAST_REFERENCE_DIR`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The reference folder; skips when it is not on this machine (a fork's clone)."""
    path = Path(os.environ.get("BALLAST_REFERENCE_DIR", ROOT.parent / "shared" / "reference"))
    if not (path / "pulumi-json").is_dir():
        pytest.skip(f"no Pulumi reference events at {path} (set BALLAST_REFERENCE_DIR)")
    return path
