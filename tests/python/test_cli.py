"""The `mintlane` CLI (run as `python -m mintlane`, a real process): mint any type, decode,
verify; bad flags and bad tokens get one line on stderr and exit status 2, never a traceback."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import mintlane
from conftest import APP_ID, CERT

ENV = {**os.environ, "APP_ID": APP_ID, "APP_CERTIFICATE": CERT}


def run(*args, env=ENV, stdin=None):
    p = subprocess.run([sys.executable, "-m", "mintlane", *args], capture_output=True, text=True, env=env,
                       input=stdin, timeout=60)
    assert "Traceback" not in p.stderr, p.stderr
    assert CERT not in p.stdout + p.stderr
    return p


MINT_CASES = [
    (["rtc", "--channel", "lobby", "--uid", "42"], [1]),
    (["rtc", "--channel", "lobby", "--account", "alice", "--role", "subscriber"], [1]),
    (["rtc-privileges", "--channel", "lobby", "--uid", "7", "--publish-audio", "60"], [1]),
    (["rtc-rtm", "--channel", "lobby", "--account", "alice"], [1, 2]),
    (["rtc-rtm2", "--channel", "lobby", "--uid", "7", "--rtm-user-id", "bob", "--rtm-expire", "60"], [1, 2]),
    (["rtm", "--user-id", "alice"], [2]),
    (["rtm2", "--user-id", "alice", "--permission", "message_channels:read:lobby,hall", "--permission", "users:1:bob"], [8]),
    (["chat-user", "--user-id", "alice"], [5]),
    (["chat-app"], [5]),
    (["apaas-room-user", "--room-uuid", "room1", "--user-uuid", "u1", "--apaas-role", "1"], [2, 5, 7]),
    (["education-user", "--user-uuid", "u1"], [7]),
    (["apaas-app"], [7]),
    (["fpa"], [4]),
    (["convoai", "--channel", "lobby", "--account", "agent", "--rtm-user-id", "agent"], [1, 2, 9]),
    (["stt", "--channel", "lobby", "--uid", "5", "--rtm-user-id", "stt-bot"], [1, 2, 10]),
]


@pytest.mark.parametrize("args,types", MINT_CASES, ids=[c[0][0] for c in MINT_CASES])
def test_mint_every_type(args, types):
    p = run("mint", *args)
    assert p.returncode == 0, p.stderr
    token = p.stdout.strip()
    assert [s.type for s in mintlane.decode(token).services] == types
    assert mintlane.verify(token, CERT).ok


def test_mint_json_and_pinned_values():
    p = run("mint", "rtc", "--channel", "c", "--uid", "1", "--salt", "9", "--issue-ts", "1700000000",
            "--compression", "exact", "--json")
    d = json.loads(p.stdout)
    assert d["salt"] == 9 and d["issue_ts"] == 1700000000 and d["services"][0]["channel_name"] == "c"
    same = run("mint", "rtc", "--channel", "c", "--uid", "1", "--salt", "9", "--issue-ts", "1700000000",
               "--compression", "exact")
    assert same.stdout.strip() == d["token"]


def test_mint_006():
    p = run("mint", "rtc-006", "--channel", "c", "--uid", "1")
    assert p.stdout.startswith("006" + APP_ID)
    assert mintlane.verify(p.stdout.strip(), CERT, channel="c", uid=1).ok


def test_decode_readable_json_and_stdin():
    token = mintlane.Minter(APP_ID, CERT).rtc("lobby", 42, expire=600)
    human = run("decode", token)
    assert human.returncode == 0 and "channel_name='lobby'" in human.stdout and "uid='42'" in human.stdout
    js = json.loads(run("decode", "--json", token).stdout)
    assert js["services"][0]["uid"] == "42" and js["expire"] == 600
    assert json.loads(run("decode", "--json", "-", stdin=token + "\n").stdout) == js


def test_verify_exit_codes():
    token = mintlane.Minter(APP_ID, CERT).rtc("lobby", 42, expire=600)
    assert run("verify", token, "--channel", "lobby", "--uid", "42").returncode == 0
    bad = run("verify", token, "--channel", "other")
    assert bad.returncode == 1 and "wrong_channel" in bad.stdout
    other = run("verify", token, env={**ENV, "APP_CERTIFICATE": "0" * 32})
    assert other.returncode == 1 and "bad_signature" in other.stdout
    assert json.loads(run("verify", "--json", token).stdout)["ok"] is True


@pytest.mark.parametrize("args,words", [
    (["mint", "rtc", "--channel", "x" * 65, "--uid", "1"], "channel: 65 bytes"),
    (["mint", "rtc", "--channel", "c", "--uid", "-1"], "uid: -1 is out of range"),
    (["mint", "rtc", "--channel", "c", "--uid", "1", "--expire", "1767225600"], "absolute Unix timestamp"),
    (["mint", "rtc", "--channel", "c", "--uid", "1", "--role", "boss"], "unknown role"),
    (["mint", "rtc", "--uid", "1"], "--channel is required"),
    (["mint", "rtc", "--channel", "c", "--uid", "one"], "invalid int value"),
    (["mint", "nosuchtype"], "invalid choice"),
    (["mint", "rtm2", "--user-id", "u", "--permission", "bogus"], "--permission"),
    (["decode", "007!!!!"], "invalid base64 character"),
    (["decode", "hello"], "must start with"),
    (["verify", "007abc"], "multiple of 4"),
    (["decode", "--no-such-flag", "x"], "unrecognized arguments"),
    ([], "required"),
])
def test_bad_input_is_one_line_exit_2(args, words):
    p = run(*args)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert words in lines[0], lines[0]


def test_missing_and_malformed_credentials():
    env = {k: v for k, v in ENV.items() if k not in ("APP_ID", "APP_CERTIFICATE")}
    p = run("mint", "rtm", "--user-id", "u", env=env)
    assert p.returncode == 2 and "app id missing" in p.stderr
    p = run("mint", "rtm", "--user-id", "u", env={**env, "APP_ID": APP_ID, "APP_CERTIFICATE": "secret-but-wrong-secret-value!!"})
    assert p.returncode == 2 and "app_certificate: must be exactly 32" in p.stderr and "secret" not in p.stderr


def test_demo_prints_rate_and_labels_demo_credentials():
    env = {k: v for k, v in ENV.items() if k not in ("APP_ID", "APP_CERTIFICATE")}
    p = run("demo", "--count", "5000", env=env)
    assert p.returncode == 0, p.stderr
    assert "DEMO credentials" in p.stdout and "tokens/s" in p.stdout and "verifies: True" in p.stdout
