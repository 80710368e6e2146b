"""mintlane bulk: every output format parses back with the stdlib (csv, json, gzip, zcat) and every
token in it verifies; rows equal single-token mints with the same salt and issue_ts; summaries,
partitions, progress and the memory bound."""
from __future__ import annotations

import csv
import fcntl
import gzip
import hashlib
import io
import json
import os
import pathlib
import pty
import resource
import select
import shutil
import struct
import subprocess
import sys
import termios
import urllib.parse

import pytest

import mintlane
import oracle
from mintlane import bulk
from mintlane.cli import main as cli_main
from mintlane.verify_pool import verify_pool

from conftest import APP_ID, CERT

TS = 1_700_000_000
SEED = 1234
ENV = dict(os.environ, APP_ID=APP_ID, APP_CERTIFICATE=CERT)


def seeded_salt(seed: int, row: int) -> int:
    """The engine's reproducible salt (splitmix64 of seed and row id), for oracle checks."""
    m = (1 << 64) - 1
    z = (seed + (row + 1) * 0x9E3779B97F4A7C15) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return (z ^ (z >> 31)) >> 32


def read_rows(path: str, fmt: str) -> list:
    """A pool file's rows as dicts, read with the stdlib only."""
    raw = pathlib.Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("ascii")
    if fmt in ("csv", "locust"):
        return list(csv.DictReader(io.StringIO(text)))
    if fmt == "k6":
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines()]


def user_of(row: dict) -> tuple:
    if row.get("account"):
        return str(row["account"]), True
    if row.get("uid") not in (None, ""):
        return str(row["uid"]), False
    return str(row["user"]), not str(row["user"]).isdigit()


def check_token(row: dict, expire: int = 3600, now: int | None = None) -> None:
    user, is_account = user_of(row)
    kw = {"account": user} if is_account else {"uid": int(user)}
    r = mintlane.verify(row["token"], CERT, channel=row["channel"], now=now, **kw)
    assert r.ok, (row, r.reason)
    d = mintlane.decode(row["token"])
    assert d.expire == expire
    if "issued_at" in row:
        assert int(row["issued_at"]) == d.issue_ts
    assert int(row["expires_at"]) == d.issue_ts + d.expire
    privs = dict(d.services[0].privileges)
    assert (2 in privs) == (row["role"] == "publisher")


GEN = bulk.Generator(channels=4, users_per_channel=60, publishers="10%", channel_prefix="room-", expire=900)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "k6", "locust"])
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_every_format_parses_back_and_every_token_verifies(tmp_path, fmt, gz):
    path = str(tmp_path / f"pool{bulk._EXT[fmt]}{'.gz' if gz else ''}")
    s = bulk.write_pool(GEN, path, app_id=APP_ID, app_certificate=CERT, chunk_rows=50)
    assert (s.format, s.count, s.minted) == (fmt, 240, 240)
    assert (s.gzip_level is not None) == gz
    assert s.bytes == os.path.getsize(path)
    assert s.sha256 == hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()
    rows = read_rows(path, fmt)
    assert len(rows) == 240
    seen = set()
    for i, row in enumerate(rows):
        channel = f"room-{i // 60 + 1}"
        assert row["channel"] == channel
        assert user_of(row) == (str(i + 1), False)
        assert row["role"] == ("publisher" if i % 60 < 6 else "subscriber")
        check_token(row, expire=900)
        seen.add((row["channel"], user_of(row)))
    assert len(seen) == 240
    report = verify_pool(path, CERT)
    assert report.ok and report.rows == 240, report.problems[:3]


def test_gzip_output_reads_with_zcat_and_is_multi_member(tmp_path):
    path = str(tmp_path / "pool.jsonl.gz")
    bulk.write_pool(GEN, path, app_id=APP_ID, app_certificate=CERT, chunk_rows=64)
    zcat = shutil.which("zcat")
    if zcat is None:
        pytest.skip("zcat not installed")
    out = subprocess.run([zcat, path], capture_output=True, check=True).stdout
    assert out == gzip.decompress(pathlib.Path(path).read_bytes())
    assert len(out.splitlines()) == 240
    subprocess.run(["gzip", "-t", path], check=True)


def test_csv_columns_and_quoting(tmp_path):
    req = tmp_path / "req.csv"
    req.write_text("channel,uid,account,role,expire\n\"a,b\",7,,subscriber,60\nlobby,,alice,publisher,\n")
    path = str(tmp_path / "out.csv")
    bulk.write_pool(bulk.RequestFile(str(req)), path, app_id=APP_ID, app_certificate=CERT)
    with open(path, newline="") as f:
        r = csv.reader(f)
        assert next(r) == ["channel", "uid", "account", "role", "token", "issued_at", "expires_at"]
        rows = list(r)
    assert [x[:4] for x in rows] == [["a,b", "7", "", "subscriber"], ["lobby", "", "alice", "publisher"]]
    check_token(dict(zip(["channel", "uid", "account", "role", "token", "issued_at", "expires_at"], rows[0])), 60)
    check_token(dict(zip(["channel", "uid", "account", "role", "token", "issued_at", "expires_at"], rows[1])), 3600)


def test_vegeta_targets(tmp_path):
    path = str(tmp_path / "t.vegeta.jsonl")
    bulk.write_pool(GEN, path, app_id=APP_ID, app_certificate=CERT,
                    vegeta_url="https://app.example/join?channel={channel}&uid={uid}&token={token}",
                    vegeta_headers=[("Authorization", "Bearer {token}")], vegeta_method="POST")
    lines = pathlib.Path(path).read_text().splitlines()
    assert len(lines) == 240
    for i, line in enumerate(lines[:50]):
        t = json.loads(line)
        assert t["method"] == "POST"
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(t["url"]).query)
        assert q["channel"] == [f"room-{i // 60 + 1}"] and q["uid"] == [str(i + 1)]
        assert t["header"]["Authorization"] == ["Bearer " + q["token"][0]]
        assert mintlane.verify(q["token"][0], CERT, channel=q["channel"][0], uid=int(q["uid"][0])).ok
    # A token-server template: requests for tokens, by role, token type and user.
    path2 = str(tmp_path / "ts.vegeta.jsonl")
    bulk.write_pool(GEN, path2, app_id=APP_ID, app_certificate=CERT,
                    vegeta_url="http://127.0.0.1:8080/rtc/{channel}/{role}/{tokentype}/{user}/?expiry={expire}")
    first = json.loads(pathlib.Path(path2).read_text().splitlines()[0])
    assert first == {"method": "GET", "url": "http://127.0.0.1:8080/rtc/room-1/publisher/uid/1/?expiry=900"}


def test_rows_equal_single_token_mints(tmp_path):
    """Reproducible mode: every token carries exactly the payload Minter.rtc signs for the same
    salt and issue_ts (the batch engine's template compressor may pick other deflate bytes)."""
    path = str(tmp_path / "pool.jsonl")
    gen = bulk.Generator(channels=3, users_per_channel=40, publishers=5, accounts=True, account_prefix="fan-")
    bulk.write_pool(gen, path, app_id=APP_ID, app_certificate=CERT, issue_ts=TS, salt_seed=SEED, chunk_rows=17)
    m = mintlane.Minter(APP_ID, CERT)
    for i, row in enumerate(read_rows(path, "jsonl")):
        assert row["account"] == f"fan-{i + 1}"
        want = m.rtc(row["channel"], account=row["account"], role=row["role"], expire=3600,
                     salt=seeded_salt(SEED, i), issue_ts=TS)
        assert oracle.token_payload(row["token"]) == oracle.token_payload(want), i


def test_rtc_rtm_tokens(tmp_path):
    path = str(tmp_path / "pool.csv")
    gen = bulk.Generator(channels=2, users_per_channel=5, accounts=True, token_type="rtc-rtm", publishers="100%")
    bulk.write_pool(gen, path, app_id=APP_ID, app_certificate=CERT, issue_ts=TS, salt_seed=SEED)
    m = mintlane.Minter(APP_ID, CERT)
    rows = read_rows(path, "csv")
    for i, row in enumerate(rows):
        want = m.rtc_rtm(row["channel"], row["account"], role="publisher", salt=seeded_salt(SEED, i), issue_ts=TS)
        assert oracle.token_payload(row["token"]) == oracle.token_payload(want)
    assert {s.name for s in mintlane.decode(rows[0]["token"]).services} == {"rtc", "rtm"}
    with pytest.raises(ValueError, match="accounts"):
        bulk.write_pool(bulk.Generator(channels=1, users_per_channel=1, token_type="rtc-rtm"), path,
                        app_id=APP_ID, app_certificate=CERT)


def test_output_does_not_depend_on_threads_chunks_or_partitions(tmp_path):
    gen = bulk.Generator(channels=5, users_per_channel=333, publishers="7%")
    kw = dict(app_id=APP_ID, app_certificate=CERT, issue_ts=TS, salt_seed=SEED)
    a = bulk.write_pool(gen, str(tmp_path / "a.csv"), threads=1, chunk_rows=100_000, **kw)
    b = bulk.write_pool(gen, str(tmp_path / "b.csv"), threads=2, chunk_rows=77, **kw)
    assert a.sha256 == b.sha256
    p = bulk.write_pool(gen, str(tmp_path / "parts"), format="csv", partitions=4, chunk_rows=50, **kw)
    assert p.partitions == 4 and p.count == len(gen)
    header, *rows = (tmp_path / "a.csv").read_text().splitlines(keepends=True)
    joined = []
    for i in range(4):
        part_header, *part_rows = (tmp_path / "parts" / f"part-{i:05d}.csv").read_text().splitlines(keepends=True)
        assert part_header == header
        joined += part_rows
    assert joined == rows


def test_partitioned_manifest(tmp_path):
    out = tmp_path / "pool"
    s = bulk.write_pool(GEN, str(out), format="jsonl", gzip=True, partitions=3, app_id=APP_ID, app_certificate=CERT)
    m = json.loads((out / "manifest.json").read_text())
    assert m["tool"] == "mintlane" and m["tool_version"] == mintlane.__version__
    assert m["complete"] and m["partitions"] == 3 and m["count"] == 240 and m["rows_written"] == 240
    assert m["spec"]["source"]["channels"] == 4 and m["spec"]["format"] == "jsonl" and m["spec"]["gzip_level"] == 1
    assert "app_certificate" not in json.dumps(m) and CERT not in json.dumps(m)
    assert m["issue_ts"]["min"] <= m["issue_ts"]["max"]
    sums = (out / "SHA256SUMS").read_text()
    for i, part in enumerate(m["parts"]):
        assert part["index"] == i and part["file"] == f"part-{i:05d}.jsonl.gz"
        data = (out / part["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == part["sha256"] and len(data) == part["bytes"]
        assert f"{part['sha256']}  {part['file']}\n" in sums
        assert len(gzip.decompress(data).splitlines()) == part["count"] == 80
    assert s.sha256 == hashlib.sha256(sums.encode()).hexdigest()
    assert verify_pool(str(out), CERT).ok
    # A re-run finds every part done and mints nothing.
    again = bulk.write_pool(GEN, str(out), format="jsonl", gzip=True, partitions=3, app_id=APP_ID,
                            app_certificate=CERT)
    assert (again.minted, again.parts_written, again.parts_skipped, again.sha256) == (0, 0, 3, s.sha256)
    # Another spec in the same directory is refused unless forced.
    other = bulk.Generator(channels=5, users_per_channel=60)
    with pytest.raises(bulk.BulkError, match="different spec"):
        bulk.write_pool(other, str(out), format="jsonl", gzip=True, partitions=3, app_id=APP_ID, app_certificate=CERT)
    forced = bulk.write_pool(other, str(out), format="jsonl", partitions=2, app_id=APP_ID, app_certificate=CERT,
                             force=True)
    assert forced.count == 300
    assert sorted(p.name for p in out.iterdir()) == ["SHA256SUMS", "manifest.json", "part-00000.jsonl",
                                                     "part-00001.jsonl"]


def test_cli_summary_and_quiet_non_tty(tmp_path, capsys):
    path = tmp_path / "p.csv.gz"
    rc = cli_main(["bulk", "--app-id", APP_ID, "--app-certificate", CERT, "--channels", "3", "--uids-per-channel",
                   "100", "--publishers", "10%", "-o", str(path)])
    out, err = capsys.readouterr()
    assert rc == 0
    assert "minted 300 tokens" in out and "tokens/s" in out and "csv + gzip level 1" in out
    assert f"sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}" in out
    assert err == ""  # no progress bar when stderr is not a TTY
    rc = cli_main(["bulk", "--app-id", APP_ID, "--app-certificate", CERT, "--channels", "3", "--uids-per-channel",
                   "100", "-o", str(path), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert rc == 0 and summary["count"] == 300 and summary["tokens_per_s"] > 0 and summary["format"] == "csv"


def test_progress_bar_on_a_tty_and_quiet(tmp_path):
    def run(*extra: str) -> str:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        p = subprocess.Popen([sys.executable, "-m", "mintlane", "bulk", "--channels", "2", "--uids-per-channel",
                              "20000", "-o", str(tmp_path / "p.csv"), *extra], stdout=subprocess.DEVNULL,
                             stderr=slave, env=ENV)
        os.close(slave)
        chunks = []
        while True:
            r, _, _ = select.select([master], [], [], 60)
            if not r:
                break
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        assert p.wait(timeout=60) == 0
        return b"".join(chunks).decode(errors="replace")
    assert "tok" in run() and "40.0k" in run()
    assert run("--quiet") == ""


def test_peak_rss_stays_bounded(tmp_path):
    """A 600 k token run to gzip'd JSONL stays far below the 256 MB bound (chunks are streamed)."""
    code = ("import resource, sys\nfrom mintlane.cli import main\n"
            "rc = main(sys.argv[1:])\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\nsys.exit(rc)\n")
    p = subprocess.run([sys.executable, "-c", code, "bulk", "--channels", "60", "--uids-per-channel", "10000",
                        "-o", str(tmp_path / "p.jsonl.gz"), "-q"], capture_output=True, text=True, env=ENV,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    maxrss_kb = int(p.stdout.strip().splitlines()[-1])
    assert maxrss_kb < 256 * 1024, maxrss_kb


def test_python_api_errors(tmp_path):
    with pytest.raises(mintlane.InvalidCredentialsError):
        bulk.write_pool(GEN, str(tmp_path / "x.csv"), app_id="nothex", app_certificate=CERT)
    with pytest.raises(bulk.BulkError, match="format"):
        bulk.write_pool(GEN, str(tmp_path / "x.txt"), app_id=APP_ID, app_certificate=CERT)
    with pytest.raises(bulk.BulkError, match="vegeta-url"):
        bulk.write_pool(GEN, str(tmp_path / "x.vegeta.jsonl"), app_id=APP_ID, app_certificate=CERT)
    with pytest.raises(mintlane.InvalidArgumentError, match="placeholder"):
        bulk.write_pool(GEN, str(tmp_path / "x.vegeta.jsonl"), app_id=APP_ID, app_certificate=CERT,
                        vegeta_url="http://x/{nope}")
    with pytest.raises(bulk.BulkError, match="publishers"):
        bulk.write_pool(bulk.Generator(channels=1, users_per_channel=5, publishers="150%"), str(tmp_path / "x.csv"),
                        app_id=APP_ID, app_certificate=CERT)
    with pytest.raises(mintlane.InvalidArgumentError, match=r"uid_start: .* \(a uid is 0..4294967295\)"):
        bulk.write_pool(bulk.Generator(channels=2, users_per_channel=10, uid_start=4294967290),
                        str(tmp_path / "x.csv"), app_id=APP_ID, app_certificate=CERT)
    with pytest.raises(mintlane.InvalidExpireError):
        bulk.write_pool(bulk.Generator(channels=1, users_per_channel=1, expire=90000), str(tmp_path / "x.csv"),
                        app_id=APP_ID, app_certificate=CERT)
    assert not list(tmp_path.iterdir())


def test_partition_rows_is_the_engines():
    assert [bulk.partition_rows(10, 3, i) for i in range(3)] == [(0, 3), (3, 6), (6, 10)]
    assert bulk.partition_rows(0, 2, 1) == (0, 0)
    with pytest.raises(ValueError):
        bulk.partition_rows(10, 0, 0)


def test_plan_prepare_and_write_part_for_other_schedulers(tmp_path):
    """The pieces Ray/Spark users call: a JSON-able plan, prepare_parts, write_part anywhere, add."""
    import concurrent.futures

    gen = bulk.Generator(channels=3, users_per_channel=100)
    plan = bulk.make_plan(gen, str(tmp_path / "pool"), partitions=5, format="csv", app_id=APP_ID,
                          app_certificate=CERT, issue_ts=TS, salt_seed=SEED)
    plan = json.loads(json.dumps(plan))  # it travels as JSON
    manifest, pending = bulk.prepare_parts(plan)
    assert pending == [0, 1, 2, 3, 4]
    with concurrent.futures.ProcessPoolExecutor(2) as ex:
        for entry in ex.map(bulk.write_part, [plan] * 5, pending):
            manifest.add(entry)
    ref = bulk.write_pool(gen, str(tmp_path / "ref"), partitions=5, format="csv", app_id=APP_ID,
                          app_certificate=CERT, issue_ts=TS, salt_seed=SEED)
    assert (tmp_path / "pool" / "SHA256SUMS").read_text() == (tmp_path / "ref" / "SHA256SUMS").read_text()
    assert hashlib.sha256((tmp_path / "pool" / "SHA256SUMS").read_bytes()).hexdigest() == ref.sha256
    assert bulk.prepare_parts(plan)[1] == []
