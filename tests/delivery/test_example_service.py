"""The example service image.yml builds: the server answers on 127.0.0.1 and stops on
SIGTERM, and the Dockerfile is multi-stage with a distroless, non-root final stage.
Docker cannot run on these machines, so the image itself is built only in CI."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.conftest import ROOT

SERVICE = ROOT / "examples" / "service"


@pytest.fixture
def server():
    env = {**os.environ, "PORT": "0", "HOST": "127.0.0.1", "VERSION": "0123abc"}
    env["SERVICE_NAME"] = "checkout"
    process = subprocess.Popen(
        [sys.executable, str(SERVICE / "app" / "server.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)\n", line)
        assert match, line
        yield process, f"http://127.0.0.1:{match.group(1)}"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_server_answers_health_readiness_and_its_identity(server):
    _, base = server
    assert get(f"{base}/healthz") == (200, {"status": "ok"})
    assert get(f"{base}/readyz") == (200, {"ready": True})
    assert get(f"{base}/") == (200, {"service": "checkout", "version": "0123abc"})
    assert get(f"{base}/nothing")[0] == 404


def test_sigterm_stops_it_cleanly(server):
    process, _ = server
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_the_build_stage_tests_pass():
    result = subprocess.run(
        [sys.executable, "-m", "unittest", "-q", "test_server"],
        cwd=SERVICE / "app",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def _stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), split into stages."""
    text = re.sub(r"\\\n", " ", (SERVICE / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    stages: list[list[str]] = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def test_the_dockerfile_is_multi_stage_with_a_distroless_non_root_final_stage():
    stages = _stages()
    assert len(stages) >= 2
    bases = [stage[0].split()[1] for stage in stages]
    assert all(":" in base and not base.endswith(":latest") for base in bases), bases
    final = stages[-1]
    assert bases[-1].startswith("gcr.io/distroless/")
    # The final stage only copies what an earlier stage built: nothing runs in it (there
    # is no shell), and nothing is fetched from the network.
    assert not [line for line in final if line.upper().startswith(("RUN ", "ADD "))]
    assert any(line.startswith("COPY --from=build") for line in final)
    (user,) = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    assert user.split(":")[0] not in {"0", "root"}
    assert final[-1].startswith("ENTRYPOINT [")
    # The two stages run the same Python minor (bytecode compiled in one runs in the other).
    assert re.search(r"python:3\.11", bases[0]) and "debian12" in bases[-1]
    assert "python3.11" in final[-1]


def test_image_yml_builds_the_example_by_default():
    from tests.delivery.workflows import WORKFLOWS, load

    inputs = load(WORKFLOWS / "image.yml")["on"]["workflow_call"]["inputs"]
    assert (ROOT / inputs["context"]["default"] / "Dockerfile").is_file()
