"""mintlane.asgi under a real ASGI server (uvicorn, started here on 127.0.0.1): the same routes,
rules and answers as the native server, standalone and mounted inside a Starlette app."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from mintlane import _core
from server_util import (APP_ID, CERT, base_env, chat_service, check_token, free_port, port_is_listening,
                         request, rtc_service, rtm_service, stream_service)

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

APP_MODULE = textwrap.dedent(f"""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route

    from mintlane.asgi import create_app

    standalone = create_app()  # APP_ID / APP_CERTIFICATE / CORS_ALLOW_ORIGIN from the environment

    async def home(request):
        return PlainTextResponse("the backend's own route")

    mounted = Starlette(routes=[
        Route("/", home),
        Mount("/agora", app=create_app({APP_ID!r}, {CERT!r}, cors_allow_origin="http://ok.example",
                                        auth_token="tok")),
    ])
""")


@pytest.fixture(scope="module")
def uvicorn_ports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("asgi")
    (tmp / "asgi_app_under_test.py").write_text(APP_MODULE)
    env = base_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT, CORS_ALLOW_ORIGIN="*")
    procs, ports = [], {}
    try:
        for name in ("standalone", "mounted"):
            port = free_port()
            proc = subprocess.Popen([sys.executable, "-m", "uvicorn", f"asgi_app_under_test:{name}",
                                     "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                                    cwd=str(tmp), env=env, stdin=subprocess.DEVNULL)
            procs.append(proc)
            deadline = time.monotonic() + 30
            while not port_is_listening(port):
                assert proc.poll() is None, "uvicorn exited"
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.1)
            ports[name] = port
        yield ports
    finally:
        for proc in procs:  # stopped by PID, only what this fixture started
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture(scope="module")
def native_port():
    s = _core.Server(APP_ID, CERT, port=0, cors_allow_origin="*")
    s.start()
    yield s.port
    s.stop(timeout=2)


CASES = [
    ("GET", "/ping", None, None),
    ("GET", "/rtc/c/publisher/uid/42/?expiry=600", None, None),
    ("GET", "/rtc/c/1/userAccount/alice/", None, None),
    ("GET", "/rtc/c/publisher/uid/test/", None, None),
    ("GET", "/rtc/c/admin/uid/1/", None, None),
    ("GET", "/rtc/c/publisher/uid/1/?expiry=0", None, None),
    ("GET", "/rtc/c/publisher/uid/1?expiry=60", None, None),
    ("GET", "/rtm/bob/", None, None),
    ("GET", "/rtm/0/", None, None),
    ("GET", "/rte/room/subscriber/uid/5/", None, None),
    ("GET", "/rte/room/publisher/uid/0/", None, None),
    ("GET", "/chat/app/", None, None),
    ("GET", "/chat/account/u1/?expiry=60", None, None),
    ("GET", "/chat/account/", None, None),
    ("GET", "/nope", None, None),
    ("HEAD", "/ping", None, None),
    ("OPTIONS", "/rtm/bob/", {"Origin": "http://x.example"}, None),
    ("GET", "/rtm/bob/", {"Origin": "http://x.example"}, None),
    ("POST", "/getToken", None, b'{"tokenType":"rtc","channel":"c","uid":"7","role":"1"}'),
    ("POST", "/getToken", None, b'{"tokenType":"rtm","uid":"bob","channel":"s"}'),
    ("POST", "/getToken", None, b'{"tokenType":"chat"}'),
    ("POST", "/getToken", None, b""),
    ("POST", "/getToken", None, b'{"tokenType":"rtc","uid":"1"}'),
    ("POST", "/getToken", None, b'{"tokenType":"chat","pad":"' + b"x" * 70000 + b'"}'),
    ("POST", "/getToken/", None, b"{}"),
]


def comparable(r):
    headers = {k.lower(): v for k, v in r.headers
               if k.lower() not in ("date", "server", "connection", "content-length", "transfer-encoding")}
    body = r.body
    if r.status == 200 and body.startswith(b"{"):
        body = json.dumps(sorted(json.loads(body)))  # tokens differ (salt, time); the members must not
    return r.status, headers, body


@pytest.mark.parametrize("method,path,headers,body", CASES)
def test_asgi_answers_like_the_native_server(uvicorn_ports, native_port, method, path, headers, body):
    native = request(native_port, method, path, headers=headers, body=body)
    asgi = request(uvicorn_ports["standalone"], method, path, headers=headers, body=body)
    assert comparable(asgi) == comparable(native)


def test_asgi_tokens_verify(uvicorn_ports):
    p = uvicorn_ports["standalone"]
    check_token(request(p, "GET", "/rtc/c/publisher/uid/42/?expiry=600").json()["rtcToken"],
                services=[rtc_service("c", "42", 600, True)], expire=600)
    body = request(p, "GET", "/rte/room/subscriber/uid/5/").json()
    check_token(body["rtcToken"], services=[rtc_service("room", "5", 3600, False)], expire=3600)
    check_token(body["rtmToken"], services=[stream_service("room", "5", 3600), rtm_service("5", 3600)], expire=3600)
    check_token(request(p, "GET", "/chat/account/u1/").json()["chatToken"], services=[chat_service("u1", 1, 3600)],
                expire=3600)
    t = request(p, "POST", "/getToken", body=b'{"tokenType":"rtm","uid":"bob"}').json()["token"]
    check_token(t, services=[rtm_service("bob", 3600)], expire=3600)


def test_asgi_mounted_in_a_backend(uvicorn_ports):
    p = uvicorn_ports["mounted"]
    assert request(p, "GET", "/").body == b"the backend's own route"
    auth = {"Authorization": "Bearer tok"}
    r = request(p, "GET", "/agora/rtm/bob/", headers=auth)
    assert r.status == 200, r.body
    check_token(r.json()["rtmToken"], services=[rtm_service("bob", 3600)], expire=3600)
    assert request(p, "GET", "/agora/rtm/bob/").status == 401
    assert request(p, "GET", "/agora/ping").status == 200
    redirect = request(p, "GET", "/agora/rtc/c/publisher/uid/1?expiry=5", headers=auth)
    assert redirect.status == 301
    assert redirect.header("Location") == "/agora/rtc/c/publisher/uid/1/?expiry=5"
    ok = request(p, "GET", "/agora/chat/app/", headers={"Origin": "http://ok.example", **auth})
    assert ok.status == 200 and ok.header("Access-Control-Allow-Origin") == "http://ok.example"
    assert request(p, "GET", "/agora/chat/app/", headers={"Origin": "http://evil.example", **auth}).status == 403


def test_create_app_argument_errors(tmp_path, monkeypatch):
    from mintlane.asgi import create_app
    with pytest.raises(ValueError):
        create_app(APP_ID)
    with pytest.raises(ValueError) as e:
        create_app(APP_ID, CERT[:-1])
    assert CERT[:-1] not in str(e.value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("APP_ID", raising=False)
    monkeypatch.delenv("APP_CERTIFICATE", raising=False)
    with pytest.raises(ValueError) as e:
        create_app()
    assert "APP_ID" in str(e.value)
