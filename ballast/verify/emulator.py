"""Local HTTP endpoints the AWS provider talks to instead of AWS.

- `MotoServer`: moto's server as `ballast.emulator` starts it (a subprocess on
  127.0.0.1 with a free port, ready within `READY_TIMEOUT_S`, stopped by its PID, its
  state discarded with it), given `STOP_TIMEOUT_S` to stop.
- `RequestCounter`: a listener on 127.0.0.1 that answers every request with 503 and
  counts it: the plan step points every endpoint here to prove it makes no calls.
"""

from __future__ import annotations

import http.server
import threading

from ballast.emulator import READY_TIMEOUT_S, EmulatorError, free_port
from ballast.emulator import MotoServer as _SharedMotoServer

__all__ = ["READY_TIMEOUT_S", "EmulatorError", "MotoServer", "RequestCounter", "free_port"]

#: How long moto may take to exit after SIGTERM before it is killed, seconds: an apply
#: leaves far more state behind than the audit's tests do.
STOP_TIMEOUT_S = 10.0


class MotoServer(_SharedMotoServer):
    """`with MotoServer() as moto: moto.url` -- a fresh moto server for one apply (the
    shared `ballast.emulator.MotoServer`, given longer to stop)."""

    def __init__(self, ready_timeout: float = READY_TIMEOUT_S):
        super().__init__(ready_timeout=ready_timeout, stop_timeout=STOP_TIMEOUT_S)


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
