"""The AWS provider's schema (`terraform providers schema -json`), cached per provider
version under `$XDG_CACHE_HOME/ballast` (default `~/.cache/ballast`); never committed."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ballast.files import write_text_atomically
from ballast.verify.environment import Toolchain
from ballast.verify.terraform import Workspace, required_providers


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ballast"


@dataclass(frozen=True)
class ProviderSchema:
    version: str
    raw: dict[str, Any]

    @property
    def resource_types(self) -> frozenset[str]:
        return frozenset(self.raw["resource_schemas"])

    def resource(self, tf_type: str) -> dict[str, Any]:
        """The `block` of a resource type."""
        return self.raw["resource_schemas"][tf_type]["block"]

    @property
    def provider(self) -> dict[str, Any]:
        return self.raw["provider"]["block"]

    def endpoint_services(self) -> list[str]:
        """Every service key of the provider's `endpoints` block that is not deprecated."""
        block = self.provider["block_types"]["endpoints"]["block"]
        return sorted(
            name for name, attr in block["attributes"].items() if not attr.get("deprecated")
        )


def load_schema(toolchain: Toolchain) -> ProviderSchema:
    """The schema of the mirror's provider version, from the cache or from Terraform."""
    path = cache_dir() / f"terraform-provider-aws-{toolchain.provider_version}-schema.json"
    if path.is_file():
        try:
            return ProviderSchema(toolchain.provider_version, json.loads(path.read_text("utf-8")))
        except (OSError, json.JSONDecodeError):
            pass  # a damaged cache entry: regenerate it
    with tempfile.TemporaryDirectory(prefix="ballast-schema-") as tmp:
        workspace = Workspace(Path(tmp), toolchain)
        workspace.write({"terraform": required_providers(toolchain.provider_version)})
        workspace.init()
        raw = workspace.providers_schema()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, json.dumps(raw))
    return ProviderSchema(toolchain.provider_version, raw)
