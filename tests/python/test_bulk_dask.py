"""mintlane.distributed on a real Dask LocalCluster (2 worker processes, 1 thread each, 127.0.0.1):
the pool it writes has the same rows as a local run (tokens differ only by salt and issue_ts), a
matching manifest, and parts that are safe to run twice."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import pathlib
import subprocess
import sys

import pytest

import mintlane
from mintlane import bulk, distributed
from mintlane.verify_pool import verify_pool

from conftest import APP_ID, CERT

pytest.importorskip("dask.distributed")

TS = 1_700_000_000
GEN = bulk.Generator(channels=6, users_per_channel=2000, publishers="10%", channel_prefix="stage-")
KW = dict(app_id=APP_ID, app_certificate=CERT, format="jsonl", gzip=True, partitions=6, chunk_rows=1000)


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                           host="127.0.0.1")
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def rows_of(directory: pathlib.Path) -> list:
    out = []
    for part in sorted(directory.glob("part-*.jsonl.gz")):
        out += [json.loads(x) for x in gzip.decompress(part.read_bytes()).splitlines()]
    return out


def manifest(directory: pathlib.Path) -> dict:
    return json.loads((directory / "manifest.json").read_text())


def test_dask_pool_has_the_local_rows_and_a_matching_manifest(client, tmp_path):
    local = bulk.write_pool(GEN, str(tmp_path / "local"), **KW)
    dask = distributed.write_pool(client, GEN, str(tmp_path / "dask"), **KW)
    assert dask.workers == 2 and dask.count == local.count == len(GEN) and dask.parts_written == 6
    ml, md = manifest(tmp_path / "local"), manifest(tmp_path / "dask")
    assert md["spec"] == ml["spec"] and md["spec_sha256"] == ml["spec_sha256"] and md["complete"]
    assert [(p["index"], p["file"], p["count"], p["rows"]) for p in md["parts"]] == \
           [(p["index"], p["file"], p["count"], p["rows"]) for p in ml["parts"]]
    assert len({p["writer"] for p in md["parts"]}) == 2  # both worker processes wrote parts
    lr, dr = rows_of(tmp_path / "local"), rows_of(tmp_path / "dask")
    fields = ("channel", "uid", "role")
    assert [tuple(r[f] for f in fields) for r in dr] == [tuple(r[f] for f in fields) for r in lr]
    for a, b in zip(lr[::97], dr[::97]):
        da, db = mintlane.decode(a["token"]), mintlane.decode(b["token"])
        assert (da.app_id, da.expire, da.services) == (db.app_id, db.expire, db.services)
        assert b["expires_at"] - b["issued_at"] == a["expires_at"] - a["issued_at"]
    assert verify_pool(str(tmp_path / "dask"), CERT).ok


def test_reproducible_dask_pool_is_byte_identical(client, tmp_path):
    kw = dict(KW, issue_ts=TS, salt_seed=11)
    local = bulk.write_pool(GEN, str(tmp_path / "local"), **kw)
    dask = distributed.write_pool(client, GEN, str(tmp_path / "dask"), **kw)
    assert dask.sha256 == local.sha256
    assert (tmp_path / "dask" / "SHA256SUMS").read_text() == (tmp_path / "local" / "SHA256SUMS").read_text()
    strip = lambda m: [{k: v for k, v in p.items() if k not in ("seconds", "writer")} for p in m["parts"]]  # noqa: E731
    assert strip(manifest(tmp_path / "dask")) == strip(manifest(tmp_path / "local"))


def test_parts_are_idempotent_and_resume_on_dask(client, tmp_path):
    out = tmp_path / "pool"
    kw = dict(KW, issue_ts=TS, salt_seed=3)
    first = distributed.write_pool(client, GEN, str(out), **kw)
    # A duplicated task (a retry, or a lost worker that was still running) finds the part in place.
    job = bulk._Job(GEN, str(out))
    plan = job.plan(**{k: v for k, v in kw.items()})
    before = (out / "part-00002.jsonl.gz").read_bytes()
    entry = client.submit(bulk.write_part, plan, 2, pure=False).result()
    assert entry["sha256"] == hashlib.sha256(before).hexdigest()
    assert (out / "part-00002.jsonl.gz").read_bytes() == before
    # Forget two parts: a re-run on the cluster redoes exactly those.
    m = manifest(out)
    m["parts"] = [p for p in m["parts"] if p["index"] not in (1, 4)]
    (out / "manifest.json").write_text(json.dumps(m))
    again = distributed.write_pool(client, GEN, str(out), **kw)
    assert (again.parts_written, again.parts_skipped, again.minted) == (2, 4, 2 * len(GEN) // 6)
    assert again.sha256 == first.sha256


def test_cli_dask_local(tmp_path):
    env = dict(os.environ, APP_ID=APP_ID, APP_CERTIFICATE=CERT)
    out = tmp_path / "pool"
    r = subprocess.run([sys.executable, "-m", "mintlane", "bulk", "--channels", "4", "--uids-per-channel", "500",
                        "-o", str(out), "--dask-local", "2", "--format", "csv", "--json", "-q"],
                       env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["workers"] == 2 and s["partitions"] == 4 and s["count"] == 2000
    assert manifest(out)["complete"] and verify_pool(str(out), CERT).ok
    for bad in (["--dask-local", "0"], ["--dask-local", "2", "--scheduler", "tcp://127.0.0.1:8786"],
                ["--credentials-from-worker-env"]):
        r = subprocess.run([sys.executable, "-m", "mintlane", "bulk", "--channels", "1", "--uids-per-channel", "5",
                            "-o", str(tmp_path / "x"), "-q", *bad], env=env, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].startswith("mintlane: error:"), r.stderr


def test_a_worker_killed_midway_loses_nothing(tmp_path, monkeypatch):
    """SIGKILL one of the cluster's worker processes (started by this test) while parts are being
    written: Dask reruns its task elsewhere and the pool equals an undisturbed run."""
    import signal
    import threading
    import time

    from dask.distributed import Client, LocalCluster

    monkeypatch.setenv("_MINTLANE_BULK_CHUNK_DELAY", "0.05")  # inherited by the worker processes
    kw = dict(KW, partitions=12, chunk_rows=200, issue_ts=TS, salt_seed=21)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                           host="127.0.0.1")
    c = Client(cluster)
    try:
        out = tmp_path / "pool"
        result: dict = {}
        job = threading.Thread(target=lambda: result.update(s=distributed.write_pool(c, GEN, str(out), **kw)))
        job.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if len(manifest(out)["parts"]) >= 2:
                    break
            except (FileNotFoundError, ValueError, KeyError):
                pass
            time.sleep(0.01)
        victim = sorted(c.run(os.getpid).values())[0]
        os.kill(victim, signal.SIGKILL)
        job.join(timeout=120)
        assert "s" in result, "the job did not finish"
        assert result["s"].count == len(GEN) and manifest(out)["complete"]
    finally:
        c.close()
        cluster.close()
    monkeypatch.delenv("_MINTLANE_BULK_CHUNK_DELAY")
    ref = bulk.write_pool(GEN, str(tmp_path / "ref"), **kw)
    assert (out / "SHA256SUMS").read_text() == (tmp_path / "ref" / "SHA256SUMS").read_text()
    assert result["s"].sha256 == ref.sha256
    assert not [p for p in out.iterdir() if ".tmp-" in p.name]
