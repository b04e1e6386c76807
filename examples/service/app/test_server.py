"""Run by the image's build stage (`python -m unittest`): a build whose server does not
answer never reaches the registry."""

from __future__ import annotations

import json
import threading
import unittest
import urllib.request
from http.server import ThreadingHTTPServer

from server import Handler


class ServerTest(unittest.TestCase):
    def test_health_and_identity(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            base = f"http://127.0.0.1:{server.server_address[1]}"
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                self.assertEqual(response.status, 200)
            with urllib.request.urlopen(f"{base}/", timeout=5) as response:
                self.assertIn("service", json.loads(response.read()))
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


if __name__ == "__main__":
    unittest.main()
