"""The drop-in modules: same names and results as the references, and byte-identical to the
real PyPI `agora-token-builder` package (installed in the test environment) for 006."""
from __future__ import annotations

import inspect
import random
import types
import warnings

import agora_token_builder as real006
import agora_token_builder.AccessToken as real_at
import pytest

import mintlane
from mintlane.compat import AccessToken2, RtcTokenBuilder2, RtmTokenBuilder2, ChatTokenBuilder2, set_compression
from mintlane.compat import agora_token_builder as ours006
from mintlane.compat.agora_token_builder import AccessToken as our_at
from conftest import APP_ID, CERT


def test_006_identical_to_pypi_package(monkeypatch):
    rng = random.Random(3)
    for _ in range(300):
        now, salt = rng.randint(1_600_000_000, 1_800_000_000), rng.randint(1, 99999999)
        for mod in (real_at, our_at):
            monkeypatch.setattr(mod.time, "time", lambda now=now: now)
        monkeypatch.setattr(real_at.secrets, "SystemRandom", lambda: types.SimpleNamespace(randint=lambda a, b: salt))
        monkeypatch.setattr(our_at, "secrets", types.SimpleNamespace(randbelow=lambda n: salt - 1))
        ch = "".join(rng.choice("abcXYZ019 !#") for _ in range(rng.randint(1, 64)))
        uid = rng.choice([0, rng.getrandbits(32)])
        role = rng.choice([0, 1, 2, 101])
        ts = now + rng.randint(1, 86400)
        assert (ours006.RtcTokenBuilder.buildTokenWithUid(APP_ID, CERT, ch, uid, role, ts)
                == real006.RtcTokenBuilder.buildTokenWithUid(APP_ID, CERT, ch, uid, role, ts))
        assert (ours006.RtcTokenBuilder.buildTokenWithAccount(APP_ID, CERT, ch, "acct" + ch[:5], role, ts)
                == real006.RtcTokenBuilder.buildTokenWithAccount(APP_ID, CERT, ch, "acct" + ch[:5], role, ts))
        assert (ours006.RtmTokenBuilder.buildToken(APP_ID, CERT, "user" + ch[:9], 1, ts)
                == real006.RtmTokenBuilder.buildToken(APP_ID, CERT, "user" + ch[:9], 1, ts))


def test_006_tokens_from_the_package_decode_and_verify():
    t = real006.RtcTokenBuilder.buildTokenWithUid(APP_ID, CERT, "lobby", 42, 1, 2_000_000_000)
    d = mintlane.decode(t)
    assert d.privileges == {1: 2_000_000_000, 2: 2_000_000_000, 3: 2_000_000_000, 4: 2_000_000_000}
    assert mintlane.verify(t, CERT, channel="lobby", uid=42).ok
    assert mintlane.verify(t, CERT, channel="lobby", uid=43).status == "wrong_uid"
    parsed = our_at.AccessToken()
    assert parsed.fromString(t) and parsed.ts == d.ts and parsed.messages == d.privileges
    assert not parsed.fromString("006garbage")


def test_same_public_names_and_signatures_as_reference():
    names = {
        RtcTokenBuilder2.RtcTokenBuilder: ["build_token_with_uid", "build_token_with_user_account",
                                           "build_token_with_uid_and_privilege",
                                           "build_token_with_user_account_and_privilege", "build_token_with_rtm",
                                           "build_token_with_rtm2"],
        RtmTokenBuilder2.RtmTokenBuilder: ["build_token", "build_token_with_permissions"],
        ChatTokenBuilder2.ChatTokenBuilder: ["build_user_token", "build_app_token"],
    }
    for cls, methods in names.items():
        for m in methods:
            assert callable(getattr(cls, m))
    params = list(inspect.signature(RtcTokenBuilder2.RtcTokenBuilder.build_token_with_uid).parameters)
    assert params == ["app_id", "app_certificate", "channel_name", "uid", "role", "token_expire", "privilege_expire"]
    assert RtcTokenBuilder2.Role_Publisher == 1 and RtcTokenBuilder2.Role_Subscriber == 2
    from mintlane.compat.agora_token_builder.RtcTokenBuilder import Role_Admin, Role_Attendee
    assert (Role_Attendee, Role_Admin) == (0, 101)
    from mintlane.compat.EducationTokenBuilder2 import EducationTokenBuilder  # noqa: F401
    from mintlane.compat.ApaasTokenBuilder import ApaasTokenBuilder  # noqa: F401
    from mintlane.compat.FpaTokenBuilder import FpaTokenBuilder  # noqa: F401


def test_invalid_credentials_return_empty_string_like_the_reference():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert RtcTokenBuilder2.RtcTokenBuilder.build_token_with_uid("short", CERT, "c", 1, 1, 600) == ""
        assert RtmTokenBuilder2.RtmTokenBuilder.build_token(APP_ID, "bad", "u", 600) == ""
    assert len(w) == 2 and "app_id" in str(w[0].message) and "app_certificate" in str(w[1].message)
    assert "bad" not in str(w[1].message)


def test_access_token2_low_level_roundtrip_and_private_salt():
    tok = AccessToken2.AccessToken(APP_ID, CERT, issue_ts=1111111, expire=600)
    tok._AccessToken__salt = 1  # how the reference's own tests pin the salt
    rtc = AccessToken2.ServiceRtc("7d72365eb983485397e3e3f9d460bdda", 2882341273)
    rtc.add_privilege(AccessToken2.ServiceRtc.kPrivilegeJoinChannel, 600)
    tok.add_service(rtc)
    built = tok.build()
    # ref-007-01 from the C++/Python reference test suites, byte for byte
    assert built == ("007eJxTYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxgDCaiTj")
    parsed = AccessToken2.AccessToken()
    assert parsed.from_string(built)
    assert parsed.verify_signature(CERT) and not parsed.verify_signature("0" * 32)
    svc = parsed.get_services(1)[0]
    assert svc.privileges == {1: 600}
    assert parsed.from_string("006abc") is False
    with pytest.raises(ValueError):
        parsed.from_string("007!!!!")
    assert rtc.pack().hex().startswith("0100" + "0100" + "0100" + "58020000")


def test_fast_mode_still_valid():
    set_compression("fast")
    try:
        t = RtcTokenBuilder2.RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "c", 7, 1, 600, 600)
        assert mintlane.verify(t, CERT, channel="c", uid=7).ok
    finally:
        set_compression("exact")
    with pytest.raises(ValueError):
        set_compression("zip")
