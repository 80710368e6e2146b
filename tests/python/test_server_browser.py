"""A real browser against the token server's CORS rules: headless Chromium loads a page from one
local origin whose script calls `mintlane serve` on another port with fetch(), once with the
page's origin allowed and once with it refused; the page reports what it saw to its own server."""
from __future__ import annotations

import http.server
import json
import queue
import shutil
import subprocess
import tempfile
import threading

import pytest

from server_util import (APP_ID, CERT, base_env, check_token, rtc_service, rtm_service, start_serve)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")

PAGE = """<!doctype html>
<html><body><pre id="out">running</pre>
<script>
const api = "http://127.0.0.1:%(api_port)d";
async function run() {
  const result = {};
  try {
    const r = await fetch(api + "/rtc/lobby/publisher/uid/42/?expiry=600");
    result.get = {status: r.status, body: await r.json()};
  } catch (e) { result.get = {error: String(e.name)}; }
  try {  // application/json makes this a preflighted request
    const r = await fetch(api + "/getToken", {method: "POST", headers: {"Content-Type": "application/json"},
                                              body: JSON.stringify({tokenType: "rtm", uid: "web-user"})});
    result.post = {status: r.status, body: await r.json()};
  } catch (e) { result.post = {error: String(e.name)}; }
  document.getElementById("out").textContent = JSON.stringify(result);
  await fetch("/report", {method: "POST", body: JSON.stringify(result)});
}
run();
</script></body></html>
"""


class PageServer:
    """Serves the test page and receives the page's report (127.0.0.1 only)."""

    def __init__(self, api_port: int):
        reports: "queue.Queue[dict]" = queue.Queue()
        page = (PAGE % {"api_port": api_port}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def do_POST(self):
                data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                reports.put(json.loads(data))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.reports = reports
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def run_browser(url: str, reports: "queue.Queue[dict]", timeout: float = 60.0) -> dict:
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-extensions", "--disable-dev-shm-usage", f"--user-data-dir={profile}", url],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            return reports.get(timeout=timeout)
        finally:  # stopped by PID: only the browser this test started
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture
def tmp_cwd(tmp_path):
    return str(tmp_path)


def test_browser_fetch_with_allowed_origin_gets_tokens(tmp_cwd):
    page = None
    srv = None
    try:
        # The page server must exist first: its origin is what the token server allows.
        from server_util import free_port
        api_port = free_port()
        page = PageServer(api_port)
        srv = start_serve(["--port", str(api_port), "--cors-allow-origin", f"http://other.example, {page.origin}"],
                          base_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT), tmp_cwd)
        result = run_browser(page.origin + "/", page.reports)
    finally:
        if srv is not None:
            assert srv.stop() == 0
        if page is not None:
            page.close()
    assert result["get"]["status"] == 200, result
    check_token(result["get"]["body"]["rtcToken"], services=[rtc_service("lobby", "42", 600, True)], expire=600)
    assert result["post"]["status"] == 200, result
    check_token(result["post"]["body"]["token"], services=[rtm_service("web-user", 3600)], expire=3600)


def test_browser_fetch_with_refused_origin_fails(tmp_cwd):
    page = None
    srv = None
    try:
        from server_util import free_port
        api_port = free_port()
        page = PageServer(api_port)
        srv = start_serve(["--port", str(api_port), "--cors-allow-origin", "http://other.example",
                           "--access-log", "-"],
                          base_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT), tmp_cwd)
        result = run_browser(page.origin + "/", page.reports)
    finally:
        if srv is not None:
            assert srv.stop() == 0
        if page is not None:
            page.close()
    # The browser hides a refused cross-origin answer from the script: fetch() rejects.
    assert result == {"get": {"error": "TypeError"}, "post": {"error": "TypeError"}}, result
    # The server refused with 403 and minted nothing (the preflight of the POST is refused too).
    records = [json.loads(line) for line in srv.stderr_text().splitlines() if line.startswith("{")]
    assert records and all(r["status"] == 403 for r in records), records
