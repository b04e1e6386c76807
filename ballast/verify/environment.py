"""Where Terraform, the AWS provider and moto are, and the Terraform CLI configuration
that installs the provider from the local plugin mirror only.

Lookup order for the plugin mirror: `BALLAST_TF_PLUGIN_DIR`, then `KNOWN_PLUGIN_DIRS`.
A mirror is a directory laid out as Terraform's `filesystem_mirror` expects
(`registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/terraform-provider-aws_*`).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

PLUGIN_DIR_ENV = "BALLAST_TF_PLUGIN_DIR"
#: Searched after `BALLAST_TF_PLUGIN_DIR`, in this order.
KNOWN_PLUGIN_DIRS = (
    Path("/opt/tf-plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path("/usr/share/terraform/plugins"),
)
PROVIDER_SOURCE = "registry.terraform.io/hashicorp/aws"
PLATFORM = "linux_amd64"


class ToolMissing(RuntimeError):
    """Terraform, the AWS provider or moto is not available (exit 2)."""


@dataclass(frozen=True)
class Toolchain:
    terraform: Path
    plugin_dir: Path
    """The filesystem mirror's root (holds `registry.terraform.io/...`)."""
    provider_version: str

    def cli_config(self) -> str:
        """A Terraform CLI configuration: the AWS provider from the mirror, never the
        network (`direct` excludes every registry provider)."""
        return (
            "provider_installation {\n"
            "  filesystem_mirror {\n"
            f'    path    = "{self.plugin_dir}"\n'
            f'    include = ["{PROVIDER_SOURCE}"]\n'
            "  }\n"
            "  direct {\n"
            '    exclude = ["registry.terraform.io/*/*"]\n'
            "  }\n"
            "}\n"
        )


def _versions(root: Path) -> list[str]:
    base = root / PROVIDER_SOURCE
    if not base.is_dir():
        return []
    found = [
        entry.name
        for entry in base.iterdir()
        if any((entry / PLATFORM).glob("terraform-provider-aws*"))
    ]
    return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".") if p.isdigit()))


def find_toolchain() -> Toolchain:
    """Terraform on PATH and the newest AWS provider in the first mirror that has one;
    raises `ToolMissing` naming what is missing and where it was looked for."""
    terraform = shutil.which("terraform")
    if terraform is None:
        raise ToolMissing("terraform is not on PATH; install Terraform 1.5 or newer")
    override = os.environ.get(PLUGIN_DIR_ENV)
    candidates = [Path(override)] if override else list(KNOWN_PLUGIN_DIRS)
    for root in candidates:
        versions = _versions(root)
        if versions:
            return Toolchain(Path(terraform), root, versions[-1])
    where = f"{PLUGIN_DIR_ENV}={override}" if override else ", ".join(map(str, candidates))
    raise ToolMissing(
        f"no Terraform AWS provider for {PLATFORM} in a plugin mirror ({where}); set "
        f"{PLUGIN_DIR_ENV} to a directory holding {PROVIDER_SOURCE}/<version>/{PLATFORM}/"
    )


def require_moto() -> None:
    """Raise `ToolMissing` unless moto's server (`moto[server]`) can be imported."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        raise ToolMissing(
            "moto's server is not installed; install the pinned moto[server] from "
            "requirements-dev.txt to run --emulator"
        )
