"""Helpers for the token-server tests: real HTTP to 127.0.0.1, server processes started and stopped
by PID, and a token checker that decodes and verifies every token a test receives."""
from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import mintlane

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"

RTC, RTM, CHAT = 1, 2, 5
JOIN, AUDIO, VIDEO, DATA = 1, 2, 3, 4


@dataclass
class Reply:
    status: int
    headers: List[Tuple[str, str]]
    body: bytes

    def header(self, name: str) -> Optional[str]:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def json(self) -> Any:
        return json.loads(self.body)


def request(port: int, method: str, path: str, *, headers: Optional[Dict[str, str]] = None,
            body: Optional[bytes] = None, timeout: float = 10.0) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return Reply(resp.status, resp.getheaders(), data)
    finally:
        conn.close()


def raw_exchange(port: int, data: bytes, *, timeout: float = 10.0, read_until_close: bool = True) -> bytes:
    """Sends raw bytes and returns everything the server sends back until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if not read_until_close:
                break
        return b"".join(chunks)


def check_token(token: str, *, services: List[Dict[str, Any]], expire: int) -> mintlane.DecodedToken:
    """Decodes and verifies `token` and compares its services (type, fields, privilege ids and values)."""
    assert token.startswith("007"), token[:10]
    result = mintlane.verify(token, CERT)
    assert result.ok, result.reason
    decoded = mintlane.decode(token)
    assert decoded.app_id == APP_ID
    assert decoded.expire == expire
    assert abs(decoded.issue_ts - time.time()) < 120
    got = []
    for s in decoded.services:
        entry: Dict[str, Any] = {"type": s.type, "privileges": dict(s.privileges)}
        if s.type == RTC:
            entry["channel"] = s.channel_name
            entry["uid"] = s.uid
        else:
            entry["user"] = s.user_id
        got.append(entry)
    assert got == services, (got, services)
    return decoded


def rtc_service(channel: str, uid: str, expire: int, publisher: bool) -> Dict[str, Any]:
    privs = {JOIN: expire, AUDIO: expire, VIDEO: expire, DATA: expire} if publisher else {JOIN: expire}
    return {"type": RTC, "channel": channel, "uid": uid, "privileges": privs}


def rtm_service(user: str, expire: int) -> Dict[str, Any]:
    return {"type": RTM, "user": user, "privileges": {1: expire}}


def stream_service(channel: str, user: str, expire: int) -> Dict[str, Any]:
    return {"type": RTC, "channel": channel, "uid": user, "privileges": {JOIN: expire, DATA: expire}}


def chat_service(user: str, privilege: int, expire: int) -> Dict[str, Any]:
    return {"type": CHAT, "user": user, "privileges": {privilege: expire}}


# ---- server processes ---------------------------------------------------------------------------
@dataclass
class ServeProcess:
    proc: subprocess.Popen
    port: int
    lines: "queue.Queue[str]"
    log: List[str] = field(default_factory=list)

    def stderr_text(self, wait: float = 0.0) -> str:
        deadline = time.monotonic() + wait
        while True:
            try:
                self.log.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return "".join(self.log)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
            if code != 0:
                sys.stderr.write("mintlane serve exited %d:\n%s" % (code, self.stderr_text(wait=0.5)))
            return code
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise


def base_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("APP_ID", "APP_CERTIFICATE", "SERVER_PORT", "PORT", "CORS_ALLOW_ORIGIN",
                        "MINTLANE_AUTH_TOKEN")}
    env.update(extra)
    return env


def _pump(stream: Any, q: "queue.Queue[str]") -> None:
    for line in iter(stream.readline, ""):
        q.put(line)
    stream.close()


def spawn_serve(args: List[str], env: Dict[str, str], cwd: str) -> Tuple[subprocess.Popen, "queue.Queue[str]"]:
    proc = subprocess.Popen([sys.executable, "-m", "mintlane", "serve", *args], env=env, cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    q: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, q), daemon=True).start()
    return proc, q


def start_serve(args: List[str], env: Dict[str, str], cwd: str, timeout: float = 20.0) -> ServeProcess:
    """Starts `python -m mintlane serve --host 127.0.0.1 ...` and waits for its listening line."""
    proc, q = spawn_serve(["--host", "127.0.0.1", *args], env, cwd)
    log: List[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=0.2)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        log.append(line)
        m = re.search(r"listening on http://[^ ]*:(\d+) ", line)
        if m:
            return ServeProcess(proc, int(m.group(1)), q, log)
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)
    raise AssertionError("mintlane serve did not start: " + "".join(log))


def run_serve_expect_exit(args: List[str], env: Dict[str, str], cwd: str, timeout: float = 20.0) -> Tuple[int, str]:
    proc = subprocess.run([sys.executable, "-m", "mintlane", "serve", "--host", "127.0.0.1", *args],
                          env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
