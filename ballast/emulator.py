"""moto's server as a local AWS endpoint, for the toolkit's tests, demos and benches.

`MotoServer` runs `python -m moto.server` as a subprocess on 127.0.0.1 with a free port,
waits at most `READY_TIMEOUT_S` for its first answer, and stops it by its PID (SIGTERM,
then SIGKILL after `STOP_TIMEOUT_S`). Its state lives in that process and goes with it;
`reset()` empties it. The default AMIs are not loaded (`MOTO_EC2_LOAD_DEFAULT_AMIS=false`:
thousands of images per region nothing here uses); AWS managed IAM policies are
(`MOTO_IAM_LOAD_MANAGED_POLICIES=true`: roles attach them). `MOTO_ACCOUNT_ID` is removed
from the child's environment so `sts:AssumeRole` into another account works as on AWS.

One server for every user: the audit's tests, demo and bench, and `ballast verify`'s
emulated apply (`ballast/verify/emulator.py` re-exports it).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from types import TracebackType

#: How long moto may take to answer its first request, seconds.
READY_TIMEOUT_S = 30.0
#: How long moto may take to exit after SIGTERM before it is killed, seconds (its
#: state is in memory and disposable).
STOP_TIMEOUT_S = 3.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmulatorError(RuntimeError):
    """moto's server did not start."""


class MotoServer:
    """`with MotoServer() as moto: moto.url` -- a fresh moto server on 127.0.0.1."""

    def __init__(
        self, ready_timeout: float = READY_TIMEOUT_S, stop_timeout: float = STOP_TIMEOUT_S
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def version() -> str:
        """The installed moto's version (what the emulator-gap list is written against)."""
        from importlib.metadata import version

        return version("moto")

    def start(self) -> MotoServer:
        env = dict(
            os.environ, MOTO_EC2_LOAD_DEFAULT_AMIS="false", MOTO_IAM_LOAD_MANAGED_POLICIES="true"
        )
        env.pop("MOTO_ACCOUNT_ID", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise EmulatorError(f"moto's server exited with code {code}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=2):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        raise EmulatorError(f"moto's server did not answer within {self.ready_timeout:.0f} s")

    def reset(self) -> None:
        """Forget every resource in every account and region."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=self.stop_timeout)

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
