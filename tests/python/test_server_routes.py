"""Every route, parameter rule and error of spec/TOKEN_SERVER.md §3-§8 (with D1-D7, D9) against a
real server on 127.0.0.1 over real HTTP; every returned token is decoded and verified."""
from __future__ import annotations

import json

import pytest

from mintlane import _core
from server_util import (APP_ID, CERT, chat_service, check_token, request, rtc_service, rtm_service,
                         stream_service)


@pytest.fixture(scope="module")
def port():
    server = _core.Server(APP_ID, CERT, host="127.0.0.1", port=0, threads=2)
    server.start()
    yield server.port
    assert server.stop(timeout=5) == 0


def get(port, path, **kw):
    return request(port, "GET", path, **kw)


def post(port, body, **kw):
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    return request(port, "POST", "/getToken", body=body.encode() if isinstance(body, str) else body, **kw)


def assert_no_cache(r):
    cc = r.header("Cache-Control")
    assert cc is not None and "no-store" in cc and "no-cache" in cc
    assert r.header("Pragma") == "no-cache"
    assert r.header("Expires") in ("-1", "0")


def assert_error(r, key, status=400):
    assert r.status == status, (r.status, r.body)
    assert r.header("Content-Type").startswith("application/json")
    body = r.json()
    assert key in body, body
    assert body["status"] == status
    assert_no_cache(r)
    return body[key]


# ---- /ping -----------------------------------------------------------------------------------
def test_ping(port):
    r = get(port, "/ping")
    assert r.status == 200
    assert r.json() == {"message": "pong"}
    assert r.header("Content-Type") == "application/json; charset=utf-8"
    assert_no_cache(r)


# ---- /rtc --------------------------------------------------------------------------------------
@pytest.mark.parametrize("role,publisher", [("publisher", True), ("1", True), ("subscriber", False), ("2", False)])
def test_rtc_roles(port, role, publisher):
    r = get(port, f"/rtc/fsda/{role}/uid/42/?expiry=600")
    assert r.status == 200
    assert list(r.json()) == ["rtcToken"]
    check_token(r.json()["rtcToken"], services=[rtc_service("fsda", "42", 600, publisher)], expire=600)


def test_rtc_uid_zero_is_the_wildcard(port):
    r = get(port, "/rtc/fsda/publisher/uid/0/?expiry=600")
    check_token(r.json()["rtcToken"], services=[rtc_service("fsda", "", 600, True)], expire=600)


def test_rtc_empty_uid_segment_is_zero(port):
    r = get(port, "/rtc/fsda/publisher/uid//")
    assert r.status == 200
    check_token(r.json()["rtcToken"], services=[rtc_service("fsda", "", 3600, True)], expire=3600)


def test_rtc_leading_zeros_are_dropped(port):
    r = get(port, "/rtc/c/publisher/uid/007/")
    check_token(r.json()["rtcToken"], services=[rtc_service("c", "7", 3600, True)], expire=3600)


def test_rtc_max_uid(port):
    r = get(port, "/rtc/c/publisher/uid/4294967295/")
    check_token(r.json()["rtcToken"], services=[rtc_service("c", "4294967295", 3600, True)], expire=3600)


def test_rtc_user_account_is_verbatim(port):
    r = get(port, "/rtc/fsda/publisher/userAccount/0/")
    check_token(r.json()["rtcToken"], services=[rtc_service("fsda", "0", 3600, True)], expire=3600)
    r = get(port, "/rtc/my%20room/subscriber/userAccount/Alice%20%40home/?expiry=86400")
    check_token(r.json()["rtcToken"], services=[rtc_service("my room", "Alice @home", 86400, False)], expire=86400)


def test_rtc_wildcard_channel_and_full_charset(port):
    channel = "ab*!#$%&()+-:;<=.>?@[]^_{}|~, 9"
    from urllib.parse import quote
    r = get(port, f"/rtc/{quote(channel, safe='')}/publisher/uid/5/")
    assert r.status == 200, r.body
    check_token(r.json()["rtcToken"], services=[rtc_service(channel, "5", 3600, True)], expire=3600)


def test_rtc_default_expiry_and_first_expiry_wins(port):
    r = get(port, "/rtc/c/publisher/uid/1/")
    check_token(r.json()["rtcToken"], services=[rtc_service("c", "1", 3600, True)], expire=3600)
    r = get(port, "/rtc/c/publisher/uid/1/?expiry=60&expiry=90")
    check_token(r.json()["rtcToken"], services=[rtc_service("c", "1", 60, True)], expire=60)
    r = get(port, "/rtc/c/publisher/uid/1/?expiry=000120")
    check_token(r.json()["rtcToken"], services=[rtc_service("c", "1", 120, True)], expire=120)


@pytest.mark.parametrize("expiry", ["failing", "", "-1", "+5", "1.5", "0x10", "1e3", "%205", "18446744073709551616"])
def test_rtc_bad_expiry_syntax_is_message(port, expiry):
    assert_error(get(port, f"/rtc/c/publisher/uid/1/?expiry={expiry}"), "message")


@pytest.mark.parametrize("expiry", ["0", "86401", "4294967296", "4294967896"])
def test_rtc_expiry_out_of_range(port, expiry):  # D3
    r = get(port, f"/rtc/c/publisher/uid/1/?expiry={expiry}")
    assert r.status == 400
    assert r.json()["status"] == 400


def test_rtc_bad_uid_is_error(port):
    text = assert_error(get(port, "/rtc/fsda/publisher/uid/test/"), "error")
    assert text.startswith("Error Generating RTC token - ")


@pytest.mark.parametrize("uid", ["4294967296", "18446744073709551615", "99999999999999999999999"])
def test_uid_above_32_bits_is_rejected(port, uid):  # D2
    assert_error(get(port, f"/rtc/c/publisher/uid/{uid}/"), "error")


def test_unknown_tokentype_is_error(port):
    text = assert_error(get(port, "/rtc/fsda/publisher/nonsense/0/"), "error")
    assert "Unknown Tokentype" in text
    assert_error(get(port, "/rtc/fsda/publisher/UID/0/"), "error")


@pytest.mark.parametrize("role", ["admin", "Publisher", "0", "3", "%20"])
def test_unknown_role_is_rejected(port, role):  # D1
    r = get(port, f"/rtc/c/{role}/uid/1/")
    assert r.status == 400 and r.json()["status"] == 400


def test_empty_role_is_rejected(port):
    assert get(port, "/rtc/c//uid/1/").status == 400


@pytest.mark.parametrize("channel", ["a" * 65, "bad%2Fchan", "%C3%A9t%C3%A9", "tab%09", "quote%22", "nul%00", ""])
def test_channel_rules(port, channel):  # D4
    r = get(port, f"/rtc/{channel}/publisher/uid/1/")
    assert r.status in (400, 404)
    if "%2F" not in channel:
        assert r.status == 400


def test_channel_of_64_bytes_is_fine(port):
    r = get(port, f"/rtc/{'c' * 64}/publisher/uid/1/")
    check_token(r.json()["rtcToken"], services=[rtc_service("c" * 64, "1", 3600, True)], expire=3600)


def test_huge_channel_name_is_refused(port):
    r = get(port, f"/rtc/{'c' * 12000}/publisher/uid/1/")
    assert r.status in (400, 414, 431)


@pytest.mark.parametrize("account", ["a" * 256, "%C3%A9", "a%0Ab", "a*b", "a%2Fb"])
def test_user_account_rules(port, account):  # D5
    r = get(port, f"/rtc/c/publisher/userAccount/{account}/")
    assert r.status in (400, 404)
    if "%2F" not in account:
        assert r.status == 400


def test_user_account_of_255_bytes_is_fine(port):
    r = get(port, f"/rtc/c/publisher/userAccount/{'u' * 255}/")
    check_token(r.json()["rtcToken"], services=[rtc_service("c", "u" * 255, 3600, True)], expire=3600)


# ---- /rtm --------------------------------------------------------------------------------------
def test_rtm(port):
    r = get(port, "/rtm/username/?expiry=600")
    assert list(r.json()) == ["rtmToken"]
    check_token(r.json()["rtmToken"], services=[rtm_service("username", 600)], expire=600)


@pytest.mark.parametrize("path", ["/rtm/0/", "/rtm//", "/rtm/0/?expiry=failing"])
def test_rtm_zero_or_empty_is_message(port, path):
    text = assert_error(get(port, path), "message")
    assert "invalid RTM User ID" in text


def test_rtm_bad_expiry(port):
    assert_error(get(port, "/rtm/bob/?expiry=failing"), "message")
    assert get(port, "/rtm/bob/?expiry=0").status == 400
    assert get(port, "/rtm/bob/?expiry=86401").status == 400


def test_rtm_user_over_64_bytes_is_rejected(port):  # D5
    assert get(port, f"/rtm/{'u' * 65}/").status == 400
    r = get(port, f"/rtm/{'u' * 64}/")
    check_token(r.json()["rtmToken"], services=[rtm_service("u" * 64, 3600)], expire=3600)


def test_rtm_without_segment_is_404(port):
    assert get(port, "/rtm/").status == 404


# ---- /rte --------------------------------------------------------------------------------------
@pytest.mark.parametrize("role,publisher", [("publisher", True), ("subscriber", False), ("1", True), ("2", False)])
def test_rte_default_rtm_id(port, role, publisher):
    r = get(port, f"/rte/room/{role}/uid/2345/?expiry=900")
    body = r.json()
    assert set(body) == {"rtcToken", "rtmToken"}
    check_token(body["rtcToken"], services=[rtc_service("room", "2345", 900, publisher)], expire=900)
    check_token(body["rtmToken"], services=[stream_service("room", "2345", 900), rtm_service("2345", 900)],
                expire=900)


def test_rte_explicit_rtm_id(port):
    body = get(port, "/rte/room/publisher/uid/0/alice/").json()
    check_token(body["rtcToken"], services=[rtc_service("room", "", 3600, True)], expire=3600)
    check_token(body["rtmToken"], services=[stream_service("room", "alice", 3600), rtm_service("alice", 3600)],
                expire=3600)


def test_rte_user_account(port):
    body = get(port, "/rte/room/publisher/userAccount/bob/").json()
    check_token(body["rtcToken"], services=[rtc_service("room", "bob", 3600, True)], expire=3600)
    check_token(body["rtmToken"], services=[stream_service("room", "bob", 3600), rtm_service("bob", 3600)],
                expire=3600)


@pytest.mark.parametrize("path", ["/rte/room/publisher/uid/0/", "/rte/room/publisher/uid//"])
def test_rte_without_usable_rtm_id(port, path):
    assert "rtm user ID" in assert_error(get(port, path), "message")


def test_rte_explicit_rtm_id_zero_is_rejected(port):  # D6
    assert get(port, "/rte/room/publisher/uid/7/0/").status == 400


def test_rte_errors(port):
    assert_error(get(port, "/rte/room/publisher/uid/7/?expiry=failing"), "message")
    assert assert_error(get(port, "/rte/room/publisher/uid/x/"), "error").startswith("Error Generating RTC token - ")
    assert_error(get(port, "/rte/room/publisher/bogus/7/"), "error")
    assert get(port, "/rte/room/owner/uid/7/").status == 400             # D1
    assert get(port, f"/rte/{'r' * 65}/publisher/uid/7/").status == 400  # D4
    assert get(port, f"/rte/room/publisher/uid/7/{'m' * 65}/").status == 400  # D5
    assert get(port, "/rte/room/publisher/uid/4294967296/x/").status == 400   # D2


# ---- /chat -------------------------------------------------------------------------------------
def test_chat_app(port):
    r = get(port, "/chat/app/")
    assert list(r.json()) == ["chatToken"]
    check_token(r.json()["chatToken"], services=[chat_service("", 2, 3600)], expire=3600)


def test_chat_account(port):
    for path, expire in (("/chat/account/username/", 3600), ("/chat/account/username/?expiry=77", 77)):
        r = get(port, path)
        check_token(r.json()["chatToken"], services=[chat_service("username", 1, expire)], expire=expire)


def test_chat_errors(port):
    assert_error(get(port, "/chat/app/?expiry=fail"), "message")
    assert_error(get(port, "/chat/account/u/?expiry=fail"), "message")
    assert get(port, "/chat/app/?expiry=0").status == 400
    assert get(port, "/chat/account/u/?expiry=86401").status == 400
    assert get(port, "/chat/account/").status == 404
    assert get(port, "/chat/invalid/").status == 404
    assert get(port, f"/chat/account/{'u' * 65}/").status == 400


# ---- POST /getToken ----------------------------------------------------------------------------
def post_token(r):
    assert r.status == 200, r.body
    assert r.header("Content-Type").startswith("application/json")
    assert r.body.endswith(b"\n")
    body = r.json()
    assert list(body) == ["token"]
    return body["token"]


def test_post_rtc(port):
    t = post_token(post(port, {"tokenType": "rtc", "channel": "c", "role": "publisher", "uid": "42", "expire": 600}))
    check_token(t, services=[rtc_service("c", "42", 600, True)], expire=600)


def test_post_rtc_account_default_role_and_expire(port):
    t = post_token(post(port, {"tokenType": "rtc", "channel": "c", "uid": "alice"}))
    check_token(t, services=[rtc_service("c", "alice", 3600, False)], expire=3600)
    t = post_token(post(port, {"tokenType": "rtc", "channel": "c", "uid": "-5", "expire": 0}))
    check_token(t, services=[rtc_service("c", "-5", 3600, False)], expire=3600)


def test_post_rtc_role_1_is_publisher_and_uid_0_wildcard(port):  # D1
    t = post_token(post(port, {"tokenType": "rtc", "channel": "c", "role": "1", "uid": "0"}))
    check_token(t, services=[rtc_service("c", "", 3600, True)], expire=3600)


def test_post_go_decoding_rules(port):
    t = post_token(post(port, '{"TOKENTYPE":"rtm","UID":"a","uid":"b","junk":[1,{"x":null}],"channel":null} extra'))
    check_token(t, services=[rtm_service("b", 3600)], expire=3600)
    r = post(port, "null")  # null is {}: no tokenType
    assert r.status == 400 and r.body == b"Unsupported tokenType\n"


def test_post_rtm_with_stream_channel(port):
    t = post_token(post(port, {"tokenType": "rtm", "uid": "bob", "channel": "stream*", "expire": 300}))
    check_token(t, services=[stream_service("stream*", "bob", 300), rtm_service("bob", 300)], expire=300)
    t = post_token(post(port, {"tokenType": "rtm", "uid": "0"}))
    check_token(t, services=[rtm_service("0", 3600)], expire=3600)


def test_post_chat(port):
    t = post_token(post(port, {"tokenType": "chat", "expire": 100}))
    check_token(t, services=[chat_service("", 2, 100)], expire=100)
    t = post_token(post(port, {"tokenType": "chat", "uid": "u1"}))
    check_token(t, services=[chat_service("u1", 1, 3600)], expire=3600)


@pytest.mark.parametrize("body,text", [
    ("", "EOF"),
    ("not json", None),
    ("[]", None),
    ('"rtc"', None),
    ("{}", "Unsupported tokenType"),
    ('{"tokenType":"RTC","channel":"c","uid":"1"}', "Unsupported tokenType"),
    ('{"tokenType":"rtc","uid":"1"}', "invalid: missing channel name"),
    ('{"tokenType":"rtc","channel":"c"}', "invalid: missing user ID or account"),
    ('{"tokenType":"rtm"}', "invalid: missing user ID or account"),
    ('{"tokenType":"rtc","channel":"c","uid":"1","expire":"3600"}', None),
    ('{"tokenType":"rtc","channel":"c","uid":"1","expire":1.5}', None),
    ('{"tokenType":"rtc","channel":"c","uid":5}', None),
    ('{"tokenType":"rtc","channel":"c","uid":"1","expire":9223372036854775808}', None),
    ('{"tokenType":"rtc","channel":"c","uid":"1","role":"admin"}', None),     # D1
    ('{"tokenType":"rtc","channel":"c","uid":"4294967296"}', None),           # D2
    ('{"tokenType":"rtc","channel":"c","uid":"18446744073709551616"}', None),  # D2
    ('{"tokenType":"rtc","channel":"c","uid":"1","expire":-1}', None),        # D3
    ('{"tokenType":"rtc","channel":"c","uid":"1","expire":86401}', None),     # D3
    ('{"tokenType":"rtc","channel":"bad/chan","uid":"1"}', None),             # D4
    ('{"tokenType":"rtc","channel":"' + "c" * 65 + '","uid":"1"}', None),    # D4
    ('{"tokenType":"rtc","channel":"c","uid":"' + "a" * 256 + '"}', None),   # D5
    ('{"tokenType":"rtm","uid":"' + "a" * 65 + '"}', None),                  # D5
])
def test_post_errors_are_plain_text(port, body, text):
    r = post(port, body)
    assert r.status == 400, (body, r.body)
    assert r.header("Content-Type") == "text/plain; charset=utf-8"
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert r.body.endswith(b"\n")
    if text is not None:
        assert r.body.decode().startswith(text)
    assert_no_cache(r)


# ---- routing -----------------------------------------------------------------------------------
def test_missing_trailing_slash_redirects_get_with_301(port):
    r = get(port, "/rtc/c/publisher/uid/1?expiry=60")
    assert r.status == 301
    assert r.header("Location") == "/rtc/c/publisher/uid/1/?expiry=60"
    r = get(port, "/ping/")
    assert r.status == 301 and r.header("Location") == "/ping"
    r = get(port, "/chat/app")
    assert r.status == 301 and r.header("Location") == "/chat/app/"


def test_post_redirect_is_307(port):
    r = request(port, "POST", "/getToken/", body=b"{}")
    assert r.status == 307 and r.header("Location") == "/getToken"


@pytest.mark.parametrize("method,path", [("GET", "/"), ("GET", "/nope"), ("HEAD", "/ping"), ("POST", "/ping"),
                                         ("GET", "/getToken"), ("PUT", "/getToken"), ("DELETE", "/rtm/bob/"),
                                         ("GET", "/rtc/c/publisher/uid/1/extra/"),
                                         ("GET", "/rtc/a%2Fb/publisher/uid/1/")])
def test_not_found(port, method, path):
    r = request(port, method, path)
    assert r.status == 404
    if method != "HEAD":
        assert r.body == b"404 page not found"
        assert r.header("Content-Type") == "text/plain"
    assert_no_cache(r)


def test_malformed_path_is_400(port):
    r = get(port, "/rtm/%zz/")
    assert r.status == 400
    assert r.header("Connection") == "close"


def test_preflight_any_path(port):
    for path in ("/rtc/c/publisher/uid/1/", "/anything", "/getToken"):
        r = request(port, "OPTIONS", path)
        assert r.status == 204
        assert r.body == b""
        assert r.header("Access-Control-Allow-Methods") == "GET, POST, OPTIONS"
        assert_no_cache(r)


def test_keep_alive_serves_many_requests_on_one_connection(port):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for i in range(200):
            conn.request("GET", f"/rtc/c/publisher/uid/{i}/")
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200
            if i % 50 == 0:
                check_token(json.loads(body)["rtcToken"], services=[rtc_service("c", str(i) if i else "", 3600, True)],
                            expire=3600)
    finally:
        conn.close()


def test_pipelined_requests_are_answered_in_order(port):
    from server_util import raw_exchange
    req = b"".join(b"GET /rtm/u%d/ HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(5))
    req += b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    data = raw_exchange(port, req)
    assert data.count(b"HTTP/1.1 200 OK") == 6
    tokens = [json.loads(part[part.index(b"{"):])["rtmToken"]
              for part in data.split(b"HTTP/1.1 ")[1:6]]
    for i, t in enumerate(tokens):
        check_token(t, services=[rtm_service(f"u{i}", 3600)], expire=3600)
    assert data.rstrip().endswith(b'{"message":"pong"}')


def test_concurrent_clients_all_get_valid_tokens(port):
    import threading
    barrier = threading.Barrier(8)
    results = {}

    def worker(n):
        barrier.wait(10)
        results[n] = [get(port, f"/rtc/room{n}/publisher/uid/{n * 100 + i}/?expiry=60") for i in range(20)]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 8
    for n, replies in results.items():
        for i, r in enumerate(replies):
            check_token(r.json()["rtcToken"], services=[rtc_service(f"room{n}", str(n * 100 + i) if n * 100 + i else "",
                                                                    60, True)], expire=60)
