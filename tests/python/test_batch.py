"""The batch API: TokenBatch behaviour, every column form, equality with the serial single-call
loop (salts and issue_ts fixed) for every thread count, and clear errors.

Default (fast) batches compress with a plan of the token layout (engine/src/deflate/template_plan),
the single calls with the generic fast compressor: their strings differ, their payloads do not.
So fast batches are compared with single calls by decoded payload (oracle.token_payload), and
with each other (thread counts, column forms, batch sizes) by string; compression="exact" and
"isal" batches still equal the single calls byte for byte."""
from __future__ import annotations

import array
import gzip
import io
import json
import threading

import numpy as np
import pytest

import mintlane
from conftest import APP_ID, CERT
import oracle

CH = "7d72365eb983485397e3e3f9d460bdda"


@pytest.fixture(scope="module")
def minters():
    return {t: mintlane.Minter(APP_ID, CERT, threads=t) for t in (1, 2, 4)}


@pytest.fixture(scope="module")
def strict_minters():
    """Minters whose batches equal single calls byte for byte (same compressor on both paths)."""
    return {(c, t): mintlane.Minter(APP_ID, CERT, threads=t, compression=c) for c in ("exact", "isal") for t in (1, 2, 4)}


def payloads(tokens):
    return [oracle.token_payload(t) for t in tokens]


def salts(n, seed=1):
    import random
    r = random.Random(seed)
    return [r.getrandbits(32) for _ in range(n)]


@pytest.mark.parametrize("n", [0, 1, 2, 511, 512, 513, 1025, 5000])
def test_batch_equals_serial_loop_for_every_thread_count(minters, n):
    s = salts(n)
    want = payloads([minters[1].rtc(CH, 1000 + i, salt=s[i], issue_ts=1_700_000_000) for i in range(n)])
    first = None
    for t, m in minters.items():
        b = m.rtc_batch(channel=CH, uids=range(1000, 1000 + n), salts=s, issue_ts=1_700_000_000)
        got = b.tolist()
        assert payloads(got) == want, t
        first = got if first is None else first
        assert got == first, t  # the same strings whatever the thread count
        assert b.issue_ts == 1_700_000_000


@pytest.mark.parametrize("compression", ["exact", "isal"])
@pytest.mark.parametrize("n", [0, 1, 2, 511, 513, 1025, 2100])
def test_exact_and_isal_batches_equal_the_serial_loop_byte_for_byte(strict_minters, compression, n):
    s = salts(n)
    one = strict_minters[(compression, 1)]
    want = [one.rtc(CH, 1000 + i, salt=s[i], issue_ts=1_700_000_000) for i in range(n)]
    for t in (1, 2, 4):
        b = strict_minters[(compression, t)].rtc_batch(channel=CH, uids=range(1000, 1000 + n), salts=s,
                                                       issue_ts=1_700_000_000)
        assert b.tolist() == want, (compression, t)


def test_fast_batches_do_not_depend_on_how_tokens_are_grouped(minters):
    """A token's bytes depend on its layout and values only (what resumable bulk output needs)."""
    n = 1300
    s = salts(n, 5)
    acc = [f"user-{i}" for i in range(n)]
    whole = minters[1].rtc_rtm_batch(channel=CH, accounts=acc, salts=s, issue_ts=7).tolist()
    assert minters[4].rtc_rtm_batch(channels=[CH] * n, accounts=acc, salts=s, issue_ts=7).tolist() == whole
    for step in (1, 63, 64, 500):
        parts = []
        for a in range(0, n, step):
            b = min(n, a + step)
            parts += minters[2].rtc_rtm_batch(channel=CH, accounts=acc[a:b], salts=s[a:b], issue_ts=7).tolist()
        assert parts == whole, step


def test_column_forms_agree(minters):
    m = minters[2]
    n = 3000
    s = salts(n, 2)
    uids = list(range(7, 7 + n))
    ref = m.rtc_batch(channel="c", uids=range(7, 7 + n), salts=s, issue_ts=5).tolist()
    assert m.rtc_batch(channel="c", uids=uids, salts=s, issue_ts=5).tolist() == ref
    assert m.rtc_batch(channel="c", uids=np.arange(7, 7 + n, dtype=np.uint32), salts=s, issue_ts=5).tolist() == ref
    assert m.rtc_batch(channel="c", uids=np.arange(7, 7 + n, dtype=np.int64), salts=s, issue_ts=5).tolist() == ref
    assert m.rtc_batch(channel="c", uids=array.array("I", uids), salts=s, issue_ts=5).tolist() == ref
    assert m.rtc_batch(channels=["c"] * n, uids=uids, salts=s, issue_ts=5).tolist() == ref
    assert m.rtc_batch(channel="c", accounts=[str(u) for u in uids], salts=s, issue_ts=5).tolist() == ref  # same bytes


@pytest.mark.parametrize("compression", ["fast", "exact", "isal"])
def test_every_layout_matches_single_calls(minters, strict_minters, compression):
    m = minters[2] if compression == "fast" else strict_minters[(compression, 2)]
    n = 1100
    s = salts(n, 3)
    acc = [f"user-{i}" for i in range(n)]
    chans = [f"room-{i % 7}" for i in range(n)]
    kw = dict(salts=s, issue_ts=42)
    cases = [
        (m.rtc_batch(channels=chans, accounts=acc, role="subscriber", expire=60, **kw),
         lambda i: m.rtc(chans[i], account=acc[i], role="subscriber", expire=60, salt=s[i], issue_ts=42)),
        (m.rtc_with_privileges_batch(channel="c", uids=range(n), publish_audio=5, **kw),
         lambda i: m.rtc_with_privileges("c", i, publish_audio=5, salt=s[i], issue_ts=42)),
        (m.rtc_rtm_batch(channel="c", accounts=acc, **kw), lambda i: m.rtc_rtm("c", acc[i], salt=s[i], issue_ts=42)),
        (m.rtm_batch(user_ids=acc, **kw), lambda i: m.rtm(acc[i], salt=s[i], issue_ts=42)),
        (m.chat_user_batch(user_ids=acc, **kw), lambda i: m.chat_user(acc[i], salt=s[i], issue_ts=42)),
        (m.chat_app_batch(**kw), lambda i: m.chat_app(salt=s[i], issue_ts=42)),
        (m.apaas_room_user_batch(room_uuid="r", user_uuids=acc, role=1, **kw),
         lambda i: m.apaas_room_user("r", acc[i], 1, salt=s[i], issue_ts=42)),
        (m.apaas_user_batch(user_uuids=acc, **kw), lambda i: m.apaas_user(acc[i], salt=s[i], issue_ts=42)),
        (m.apaas_app_batch(**kw), lambda i: m.apaas_app(salt=s[i], issue_ts=42)),
        (m.fpa_batch(**kw), lambda i: m.fpa(salt=s[i], issue_ts=42)),
        (m.convoai_batch(channel="c", rtc_accounts=acc, rtm_user_id="agent", **kw),
         lambda i: m.convoai("c", acc[i], "agent", salt=s[i], issue_ts=42)),
        (m.stt_batch(channels=chans, rtc_accounts=acc, rtm_user_id="stt", **kw),
         lambda i: m.stt(chans[i], acc[i], "stt", salt=s[i], issue_ts=42)),
    ]
    for batch, single in cases:
        assert len(batch) == n
        for i in (0, 1, 511, 512, n - 1):
            if compression == "fast":
                assert oracle.token_payload(batch[i]) == oracle.token_payload(single(i))
            else:
                assert batch[i] == single(i)


def test_utf8_user_uuids_in_apaas_batches(minters):
    b = minters[1].apaas_user_batch(user_uuids=["usér", "ユーザー"], salts=[1, 2], issue_ts=2)
    assert oracle.token_payload(b[0]) == oracle.token_payload(minters[1].apaas_user("usér", salt=1, issue_ts=2))
    assert mintlane.decode(b[1]).services[0].user_uuid == "ユーザー"


def test_token_batch_api(minters):
    m = minters[2]
    b = m.rtc_batch(channel="lobby", uids=range(1, 2001), expire=600)
    assert len(b) == 2000 and isinstance(b[0], str) and b[-1] == b[1999]
    with pytest.raises(IndexError):
        b[2000]
    sl = b[10:20]
    assert isinstance(sl, mintlane.TokenBatch) and sl.tolist() == b.tolist()[10:20]
    assert b[::-500].tolist() == b.tolist()[::-500]
    assert list(iter(b[:5])) == b.tolist()[:5]
    raw = b.tobytes()
    assert raw.decode().split("\n")[:-1] == b.tolist()
    assert bytes(memoryview(b[:3])) == b[:3].tobytes()
    assert b.nbytes == sum(len(t) for t in b.tolist())
    for i in (0, 999, 1999):
        assert mintlane.verify(b[i], CERT, channel="lobby", uid=i + 1).ok
    assert len({mintlane.decode(t).salt for t in b.tolist()}) > 1990  # CSPRNG salts per token


def test_write_formats(tmp_path, minters):
    b = minters[1].rtc_batch(channel="lobby", uids=range(1, 101))
    b.write(tmp_path / "p.txt")
    assert (tmp_path / "p.txt").read_text().splitlines() == b.tolist()
    b.write(tmp_path / "p.csv")
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert rows[0] == "index,token" and rows[1] == f"0,{b[0]}"
    b.write(tmp_path / "p.jsonl.gz")
    lines = gzip.decompress((tmp_path / "p.jsonl.gz").read_bytes()).decode().splitlines()
    assert json.loads(lines[99]) == {"index": 99, "token": b[99]}
    b.write(tmp_path / "p.json")
    assert json.loads((tmp_path / "p.json").read_text()) == b.tolist()
    buf = io.StringIO()
    b.write(buf, "lines")
    assert buf.getvalue().splitlines() == b.tolist()
    with pytest.raises(mintlane.InvalidArgumentError, match="unknown format"):
        b.write(tmp_path / "x", format="xml")
    assert not list(tmp_path.glob("*.tmp-*"))


def test_default_fast_tokens_inflate_to_reference_payload(minters):
    b = minters[2].rtc_batch(channel=CH, uids=range(2882341273, 2882341273 + 3000), issue_ts=1_700_000_000)
    for i in range(0, 3000, 7):
        d = mintlane.decode(b[i])
        want = oracle.payload(APP_ID, CERT, 1_700_000_000, 3600, d.salt,
                              [(1, oracle.pack_service(1, {1: 3600, 2: 3600, 3: 3600, 4: 3600},
                                                       [CH, str(2882341273 + i)]))])
        assert oracle.token_payload(b[i]) == want


def test_concurrent_batches_from_python_threads(minters):
    m = minters[2]
    barrier = threading.Barrier(4)
    results, errors = {}, []

    def work(k):
        try:
            barrier.wait()
            results[k] = m.rtc_batch(channel="c", uids=range(3000), salts=salts(3000, k), issue_ts=9).tolist()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    for k in range(4):
        assert results[k] == minters[1].rtc_batch(channel="c", uids=range(3000), salts=salts(3000, k), issue_ts=9).tolist()


@pytest.mark.parametrize("call,words", [
    (lambda m: m.rtc_batch(channel="c", uids=[1], accounts=["a"]), "not both"),
    (lambda m: m.rtc_batch(channel="c", uids=range(3), salts=[1, 2]), "salts: has 2 entries"),
    (lambda m: m.rtc_batch(channel="c", uids=range(3), count=4), "does not match"),
    (lambda m: m.rtm_batch(user_ids=["a", ""]), "(item 1)"),
    (lambda m: m.rtm_batch(user_ids=["a"], salts=[-1]), "out of range"),
    (lambda m: m.fpa_batch(), "count: required"),
    (lambda m: m.rtc_batch(channel="c", uids=np.zeros((2, 2), dtype=np.uint32)), "1-D"),
    (lambda m: m.rtc_batch(channel="c", uids=np.array([1.5])), "integers"),
])
def test_batch_errors(minters, call, words):
    with pytest.raises((ValueError, TypeError)) as ei:
        call(minters[1])
    assert words in str(ei.value), str(ei.value)


def test_repeated_tolist_reuses_warm_memory(minters):
    """PERF_NOTES: fresh pymalloc arenas cost a page fault per 4 KiB; the arena cache keeps them."""
    import resource

    m = minters[1]
    b = m.rtc_batch(channel="lobby", uids=range(50_000))
    for _ in range(2):  # warm up: the cache fills with the arenas of the first lists
        lst = b.tolist()
        del lst
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    lst = b.tolist()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    del lst
    assert faults < 300, faults  # ~3,000 without the cache (one per page of str objects)
