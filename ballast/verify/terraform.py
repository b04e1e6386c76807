"""Run Terraform in a working directory with the mirror-only CLI configuration.

Every command runs with `TF_CLI_CONFIG_FILE` pointing at a configuration written next to
the working directory (never the user's), `CHECKPOINT_DISABLE=1` (no version check over
the network), no input, without the caller's `AWS_*` and `TF_*` variables, and with
`HTTP(S)_PROXY` set to a closed port on 127.0.0.1 (`NO_PROXY` only for 127.0.0.1 and
localhost): a request for any other host fails at once instead of reaching AWS, even for
a service the converter gave no endpoint. Every command has a timeout (`TIMEOUT_S` unless given).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ballast.verify.environment import PROVIDER_SOURCE, Toolchain

#: Default timeout of one Terraform command, seconds.
TIMEOUT_S = 600
CONFIG_FILE = "main.tf.json"
_DROPPED_ENV_PREFIXES = ("AWS_", "TF_")
#: Port 1 on the loopback: nothing listens there, so a proxied request fails at once.
_NOWHERE = "http://127.0.0.1:1"


class TerraformError(RuntimeError):
    """Terraform itself failed (not a diagnostic about the configuration)."""


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    summary: str
    detail: str
    address: str | None = None
    """The resource address (`aws_x.name`) the diagnostic is about, when Terraform says."""
    attribute: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "summary": self.summary,
            "detail": self.detail,
            "address": self.address,
            "attribute": self.attribute,
        }


def _address_from_range(diag: dict[str, Any]) -> str | None:
    """Terraform validate diagnostics name a source range, not the address: the
    snippet's context (`resource.aws_x.name` in a JSON configuration) names it."""
    snippet = diag.get("snippet") or {}
    context = snippet.get("context") or ""
    # JSON configs: context is like `resource.aws_x.name` or `resource.aws_x`.
    parts = [p for p in context.replace('"', "").split(".") if p]
    if len(parts) >= 3 and parts[0] == "resource":
        return f"{parts[1]}.{parts[2]}"
    return None


def _attribute(diag: dict[str, Any]) -> str | None:
    steps = (diag.get("attribute") or {}) if isinstance(diag.get("attribute"), dict) else {}
    return steps.get("name") if steps else None


class Workspace:
    """One Terraform working directory: `main.tf.json` and its own CLI configuration."""

    def __init__(self, directory: Path, toolchain: Toolchain):
        self.directory = directory
        self.toolchain = toolchain
        directory.mkdir(parents=True, exist_ok=True)
        self.cli_config = directory / "cli.tfrc"
        self.cli_config.write_text(toolchain.cli_config(), encoding="utf-8")
        self.config: dict[str, Any] | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_ENV_PREFIXES)}
        env.update(
            TF_CLI_CONFIG_FILE=str(self.cli_config),
            TF_IN_AUTOMATION="1",
            TF_INPUT="0",
            CHECKPOINT_DISABLE="1",
            TF_DATA_DIR=str(self.directory / ".terraform"),
            HTTP_PROXY=_NOWHERE,
            HTTPS_PROXY=_NOWHERE,
            http_proxy=_NOWHERE,
            https_proxy=_NOWHERE,
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        return env

    def write(self, config: dict[str, Any]) -> None:
        self.config = config
        (self.directory / CONFIG_FILE).write_text(json.dumps(config, indent=1), encoding="utf-8")

    def run(self, *args: str, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [str(self.toolchain.terraform), *args],
                cwd=self.directory,
                env=self.env(),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise TerraformError(f"terraform {args[0]} timed out after {timeout:.0f} s") from exc

    def init(self) -> None:
        done = self.run("init", "-input=false", "-no-color", "-backend=false")
        if done.returncode != 0:
            raise TerraformError(
                f"terraform init failed (provider mirror {self.toolchain.plugin_dir}): "
                + (done.stderr.strip().splitlines() or ["no output"])[-1]
            )

    def validate(self) -> list[Diagnostic]:
        done = self.run("validate", "-json", "-no-color")
        try:
            document = json.loads(done.stdout)
        except json.JSONDecodeError as exc:
            raise TerraformError(
                f"terraform validate printed no JSON: {done.stderr.strip()}"
            ) from exc
        return [
            Diagnostic(
                severity=d.get("severity", "error"),
                summary=d.get("summary", ""),
                detail=d.get("detail", ""),
                address=_address_from_range(d),
                attribute=_attribute(d),
            )
            for d in document.get("diagnostics", [])
        ]

    def stream(
        self, *args: str, on_message: Callable[[dict[str, Any]], None], timeout: float
    ) -> int:
        """Run a command with `-json` and hand every machine-readable message to
        `on_message`; returns the exit code. Killed (by its PID) after `timeout` s.
        Standard error goes to `<command>.stderr` in the working directory."""
        with (self.directory / f"{args[0]}.stderr").open("w", encoding="utf-8") as errors:
            process = subprocess.Popen(
                [str(self.toolchain.terraform), *args, "-json", "-no-color"],
                cwd=self.directory,
                env=self.env(),
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )

        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            assert process.stdout is not None
            for message in _messages(process.stdout):
                on_message(message)
            process.wait()
        finally:
            timer.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode == -9:
            raise TerraformError(f"terraform {args[0]} timed out after {timeout:.0f} s")
        return process.returncode

    def providers_schema(self) -> dict[str, Any]:
        done = self.run("providers", "schema", "-json")
        if done.returncode != 0:
            raise TerraformError(f"terraform providers schema failed: {done.stderr.strip()}")
        schemas = json.loads(done.stdout)["provider_schemas"]
        return schemas[PROVIDER_SOURCE]


def _messages(lines) -> Iterator[dict[str, Any]]:
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            continue


def required_providers(version: str) -> dict[str, Any]:
    """The `terraform` block pinning the AWS provider to `version`."""
    return {"required_providers": {"aws": {"source": "hashicorp/aws", "version": version}}}
