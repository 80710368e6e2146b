"""Property tests: every default-mode token inflates (stdlib zlib) to exactly the payload the
reference would sign (an independent oracle), decode(mint(x)) gives x back, and any single-byte
change of the signed content fails verification. Thousands of seeded random inputs per type."""
from __future__ import annotations

import hashlib
import random
import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import mintlane
from conftest import APP_ID, CERT
import oracle

AGORA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !#$%&()+-:;<=.>?@[]^_{}|~,"
channels = st.text(alphabet=AGORA + "*", min_size=1, max_size=64)
accounts = st.text(alphabet=AGORA, min_size=1, max_size=255)
user_ids = st.text(alphabet=AGORA, min_size=1, max_size=64)
uids = st.integers(min_value=0, max_value=2**32 - 1)
expires = st.integers(min_value=1, max_value=86400)
salts = st.integers(min_value=0, max_value=2**32 - 1)
stamps = st.integers(min_value=0, max_value=2**32 - 1)
roles = st.sampled_from(["publisher", "subscriber", 1, 2])
EXAMPLES = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MINTERS = {c: mintlane.Minter(APP_ID, CERT, compression=c, threads=1) for c in ("fast", "isal", "exact")}


def rtc_privs(role, pe):
    pub = role in ("publisher", 1)
    return {1: pe, 2: pe, 3: pe, 4: pe} if pub else {1: pe}


def check(token: str, services, expire, salt, issue_ts):
    want = oracle.payload(APP_ID, CERT, issue_ts, expire, salt, services)
    assert oracle.token_payload(token) == want  # stdlib zlib + base64 decode it to the reference bytes
    assert mintlane.verify(token, CERT).ok


@EXAMPLES
@given(channel=channels, uid=uids, role=roles, expire=expires, salt=salts, ts=stamps,
       compression=st.sampled_from(["fast", "isal", "exact"]))
def test_rtc_uid(channel, uid, role, expire, salt, ts, compression):
    t = MINTERS[compression].rtc(channel, uid, role=role, expire=expire, salt=salt, issue_ts=ts)
    check(t, [(1, oracle.pack_service(1, rtc_privs(role, expire), [channel, oracle.uid_str(uid)]))], expire, salt, ts)
    d = mintlane.decode(t)
    s = d.services[0]
    assert (s.channel_name, s.uid, d.expire, d.salt, d.issue_ts) == (channel, oracle.uid_str(uid), expire, salt, ts)


@EXAMPLES
@given(channel=channels, account=accounts, role=roles, expire=expires, pe=expires, salt=salts, ts=stamps)
def test_rtc_account_and_rtm(channel, account, role, expire, pe, salt, ts):
    m = MINTERS["fast"]
    t = m.rtc(channel, account=account, role=role, expire=expire, privilege_expire=pe, salt=salt, issue_ts=ts)
    check(t, [(1, oracle.pack_service(1, rtc_privs(role, pe), [channel, account]))], expire, salt, ts)
    t = m.rtc_rtm(channel, account, role=role, expire=expire, privilege_expire=pe, salt=salt, issue_ts=ts)
    check(t, [(1, oracle.pack_service(1, rtc_privs(role, pe), [channel, account])),
              (2, oracle.pack_service(2, {1: expire}, [account]))], expire, salt, ts)


@EXAMPLES
@given(channel=channels, account=st.one_of(st.just(""), accounts), user=accounts, role=roles,
       e=st.lists(expires, min_size=6, max_size=6), salt=salts, ts=stamps, kind=st.sampled_from(["rtm2", 9, 10]))
def test_rtc_rtm2_and_agents(channel, account, user, role, e, salt, ts, kind):
    m = MINTERS["fast"]
    kw = dict(role=role, rtc_expire=e[0], join_channel=e[1], publish_audio=e[2], publish_video=e[3],
              publish_data=e[4], rtm_expire=e[5], salt=salt, issue_ts=ts)
    fn = {"rtm2": m.rtc_rtm2, 9: m.convoai, 10: m.stt}[kind]
    t = fn(channel, account, user, **kw)
    pub = role in ("publisher", 1)
    privs = {1: e[1], 2: e[2], 3: e[3], 4: e[4]} if pub else {1: e[1]}
    services = [(1, oracle.pack_service(1, privs, [channel, account])), (2, oracle.pack_service(2, {1: e[5]}, [user]))]
    if kind != "rtm2":
        services.append((kind, oracle.pack_service(kind, {})))
    check(t, services, e[0], salt, ts)


@EXAMPLES
@given(user=user_ids, expire=expires, salt=salts, ts=stamps,
       perms=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1),
                                st.lists(st.text(alphabet=AGORA, min_size=1, max_size=20), max_size=4)),
                      max_size=6, unique_by=lambda p: (p[0], p[1])))
def test_rtm_chat_rtm2(user, expire, salt, ts, perms):
    m = MINTERS["fast"]
    check(m.rtm(user, expire=expire, salt=salt, issue_ts=ts), [(2, oracle.pack_service(2, {1: expire}, [user]))],
          expire, salt, ts)
    check(m.chat_user(user, expire=expire, salt=salt, issue_ts=ts), [(5, oracle.pack_service(5, {1: expire}, [user]))],
          expire, salt, ts)
    check(m.chat_app(expire=expire, salt=salt, issue_ts=ts), [(5, oracle.pack_service(5, {2: expire}, [""]))],
          expire, salt, ts)
    t = m.rtm2(user, perms, expire=expire, salt=salt, issue_ts=ts)
    check(t, [(8, oracle.pack_service(8, {1: expire}, [user], permissions=perms))], expire, salt, ts)
    assert sorted(mintlane.decode(t).services[0].permissions) == sorted((a, b, list(c)) for a, b, c in perms)


@EXAMPLES
@given(room=st.text(min_size=1, max_size=40).filter(lambda s: all(ord(c) >= 32 and c != "\x7f" and not 0xd800 <= ord(c) <= 0xdfff for c in s)),
       user=st.text(alphabet=AGORA, min_size=1, max_size=60), role=st.integers(-32768, 32767), expire=expires,
       salt=salts, ts=stamps)
def test_apaas(room, user, role, expire, salt, ts):
    m = MINTERS["fast"]
    md5 = hashlib.md5(user.encode()).hexdigest()
    check(m.apaas_room_user(room, user, role, expire=expire, salt=salt, issue_ts=ts),
          [(7, oracle.pack_service(7, {1: expire}, [room, user], role=role)),
           (2, oracle.pack_service(2, {1: expire}, [user])), (5, oracle.pack_service(5, {1: expire}, [md5]))],
          expire, salt, ts)
    check(m.apaas_user(user, expire=expire, salt=salt, issue_ts=ts),
          [(7, oracle.pack_service(7, {2: expire}, ["", user], role=-1))], expire, salt, ts)
    check(m.apaas_app(expire=expire, salt=salt, issue_ts=ts),
          [(7, oracle.pack_service(7, {3: expire}, ["", ""], role=-1))], expire, salt, ts)
    check(m.fpa(salt=salt, issue_ts=ts), [(4, oracle.pack_service(4, {1: 0}))], 86400, salt, ts)


def test_general_builder_streaming_fcdn_and_duplicates():
    from mintlane import services as sv
    m = MINTERS["isal"]
    rng = random.Random(7)
    for _ in range(2000):
        ch = "".join(rng.choice(AGORA) for _ in range(rng.randint(1, 64)))
        acct = "".join(rng.choice(AGORA) for _ in range(rng.randint(0, 40)))
        e = rng.randint(1, 86400)
        salt, ts = rng.getrandbits(32), rng.getrandbits(32)
        svcs = [sv.fcdn(ch, acct, play=e), sv.streaming(ch, acct, publish_mix_stream=e, publish_raw_stream=e),
                sv.rtc(ch, rng.getrandbits(32), join_channel=e), sv.rtc(ch, 0, join_channel=e)]
        rng.shuffle(svcs)
        t = m.token(svcs, expire=e, salt=salt, issue_ts=ts)
        want = [(s.type, oracle.pack_service(s.type, s.privileges,
                                             [x for x in (s.channel_name, s.uid, s.account) if x is not None]))
                for s in svcs]
        check(t, want, e, salt, ts)
        assert [s.type for s in mintlane.decode(t).services] == sorted(s.type for s in svcs)


@pytest.mark.parametrize("compression", ["fast", "isal", "exact"])
def test_any_single_byte_change_of_signed_content_fails(compression):
    m = MINTERS[compression]
    t = m.rtc_rtm("lobby", "alice", expire=600, salt=12345, issue_ts=1_700_000_000)
    payload = oracle.token_payload(t)
    import base64
    for i in range(2, len(payload)):  # the signature itself and every signed byte
        for flip in (0x01, 0x80):
            bad = bytearray(payload)
            bad[i] ^= flip
            forged = "007" + base64.b64encode(zlib.compress(bytes(bad))).decode()
            r = mintlane.verify(forged, CERT)
            assert not r.ok, (i, flip)
            assert r.status in ("bad_signature", "malformed", "bad_app_id"), r


def test_kernel_paths_agree(base64_kernel, sign_kernel):
    """Every dispatch path the CPU supports gives the reference payload (pytest ids name the kernels)."""
    rng = random.Random(base64_kernel + sign_kernel)
    for m in MINTERS.values():
        for _ in range(300):
            ch = "".join(rng.choice(AGORA) for _ in range(rng.randint(1, 64)))
            uid, e, salt, ts = rng.getrandbits(32), rng.randint(1, 86400), rng.getrandbits(32), rng.getrandbits(32)
            t = m.rtc(ch, uid, expire=e, salt=salt, issue_ts=ts)
            check(t, [(1, oracle.pack_service(1, rtc_privs(1, e), [ch, oracle.uid_str(uid)]))], e, salt, ts)
