"""Hardening beyond the reference: timeouts against slow clients, header/body/connection limits,
the bearer-token gate, CORS over the wire, /metrics, and the Server object's own API."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from mintlane import _core
from server_util import (APP_ID, CERT, chat_service, check_token, raw_exchange, request, rtc_service,
                         rtm_service)


def make_server(**kw):
    kw.setdefault("threads", 2)
    s = _core.Server(APP_ID, CERT, host="127.0.0.1", port=0, **kw)
    s.start()
    return s


@pytest.fixture
def server(request):
    s = make_server(**getattr(request, "param", {}))
    yield s
    s.stop(timeout=2)


def closed_after(sock, limit):
    """Seconds until the peer closes `sock` (reading and discarding), or None past `limit`."""
    t0 = time.monotonic()
    sock.settimeout(0.1)
    while time.monotonic() - t0 < limit:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except ConnectionResetError:
            return time.monotonic() - t0
    return None


# ---- slow clients ------------------------------------------------------------------------------
@pytest.mark.parametrize("server", [{"header_read_timeout": 0.5}], indirect=True)
def test_slow_header_is_cut_off_even_when_trickling(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    t0 = time.monotonic()
    s.sendall(b"GET /ping HTTP/1.1\r\n")
    closed = False
    while time.monotonic() - t0 < 5:  # one byte every 100 ms never completes the header
        try:
            s.sendall(b"X")
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        s.settimeout(0.1)
        try:
            if s.recv(1) == b"":
                closed = True
                break
        except socket.timeout:
            pass
    elapsed = time.monotonic() - t0
    assert closed and elapsed < 2.0, elapsed
    # Others were served meanwhile and still are.
    assert request(server.port, "GET", "/ping").status == 200
    assert "mintlane_http_connections_timed_out_total 1" in server.metrics()


@pytest.mark.parametrize("server", [{"idle_timeout": 0.5}], indirect=True)
def test_idle_connections_are_closed(server):
    fresh = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    used = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    used.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
    t_fresh = closed_after(fresh, 5)
    t_used = closed_after(used, 5)
    assert t_fresh is not None and 0.3 < t_fresh < 2.0
    assert t_used is not None and t_used < 2.0
    fresh.close()
    used.close()


@pytest.mark.parametrize("server", [{"body_read_timeout": 0.5}], indirect=True)
def test_slow_body_is_cut_off(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.sendall(b"POST /getToken HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    t = closed_after(s, 5)
    assert t is not None and t < 2.0
    s.close()


# ---- limits ------------------------------------------------------------------------------------
def test_oversized_headers_get_431(server):
    r = raw_exchange(server.port, b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 431 ")
    assert b"Connection: close" in r


@pytest.mark.parametrize("server", [{"header_limit": 2048}], indirect=True)
def test_header_limit_is_configurable(server):
    assert raw_exchange(server.port, b"GET /ping HTTP/1.1\r\nX: " + b"a" * 3000 + b"\r\n\r\n").startswith(b"HTTP/1.1 431")
    assert request(server.port, "GET", "/ping", headers={"X": "a" * 1000}).status == 200


def test_oversized_body_is_rejected(server):  # D9
    body = b'{"tokenType":"chat","pad":"' + b"x" * 70000 + b'"}'
    r = request(server.port, "POST", "/getToken", body=body)
    assert r.status == 413
    assert json.loads(r.body)["status"] == 413


def test_body_at_the_limit_is_accepted(server):
    prefix = b'{"tokenType":"chat","uid":"u"}'
    body = prefix + b" " * (65536 - len(prefix))
    r = request(server.port, "POST", "/getToken", body=body)
    assert r.status == 200, r.body
    check_token(json.loads(r.body)["token"], services=[chat_service("u", 1, 3600)], expire=3600)


def test_oversized_chunked_body_is_rejected(server):
    chunk = b"x" * 30000
    data = b"POST /getToken HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    for _ in range(3):
        data += b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    data += b"0\r\n\r\n"
    assert raw_exchange(server.port, data).startswith(b"HTTP/1.1 413 ")


def test_chunked_body_within_the_limit(server):
    body = b'{"tokenType":"rtm","uid":"bob"}'
    data = (b"POST /getToken HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + b"%x\r\n" % 10 + body[:10] + b"\r\n" + b"%x\r\n" % (len(body) - 10) + body[10:] + b"\r\n0\r\n\r\n")
    r = raw_exchange(server.port, data)
    assert r.startswith(b"HTTP/1.1 200 OK"), r
    check_token(json.loads(r.split(b"\r\n\r\n", 1)[1])["token"], services=[rtm_service("bob", 3600)], expire=3600)


def test_expect_100_continue(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"POST /getToken HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\nExpect: 100-continue\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 413 ")  # refused before any body byte is sent
    body = b'{"tokenType":"chat"}'
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"POST /getToken HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nExpect: 100-continue\r\n"
                  b"Connection: close\r\n\r\n" % len(body))
        assert s.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK")


@pytest.mark.parametrize("server", [{"max_connections": 3}], indirect=True)
def test_connections_over_the_limit_get_503(server):
    held = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(3)]
    time.sleep(0.2)
    extra = raw_exchange(server.port, b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
    assert extra.startswith(b"HTTP/1.1 503 ")
    for s in held:
        s.close()
    deadline = time.monotonic() + 5
    while server.active_connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert request(server.port, "GET", "/ping").status == 200
    assert "mintlane_http_connections_rejected_total 1" in server.metrics()


def test_bad_request_line_gets_400(server):
    assert raw_exchange(server.port, b"BLAH\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw_exchange(server.port, b"GET /ping HTTP/9.9\r\n\r\n").startswith(b"HTTP/1.1 400 ")


# ---- the auth gate -----------------------------------------------------------------------------
@pytest.mark.parametrize("server", [{"auth_token": "s3cret-t0ken", "cors_allow_origin": "*"}], indirect=True)
def test_auth_gate(server):
    p = server.port
    r = request(p, "GET", "/rtc/c/publisher/uid/1/")
    assert r.status == 401 and r.header("WWW-Authenticate") == "Bearer"
    assert r.json()["status"] == 401
    assert request(p, "GET", "/rtc/c/publisher/uid/1/", headers={"Authorization": "Bearer wrong"}).status == 401
    assert request(p, "GET", "/rtc/c/publisher/uid/1/", headers={"Authorization": "s3cret-t0ken"}).status == 401
    assert request(p, "POST", "/getToken", body=b'{"tokenType":"chat"}').status == 401
    assert request(p, "GET", "/metrics").status == 401
    ok = request(p, "GET", "/rtc/c/publisher/uid/1/", headers={"Authorization": "Bearer s3cret-t0ken"})
    assert ok.status == 200
    check_token(ok.json()["rtcToken"], services=[rtc_service("c", "1", 3600, True)], expire=3600)
    post = request(p, "POST", "/getToken", body=b'{"tokenType":"chat"}',
                   headers={"Authorization": "Bearer s3cret-t0ken"})
    assert post.status == 200
    assert request(p, "GET", "/ping").status == 200  # stays open
    pre = request(p, "OPTIONS", "/rtc/c/publisher/uid/1/", headers={"Origin": "http://a",
                                                                     "Access-Control-Request-Headers": "authorization"})
    assert pre.status == 204
    assert "Authorization" in pre.header("Access-Control-Allow-Headers")
    assert "s3cret" not in repr(server) and "auth=on" in repr(server)


# ---- CORS over the wire --------------------------------------------------------------------------
def test_cors_unset_refuses_browsers_serves_others(server):
    r = request(server.port, "GET", "/rtc/c/publisher/uid/1/", headers={"Origin": "http://a.example"})
    assert r.status == 403 and r.json() == {"error": "Origin not allowed"}
    assert r.header("Access-Control-Allow-Origin") is None
    assert request(server.port, "GET", "/rtc/c/publisher/uid/1/").status == 200


@pytest.mark.parametrize("server", [{"cors_allow_origin": " http://a.example ,http://b.example"}], indirect=True)
def test_cors_list_is_trimmed_and_echoed(server):  # D7
    for origin in ("http://a.example", "http://b.example"):
        r = request(server.port, "GET", "/rtm/bob/", headers={"Origin": origin})
        assert r.status == 200
        assert r.header("Access-Control-Allow-Origin") == origin
        assert r.header("Access-Control-Allow-Methods") == "GET, POST, OPTIONS"
        assert r.header("Access-Control-Allow-Headers") == "Origin, Content-Type"
        assert r.header("Vary") == "Origin"
    assert request(server.port, "GET", "/rtm/bob/", headers={"Origin": "http://c.example"}).status == 403
    assert request(server.port, "OPTIONS", "/rtm/bob/", headers={"Origin": "http://c.example"}).status == 403
    assert request(server.port, "GET", "/rtm/bob/").status == 200  # no Origin: served (D7)
    nf = request(server.port, "GET", "/nope", headers={"Origin": "http://a.example"})
    assert nf.status == 404 and nf.header("Access-Control-Allow-Origin") == "http://a.example"
    pre = request(server.port, "OPTIONS", "/rtm/bob/", headers={"Origin": "http://b.example"})
    assert pre.status == 204 and pre.header("Access-Control-Allow-Origin") == "http://b.example"


@pytest.mark.parametrize("server", [{"cors_allow_origin": "*"}], indirect=True)
def test_cors_star_echoes_the_origin(server):
    r = request(server.port, "GET", "/chat/app/", headers={"Origin": "http://any:9"})
    assert r.status == 200 and r.header("Access-Control-Allow-Origin") == "http://any:9"


# ---- metrics -----------------------------------------------------------------------------------
def test_metrics_prometheus_text(server):
    p = server.port
    for _ in range(3):
        request(p, "GET", "/rtc/c/publisher/uid/1/")
    request(p, "GET", "/rte/c/publisher/uid/7/")
    request(p, "GET", "/rtc/c/x/uid/1/")
    request(p, "POST", "/getToken", body=b'{"tokenType":"chat"}')
    request(p, "GET", "/nope")
    r = request(p, "GET", "/metrics")
    assert r.status == 200
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4")
    text = r.body.decode()
    assert text == server.metrics() or "mintlane_http_requests_total" in server.metrics()
    lines = set(text.splitlines())
    assert 'mintlane_http_requests_total{route="rtc",status="200"} 3' in lines
    assert 'mintlane_http_requests_total{route="rtc",status="400"} 1' in lines
    assert 'mintlane_http_requests_total{route="rte",status="200"} 1' in lines
    assert 'mintlane_http_requests_total{route="get_token",status="200"} 1' in lines
    assert 'mintlane_http_requests_total{route="not_found",status="404"} 1' in lines
    assert 'mintlane_tokens_minted_total{kind="rtc"} 4' in lines
    assert 'mintlane_tokens_minted_total{kind="rtm"} 1' in lines
    assert 'mintlane_tokens_minted_total{kind="chat"} 1' in lines
    assert "# TYPE mintlane_http_request_duration_seconds histogram" in lines
    assert 'mintlane_http_request_duration_seconds_bucket{le="+Inf"} 7' in lines
    assert "mintlane_http_request_duration_seconds_count 7" in lines
    buckets = [int(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("mintlane_http_request_duration_seconds_bucket")]
    assert buckets == sorted(buckets)
    assert CERT.lower() not in text.lower()


# ---- the Server object -------------------------------------------------------------------------
def test_server_object_api():
    s = _core.Server(APP_ID, CERT, port=0, threads=1)
    assert "stopped" in repr(s)
    s.start()
    try:
        assert s.running and s.port > 0 and s.url == f"http://127.0.0.1:{s.port}"
        assert s.threads == 1
        assert CERT not in repr(s) and APP_ID not in repr(s)
        with pytest.raises(Exception):
            s.start()
        assert s.wait(timeout=0.1) is False
    finally:
        assert s.stop(timeout=1) == 0
    assert s.stop() == 0  # idempotent
    assert not s.running and s.wait(timeout=0) is True


def test_server_context_manager_and_bind_error():
    with _core.Server(APP_ID, CERT, port=0) as s:
        assert request(s.port, "GET", "/ping").status == 200
        with pytest.raises(OSError) as e:
            _core.Server(APP_ID, CERT, port=s.port).start()
        assert "127.0.0.1" in str(e.value)
    assert not s.running


@pytest.mark.parametrize("kw", [{"port": 70000}, {"threads": -1}, {"host": "localhost!"}, {"idle_timeout": 0},
                                {"body_limit": 0}, {"auth_token": "has space"}])
def test_server_rejects_bad_config(kw):
    with pytest.raises(ValueError):
        _core.Server(APP_ID, CERT, **kw)


def test_malformed_credentials_raise_without_the_certificate():
    with pytest.raises(ValueError) as e:
        _core.Server(APP_ID, CERT[:-1])
    assert CERT[:-1] not in str(e.value)


def test_server_threads_do_not_need_the_gil(server):
    # A client in another process makes requests while this process holds the GIL in one long C
    # call; if the server threads needed the GIL, the requests would wait for the call to end.
    client = subprocess.Popen(
        [sys.executable, "-c",
         "import http.client,sys,time\n"
         "time.sleep(0.3)\n"
         "t=time.monotonic()\n"
         "for i in range(50):\n"
         "  c=http.client.HTTPConnection('127.0.0.1',%d,timeout=5);c.request('GET','/rtm/u%%d/'%%i)\n"
         "  assert c.getresponse().status==200;c.close()\n"
         "print(time.monotonic()-t)\n" % server.port],
        stdout=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    sum(range(5_000_000))
    n = int(5_000_000 * 2.5 / max(time.monotonic() - t0, 1e-4))  # about 2.5 s of work
    t0 = time.monotonic()
    sum(range(n))  # one C call: holds the GIL throughout without releasing it
    held = time.monotonic() - t0
    out, _ = client.communicate(timeout=60)
    assert client.returncode == 0
    assert held > 0.8
    assert float(out) < held  # all 50 requests were answered while the GIL was held
