"""Resume: a real `mintlane bulk` process is killed with a signal midway, run again, and compared
with an uninterrupted run: same rows, no duplicates, no partial part counted as done."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from mintlane.verify_pool import verify_pool

from conftest import APP_ID, CERT

TS = 1_700_000_000
ENV = dict(os.environ, APP_ID=APP_ID, APP_CERTIFICATE=CERT)
PARTS = 8
ROWS = 16 * 5000


def bulk_cmd(out: pathlib.Path, *extra: str) -> list:
    return [sys.executable, "-m", "mintlane", "bulk", "--channels", "16", "--uids-per-channel", "5000",
            "--publishers", "10%", "-o", str(out), "--partitions", str(PARTS), "--format", "jsonl", "--gzip",
            "--chunk-rows", "2000", "-q", *extra]


def manifest(out: pathlib.Path) -> dict:
    try:
        return json.loads((out / "manifest.json").read_text())
    except (FileNotFoundError, ValueError):
        return {}


def interrupt(out: pathlib.Path, sig: int, *extra: str, after_parts: int = 2) -> subprocess.Popen:
    """Starts a slowed-down run and sends `sig` once `after_parts` parts are in the manifest."""
    env = dict(ENV, _MINTLANE_BULK_CHUNK_DELAY="0.04")
    p = subprocess.Popen(bulk_cmd(out, *extra), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(manifest(out).get("parts", [])) >= after_parts:
            break
        if p.poll() is not None:
            pytest.fail(f"the run ended before it could be interrupted: {p.communicate()}")
        time.sleep(0.01)
    time.sleep(0.05)  # land inside the next part
    os.kill(p.pid, sig)  # only the process this test started, by PID
    p.wait(timeout=60)
    return p


def rows_of(out: pathlib.Path) -> list:
    rows = []
    for part in sorted(out.glob("part-*.jsonl.gz")):
        rows += [json.loads(x) for x in gzip.decompress(part.read_bytes()).splitlines()]
    return rows


def key(row: dict) -> tuple:
    return row["channel"], row["uid"], row["role"]


def check_listed_parts_are_whole(out: pathlib.Path) -> dict:
    m = manifest(out)
    assert 0 < len(m["parts"]) < PARTS, "the signal should land midway"
    assert not m["complete"]
    for part in m["parts"]:
        data = (out / part["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == part["sha256"]
        assert len(gzip.decompress(data).splitlines()) == part["count"] == ROWS // PARTS
    listed = {p["file"] for p in m["parts"]}
    # Nothing that looks like a finished part exists unless the manifest lists it.
    assert {p.name for p in out.glob("part-*")} <= listed
    return m


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Uninterrupted runs: reproducible (seeded) and with CSPRNG salts."""
    seeded = tmp_path_factory.mktemp("ref-seeded")
    subprocess.run(bulk_cmd(seeded, "--issue-ts", str(TS), "--salt-seed", "5"), env=ENV, check=True,
                   capture_output=True)
    plain = tmp_path_factory.mktemp("ref-plain")
    subprocess.run(bulk_cmd(plain), env=ENV, check=True, capture_output=True)
    return seeded, plain


def test_sigkill_midway_then_resume_equals_uninterrupted_run(tmp_path, reference):
    seeded_ref, _ = reference
    out = tmp_path / "pool"
    p = interrupt(out, signal.SIGKILL, "--issue-ts", str(TS), "--salt-seed", "5")
    assert p.returncode == -signal.SIGKILL
    done = check_listed_parts_are_whole(out)
    r = subprocess.run(bulk_cmd(out, "--issue-ts", str(TS), "--salt-seed", "5", "--json"), env=ENV,
                       capture_output=True, text=True, check=True)
    summary = json.loads(r.stdout)
    assert summary["parts_skipped"] == len(done["parts"])
    assert summary["parts_written"] == PARTS - len(done["parts"])
    assert summary["minted"] == ROWS - sum(x["count"] for x in done["parts"])
    # Byte for byte the uninterrupted pool: same parts, same manifest entries, nothing left over.
    assert (out / "SHA256SUMS").read_text() == (seeded_ref / "SHA256SUMS").read_text()
    m, ref = manifest(out), manifest(seeded_ref)
    strip = lambda parts: [{k: v for k, v in x.items() if k not in ("seconds", "writer")} for x in parts]  # noqa: E731
    assert strip(m["parts"]) == strip(ref["parts"]) and m["complete"]
    assert sorted(x.name for x in out.iterdir()) == sorted(x.name for x in seeded_ref.iterdir())
    rows = rows_of(out)
    assert len(rows) == ROWS and len({key(x) for x in rows}) == ROWS


def test_sigterm_midway_cleans_up_and_resume_has_same_rows(tmp_path, reference):
    _, plain_ref = reference
    out = tmp_path / "pool"
    p = interrupt(out, signal.SIGTERM)
    _, err = p.communicate()
    assert p.returncode == 130, err
    assert b"interrupted" in err
    check_listed_parts_are_whole(out)
    assert not [x for x in out.iterdir() if ".tmp-" in x.name]  # the part in progress was removed
    subprocess.run(bulk_cmd(out), env=ENV, check=True, capture_output=True)
    rows, ref_rows = rows_of(out), rows_of(plain_ref)
    assert [key(x) for x in rows] == [key(x) for x in ref_rows]  # same rows in the same order
    assert len({key(x) for x in rows}) == ROWS                  # no duplicates
    assert len({x["token"] for x in rows}) == ROWS
    report = verify_pool(str(out), CERT)
    assert report.ok and report.rows == ROWS, report.problems[:3]


def test_damaged_or_unrecorded_parts_are_redone(tmp_path):
    out = tmp_path / "pool"
    p = interrupt(out, signal.SIGKILL, "--issue-ts", str(TS), "--salt-seed", "5", after_parts=3)
    assert p.returncode == -signal.SIGKILL
    m = check_listed_parts_are_whole(out)
    # Damage one finished part; leave a finished-looking part the manifest never recorded.
    first = out / m["parts"][0]["file"]
    first.write_bytes(first.read_bytes()[:-10])
    stray = out / f"part-{PARTS - 1:05d}.jsonl.gz"
    stray.write_bytes(b"not a part")
    (out / ".part-00007.jsonl.gz.tmp-1-deadbeef").write_bytes(b"leftover")
    r = subprocess.run(bulk_cmd(out, "--issue-ts", str(TS), "--salt-seed", "5", "--json"), env=ENV,
                       capture_output=True, text=True, check=True)
    summary = json.loads(r.stdout)
    assert summary["parts_skipped"] == len(m["parts"]) - 1
    assert not [x for x in out.iterdir() if ".tmp-" in x.name]
    report = verify_pool(str(out), CERT, now=TS + 10)
    assert report.ok and report.rows == ROWS, (report.pool_problems, report.problems[:3])


def test_single_file_is_all_or_nothing(tmp_path):
    """Without partitions a killed run leaves the previous file (or none), never a partial one;
    the next run removes the dead run's temporary file."""
    out = tmp_path / "pool.csv"
    out.write_text("previous pool\n")
    cmd = [sys.executable, "-m", "mintlane", "bulk", "--channels", "20", "--uids-per-channel", "5000", "-o", str(out),
           "--chunk-rows", "2000", "-q"]
    p = subprocess.Popen(cmd, env=dict(ENV, _MINTLANE_BULK_CHUNK_DELAY="0.05"), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(x.stat().st_size > 100_000 for x in tmp_path.glob(".pool.csv.tmp-*")):
        time.sleep(0.01)
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=60)
    assert out.read_text() == "previous pool\n"
    assert len(list(tmp_path.glob(".pool.csv.tmp-*"))) == 1
    subprocess.run(cmd, env=ENV, check=True, capture_output=True)
    assert not list(tmp_path.glob(".pool.csv.tmp-*"))
    assert len(out.read_text().splitlines()) == 100_001
