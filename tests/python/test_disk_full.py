"""Full disks, unwritable outputs and interrupted writes (issue 7).

A 256 KiB tmpfs (mounted here; the CI runs as root) fills up under TokenBatch.write, `mintlane
bulk` (single file and partitioned) and the server's access log. Every failure must be a clear
error - an OSError with errno ENOSPC from the library, one line and exit status 2 from the CLI -
and leave no file that looks complete: no final name and no leftover temporary file. Unwritable
outputs (a read-only mount, /proc, a path under a regular file) give one-line errors. A bulk run
killed midway (SIGKILL, SIGTERM, SIGINT) leaves final names only for complete parts, and a re-run
finishes the job.
"""
from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from typing import Dict, List, Optional

import pytest

import mintlane
from server_util import APP_ID, CERT, base_env, start_serve

try:
    import mintlane.bulk  # noqa: F401
    BULK = True
except ImportError:
    BULK = False

needs_bulk = pytest.mark.skipif(not BULK, reason="mintlane bulk is not available")
ENV = base_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT)


def _mount(d, options: str) -> None:
    if os.geteuid() != 0:
        pytest.fail("test_disk_full needs root to mount a small tmpfs (the CI runs as root); "
                    f"euid is {os.geteuid()}")
    d.mkdir(exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(d)], capture_output=True, text=True,
                       timeout=30)
    if p.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs on {d} ({options}): {p.stderr.strip() or p.returncode}; "
                    "this test needs root and mount(2) (the CI provides both)")


def _umount(d) -> None:
    p = subprocess.run(["umount", str(d)], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        subprocess.run(["umount", "-l", str(d)], capture_output=True, timeout=30)


@pytest.fixture
def tiny(tmp_path):
    """A 256 KiB tmpfs."""
    d = tmp_path / "tiny"
    _mount(d, "size=256k,mode=0777")
    try:
        yield d
    finally:
        _umount(d)


@pytest.fixture
def readonly(tmp_path):
    """A read-only tmpfs: unwritable even for root."""
    d = tmp_path / "ro"
    _mount(d, "size=64k,ro")
    try:
        yield d
    finally:
        _umount(d)


def listing(d) -> List[str]:
    out = []
    for root, _, names in os.walk(d):
        out += [os.path.relpath(os.path.join(root, n), d) for n in names]
    return sorted(out)


def cli(*args: str, env: Optional[Dict[str, str]] = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mintlane", *args], env=env or ENV, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def assert_one_line_error(p: subprocess.CompletedProcess, *needles: str) -> str:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr, p.stderr
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, p.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    assert CERT.lower() not in (p.stdout + p.stderr).lower()
    return lines[0]


@pytest.fixture(scope="module")
def batch():
    return mintlane.Minter(APP_ID, CERT).rtc_batch(channel="disk", uids=range(1, 20001), expire=600)  # ~4 MB


# ---- TokenBatch.write ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,fmt", [("pool.txt", None), ("pool.csv", None), ("pool.jsonl", None),
                                      ("pool.json", None), ("pool.csv.gz", None), ("pool.bin", "lines")])
def test_batch_write_on_a_full_disk_raises_enospc_and_leaves_nothing(tiny, batch, name, fmt):
    target = tiny / name
    with pytest.raises(OSError) as ei:
        batch.write(str(target), format=fmt)
    assert ei.value.errno == errno.ENOSPC, repr(ei.value)
    assert "No space left on device" in str(ei.value)
    assert listing(tiny) == [], "a partial or temporary file was left behind"
    # The disk is usable again afterwards: a small batch fits.
    small = mintlane.Minter(APP_ID, CERT).rtc_batch(channel="disk", uids=range(1, 11))
    assert small.write(str(target), format=fmt) > 0
    assert listing(tiny) == [name]


def test_batch_write_on_a_nearly_full_disk_keeps_the_previous_file(tiny, batch):
    target = tiny / "pool.csv"
    old = mintlane.Minter(APP_ID, CERT).rtc_batch(channel="old", uids=range(1, 11))
    old.write(str(target))
    before = target.read_bytes()
    with pytest.raises(OSError) as ei:
        batch.write(str(target))
    assert ei.value.errno == errno.ENOSPC
    assert target.read_bytes() == before, "the complete old file was damaged by a failed write"
    assert listing(tiny) == ["pool.csv"]


def test_batch_write_error_names_the_file(tiny, batch):
    target = str(tiny / "pool.csv")
    with pytest.raises(OSError) as ei:
        batch.write(target)
    assert ei.value.filename == target or target in str(ei.value), repr(ei.value)


def test_batch_write_to_unwritable_places(readonly, tmp_path, batch):
    small = mintlane.Minter(APP_ID, CERT).rtc_batch(channel="c", uids=range(1, 6))
    regular = tmp_path / "regular-file"
    regular.write_text("x")
    for target, codes in ((readonly / "pool.csv", {errno.EROFS}),
                          ("/proc/mintlane-pool.csv", {errno.ENOENT, errno.EACCES, errno.EPERM}),
                          (regular / "pool.csv", {errno.ENOTDIR})):
        with pytest.raises(OSError) as ei:
            small.write(str(target))
        assert ei.value.errno in codes, (target, repr(ei.value))
        assert ei.value.strerror, repr(ei.value)
    assert listing(readonly) == []
    # A directory as the target: refused, the temporary file removed.
    d = tmp_path / "adir"
    d.mkdir()
    with pytest.raises(OSError):
        small.write(str(d))
    assert sorted(os.listdir(tmp_path)) == ["adir", "regular-file", "ro"]


@pytest.mark.parametrize("fail_at", ["fsync", "replace"])
def test_batch_write_interrupted_midway_leaves_no_file(tmp_path, batch, monkeypatch, fail_at):
    target = tmp_path / "pool.csv"

    def boom(*a, **k):
        raise KeyboardInterrupt  # Ctrl-C at the worst moment

    monkeypatch.setattr(os, fail_at, boom)
    with pytest.raises(KeyboardInterrupt):
        batch.write(str(target))
    monkeypatch.undo()
    assert os.listdir(tmp_path) == [], "an interrupted write left a file behind"


# ---- mintlane bulk on a full disk -----------------------------------------------------------------
@needs_bulk
@pytest.mark.parametrize("name", ["pool.csv", "pool.jsonl.gz", "pool.k6.json"])
def test_bulk_on_a_full_disk_is_one_line_and_leaves_nothing(tiny, name):
    p = cli("bulk", "--channels", "4", "--uids-per-channel", "5000", "-o", str(tiny / name), "-q")
    assert_one_line_error(p, "No space left on device")
    assert listing(tiny) == [], "bulk left a partial or temporary file on the full disk"


@needs_bulk
def test_bulk_unwritable_error_names_the_output_not_the_temp_file():
    p = cli("bulk", "--channels", "1", "--uids-per-channel", "5", "-o", "/proc/mintlane-pool.csv", "-q")
    line = assert_one_line_error(p)
    assert "/proc/mintlane-pool.csv" in line and ".tmp-" not in line, line


@needs_bulk
def test_bulk_partitioned_on_a_full_disk_keeps_only_complete_parts(tiny):
    out = tiny / "pool"
    p = cli("bulk", "--channels", "8", "--uids-per-channel", "400", "--partitions", "8", "-o", str(out), "-q")
    assert_one_line_error(p, "No space left on device")
    _assert_parts_consistent(out, complete=False)


def _assert_parts_consistent(out, complete: bool, allow_manifest_tmp: bool = False) -> dict:
    """Every part with a final name is listed in the manifest with its size and sha256; no temporary
    files; the manifest claims completion only when every part is there."""
    names = sorted(os.listdir(out)) if out.exists() else []
    temps = [n for n in names if ".tmp-" in n and not (allow_manifest_tmp and n.startswith(".manifest.json.tmp-"))]
    assert not temps, f"temporary files left: {names}"
    manifest = {}
    if "manifest.json" in names:
        manifest = json.loads((out / "manifest.json").read_text())
    listed = {e["file"]: e for e in manifest.get("parts", [])}
    parts = [n for n in names if n.startswith("part-")]
    for n in parts:
        assert n in listed, f"{n} has a final name but the manifest does not list it: {names}"
        data = (out / n).read_bytes()
        assert hashlib.sha256(data).hexdigest() == listed[n]["sha256"], f"{n} is not the complete part"
    assert len(listed) == len(parts), (sorted(listed), parts)
    if complete:
        assert manifest and len(parts) == manifest["partitions"], names
    else:
        assert "SHA256SUMS" not in names or len(parts) == manifest.get("partitions"), names
    return manifest


@needs_bulk
def test_bulk_unwritable_outputs_are_one_line(readonly, tmp_path):
    regular = tmp_path / "regular-file"
    regular.write_text("x")
    gen = ["bulk", "--channels", "1", "--uids-per-channel", "5", "-q"]
    for target in (readonly / "pool.csv", "/proc/mintlane-pool.csv", regular / "pool.csv", "/nonexistent/d/pool.csv"):
        assert_one_line_error(cli(*gen, "-o", str(target)))
    assert_one_line_error(cli(*gen, "--partitions", "2", "-o", str(readonly / "parts")))
    requests = tmp_path / "requests.csv"
    requests.write_text("channel,uid\nok,1\nbad/channel,2\n")
    assert_one_line_error(cli("bulk", "--input", str(requests), "--skip-bad", "--bad-rows", str(readonly / "bad.jsonl"),
                              "-o", str(tmp_path / "ok.csv"), "-q"), "bad-rows")
    assert not (tmp_path / "ok.csv").exists()
    assert listing(readonly) == []


def test_cli_stdout_on_a_full_device_is_one_line():
    token = mintlane.Minter(APP_ID, CERT).rtc("c", 1)
    for args in (["mint", "rtc", "--channel", "c", "--uid", "1"], ["decode", "--json", token], ["verify", token],
                 ["demo", "--count", "10"]):
        with open("/dev/full", "w") as full:
            p = subprocess.run([sys.executable, "-m", "mintlane", *args], env=ENV, stdout=full,
                               stderr=subprocess.PIPE, text=True, timeout=60)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        lines = [line for line in p.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "No space left on device" in lines[0], (args, p.stderr)


# ---- interrupted bulk runs ---------------------------------------------------------------------------
def _spawn_bulk(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mintlane", "bulk", *args, "-q"], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def _wait_for(cond, proc: subprocess.Popen, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cond():
            return
        if proc.poll() is not None:
            raise AssertionError("bulk finished before it could be interrupted: " + proc.stderr.read())
        time.sleep(0.005)
    proc.kill()
    proc.wait(10)
    raise AssertionError("bulk never reached the point to interrupt")


def _stop(proc: subprocess.Popen, sig: int) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise


BIG = ["--channels", "20", "--uids-per-channel", "50000", "--threads", "1"]  # 1M tokens, a few seconds


@needs_bulk
def test_bulk_killed_midway_leaves_no_complete_looking_file_and_a_rerun_finishes(tmp_path):
    final = tmp_path / "pool.csv.gz"
    proc = _spawn_bulk(*BIG, "-o", str(final))
    try:
        _wait_for(lambda: any(".tmp-" in n and os.path.getsize(tmp_path / n) > 0 for n in os.listdir(tmp_path)), proc)
        assert _stop(proc, signal.SIGKILL) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    names = os.listdir(tmp_path)
    assert "pool.csv.gz" not in names, "a killed run left a file under the final name"
    assert all(n.startswith(".pool.csv.gz.tmp-") for n in names), names  # hidden and marked temporary
    # A re-run removes the dead run's temporary file and writes the complete pool.
    p = cli("bulk", "--channels", "2", "--uids-per-channel", "50", "-o", str(final), "-q")
    assert p.returncode == 0, p.stderr
    assert os.listdir(tmp_path) == ["pool.csv.gz"]
    rows = gzip.decompress(final.read_bytes()).decode().splitlines()
    assert len(rows) == 1 + 100
    v = cli("verify-pool", str(final), "-q")
    assert v.returncode == 0, v.stdout + v.stderr


@needs_bulk
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_bulk_terminated_midway_cleans_up(tmp_path, sig):
    final = tmp_path / "pool.csv"
    proc = _spawn_bulk(*BIG, "-o", str(final))
    try:
        _wait_for(lambda: any(".tmp-" in n and os.path.getsize(tmp_path / n) > 0 for n in os.listdir(tmp_path)), proc)
        code = _stop(proc, sig)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    assert code in (130, 143, 2), (code, err)
    assert "Traceback" not in err, err
    assert len([line for line in err.splitlines() if line.strip()]) == 1, err
    assert os.listdir(tmp_path) == [], "an interrupted run left files behind"


@needs_bulk
def test_bulk_partitioned_killed_midway_keeps_only_complete_parts_and_resumes(tmp_path):
    out = tmp_path / "pool"
    args = [*BIG, "--partitions", "10", "-o", str(out)]
    proc = _spawn_bulk(*args)
    try:
        # Kill once at least one part is complete and another is being written.
        _wait_for(lambda: out.exists() and any(n.startswith("part-") for n in os.listdir(out))
                  and any(".tmp-" in n for n in os.listdir(out)), proc)
        assert _stop(proc, signal.SIGKILL) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    names = os.listdir(out)
    assert "SHA256SUMS" not in names
    # Final names only for parts that are complete (the killed part is still a temporary file).
    finals = [n for n in names if n.startswith("part-")]
    assert 1 <= len(finals) < 10, names
    manifest = json.loads((out / "manifest.json").read_text())
    listed = {e["file"]: e for e in manifest.get("parts", [])}
    for n in finals:
        if n in listed:
            assert hashlib.sha256((out / n).read_bytes()).hexdigest() == listed[n]["sha256"]
    # At most one part can be unrecorded (killed between linking it into place and the manifest update).
    assert len([n for n in finals if n not in listed]) <= 1, (finals, sorted(listed))
    # The re-run resumes: it keeps the recorded parts, redoes the rest, and the pool verifies.
    p = cli("bulk", *args, "-q", timeout=300)
    assert p.returncode == 0, p.stderr
    # (A dead run's .manifest.json.tmp-* is tolerated here: test_bulk_resume_removes_a_dead_manifest_temp.)
    done = _assert_parts_consistent(out, complete=True, allow_manifest_tmp=True)
    assert sum(e["count"] for e in done["parts"]) == 1_000_000
    sums = (out / "SHA256SUMS").read_text().split()
    assert sorted(sums[1::2]) == sorted(e["file"] for e in done["parts"])


def _dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


@needs_bulk
def test_bulk_resume_removes_a_dead_manifest_temp(tmp_path):
    out = tmp_path / "pool"
    args = ["--channels", "2", "--uids-per-channel", "50", "--partitions", "2", "-o", str(out), "-q"]
    assert cli("bulk", *args).returncode == 0
    dead = _dead_pid()
    (out / f".manifest.json.tmp-{dead}-deadbeef").write_text('{"partial": ')
    (out / f".part-00000.jsonl.tmp-{dead}-deadbeef").write_text("partial")
    assert cli("bulk", *args).returncode == 0
    assert not [n for n in os.listdir(out) if ".tmp-" in n], sorted(os.listdir(out))


# ---- the server with its access log on a full disk -----------------------------------------------
def test_server_keeps_serving_when_its_access_log_disk_is_full(tiny, tmp_path):
    log = tiny / "access.log"
    sp = start_serve(["--port", "0", "--threads", "1", "--access-log", str(log)], ENV, str(tmp_path))
    try:
        filler = tiny / "filler"
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError as e:
                assert e.errno == errno.ENOSPC
        from server_util import request
        for i in range(300):  # every log write fails now
            r = request(sp.port, "GET", f"/rtc/full/publisher/uid/{i + 1}/?expiry=60")
            assert r.status == 200
            assert mintlane.verify(r.json()["rtcToken"], CERT, channel="full", uid=i + 1).ok
        assert request(sp.port, "GET", "/ping").status == 200
    finally:
        assert sp.stop(timeout=15) == 0
    out = sp.stderr_text(wait=0.3)
    assert "Traceback" not in out and CERT.lower() not in out.lower()
