"""Local HTTP endpoints the AWS provider talks to instead of AWS.

- `MotoServer`: moto's server (`python -m moto.server`) as a subprocess on 127.0.0.1
  with a free port, ready within `READY_TIMEOUT_S`, stopped by its PID. Its state lives
  in the process and is discarded with it. AWS managed IAM policies are loaded (roles
  attach them); the default AMIs are not (thousands of images nothing here uses).
- `RequestCounter`: a listener on 127.0.0.1 that answers every request with 503 and
  counts it: the plan step points every endpoint here to prove it makes no calls.
"""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from types import TracebackType

#: How long moto may take to answer its first request, seconds.
READY_TIMEOUT_S = 30.0
#: How long moto may take to exit after SIGTERM before it is killed, seconds.
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmulatorError(RuntimeError):
    """moto's server did not start."""


class MotoServer:
    """`with MotoServer() as moto: moto.url` -- a fresh moto server for one apply."""

    def __init__(self, ready_timeout: float = READY_TIMEOUT_S):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def version() -> str:
        from importlib.metadata import version

        return version("moto")

    def __enter__(self) -> MotoServer:
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
                raise EmulatorError(f"moto's server exited with code {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=2):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise EmulatorError(f"moto's server did not answer within {self.ready_timeout:.0f} s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_S)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class RequestCounter:
    """`with RequestCounter() as counter: counter.url ... counter.requests`."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        counter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                counter.requests.append(f"{self.command} {self.headers.get('Host')}{self.path}")
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _answer

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RequestCounter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
