"""Drive a CrossGuard policy pack over the analyzer gRPC protocol, as the Pulumi CLI does.

The CLI starts a Python pack as `python -u -m pulumi.policy <engine-address> .` in the
pack directory, with `PULUMI_CONFIG` (the stack's config as JSON), `PULUMI_PROJECT`,
`PULUMI_STACK` and `PULUMI_DRY_RUN` in the environment. The pack's `PolicyPack(...)`
serves the `Analyzer` service on 127.0.0.1 and prints its port as the first line of
stdout; it never calls the engine address. The CLI then asks `GetAnalyzerInfo`, sends
the reconciled policy config with `Configure`, calls `Analyze` once per resource (its
inputs, options and provider with the provider's properties) and `AnalyzeStack` once at
the end (every resource's outputs, parent, dependencies and provider).

`PolicyPackProcess` does exactly that and nothing the pack could tell apart from the
CLI, so a pack that passes here runs unchanged under `pulumi preview --policy-pack`.
Every wait is bounded and the process is always terminated (context manager, `close()`,
and a finalizer as the last resort).
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from ballast.policy.config import ConfigEntry, PolicyConfig, reconcile
from ballast.policy.exemptions import ExemptedFinding, Exemption

#: The engine address passed on the command line. A pack never dials it (see module
#: docstring); a closed loopback port makes any attempt fail fast instead of hanging.
ENGINE_ADDRESS = "127.0.0.1:1"
#: Message prefix of the advisory diagnostic the SDK emits when a policy had to be
#: skipped because a value it read is unknown during preview.
SKIPPED_PREFIX = "can't run policy '"
_MAX_MESSAGE = 400 * 1024 * 1024
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
]
_LEVEL_NAMES = {v: k.lower() for k, v in analyzer_pb2.EnforcementLevel.items()}
_LEVEL_VALUES = {k.lower(): v for k, v in analyzer_pb2.EnforcementLevel.items()}
_SEVERITY_NAMES = {
    v: k.removeprefix("POLICY_SEVERITY_").lower() for k, v in analyzer_pb2.PolicySeverity.items()
}


class PolicyPackError(RuntimeError):
    """The pack could not be started or failed while analyzing; one readable sentence."""


@dataclass(frozen=True)
class ProviderInput:
    """A resource's provider as the analyzer sees it: its inputs are its properties."""

    urn: str
    type: str
    name: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class AnalyzerInput:
    """One resource as sent to the analyzer: inputs for `Analyze`, outputs (state) for
    `AnalyzeStack`."""

    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any] = field(default_factory=dict)
    provider: ProviderInput | None = None
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    protect: bool = False
    ignore_changes: tuple[str, ...] = ()
    delete_before_replace: bool | None = None
    aliases: tuple[str, ...] = ()
    additional_secret_outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyInfo:
    """A policy as the pack describes itself (`GetAnalyzerInfo`)."""

    name: str
    description: str
    level: str
    """Default enforcement level, before any config."""
    severity: str
    kind: str
    """"resource" or "stack"."""
    remediation: str
    tags: tuple[str, ...]
    config_schema: Mapping[str, Any]


@dataclass(frozen=True)
class Diagnostic:
    """One diagnostic: a violation, or the SDK's note that a policy was skipped."""

    policy: str
    level: str
    urn: str
    message: str
    """What the policy reported, without the description the SDK prefixes."""
    description: str
    severity: str
    pack: str

    @property
    def skipped(self) -> bool:
        """The policy could not run (a value was unknown during preview)."""
        return self.message.startswith(SKIPPED_PREFIX)


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    policies: dict[str, PolicyInfo]
    initial_config: dict[str, ConfigEntry]


@dataclass
class PolicyReport:
    """Everything one evaluation produced."""

    pack: PackInfo
    config: dict[str, PolicyConfig]
    diagnostics: list[Diagnostic]
    config_source: str | None = None
    """The policy config file applied, or None when the pack defaults were used."""
    exempted: list[ExemptedFinding] = field(default_factory=list)
    """Findings the config's exemptions excused (not in `diagnostics`)."""
    unmatched_exemptions: list[Exemption] = field(default_factory=list)
    """Exemptions that name no resource of the evaluated run."""
    config_shared: bool = False
    """The config file is the environment's, shared with its other stacks (so an
    exemption for one of those may rightly match nothing here)."""

    @property
    def violations(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.skipped]

    @property
    def notes(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.skipped]

    @property
    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.violations if d.level == "mandatory"]

    @property
    def enabled_policies(self) -> int:
        return sum(1 for c in self.config.values() if c.level != "disabled")


# --- wire conversion -----------------------------------------------------------------


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(_jsonable(dict(values)))
    return result


def _jsonable(value: Any) -> Any:
    """Tuples become lists and other scalars strings, as the engine's JSON would."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


def _options(resource: AnalyzerInput) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect,
        ignoreChanges=list(resource.ignore_changes),
        deleteBeforeReplace=bool(resource.delete_before_replace),
        deleteBeforeReplaceDefined=resource.delete_before_replace is not None,
        additionalSecretOutputs=list(resource.additional_secret_outputs),
        aliases=list(resource.aliases),
        parent=resource.parent or "",
    )


def _provider(resource: AnalyzerInput) -> analyzer_pb2.AnalyzerProviderResource | None:
    p = resource.provider
    if p is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=p.type, urn=p.urn, name=p.name, properties=_struct(p.properties)
    )


def analyze_request(resource: AnalyzerInput) -> analyzer_pb2.AnalyzeRequest:
    return analyzer_pb2.AnalyzeRequest(
        type=resource.type,
        urn=resource.urn,
        name=resource.name,
        properties=_struct(resource.inputs),
        options=_options(resource),
        provider=_provider(resource),
    )


def stack_resource(resource: AnalyzerInput) -> analyzer_pb2.AnalyzerResource:
    return analyzer_pb2.AnalyzerResource(
        type=resource.type,
        urn=resource.urn,
        name=resource.name,
        properties=_struct(resource.outputs),
        options=_options(resource),
        provider=_provider(resource),
        parent=resource.parent or "",
        dependencies=list(resource.dependencies),
        propertyDependencies={
            key: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(urns))
            for key, urns in resource.property_dependencies.items()
        },
    )


def _diagnostics(response: analyzer_pb2.AnalyzeResponse, default_urn: str = "") -> list[Diagnostic]:
    found = []
    for d in response.diagnostics:
        message = d.message
        if d.description and message.startswith(d.description):
            message = message[len(d.description) :].lstrip("\n")
        found.append(
            Diagnostic(
                policy=d.policyName,
                level=_LEVEL_NAMES.get(d.enforcementLevel, "advisory"),
                # Analyze diagnostics carry no URN: they belong to the analyzed resource.
                urn=d.urn or default_urn,
                message=message or d.description,
                description=d.description,
                severity=_SEVERITY_NAMES.get(d.severity, "unspecified"),
                pack=d.policyPackName,
            )
        )
    return found


def _policy_info(info: analyzer_pb2.PolicyInfo) -> PolicyInfo:
    schema = json_format.MessageToDict(info.configSchema.properties)
    kind = "stack" if info.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource"
    return PolicyInfo(
        name=info.name,
        description=info.description,
        level=_LEVEL_NAMES.get(info.enforcementLevel, "advisory"),
        severity=_SEVERITY_NAMES.get(info.severity, "unspecified"),
        kind=kind,
        remediation=info.remediation_steps,
        tags=tuple(info.tags),
        config_schema=schema,
    )


# --- the process --------------------------------------------------------------------


def pack_python(pack_dir: Path) -> str:
    """The interpreter the CLI would use: the pack's own virtualenv when
    `PulumiPolicy.yaml` names one that exists, else this interpreter."""
    import yaml

    try:
        project = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        project = None
    runtime = project.get("runtime") if isinstance(project, dict) else None
    options = runtime.get("options") if isinstance(runtime, dict) else None
    venv = options.get("virtualenv") if isinstance(options, dict) else None
    if isinstance(venv, str):
        candidate = pack_dir / venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        if candidate.is_file():
            return str(candidate)
    return sys.executable


class PolicyPackProcess:
    """One running policy pack. Use as a context manager; `start()` is idempotent.

    `config` is the stack's flat config (`{"project:key": "value"}`) handed to the pack
    in `PULUMI_CONFIG`. `dry_run` (default True) is what `pulumi.runtime.is_dry_run()`
    answers inside the pack. Timeouts, in seconds: `start_timeout` (default 30) for the
    port line and the channel, `call_timeout` (default 60) for each RPC.
    """

    def __init__(
        self,
        pack_dir: str | Path,
        *,
        project: str = "ballast",
        stack: str = "dev",
        config: Mapping[str, str] | None = None,
        dry_run: bool = True,
        python: str | None = None,
        start_timeout: float = 30.0,
        call_timeout: float = 60.0,
    ) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.project, self.stack = project, stack
        self.config = dict(config or {})
        self.dry_run = dry_run
        self.python = python
        self.start_timeout, self.call_timeout = start_timeout, call_timeout
        self._process: subprocess.Popen | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._info: PackInfo | None = None
        self._logs: tempfile.TemporaryDirectory | None = None
        self._finalizer: weakref.finalize | None = None
        self.port: int | None = None

    # --- lifecycle ------------------------------------------------------------------

    def __enter__(self) -> PolicyPackProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def spawn(self) -> PolicyPackProcess:
        """Launch the pack without waiting for it to serve; `start()` waits. Lets a
        caller overlap the pack's start-up (imports, ~0.5 s) with other work."""
        if self._process is not None:
            return self
        if not (self.pack_dir / "PulumiPolicy.yaml").is_file():
            raise PolicyPackError(f"{self.pack_dir} is not a policy pack (no PulumiPolicy.yaml)")
        self._logs = tempfile.TemporaryDirectory(prefix="ballast-policy-")
        out_path = Path(self._logs.name) / "stdout"
        err_path = Path(self._logs.name) / "stderr"
        env = {
            **os.environ,
            "PULUMI_CONFIG": json.dumps(self.config),
            "PULUMI_PROJECT": self.project,
            "PULUMI_STACK": self.stack,
            "PULUMI_DRY_RUN": "true" if self.dry_run else "false",
        }
        # Files, not pipes: nothing has to drain them, so a chatty pack can never block.
        with out_path.open("wb") as out, err_path.open("wb") as err:
            self._process = subprocess.Popen(
                [
                    self.python or pack_python(self.pack_dir),
                    *("-u", "-m", "pulumi.policy", ENGINE_ADDRESS, "."),
                ],
                cwd=self.pack_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        self._finalizer = weakref.finalize(self, _terminate, self._process)
        return self

    def start(self) -> PolicyPackProcess:
        """Launch the pack (unless `spawn()` did) and wait until it serves."""
        if self._stub is not None:
            return self
        self.spawn()
        assert self._logs is not None
        out_path = Path(self._logs.name) / "stdout"
        err_path = Path(self._logs.name) / "stderr"
        try:
            self.port = self._read_port(out_path, err_path)
            self._channel = grpc.insecure_channel(
                f"127.0.0.1:{self.port}", options=_CHANNEL_OPTIONS
            )
            grpc.channel_ready_future(self._channel).result(timeout=self.start_timeout)
        except grpc.FutureTimeoutError:
            self.close()
            raise PolicyPackError(
                f"the policy pack in {self.pack_dir} printed port {self.port} but did not "
                f"answer within {self.start_timeout:g}s"
            ) from None
        except BaseException:
            self.close()
            raise
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        return self

    def _read_port(self, out_path: Path, err_path: Path) -> int:
        deadline = time.monotonic() + self.start_timeout
        delay = 0.005
        while time.monotonic() < deadline:
            text = out_path.read_text(encoding="utf-8", errors="replace")
            if "\n" in text:
                first = text.split("\n", 1)[0].strip()
                if not first.isdigit():
                    raise PolicyPackError(
                        f"the policy pack in {self.pack_dir} printed {first[:120]!r} "
                        "instead of its port"
                    )
                return int(first)
            if self._process is not None and self._process.poll() is not None:
                raise PolicyPackError(
                    f"the policy pack in {self.pack_dir} exited with code "
                    f"{self._process.returncode} before serving: {_tail(err_path)}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        raise PolicyPackError(
            f"the policy pack in {self.pack_dir} printed no port within "
            f"{self.start_timeout:g}s: {_tail(err_path)}"
        )

    def close(self) -> None:
        """Close the channel and end the process (terminate, then kill)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self._stub = None
        if self._finalizer is not None:
            self._finalizer()  # runs _terminate once
            self._finalizer = None
        self._process = None
        if self._logs is not None:
            self._logs.cleanup()
            self._logs = None

    @property
    def pid(self) -> int | None:
        """The pack process's ID once spawned (None before), e.g. to read its CPU time."""
        return self._process.pid if self._process is not None else None

    def stderr(self) -> str:
        """What the pack wrote to stderr so far (for diagnosing a failing policy)."""
        if self._logs is None:
            return ""
        return (Path(self._logs.name) / "stderr").read_text(encoding="utf-8", errors="replace")

    # --- protocol -------------------------------------------------------------------

    def _call(self, what: str, method, request):
        try:
            return method(request, timeout=self.call_timeout)
        except grpc.RpcError as exc:
            raise PolicyPackError(f"the policy pack failed in {what}: {_rpc_detail(exc)}") from None

    @property
    def info(self) -> PackInfo:
        """The pack's name, version, policies and initial config (asked once)."""
        if self._info is None:
            self.start()
            assert self._stub is not None
            raw = self._call("GetAnalyzerInfo", self._stub.GetAnalyzerInfo, empty_pb2.Empty())
            initial = {
                name: ConfigEntry(
                    _LEVEL_NAMES.get(cfg.enforcementLevel) if cfg.enforcementLevel else None,
                    json_format.MessageToDict(cfg.properties),
                )
                for name, cfg in raw.initialConfig.items()
            }
            self._info = PackInfo(
                name=raw.name,
                version=raw.version,
                policies={p.name: _policy_info(p) for p in raw.policies},
                initial_config=initial,
            )
        return self._info

    def configure(
        self, entries: Mapping[str, ConfigEntry] | None, *, source: str = "policy config"
    ) -> dict[str, PolicyConfig]:
        """Reconcile `entries` (a parsed config file; None for the pack defaults) as the
        CLI does, send it with `Configure`, and return the effective config."""
        info = self.info
        policies = {p.name: (p.level, p.config_schema) for p in info.policies.values()}
        effective = reconcile(policies, entries, initial=info.initial_config, source=source)
        request = analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={
                name: analyzer_pb2.PolicyConfig(
                    enforcementLevel=_LEVEL_VALUES[cfg.level], properties=_struct(cfg.properties)
                )
                for name, cfg in effective.items()
            }
        )
        assert self._stub is not None
        self._call("Configure", self._stub.Configure, request)
        return effective

    def analyze(self, resource: AnalyzerInput) -> list[Diagnostic]:
        """`Analyze` one resource (its inputs)."""
        self.start()
        assert self._stub is not None
        response = self._call(
            f"Analyze of {resource.urn}", self._stub.Analyze, analyze_request(resource)
        )
        return _diagnostics(response, resource.urn)

    def analyze_many(self, resources: Iterable[AnalyzerInput], window: int = 8) -> list[Diagnostic]:
        """`Analyze` each resource, keeping up to `window` calls in flight (the engine
        analyzes steps concurrently too); diagnostics come back in resource order."""
        self.start()
        assert self._stub is not None
        found: list[Diagnostic] = []
        pending: collections.deque = collections.deque()

        def settle() -> None:
            resource, future = pending.popleft()
            try:
                response = future.result(timeout=self.call_timeout)
            except grpc.RpcError as exc:
                raise PolicyPackError(
                    f"the policy pack failed in Analyze of {resource.urn}: {_rpc_detail(exc)}"
                ) from None
            except grpc.FutureTimeoutError:
                raise PolicyPackError(
                    f"the policy pack did not answer Analyze of {resource.urn} within "
                    f"{self.call_timeout:g}s"
                ) from None
            found.extend(_diagnostics(response, resource.urn))

        try:
            for resource in resources:
                request = analyze_request(resource)
                pending.append(
                    (resource, self._stub.Analyze.future(request, timeout=self.call_timeout))
                )
                if len(pending) >= max(window, 1):
                    settle()
            while pending:
                settle()
        finally:
            for _, future in pending:
                future.cancel()
        return found

    def analyze_stack(self, resources: Sequence[AnalyzerInput]) -> list[Diagnostic]:
        """`AnalyzeStack` once over every resource (outputs, parents, providers)."""
        self.start()
        assert self._stub is not None
        request = analyzer_pb2.AnalyzeStackRequest(resources=[stack_resource(r) for r in resources])
        return _diagnostics(self._call("AnalyzeStack", self._stub.AnalyzeStack, request))

    def evaluate(self, resources: Sequence[AnalyzerInput], *, window: int = 8) -> list[Diagnostic]:
        """What a preview does: `Analyze` per resource, then `AnalyzeStack` once."""
        return self.analyze_many(resources, window=window) + self.analyze_stack(resources)


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "(no output)"
    return " | ".join(text.splitlines()[-lines:]) or "(no output)"


def _rpc_detail(exc: grpc.RpcError) -> str:
    code = exc.code() if hasattr(exc, "code") else None
    details = exc.details() if hasattr(exc, "details") else str(exc)
    return f"{code.name if code else 'error'}: {details}"
