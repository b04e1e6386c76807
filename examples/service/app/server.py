"""The example service: a small HTTP server on the standard library only, so its image
needs nothing but the Python runtime of the distroless base.

Endpoints: `/healthz` (liveness: the process answers), `/readyz` (readiness: not shutting
down), `/` (the service name and the Git SHA it was built from, as JSON). Settings from
the environment: `PORT` (default 8080; 0 picks a free port), `HOST` (default 0.0.0.0),
`SERVICE_NAME` (default example), `VERSION` (set at build time to the Git SHA). The first
line on stdout is `listening on <host>:<port>`. SIGTERM stops it gracefully: readiness
fails first, then the server closes.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    server_version = "example"
    stopping = threading.Event()

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._send(200, {"status": "ok"})
        elif self.path == "/readyz":
            ready = not self.stopping.is_set()
            self._send(200 if ready else 503, {"ready": ready})
        elif self.path == "/":
            self._send(
                200,
                {
                    "service": os.environ.get("SERVICE_NAME", "example"),
                    "version": os.environ.get("VERSION", "unknown"),
                },
            )
        else:
            self._send(404, {"error": "not found"})

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def main() -> None:
    host = os.environ.get("HOST", "0.0.0.0")
    server = ThreadingHTTPServer((host, int(os.environ.get("PORT", "8080"))), Handler)

    def stop(signum: int, frame: object) -> None:
        Handler.stopping.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    print(f"listening on {host}:{server.server_address[1]}", flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
