"""Service types 9 (ConvoAI) and 10 (STT): builders, decode, verify, the general builder and the
CLI; and an unknown future type (11+) decodes per TOKEN_FORMAT.md §3.4 and verifies over the
raw signed bytes."""
from __future__ import annotations

import base64
import struct
import subprocess
import sys
import zlib

import pytest

import mintlane
from mintlane import services as sv
from conftest import APP_ID, CERT
import oracle

M = mintlane.Minter(APP_ID, CERT, threads=1)


@pytest.mark.parametrize("kind,stype", [("convoai", 9), ("stt", 10)])
def test_agent_tokens_round_trip(kind, stype):
    fn = getattr(M, kind)
    t = fn("lobby", 42, "agent-1", role="subscriber", rtc_expire=600, rtm_expire=300, salt=5, issue_ts=1_700_000_000)
    d = mintlane.decode(t)
    assert [s.type for s in d.services] == [1, 2, stype]
    rtc, rtm, agent = d.services
    assert (rtc.channel_name, rtc.uid, rtc.privileges) == ("lobby", "42", {1: 600})
    assert (rtm.user_id, rtm.privileges) == ("agent-1", {1: 300})
    assert agent.privileges == {} and agent.name == kind
    assert mintlane.verify(t, CERT, channel="lobby", uid=42, privilege="join_channel").ok
    assert mintlane.verify(t, CERT, account="agent-1", privilege="rtm.login").ok
    want = oracle.payload(APP_ID, CERT, 1_700_000_000, 600, 5, [
        (1, oracle.pack_service(1, {1: 600}, ["lobby", "42"])), (2, oracle.pack_service(2, {1: 300}, ["agent-1"])),
        (stype, oracle.pack_service(stype, {}))])
    assert oracle.token_payload(t) == want


def test_general_builder_accepts_9_and_10():
    t = M.token([sv.stt(), sv.rtc("c", 1, join_channel=60), sv.convoai()], expire=60)
    assert [s.type for s in mintlane.decode(t).services] == [1, 9, 10]


@pytest.mark.parametrize("kind", ["convoai", "stt"])
def test_cli_mints_agent_tokens(kind):
    import os
    p = subprocess.run([sys.executable, "-m", "mintlane", "mint", kind, "--channel", "c", "--account", "bot",
                        "--rtm-user-id", "bot"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "APP_ID": APP_ID, "APP_CERTIFICATE": CERT})
    assert p.returncode == 0, p.stderr
    assert mintlane.decode(p.stdout.strip()).services[-1].type == {"convoai": 9, "stt": 10}[kind]


def signed_token(body_services: bytes, count: int) -> str:
    info = oracle.pstr(APP_ID) + struct.pack("<IIIH", 1_700_000_000, 600, 77, count) + body_services
    payload = oracle.pstr(oracle.sign(CERT, 1_700_000_000, 77, info)) + info
    return "007" + base64.b64encode(zlib.compress(payload)).decode()


@pytest.mark.parametrize("future_type", [11, 12, 255, 65535])
def test_unknown_future_type_decodes_and_verifies_over_raw_bytes(future_type):
    rtc = oracle.pack_service(1, {1: 600}, ["lobby", "7"])
    # a future record we cannot parse: type + some bytes of unknown shape
    future = struct.pack("<H", future_type) + b"\x02\x00\x01\x00\x10\x0e\x00\x00\x05\x00hello"
    t = signed_token(rtc + future + oracle.pack_service(2, {1: 600}, ["alice"]), 3)
    d = mintlane.decode(t)
    assert d.unknown_service_type == future_type
    assert [s.type for s in d.services] == [1]  # known services before it are kept
    assert d.services_declared == 3
    assert mintlane.verify(t, CERT).ok                       # the signature covers the raw bytes
    assert mintlane.verify(t, CERT, channel="lobby", uid=7).ok
    assert mintlane.verify(t, "0" * 32).status == "bad_signature"
    # unknown first: nothing parsed, still verifies
    t2 = signed_token(future + rtc, 2)
    d2 = mintlane.decode(t2)
    assert d2.services == [] and d2.unknown_service_type == future_type and mintlane.verify(t2, CERT).ok


def test_types_9_10_are_known_not_unknown():
    t = signed_token(oracle.pack_service(9, {}) + oracle.pack_service(10, {}) + oracle.pack_service(2, {1: 1}, ["a"]), 3)
    d = mintlane.decode(t)
    assert [s.type for s in d.services] == [9, 10, 2] and d.unknown_service_type is None
