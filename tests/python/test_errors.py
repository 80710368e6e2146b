"""Every public function given bad input raises a typed ValueError subclass whose message names
the field and the rule, and never contains the certificate."""
from __future__ import annotations

import pytest

import mintlane
from mintlane import services as sv
from conftest import APP_ID, CERT

M = mintlane.Minter(APP_ID, CERT, threads=1)


@pytest.mark.parametrize("app_id,cert,field", [
    ("", CERT, "app_id"), ("970CA35de60c44645bbae8a215061b3", CERT, "app_id"),
    ("970CA35de60c44645bbae8a215061b3g", CERT, "app_id"), (APP_ID, CERT[:-1], "app_certificate"),
    (APP_ID, CERT[:-1] + "z", "app_certificate"), (APP_ID, CERT + " ", "app_certificate"),
])
def test_bad_credentials(app_id, cert, field):
    with pytest.raises(mintlane.InvalidCredentialsError) as ei:
        mintlane.Minter(app_id, cert)
    assert ei.value.field == field
    assert str(ei.value).startswith(field + ":") and "32 hexadecimal" in str(ei.value)
    assert cert not in str(ei.value) or cert == CERT
    assert isinstance(ei.value, ValueError)


def test_certificate_never_in_messages_or_repr():
    secret = "abcdefabcdefabcdefabcdefabcdefzz"  # malformed, must not be echoed
    with pytest.raises(mintlane.InvalidCredentialsError) as ei:
        mintlane.Minter(APP_ID, secret)
    assert secret not in str(ei.value) and "abcdef" not in str(ei.value)
    assert CERT not in repr(M) and CERT not in str(M)
    for bad in (lambda: M.rtc("x" * 65, 1), lambda: M.rtc("ok", -1), lambda: M.rtm("", expire=5)):
        with pytest.raises(ValueError) as e:
            bad()
        assert CERT not in str(e.value)


@pytest.mark.parametrize("call,exc,field,words", [
    (lambda: M.rtc("x" * 65, 1), mintlane.InvalidChannelError, "channel", "at most 64 bytes"),
    (lambda: M.rtc("", 1), mintlane.InvalidChannelError, "channel", "must not be empty"),
    (lambda: M.rtc("bad/channel", 1), mintlane.InvalidChannelError, "channel", "'/' (0x2f) at byte 3"),
    (lambda: M.rtc("héllo", 1), mintlane.InvalidChannelError, "channel", "byte 0xc3 at byte 1"),
    (lambda: M.rtc("ok", -1), mintlane.InvalidUidError, "uid", "0..4294967295"),
    (lambda: M.rtc("ok", 2**32), mintlane.InvalidUidError, "uid", "0..4294967295"),
    (lambda: M.rtc("ok", 2**70), mintlane.InvalidUidError, "uid", "out of range"),
    (lambda: M.rtc("ok", account=""), mintlane.InvalidAccountError, "account", "must not be empty"),
    (lambda: M.rtc("ok", account="a" * 256), mintlane.InvalidAccountError, "account", "at most 255 bytes"),
    (lambda: M.rtc("ok", account="tab\there"), mintlane.InvalidAccountError, "account", "not allowed"),
    (lambda: M.rtc("ok", 1, expire=-5), mintlane.InvalidExpireError, "expire", "must not be negative"),
    (lambda: M.rtc("ok", 1, expire=0), mintlane.InvalidExpireError, "expire", "at least 1 second"),
    (lambda: M.rtc("ok", 1, expire=86401), mintlane.InvalidExpireError, "expire", "24-hour maximum"),
    (lambda: M.rtc("ok", 1, expire=1767225600), mintlane.InvalidExpireError, "expire", "absolute Unix timestamp"),
    (lambda: M.rtc("ok", 1, privilege_expire=1767225600), mintlane.InvalidExpireError, "privilege_expire", "seconds from now"),
    (lambda: M.rtc("ok", 1, role="admin"), mintlane.InvalidRoleError, "role", "unknown role"),
    (lambda: M.rtc("ok", 1, role=3), mintlane.InvalidRoleError, "role", "unknown role 3"),
    (lambda: M.rtm("u" * 65), mintlane.InvalidAccountError, "user_id", "at most 64 bytes"),
    (lambda: M.chat_user(""), mintlane.InvalidAccountError, "user_id", "must not be empty"),
    (lambda: M.rtm2("u", [(9, 0, ["x"])]), mintlane.InvalidArgumentError, "permissions", "resource type 9"),
    (lambda: M.apaas_room_user("", "u", 1), mintlane.InvalidAccountError, "room_uuid", "must not be empty"),
    (lambda: M.apaas_room_user("r", "u", 40000), mintlane.InvalidRoleError, "role", "16-bit"),
    (lambda: M.rtc("ok", 1, salt=-1), mintlane.InvalidArgumentError, "salt", "0..4294967295"),
    (lambda: M.rtc("ok", 1, issue_ts=2**32), mintlane.InvalidExpireError, "issue_ts", "0..4294967295"),
    (lambda: M.rtc_batch(channel="ok", uids=[1, -2]), mintlane.InvalidUidError, "uids", "at index 1"),
    (lambda: M.rtc_batch(channel="ok", uids=range(2**32 - 2, 2**32 + 1)), mintlane.InvalidUidError, "uids", "out of range"),
    (lambda: M.rtc_batch(channels=["ok", "b/d"], uids=[1, 2]), mintlane.InvalidChannelError, "channels", "(item 1)"),
    (lambda: M.rtc_batch(channels=["a"], uids=[1, 2]), mintlane.InvalidUidError, "uids", "has 2 entries"),
    (lambda: M.rtc_batch(uids=[1]), mintlane.InvalidChannelError, "channel", "required"),
    (lambda: M.token([], expire=60), mintlane.InvalidArgumentError, "services", "at least one service"),
    (lambda: M.token([sv.rtc("a", 1)], expire=100000), mintlane.InvalidExpireError, "expire", "24-hour"),
    (lambda: mintlane.Service(11), mintlane.InvalidArgumentError, "service_type", "unknown"),
    (lambda: mintlane.Service(1, "only-channel"), mintlane.InvalidArgumentError, "services", "2 string fields"),
    (lambda: mintlane.Minter(APP_ID, CERT, compression="zstd"), mintlane.InvalidArgumentError, "compression", "'fast', 'isal' or 'exact'"),
])
def test_bad_arguments(call, exc, field, words):
    with pytest.raises(exc) as ei:
        call()
    assert isinstance(ei.value, ValueError)
    assert ei.value.field == field
    assert words in str(ei.value), str(ei.value)
    assert str(ei.value).startswith(field), str(ei.value)


@pytest.mark.parametrize("call", [
    lambda: M.rtc(b"bytes", 1), lambda: M.rtc("ok", "42"), lambda: M.rtc("ok", 1, expire="60"),
    lambda: mintlane.decode(b"007abc"), lambda: M.rtc_batch(channel="ok", accounts="abc"),
])
def test_wrong_types_raise_type_error(call):
    with pytest.raises(TypeError):
        call()


def test_wire_limit_enforced_in_low_level_encoder():
    from mintlane import _core
    with pytest.raises(mintlane.InvalidArgumentError, match="65535 bytes"):
        _core.encode_007(APP_ID, CERT, [sv.rtc("c" * 70000, 1)], expire=60)


@pytest.mark.parametrize("token,stage,words", [
    ("", "prefix", "empty token"),
    ("008abc", "prefix", 'must start with "007"'),
    ("007", "base64", "no content"),
    ("007abc", "base64", "multiple of 4"),
    ("007ab*d", "base64", "'*' (0x2a)"),
    ("007eJx-TYBBbsMMn", "base64", "URL-safe"),
    ("007AAAA", "zlib", "not a zlib stream"),
    ("006970CA35de60c44645bbae8a215061b33", "base64", "no content"),
    ("006970CA35de60c44645bb", "prefix", "too short"),
])
def test_decode_errors_say_where(token, stage, words):
    with pytest.raises(mintlane.DecodeError) as ei:
        mintlane.decode(token)
    assert ei.value.stage == stage and words in str(ei.value), str(ei.value)
    assert isinstance(ei.value, ValueError)


def test_verify_reasons():
    t = M.rtc("Agora*", 42, role="subscriber", expire=600, issue_ts=1_000_000)
    assert mintlane.verify(t, CERT, channel="AgoraChannel", uid=42).ok
    assert mintlane.verify(t, CERT, channel="AgoraAwesome").ok
    assert mintlane.verify(t, CERT, channel="AppTest").status == "wrong_channel"
    assert mintlane.verify(t, CERT, uid=43).status == "wrong_uid"
    assert mintlane.verify(t, CERT, now=1_000_601).status == "expired"
    assert mintlane.verify(t, CERT, now=1_000_600).ok
    assert mintlane.verify(t, CERT, privilege="publish_audio").status == "missing_privilege"
    assert mintlane.verify(t, CERT, privilege="join_channel").ok
    assert mintlane.verify(t, CERT, privilege="nonsense").status == "missing_privilege"
    assert mintlane.verify(t, "0" * 32).status == "bad_signature"
    assert mintlane.verify(t, "nothex").status == "bad_certificate"
    assert mintlane.verify("007abc", CERT).status == "malformed"
    any_uid = M.rtc("lobby", 0, issue_ts=1_000_000)
    assert mintlane.verify(any_uid, CERT, uid=123456).ok
    rtm = M.rtm("alice", expire=60)
    assert mintlane.verify(rtm, CERT, account="alice", privilege="rtm.login").ok
    assert mintlane.verify(rtm, CERT, account="bob").status == "wrong_account"
    p = M.rtc_with_privileges("lobby", 1, expire=3600, publish_audio=60, issue_ts=1_000_000)
    r = mintlane.verify(p, CERT, now=1_000_100, privilege="publish_audio")
    assert r.status == "privilege_expired" and "1000060" in r.reason
