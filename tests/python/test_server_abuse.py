"""Abuse of `python -m mintlane serve` over raw sockets on 127.0.0.1 (issue 7).

One real server process (access log on, short header-read and idle timeouts) takes malformed
request lines and headers, header and body floods, slowloris clients, thousands of idle
connections, pipelining, invalid UTF-8 and bad percent-encoding, requests cut midway and clients
that never read their responses. Every case must get the right 4xx or a closed connection; after
every test the server still answers /ping on a fresh connection and its RSS stays bounded, and the
flood scenarios, run twice, must not grow it the second time.

Every loop is bounded in count and time; the only process stopped is the one started here, by PID.
"""
from __future__ import annotations

import json
import re
import resource
import select
import selectors
import socket
import struct
import threading
import time
from typing import Dict, List, Optional, Tuple

import pytest

import mintlane
from server_util import APP_ID, CERT, base_env, start_serve

HOST = "127.0.0.1"
HEADER_READ_TIMEOUT = 1.0   # --header-read-timeout for the module's server
IDLE_TIMEOUT = 3.0          # --idle-timeout
WRITE_TIMEOUT = 10.0        # the server's default (no CLI flag)
BODY_READ_TIMEOUT = 10.0    # the server's default (no CLI flag)
RSS_LIMIT_KB = 200 * 1024   # absolute bound at every check
RSS_REPEAT_GROWTH_KB = 12 * 1024  # a flood repeated must not grow RSS by more than this

RSS_LOG: Dict[str, object] = {}  # label -> VmRSS kB, printed by the last test (-s shows it)


# ---- raw HTTP helpers ---------------------------------------------------------------------------
class Resp:
    def __init__(self, status: int, headers: Dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def __repr__(self) -> str:
        return f"<Resp {self.status} {self.body[:80]!r}>"


def parse_responses(data: bytes) -> Tuple[List[Resp], bytes]:
    """Splits `data` into complete HTTP/1.1 responses (the server always sends Content-Length)."""
    out: List[Resp] = []
    while True:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return out, data
        head = data[:end].decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3}) ", head[0] + " ")
        assert m, f"not a status line: {head[0]!r}"
        headers = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        if len(data) < end + 4 + n:
            return out, data
        out.append(Resp(int(m.group(1)), headers, data[end + 4:end + 4 + n]))
        data = data[end + 4 + n:]


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until_close(s: socket.socket, limit: float) -> Tuple[bytes, bool]:
    """Everything the peer sends until it closes (True) or `limit` seconds pass (False)."""
    chunks = []
    deadline = time.monotonic() + limit
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"".join(chunks), False
        s.settimeout(min(left, 0.25))
        try:
            c = s.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return b"".join(chunks), True
        if not c:
            return b"".join(chunks), True
        chunks.append(c)


def read_responses(s: socket.socket, n: int, limit: float = 10.0) -> List[Resp]:
    """Reads until `n` complete responses arrived (fails on close or after `limit` seconds)."""
    buf = b""
    deadline = time.monotonic() + limit
    while True:
        resps, _ = parse_responses(buf)
        if len(resps) >= n:
            return resps
        left = deadline - time.monotonic()
        assert left > 0, f"only {len(resps)} of {n} responses within {limit} s"
        s.settimeout(min(left, 0.25))
        try:
            c = s.recv(262144)
        except socket.timeout:
            continue
        assert c, f"connection closed after {len(resps)} of {n} responses"
        buf += c


def exchange(port: int, data: bytes, limit: float = 5.0) -> Tuple[List[Resp], bool]:
    """Sends raw bytes, reads until the server closes (or `limit`): (responses, closed)."""
    with connect(port) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw, closed = read_until_close(s, limit)
    resps, rest = parse_responses(raw)
    assert rest == b"", f"trailing bytes after the responses: {rest[:200]!r}"
    return resps, closed


def get1(port: int, data: bytes, limit: float = 5.0) -> Resp:
    """One request on its own connection; returns the single response (keep-alive or not)."""
    with connect(port) as s:
        s.sendall(data)
        return read_responses(s, 1, limit)[0]


def rst_close(s: socket.socket) -> None:
    """Closes with a TCP reset instead of a FIN (SO_LINGER 0)."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


def fill_until_blocked(s: socket.socket, unit: bytes, max_bytes: int = 64 << 20, limit: float = 8.0) -> int:
    """Sends `unit` repeatedly without reading until the kernel refuses more (the server stopped
    reading because its own writes are blocked) or the caps are hit; returns the bytes sent."""
    s.setblocking(False)
    sent, stalls = 0, 0
    deadline = time.monotonic() + limit
    block = unit * max(1, 16384 // len(unit))
    while sent < max_bytes and time.monotonic() < deadline:
        try:
            sent += s.send(block)
            stalls = 0
        except BlockingIOError:
            stalls += 1
            if stalls >= 4:  # 4 x 25 ms without progress: blocked
                break
            time.sleep(0.025)
        except (BrokenPipeError, ConnectionResetError):
            break
    s.setblocking(True)
    return sent


def send_until_cut(s: socket.socket, block: bytes, limit: float) -> Tuple[bool, float]:
    """Streams `block` until the server closes or resets the connection (True) or `limit` seconds
    pass (False); returns (cut, seconds)."""
    t0 = time.monotonic()
    s.settimeout(1.0)
    while time.monotonic() - t0 < limit:
        try:
            s.sendall(block)
        except socket.timeout:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return True, time.monotonic() - t0
    return False, time.monotonic() - t0


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def metric(port: int, name: str) -> float:
    r = get1(port, b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
    assert r.status == 200
    m = re.search(rb"^" + re.escape(name.encode()) + rb" (\S+)$", r.body, re.M)
    assert m, name
    return float(m.group(1))


def wait_for(cond, limit: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def ping_ok(port: int, limit: float = 2.0) -> None:
    t0 = time.monotonic()
    r = get1(port, b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n", limit)
    assert r.status == 200 and r.body == b'{"message":"pong"}', r
    assert time.monotonic() - t0 < limit


def rtc_req(uid: int, extra: bytes = b"") -> bytes:
    return b"GET /rtc/abuse/publisher/uid/%d/?expiry=600 HTTP/1.1\r\nHost: t\r\n%s\r\n" % (uid, extra)


def check_rtc(resp: Resp, uid: int) -> None:
    assert resp.status == 200, resp
    token = json.loads(resp.body)["rtcToken"]
    assert mintlane.verify(token, CERT, channel="abuse", uid=uid).ok
    assert mintlane.decode(token).services[0].uid == str(uid)


# ---- the server -------------------------------------------------------------------------------
def _raise_nofile(want: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


IDLE_CONNECTIONS = 2000
_raise_nofile(IDLE_CONNECTIONS + 1024)  # before the server starts: it inherits the limit


class Srv:
    def __init__(self, sp, log_path, tmp) -> None:
        self.sp, self.port, self.pid, self.log_path, self.tmp = sp, sp.port, sp.proc.pid, log_path, tmp

    def rss(self) -> int:
        return rss_kb(self.pid)

    def alive(self) -> None:
        assert self.sp.proc.poll() is None, "server exited:\n" + self.sp.stderr_text(wait=0.3)
        ping_ok(self.port)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    d = tmp_path_factory.mktemp("abuse")
    log = d / "access.log"
    sp = start_serve(["--port", "0", "--threads", "2", "--access-log", str(log),
                      "--header-read-timeout", str(HEADER_READ_TIMEOUT), "--idle-timeout", str(IDLE_TIMEOUT)],
                     base_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT), str(d))
    s = Srv(sp, log, d)
    try:
        # Warm up the allocator and per-thread scratch so the baseline is meaningful.
        with connect(s.port) as c:
            for i in range(1, 201):
                c.sendall(rtc_req(i))
                read_responses(c, 1)
        RSS_LOG["baseline"] = s.rss()
        yield s
    finally:
        code = sp.stop(timeout=20)  # SIGTERM by PID, kill after the timeout (server_util)
        out = sp.stderr_text(wait=0.3)
        assert code == 0, out
        for bad in ("Traceback", "terminate called", "Segmentation", "AddressSanitizer", "error"):
            assert bad not in out, out


@pytest.fixture(autouse=True)
def _server_survives(srv, request):
    yield
    srv.alive()
    kb = srv.rss()
    RSS_LOG[request.node.name] = kb
    assert kb < RSS_LIMIT_KB, f"RSS {kb} kB after {request.node.name}"


def repeat_bounded(srv: Srv, label: str, scenario, rounds: int = 2) -> None:
    """Runs a flood `rounds` times; the last round must not grow RSS beyond RSS_REPEAT_GROWTH_KB."""
    after = []
    for _ in range(rounds):
        scenario()
        srv.alive()
        after.append(srv.rss())
    RSS_LOG[label + "_rounds"] = after  # type: ignore[assignment]
    assert after[-1] - after[0] <= RSS_REPEAT_GROWTH_KB, f"{label}: RSS grew {after} kB"
    assert max(after) < RSS_LIMIT_KB


# ---- malformed request lines -------------------------------------------------------------------
H = b"Host: t\r\n\r\n"
MALFORMED_REQUEST_LINES = [
    ("garbage", b"\x00\x01\x02garbage\r\n\r\n", {400}),
    ("all_bytes", bytes(range(256)) + b"\r\n\r\n", {400}),
    ("missing_version", b"GET /ping\r\n\r\n", {400}),
    ("missing_target", b"GET HTTP/1.1\r\n" + H, {400}),
    ("http_9_9", b"GET /ping HTTP/9.9\r\n" + H, {400, 505}),
    ("http_2_preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {400, 505}),
    ("lowercase_version", b"GET /ping http/1.1\r\n" + H, {400}),
    ("version_garbage", b"GET /ping HTTP/1.x\r\n" + H, {400}),
    ("double_space", b"GET  /ping HTTP/1.1\r\n" + H, {400}),
    ("trailing_junk", b"GET /ping HTTP/1.1 junk\r\n" + H, {400}),
    ("tab_in_target", b"GET /pi\tng HTTP/1.1\r\n" + H, {400}),
    ("ctl_in_method", b"G\x01T /ping HTTP/1.1\r\n" + H, {400}),
    ("space_line", b"   \r\n" + H, {400}),
    ("huge_method", b"G" * 20000 + b" /ping HTTP/1.1\r\n" + H, {400, 431, 501}),
    ("huge_target", b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n" + H, {400, 414, 431}),
    ("huge_version", b"GET /ping HTTP/" + b"1" * 20000 + b"\r\n" + H, {400, 431, 505}),
]


@pytest.mark.parametrize("name,raw,statuses", MALFORMED_REQUEST_LINES, ids=[c[0] for c in MALFORMED_REQUEST_LINES])
def test_malformed_request_line_gets_4xx_and_close(srv, name, raw, statuses):
    resps, closed = exchange(srv.port, raw)
    assert closed, "connection left open after a malformed request line"
    assert len(resps) == 1 and resps[0].status in statuses, resps
    assert resps[0].headers.get("connection") == "close"


@pytest.mark.parametrize("raw", [b"FOO /ping HTTP/1.1\r\n" + H, b"get /ping HTTP/1.1\r\n" + H,
                                 b"M" * 200 + b" /ping HTTP/1.1\r\n" + H, b"HEAD /ping HTTP/1.1\r\n" + H])
def test_unknown_methods_are_404_and_keep_the_connection(srv, raw):
    with connect(srv.port) as s:
        s.sendall(raw + b"GET /ping HTTP/1.1\r\n" + H)
        r1, r2 = read_responses(s, 2)
    assert r1.status in (404, 405), r1  # the spec: no 405, unknown method = 404
    assert r2.status == 200


# ---- malformed headers -------------------------------------------------------------------------
RL = b"GET /ping HTTP/1.1\r\n"
MALFORMED_HEADERS = [
    ("no_colon", RL + b"Host t\r\n\r\n", {400}),
    ("nul_in_value", RL + b"Host: t\r\nX-A: a\x00b\r\n\r\n", {400}),
    ("nul_in_name", RL + b"Host: t\r\nX\x00A: b\r\n\r\n", {400}),
    ("ctl_in_value", RL + b"Host: t\r\nX-A: a\x01b\r\n\r\n", {400}),
    ("del_in_value", RL + b"Host: t\r\nX-A: a\x7fb\r\n\r\n", {400}),
    ("space_before_colon", RL + b"Host: t\r\nX-A : b\r\n\r\n", {400}),
    ("empty_name", RL + b"Host: t\r\n: b\r\n\r\n", {400}),
    ("bad_name_char", RL + b"Host: t\r\nX(A): b\r\n\r\n", {400}),
    ("bare_cr", b"GET /ping HTTP/1.1\rHost: t\r\r", {400}),
    ("leading_whitespace_first_header", RL + b" Host: t\r\n\r\n", {400}),
    ("dup_content_length", b"POST /getToken HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x",
     {400}),
    ("content_length_text", b"POST /getToken HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n{}", {400}),
    ("content_length_negative", b"POST /getToken HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n{}", {400}),
    ("content_length_plus", b"POST /getToken HTTP/1.1\r\nHost: t\r\nContent-Length: +2\r\n\r\n{}", {400}),
    ("content_length_overflow", b"POST /getToken HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n",
     {400, 413}),
    ("cl_and_te", b"POST /getToken HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"0\r\n\r\n", {400}),
    ("chunk_size_garbage", b"POST /getToken HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n", {400}),
    ("chunk_size_overflow", b"POST /getToken HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"fffffffffffffffffffffff\r\n", {400, 413}),
]


@pytest.mark.parametrize("name,raw,statuses", MALFORMED_HEADERS, ids=[c[0] for c in MALFORMED_HEADERS])
def test_malformed_headers_get_4xx_and_close(srv, name, raw, statuses):
    resps, closed = exchange(srv.port, raw)
    assert closed, "connection left open after a malformed header"
    assert len(resps) == 1 and resps[0].status in statuses, resps
    assert b"rtcToken" not in resps[0].body and b"007" not in resps[0].body


# RFC 9112 §6.3 (4): a request whose Transfer-Encoding does not end in "chunked" has no
# determinable length: the server MUST answer 400 and close. Treating it as body-less and reading
# the next bytes as a new request is a request-smuggling vector behind a proxy.
UNFRAMEABLE_TE = [b"gzip", b"chunked, gzip", b"xchunked", b"identity", b"", b"chunked\r\nTransfer-Encoding: identity"]


@pytest.mark.parametrize("te", UNFRAMEABLE_TE, ids=[t.decode().split("\r")[0] + ("+identity" if b"\r" in t else "")
                                                   or "empty" for t in UNFRAMEABLE_TE])
def test_transfer_encoding_without_final_chunked_is_400_and_close(srv, te):
    smuggled = b"GET /rtc/smuggled/publisher/uid/1/ HTTP/1.1\r\nHost: t\r\n\r\n"
    resps, closed = exchange(srv.port, b"POST /getToken HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: " + te +
                             b"\r\n\r\n" + smuggled, limit=0.5)
    assert [r.status for r in resps] == [400], resps  # the smuggled request is never answered
    assert closed


@pytest.mark.parametrize("raw", [
    RL + b"Host: t\r\nX-A: a\r\n  folded\r\n\r\n",          # obs-fold: RFC 9112 allows 400 or SP
    b"GET /ping HTTP/1.1\nHost: t\n\n",                   # bare LF line ends: MAY be accepted
    RL + b"Host: t\r\nX-A: caf\xc3\xa9 \xc3\x28 \xff\r\n\r\n",  # obs-text (non-ASCII) in a value
    RL + b"Host: t\r\nHost: u\r\n\r\n",                  # repeated Host
])
def test_tolerated_header_oddities_get_one_sane_answer(srv, raw):
    resps, closed = exchange(srv.port, raw + b"GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert resps, "no answer"
    assert resps[0].status in (200, 400), resps
    if resps[0].status == 400:
        assert closed and len(resps) == 1
    else:
        assert resps[0].body == b'{"message":"pong"}'


# ---- header and body floods --------------------------------------------------------------------
def test_header_flood_gets_431(srv):
    def flood():
        big_value = RL + b"Host: t\r\nX-Big: " + b"v" * 20000 + b"\r\n\r\n"
        many = RL + b"Host: t\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(3000)) + b"\r\n"
        for raw in (big_value, many):
            resps, closed = exchange(srv.port, raw)
            assert closed and [r.status for r in resps] == [431], resps
        # An endless header stream: the server answers 431 and stops reading long before 4 MiB.
        with connect(srv.port) as s:
            s.sendall(RL + b"Host: t\r\n")
            line = b"X-Flood: " + b"f" * 1000 + b"\r\n"
            cut, elapsed = send_until_cut(s, line * 16, limit=10)
            raw, closed = read_until_close(s, 5)
        # The server answers 431, discards what follows for at most ~1 s (linger), then closes.
        assert cut and elapsed < 3, f"endless header stream still accepted after {elapsed:.1f} s"
        resps, _ = parse_responses(raw)
        assert [r.status for r in resps] in ([431], []), resps  # 431, or a reset that lost it
    repeat_bounded(srv, "header_flood", flood)


def _post(body: bytes, extra: bytes = b"") -> bytes:
    return (b"POST /getToken HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n%s"
            b"Content-Length: %d\r\n\r\n" % (extra, len(body)) + body)


def test_body_flood_gets_413(srv):
    def flood():
        # Declared over the limit and sent: 413.
        resps, closed = exchange(srv.port, _post(b"x" * 70000))
        assert closed and [r.status for r in resps] == [413], resps
        # Declared 1 TB, nothing sent: 413 at once, without waiting for the body.
        t0 = time.monotonic()
        resps, closed = exchange(srv.port, b"POST /getToken HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000000\r\n\r\n")
        assert closed and [r.status for r in resps] == [413] and time.monotonic() - t0 < 3, resps
        # Expect: 100-continue with an oversized length: 413, no 100.
        resps, closed = exchange(srv.port, b"POST /getToken HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                                           b"Content-Length: 70000\r\n\r\n")
        assert closed and [r.status for r in resps] == [413], resps
        # Chunked, streamed without end: 413 once past 64 KiB, and the server stops reading.
        with connect(srv.port) as s:
            s.sendall(b"POST /getToken HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"1000\r\n" + b"y" * 0x1000 + b"\r\n"
            cut, elapsed = send_until_cut(s, chunk * 8, limit=10)
            raw, closed = read_until_close(s, 5)
        assert cut and elapsed < 3, f"endless chunked body still accepted after {elapsed:.1f} s"
        resps, _ = parse_responses(raw)
        assert closed and [r.status for r in resps] in ([413], []), resps
    repeat_bounded(srv, "body_flood", flood)


def test_body_limit_boundary(srv):
    body = b'{"tokenType":"rtc","channel":"abuse","uid":"7"}'
    at_limit = body + b" " * (65536 - len(body))  # JSON allows trailing whitespace
    r = get1(srv.port, _post(at_limit))
    assert r.status == 200, r
    assert mintlane.verify(json.loads(r.body)["token"], CERT, channel="abuse", uid=7).ok
    resps, closed = exchange(srv.port, _post(at_limit + b" "))
    assert closed and [x.status for x in resps] == [413], resps


# ---- slow clients ------------------------------------------------------------------------------
def test_slowloris_single_connection_is_cut_at_header_timeout(srv):
    with connect(srv.port) as s:
        s.sendall(b"GET /ping HTTP/1.1\r\n")
        t0 = time.monotonic()
        closed = False
        got = b""
        for _ in range(20):  # one byte every 0.5 s, at most 10 s
            try:
                s.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            chunk, closed = read_until_close(s, 0.5)
            got += chunk
            if closed:
                break
        elapsed = time.monotonic() - t0
    assert closed, "slowloris connection still open after 10 s"
    assert elapsed < HEADER_READ_TIMEOUT + 1.5, elapsed
    resps, _ = parse_responses(got)
    assert all(r.status in (400, 408) for r in resps), resps  # never a 200 for an unfinished header


def test_slowloris_many_connections_do_not_starve_others(srv):
    n = 200
    conns = [connect(srv.port) for _ in range(n)]
    try:
        for c in conns:
            c.sendall(b"GET /ping HTTP/1.1\r\nHost: t\r\n")
        t0 = time.monotonic()
        open_ = set(range(n))
        served = []
        while open_ and time.monotonic() - t0 < HEADER_READ_TIMEOUT + 4:
            for i in list(open_):
                try:
                    conns[i].send(b"X")
                except (BrokenPipeError, ConnectionResetError, OSError):
                    open_.discard(i)
            # Meanwhile a well-behaved client is served at once.
            t1 = time.monotonic()
            ping_ok(srv.port)
            served.append(time.monotonic() - t1)
            r, _, _ = select.select([conns[i] for i in open_], [], [], 0.5)
            for c in r:
                try:
                    if c.recv(4096) == b"":
                        open_.discard(conns.index(c))
                except (ConnectionResetError, OSError):
                    open_.discard(conns.index(c))
        elapsed = time.monotonic() - t0
    finally:
        for c in conns:
            c.close()
    assert not open_, f"{len(open_)} slowloris connections still open after {elapsed:.1f} s"
    assert max(served) < 1.0, served


def test_unread_responses_and_slow_body_are_cut_at_the_default_timeouts(srv):
    """A client that never reads (and never closes) and one that trickles its body: both are
    closed by the server's write / body-read timeouts (10 s defaults; serve has no flag for them)."""
    before_to = metric(srv.port, "mintlane_http_connections_timed_out_total")
    before_active = metric(srv.port, "mintlane_http_connections_active")
    hog = connect(srv.port)
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow = connect(srv.port)
    try:
        fill_until_blocked(hog, b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        slow.sendall(b"POST /getToken HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n{")
        t0 = time.monotonic()
        slow_closed = False
        while time.monotonic() - t0 < max(WRITE_TIMEOUT, BODY_READ_TIMEOUT) + 4:
            if not slow_closed:
                try:
                    slow.send(b" ")
                    _, slow_closed = read_until_close(slow, 0.5)
                except (BrokenPipeError, ConnectionResetError):
                    slow_closed = True
            else:
                time.sleep(0.5)
            ping_ok(srv.port)  # the server stays responsive throughout
            if slow_closed and metric(srv.port, "mintlane_http_connections_active") <= before_active:
                break
        elapsed = time.monotonic() - t0
        assert slow_closed, "a trickled body was never cut off"
        assert metric(srv.port, "mintlane_http_connections_active") <= before_active, \
            f"the never-reading client still holds its connection after {elapsed:.1f} s"
        assert metric(srv.port, "mintlane_http_connections_timed_out_total") >= before_to + 2
    finally:
        rst_close(hog)
        slow.close()


# ---- thousands of idle connections --------------------------------------------------------------
def _idle_round(srv: Srv, n: int) -> Tuple[float, int]:
    conns: List[socket.socket] = []
    try:
        t0 = time.monotonic()
        for _ in range(n):
            conns.append(socket.create_connection((HOST, srv.port), timeout=5))
        opened = time.monotonic() - t0
        assert opened < IDLE_TIMEOUT - 1.5, f"opening {n} connections took {opened:.1f} s"
        # A fresh client is still served while they sit there.
        ping_ok(srv.port, limit=1.0)
        assert metric(srv.port, "mintlane_http_connections_active") >= n
        rss_full = srv.rss()
        # The idle timeout closes all of them (bounded wait).
        pending = len(conns)
        deadline = time.monotonic() + IDLE_TIMEOUT + 4
        with selectors.DefaultSelector() as sel:  # epoll: descriptors above 1024
            for c in conns:
                sel.register(c, selectors.EVENT_READ)
            while pending and time.monotonic() < deadline:
                for key, _ in sel.select(0.5):
                    try:
                        key.fileobj.recv(1)
                    except OSError:
                        pass
                    sel.unregister(key.fileobj)
                    pending -= 1
        assert not pending, f"{pending} idle connections never closed by the server"
        return opened, rss_full
    finally:
        for c in conns:
            c.close()


def test_thousands_of_idle_connections(srv):
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft == resource.RLIM_INFINITY or soft >= IDLE_CONNECTIONS + 256, soft
    results = []
    repeat_bounded(srv, "idle_connections", lambda: results.append(_idle_round(srv, IDLE_CONNECTIONS)))
    RSS_LOG["idle_connections_peak"] = max(r[1] for r in results)
    assert wait_for(lambda: metric(srv.port, "mintlane_http_connections_active") <= 2, 3)


def test_connection_limit_answers_503(tmp_path):
    sp = start_serve(["--port", "0", "--threads", "1", "--max-connections", "20"],
                     base_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT), str(tmp_path))
    conns = []
    try:
        conns = [socket.create_connection((HOST, sp.port), timeout=5) for _ in range(20)]
        assert wait_for(lambda: _active_via_first(conns) is not None, 1)
        resps, closed = exchange(sp.port, b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
        assert closed and [r.status for r in resps] == [503], resps
        for c in conns[:5]:
            c.close()
        time.sleep(0.3)
        assert get1(sp.port, b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n").status == 200
    finally:
        for c in conns:
            c.close()
        assert sp.stop(timeout=15) == 0


def test_descriptor_exhaustion_neither_spins_nor_kills_the_server(tmp_path):
    """More clients than the server has file descriptors (RLIMIT_NOFILE 128 < max_connections):
    accept() fails with EMFILE; the server must back off (no busy loop), stay up, and serve again
    once descriptors are free."""
    import subprocess
    import sys
    env = base_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT)
    proc = subprocess.Popen([sys.executable, "-m", "mintlane", "serve", "--host", HOST, "--port", "0", "--threads", "2"],
                            env=env, cwd=str(tmp_path), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128)))
    conns: List[socket.socket] = []
    try:
        line = proc.stdout.readline()
        m = re.search(r"listening on http://[^ ]*:(\d+) ", line)
        assert m, line
        port = int(m.group(1))
        for _ in range(300):  # the kernel completes the handshakes; the server runs out of descriptors
            conns.append(socket.create_connection((HOST, port), timeout=5))
        time.sleep(0.5)

        def cpu_ticks() -> int:
            with open(f"/proc/{proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime + stime
        c0 = cpu_ticks()
        time.sleep(1.0)
        used = cpu_ticks() - c0
        assert used < 30, f"server burned {used} ticks in 1 s while out of descriptors (busy accept loop?)"
        assert proc.poll() is None
        for c in conns:
            c.close()
        conns = []
        assert wait_for(lambda: _ping_quietly(port), 5), "server did not recover after descriptors were freed"
    finally:
        for c in conns:
            c.close()
        if proc.poll() is None:
            proc.terminate()
        try:
            code = proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
            raise
        out = proc.stdout.read()
        proc.stdout.close()
    assert code == 0, out


def _ping_quietly(port: int) -> bool:
    try:
        return get1(port, b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n", 1.0).status == 200
    except (OSError, AssertionError):
        return False


def _active_via_first(conns: List[socket.socket]) -> Optional[int]:
    # One of the held connections asks for /metrics (it counts itself).
    c = conns[0]
    c.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
    r = read_responses(c, 1)[0]
    m = re.search(rb"^mintlane_http_connections_active (\d+)$", r.body, re.M)
    return int(m.group(1)) if m and int(m.group(1)) >= 20 else None


# ---- pipelining --------------------------------------------------------------------------------
def test_pipelined_mixed_requests_answered_in_order(srv):
    body = b'{"tokenType":"rtm","uid":"pipe-user","expire":600}'
    reqs = [
        b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n",
        rtc_req(11),
        b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n",
        _post(body),
        rtc_req(12),
        b"GET /rtc/abuse/publisher/uid/13?expiry=600 HTTP/1.1\r\nHost: t\r\n\r\n",  # no slash: 301
        b"OPTIONS /rtc/abuse/publisher/uid/1/ HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /rtc/abuse/publisher/uid/x/ HTTP/1.1\r\nHost: t\r\n\r\n",
        rtc_req(14, b"Connection: close\r\n"),
        rtc_req(15),  # after Connection: close: never answered
    ]
    resps, closed = exchange(srv.port, b"".join(reqs))
    assert closed
    assert [r.status for r in resps] == [200, 200, 404, 200, 200, 301, 204, 400, 200], resps
    assert resps[0].body == b'{"message":"pong"}'
    check_rtc(resps[1], 11)
    assert mintlane.decode(json.loads(resps[3].body)["token"]).services[0].user_id == "pipe-user"
    check_rtc(resps[4], 12)
    assert resps[5].headers["location"] == "/rtc/abuse/publisher/uid/13/?expiry=600"
    check_rtc(resps[8], 14)


def test_pipelined_burst_of_1000_in_one_write(srv):
    def burst():
        n = 1000
        data = b"".join(rtc_req(i) for i in range(1, n + 1))
        with connect(srv.port) as s:
            sender = threading.Thread(target=s.sendall, args=(data,), daemon=True)
            sender.start()
            resps = read_responses(s, n, limit=20)
            sender.join(5)
        assert len(resps) == n
        for i in (1, 2, 500, 999, 1000):  # spot-check the order by uid
            check_rtc(resps[i - 1], i)
        assert all(r.status == 200 for r in resps)
    repeat_bounded(srv, "pipelined_burst", burst)


def test_pipeline_with_a_bad_request_stops_there(srv):
    data = rtc_req(21) + rtc_req(22) + b"GET /ping HTTP/1.1\r\nBad Header\r\n\r\n" + rtc_req(23)
    resps, closed = exchange(srv.port, data)
    assert closed
    assert [r.status for r in resps] == [200, 200, 400], resps
    check_rtc(resps[0], 21)
    check_rtc(resps[1], 22)


def test_pipeline_split_at_every_byte(srv):
    data = rtc_req(31) + _post(b'{"tokenType":"chat"}') + rtc_req(32, b"Connection: close\r\n")
    with connect(srv.port) as s:
        for i in range(len(data)):
            s.send(data[i:i + 1])
        raw, closed = read_until_close(s, 5)
    resps, _ = parse_responses(raw)
    assert closed and [r.status for r in resps] == [200, 200, 200], resps
    check_rtc(resps[0], 31)
    check_rtc(resps[2], 32)


# ---- invalid UTF-8 and bad percent-encoding ------------------------------------------------------
BAD_PATHS = [
    b"/rtc/%zz/publisher/uid/1/", b"/rtc/%c3%28/publisher/uid/1/", b"/rtc/a%00b/publisher/uid/1/",
    b"/rtc/%/publisher/uid/1/", b"/rtc/a%2/publisher/uid/1/", b"/rtc/%ff%fe/publisher/uid/1/",
    b"/rtc/%c0%af/publisher/uid/1/", b"/rtc/%ed%a0%80/publisher/uid/1/", b"/rtc/%e2%82/publisher/uid/1/",
    b"/rtc/%f4%90%80%80/publisher/uid/1/", b"/rtc/a%2Fb/publisher/uid/1/", b"/rtc/c/publisher/uid/1%00/",
    b"/rtc/c/publisher/userAccount/%c3%28/", b"/rtc/c/publisher/userAccount/%00/",
    b"/rtc/c/%zz/uid/1/", b"/rtc/c/publisher/%00/1/", b"/rte/%c3%28/publisher/uid/1/", b"/rte/c/publisher/uid/1/%00/",
    b"/rtm/%00/", b"/rtm/%zz/", b"/rtm/%c3%28/", b"/chat/account/%c3%28/", b"/chat/account/%00/",
    b"/ping%00", b"/%00", b"/%zz", b"/%", b"/%%", b"/%u0041",
    b"/rtc/\xc3\x28/publisher/uid/1/", b"/rtc/\xff\xfe/publisher/uid/1/", b"/rtc/\x80/publisher/uid/1/",
    b"/rtm/\xed\xa0\x80/", b"/\xf0\x9f\x92\xa9", b"/chat/account/\xc0\xaf/",
]


@pytest.mark.parametrize("path", BAD_PATHS, ids=[p.decode("latin-1").encode("unicode_escape").decode() for p in BAD_PATHS])
def test_bad_encoding_in_path_is_400_or_404(srv, path):
    resps, closed = exchange(srv.port, b"GET " + path + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert len(resps) == 1, resps
    assert resps[0].status in (400, 404), resps
    assert b'Token":"' not in resps[0].body, resps  # no rtcToken/rtmToken/chatToken minted


BAD_QUERIES = [b"expiry=%zz", b"expiry=%00", b"expiry=60%00", b"expiry=%c3%28", b"expiry=%", b"expiry=%3",
               b"%zz=1", b"expiry=\xff", b"expiry=60&expiry=%zz", b"%00=%00", b"expiry=%36%30"]


@pytest.mark.parametrize("query", BAD_QUERIES, ids=[q.decode("latin-1").encode("unicode_escape").decode() for q in BAD_QUERIES])
def test_bad_encoding_in_query_never_5xx_and_tokens_are_sane(srv, query):
    resps, _ = exchange(srv.port, b"GET /rtc/abuse/publisher/uid/5/?" + query +
                        b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert len(resps) == 1 and resps[0].status in (200, 400), resps
    if resps[0].status == 200:
        token = json.loads(resps[0].body)["rtcToken"]
        assert mintlane.verify(token, CERT, channel="abuse", uid=5).ok
        assert 1 <= mintlane.decode(token).expire <= 86400


# ---- requests cut midway -----------------------------------------------------------------------
FULL_GET = rtc_req(41)
FULL_POST = _post(b'{"tokenType":"rtc","channel":"abuse","uid":"41","expire":600}')
FULL_CHUNKED = (b"POST /getToken HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"10\r\n{\"tokenType\":\"rt\r\n0\r\n\r\n")


def test_requests_cut_midway(srv):
    base_active = metric(srv.port, "mintlane_http_connections_active")

    def cuts():
        n = 0
        for full in (FULL_GET, FULL_POST, FULL_CHUNKED):
            for cut in sorted({1, 5, len(full) // 3, len(full) // 2, len(full) - 5, len(full) - 1}):
                for mode in ("fin", "rst", "half"):
                    s = connect(srv.port)
                    s.sendall(full[:cut])
                    if mode == "rst":
                        rst_close(s)
                    elif mode == "fin":
                        s.close()
                    else:  # half-close: the server must notice EOF and close without waiting
                        s.shutdown(socket.SHUT_WR)
                        t0 = time.monotonic()
                        raw, closed = read_until_close(s, 3)
                        s.close()
                        assert closed and time.monotonic() - t0 < 2, (full[:cut], raw)
                        resps, _ = parse_responses(raw)
                        assert all(r.status == 400 for r in resps), resps  # nothing but a 400
                    n += 1
        # Random cut points, many times (bounded).
        import random
        rnd = random.Random(7)
        for _ in range(300):
            full = rnd.choice((FULL_GET, FULL_POST, FULL_CHUNKED))
            s = connect(srv.port)
            s.sendall(full[:rnd.randrange(1, len(full))])
            rst_close(s) if rnd.random() < 0.5 else s.close()
            n += 1
        assert wait_for(lambda: metric(srv.port, "mintlane_http_connections_active") <= base_active, 3), \
            "cut connections still counted as active"
    repeat_bounded(srv, "cut_midway", cuts)


# ---- clients that never read -------------------------------------------------------------------
def test_clients_that_never_read_their_responses(srv):
    base_active = metric(srv.port, "mintlane_http_connections_active")

    def hogs():
        conns = []
        try:
            for i in range(12):
                s = connect(srv.port)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                what = b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n" if i % 2 else rtc_req(i)
                conns.append(s)
                fill_until_blocked(s, what, max_bytes=4 << 20, limit=3)  # answers pile up unread
            time.sleep(0.5)
            ping_ok(srv.port)  # still served while 20 clients block their writes
        finally:
            for i, s in enumerate(conns):
                rst_close(s) if i % 2 else s.close()
        assert wait_for(lambda: metric(srv.port, "mintlane_http_connections_active") <= base_active, 3), \
            "connections of vanished readers still active"
    repeat_bounded(srv, "never_read", hogs, rounds=2)


# ---- afterwards ----------------------------------------------------------------------------------
def test_zz_access_log_is_clean_json_and_rss_is_bounded(srv):
    time.sleep(0.3)
    lines = srv.log_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 1000
    statuses = set()
    for line in lines:
        rec = json.loads(line)  # every line is JSON, whatever bytes the requests carried
        assert set(rec) == {"ts", "remote", "method", "route", "status", "bytes", "duration_us"}, rec
        assert re.fullmatch(r"127\.0\.0\.1:\d+", rec["remote"]), rec
        statuses.add(rec["status"])
    assert {200, 400, 404, 413, 431} <= statuses, statuses
    text = "\n".join(lines)
    for needle in ("%zz", "garbage", "X-Flood", "pipe-user", "abuse", CERT, CERT.lower()):
        assert needle not in text  # routes only: no paths, headers or bodies
    print("\nRSS (VmRSS kB) by scenario:", json.dumps({k: v for k, v in RSS_LOG.items() if "[" not in k}, indent=1))
    assert max(max(v) if isinstance(v, list) else v for v in RSS_LOG.values()) < RSS_LIMIT_KB
    assert srv.rss() - RSS_LOG["baseline"] < 64 * 1024, (srv.rss(), RSS_LOG["baseline"])
