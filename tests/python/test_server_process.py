"""`python -m mintlane serve` as a process: configuration from the environment and .env
(TOKEN_SERVER.md §2), refusing bad credentials (D8), graceful SIGTERM/SIGINT (D10), the access log,
and the certificate never appearing in any output."""
from __future__ import annotations

import json
import signal
import socket
import time

import pytest

from server_util import (APP_ID, CERT, base_env, check_token, free_port, port_is_listening, request,
                         rtc_service, rtm_service, run_serve_expect_exit, start_serve)

CREDS = {"APP_ID": APP_ID, "APP_CERTIFICATE": CERT}


def assert_one_line_error(code, out, *needles):
    assert code != 0
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert "Traceback" not in out
    for n in needles:
        assert n in lines[0], lines[0]
    assert CERT not in out and CERT.lower() not in out.lower()


# ---- D8 and configuration errors ---------------------------------------------------------------
@pytest.mark.parametrize("env,needle", [
    ({}, "APP_ID"),
    ({"APP_ID": APP_ID}, "APP_CERTIFICATE"),
    ({"APP_ID": "", "APP_CERTIFICATE": CERT}, "APP_ID"),
    ({"APP_ID": APP_ID, "APP_CERTIFICATE": ""}, "APP_CERTIFICATE"),
    ({"APP_ID": APP_ID[:31], "APP_CERTIFICATE": CERT}, "APP_ID"),
    ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT + "0"}, "APP_CERTIFICATE"),
    ({"APP_ID": APP_ID, "APP_CERTIFICATE": "z" + CERT[1:]}, "APP_CERTIFICATE"),
    ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, "SERVER_PORT": "http"}, "SERVER_PORT"),
    ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, "PORT": "70000"}, "PORT"),
    ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, "MINTLANE_AUTH_TOKEN": "a b"}, "MINTLANE_AUTH_TOKEN"),
])
def test_malformed_credentials_stop_startup(tmp_path, env, needle):
    port = free_port()
    code, out = run_serve_expect_exit(["--port", str(port)] if "PORT" not in needle else [], base_env(**env),
                                      str(tmp_path))
    assert_one_line_error(code, out, needle)
    assert not port_is_listening(port)


def test_port_in_use_is_a_one_line_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        code, out = run_serve_expect_exit(["--port", str(s.getsockname()[1])], base_env(**CREDS), str(tmp_path))
    assert_one_line_error(code, out, "in use")


# ---- environment -------------------------------------------------------------------------------
def test_env_file_is_loaded_from_the_working_directory(tmp_path):
    port = free_port()
    (tmp_path / ".env").write_text(f"APP_ID={APP_ID}\nAPP_CERTIFICATE='{CERT}'\nSERVER_PORT={port}\n")
    srv = start_serve([], base_env(), str(tmp_path))
    try:
        assert srv.port == port
        r = request(port, "GET", "/rtm/bob/")
        check_token(r.json()["rtmToken"], services=[rtm_service("bob", 3600)], expire=3600)
    finally:
        assert srv.stop() == 0


def test_environment_wins_over_env_file(tmp_path):
    port_env, port_file = free_port(), free_port()
    (tmp_path / ".env").write_text(f"APP_ID={APP_ID}\nAPP_CERTIFICATE={CERT}\nSERVER_PORT={port_file}\n"
                                   "CORS_ALLOW_ORIGIN=http://from-file\n")
    srv = start_serve([], base_env(SERVER_PORT=str(port_env), CORS_ALLOW_ORIGIN="http://from-env"), str(tmp_path))
    try:
        assert srv.port == port_env
        assert request(srv.port, "GET", "/ping", headers={"Origin": "http://from-env"}).status == 200
        assert request(srv.port, "GET", "/ping", headers={"Origin": "http://from-file"}).status == 403
    finally:
        assert srv.stop() == 0


def test_port_falls_back_to_PORT(tmp_path):
    port = free_port()
    srv = start_serve([], base_env(PORT=str(port), SERVER_PORT="", **CREDS), str(tmp_path))
    try:
        assert srv.port == port
        assert request(port, "GET", "/ping").status == 200
    finally:
        assert srv.stop() == 0


def test_command_line_wins_and_env_file_option(tmp_path):
    (tmp_path / "custom.env").write_text(f"APP_ID={APP_ID}\nAPP_CERTIFICATE={CERT}\nSERVER_PORT=1\n")
    srv = start_serve(["--env-file", "custom.env", "--port", "0", "--threads", "1",
                       "--cors-allow-origin", "http://cli"], base_env(), str(tmp_path))
    try:
        assert srv.port != 1
        r = request(srv.port, "GET", "/ping", headers={"Origin": "http://cli"})
        assert r.status == 200 and r.header("Access-Control-Allow-Origin") == "http://cli"
        assert "(1 threads)" in srv.stderr_text()
    finally:
        assert srv.stop() == 0


# ---- D10: graceful shutdown --------------------------------------------------------------------
def _open_partial(port, n):
    """n connections, each with a request whose last bytes are not sent yet."""
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /rtc/c/publisher/uid/%d/?expiry=60 HTTP/1.1\r\nHost: x\r\n" % (i + 1))
        socks.append(s)
    return socks


def _read_response(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_drains_requests_in_flight_and_exits_0(tmp_path, sig):
    srv = start_serve(["--port", "0", "--shutdown-timeout", "10"], base_env(**CREDS), str(tmp_path))
    try:
        idle = socket.create_connection(("127.0.0.1", srv.port), timeout=10)  # keep-alive, no request
        in_flight = _open_partial(srv.port, 4)
        time.sleep(0.3)
        srv.proc.send_signal(sig)
        # The idle connection is closed and no new connection is accepted.
        assert idle.recv(1) == b""
        deadline = time.monotonic() + 5
        while port_is_listening(srv.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not port_is_listening(srv.port)
        assert srv.proc.poll() is None  # still draining: four requests are in flight
        for i, s in enumerate(in_flight):
            s.sendall(b"\r\n")
            data = _read_response(s)
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK"), data
            assert b"Connection: close" in head
            check_token(json.loads(body)["rtcToken"], services=[rtc_service("c", str(i + 1), 60, True)], expire=60)
            s.close()
        idle.close()
        assert srv.proc.wait(15) == 0
        out = srv.stderr_text(wait=0.5)
        assert signal.Signals(sig).name in out and "drained" in out
        assert "Traceback" not in out
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait(5)


def test_shutdown_timeout_bounds_the_drain(tmp_path):
    srv = start_serve(["--port", "0", "--shutdown-timeout", "0.5"], base_env(**CREDS), str(tmp_path))
    stuck = _open_partial(srv.port, 1)
    time.sleep(0.2)
    t0 = time.monotonic()
    assert srv.stop(signal.SIGTERM) == 0
    assert time.monotonic() - t0 < 5
    assert "1 connection(s) closed at the timeout" in srv.stderr_text(wait=0.5)
    stuck[0].close()


# ---- access log and secrets ------------------------------------------------------------------------
def test_access_log_is_off_by_default_and_json_lines_when_on(tmp_path):
    srv = start_serve(["--port", "0"], base_env(**CREDS), str(tmp_path))
    try:
        request(srv.port, "GET", "/rtm/bob/")
    finally:
        assert srv.stop() == 0
    assert "rtm" not in srv.stderr_text(wait=0.3).replace("mintlane", "")

    log = tmp_path / "access.log"
    srv = start_serve(["--port", "0", "--access-log", str(log)], base_env(**CREDS), str(tmp_path))
    try:
        request(srv.port, "GET", "/rtm/bob%0Ainjected/")
        request(srv.port, "GET", "/rtc/c/publisher/uid/1/")
        request(srv.port, "POST", "/getToken", body=b'{"tokenType":"chat"}')
        request(srv.port, "GET", "/nope")
    finally:
        assert srv.stop() == 0
    lines = log.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    # Threads log when their write completes, so lines of different connections may swap.
    assert sorted((r["method"], r["route"], r["status"]) for r in records) == sorted([
        ("GET", "rtm", 400), ("GET", "rtc", 200), ("POST", "get_token", 200), ("GET", "not_found", 404)])
    for r in records:
        assert set(r) == {"ts", "remote", "method", "route", "status", "bytes", "duration_us"}
        assert r["remote"].startswith("127.0.0.1:")
    assert "injected" not in log.read_text()


def test_certificate_never_printed(tmp_path):
    log = tmp_path / "access.log"
    srv = start_serve(["--port", "0", "--access-log", str(log), "--cors-allow-origin", "*"],
                      base_env(**CREDS), str(tmp_path))
    try:
        seen = ""
        for path in ("/rtc/c/publisher/uid/1/", "/rtc/c/x/uid/1/", "/rtm/0/", "/metrics", "/nope", "/chat/app/"):
            r = request(srv.port, "GET", path, headers={"Origin": "http://o"})
            seen += r.body.decode("latin-1") + repr(r.headers)
        seen += request(srv.port, "POST", "/getToken", body=b"garbage").body.decode()
    finally:
        assert srv.stop() == 0
    seen += srv.stderr_text(wait=0.3) + log.read_text()
    assert CERT.lower() not in seen.lower()


def test_help_lists_the_options(tmp_path):
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "mintlane", "serve", "--help"], capture_output=True, text=True,
                         timeout=60, cwd=str(tmp_path))
    assert out.returncode == 0
    for opt in ("--host", "--port", "--threads", "--env-file", "--access-log", "--cors-allow-origin"):
        assert opt in out.stdout
