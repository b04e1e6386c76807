"""Shared pieces of the `ballast verify` tests: the toolchain gate and cached schema."""

from __future__ import annotations

import os

import pytest

from ballast.verify.environment import Toolchain, ToolMissing, find_toolchain
from ballast.verify.schema import ProviderSchema, load_schema

_SCHEMA: dict[str, ProviderSchema] = {}


def require_toolchain() -> Toolchain:
    """Terraform and the AWS provider mirror, or skip (fail under BALLAST_REQUIRE_TOOLS=1)."""
    try:
        return find_toolchain()
    except ToolMissing as exc:
        if os.environ.get("BALLAST_REQUIRE_TOOLS") == "1":
            pytest.fail(f"BALLAST_REQUIRE_TOOLS=1: {exc}")
        pytest.skip(str(exc))


def provider_schema() -> ProviderSchema:
    toolchain = require_toolchain()
    if toolchain.provider_version not in _SCHEMA:
        _SCHEMA[toolchain.provider_version] = load_schema(toolchain)
    return _SCHEMA[toolchain.provider_version]
