"""mintlane bulk with bad request files and bad output paths: wrong columns, bad uids, overlong
channels, an empty file, binary garbage, an unwritable output. Every bad row is reported with
file and line; the file is rejected before anything is minted, or with --skip-bad the row is
skipped and counted. Errors are one line and exit status 2."""
from __future__ import annotations

import json
import os

import pytest

import mintlane
from mintlane import bulk
from mintlane.cli import main as cli_main

from conftest import APP_ID, CERT

CREDS = ["--app-id", APP_ID, "--app-certificate", CERT]


def run(capsys, *argv: str):
    rc = cli_main(["bulk", *CREDS, *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert lines, "no error printed"
    assert lines[-1].startswith("mintlane: error: "), err
    assert "Traceback" not in err
    return lines[-1]


GOOD_CSV = "channel,uid,role,expire\nlobby,1,publisher,600\nlobby,2,subscriber,600\n"


def test_good_csv_and_jsonl_requests(tmp_path, capsys):
    (tmp_path / "r.csv").write_text(GOOD_CSV)
    rc, out, _ = run(capsys, "--input", str(tmp_path / "r.csv"), "-o", str(tmp_path / "o.jsonl"))
    assert rc == 0 and "minted 2 tokens" in out
    (tmp_path / "r.jsonl").write_text('{"channel": "lobby", "uid": 5}\n\n{"channel": "x", "account": "bob", '
                                      '"role": 2, "expire": 60}\n{"channel": "y", "uid": "7", "role": "Subscriber"}\n')
    rc, out, _ = run(capsys, "--input", str(tmp_path / "r.jsonl"), "-o", str(tmp_path / "o2.jsonl"))
    assert rc == 0
    rows = [json.loads(x) for x in (tmp_path / "o2.jsonl").read_text().splitlines()]
    assert [(r["channel"], r.get("uid"), r.get("account"), r["role"]) for r in rows] == [
        ("lobby", 5, None, "publisher"), ("x", None, "bob", "subscriber"), ("y", 7, None, "subscriber")]
    assert rows[1]["expires_at"] - rows[1]["issued_at"] == 60


@pytest.mark.parametrize("header,needle", [
    ("chanel,uid\n", "unknown column(s) 'chanel'"),
    ("uid,role\n", "missing column 'channel'"),
    ("channel,role\n", "missing column 'uid' or 'account'"),
    ("channel,uid,uid\n", "a column appears twice"),
])
def test_wrong_columns(tmp_path, capsys, header, needle):
    p = tmp_path / "r.csv"
    p.write_text(header + "lobby,1\n")
    out = tmp_path / "o.csv"
    rc, _, err = run(capsys, "--input", str(p), "-o", str(out), "--skip-bad")
    assert rc == 2
    line = error_line(err)
    assert f"{p}:1: wrong columns" in line and needle in line
    assert not out.exists()


def test_bad_rows_reject_the_file_with_file_and_line(tmp_path, capsys):
    p = tmp_path / "r.csv"
    p.write_text("channel,uid,role,expire\n"
                 "lobby,1,publisher,600\n"
                 "lobby,-5,publisher,600\n"             # line 3: negative uid
                 "lobby,4294967296,publisher,600\n"     # line 4: uid out of range
                 "lobby,abc,publisher,600\n"            # line 5: not a number
                 f"{'c' * 65},6,publisher,600\n"         # line 6: overlong channel
                 "lobby,7,admin,600\n"                  # line 7: bad role
                 "lobby,8,publisher,90000\n"            # line 8: expire over 24 h
                 "lobby,9,publisher\n"                  # line 9: missing field
                 "bad/channel,10,publisher,60\n"        # line 10: character outside the set
                 "lobby,11,subscriber,60\n")
    out = tmp_path / "o.csv"
    rc, stdout, err = run(capsys, "--input", str(p), "-o", str(out))
    assert rc == 2
    assert not out.exists() and not list(tmp_path.glob(".o.csv*"))  # nothing minted, no temp file left
    reported = [ln for ln in err.splitlines() if ln.startswith("mintlane: bad row")]
    lines = [int(ln.split(f"{p}:")[1].split(":")[0]) for ln in reported]
    assert lines == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "uid" in reported[0] and "out of range" in reported[1] and "not a whole number" in reported[2]
    assert "channel: 65 bytes is too long" in reported[3] and "role" in reported[4] and "expire" in reported[5]
    assert "fields" in reported[6] and "at byte 3 is not allowed" in reported[7]
    line = error_line(err)
    assert "8 bad rows (first at line 3" in line and "--skip-bad" in line
    assert stdout == ""


def test_skip_bad_skips_counts_and_reports(tmp_path, capsys):
    p = tmp_path / "r.csv"
    p.write_text("channel,uid\nlobby,1\nlobby,x\n" + f"{'c' * 65},3\n" + "lobby,4\n")
    out = tmp_path / "o.csv"
    report = tmp_path / "bad.jsonl"
    rc, stdout, err = run(capsys, "--input", str(p), "-o", str(out), "--skip-bad", "--bad-rows", str(report))
    assert rc == 0
    assert "skipped 2 bad input rows" in stdout and "minted 2 tokens" in stdout
    assert f"{p}:3: uid" in err and f"{p}:4: channel" in err
    assert [r.split(",")[1] for r in out.read_text().splitlines()[1:]] == ["1", "4"]
    bad = [json.loads(x) for x in report.read_text().splitlines()]
    assert [(b["line"], b["file"]) for b in bad] == [(3, str(p)), (4, str(p))]
    # The Python API raises with the list of bad rows.
    with pytest.raises(bulk.BadInputError) as e:
        bulk.write_pool(bulk.RequestFile(str(p)), str(out), app_id=APP_ID, app_certificate=CERT)
    assert e.value.count == 2 and [b[1] for b in e.value.bad] == [3, 4]


def test_skip_bad_in_partitions_counts_per_part(tmp_path, capsys):
    rows = "".join(f"ch{i % 7},{'x' if i % 10 == 3 else i}\n" for i in range(200))
    p = tmp_path / "r.csv"
    p.write_text("channel,uid\n" + rows)
    out = tmp_path / "pool"
    rc, stdout, _ = run(capsys, "--input", str(p), "-o", str(out), "--partitions", "3", "--format", "csv",
                        "--skip-bad")
    assert rc == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["skipped_bad"] == 20 and m["rows_written"] == 180
    assert sum(part["count"] + part["skipped_bad"] for part in m["parts"]) == 200
    got = []
    for part in m["parts"]:
        got += [ln.split(",")[1] for ln in (out / part["file"]).read_text().splitlines()[1:]]
    assert got == [str(i) for i in range(200) if i % 10 != 3]


def test_empty_and_header_only_files(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    rc, _, err = run(capsys, "--input", str(empty), "-o", str(tmp_path / "o.csv"))
    assert rc == 2 and "the file is empty" in error_line(err)
    (tmp_path / "empty.jsonl").write_bytes(b"")
    rc, _, err = run(capsys, "--input", str(tmp_path / "empty.jsonl"), "-o", str(tmp_path / "o.csv"))
    assert rc == 2 and "the file is empty" in error_line(err)
    header = tmp_path / "h.csv"
    header.write_text("channel,uid\n\n\n")
    rc, _, err = run(capsys, "--input", str(header), "-o", str(tmp_path / "o.csv"))
    assert rc == 2 and "no request rows" in error_line(err)
    assert not (tmp_path / "o.csv").exists()


def test_binary_garbage(tmp_path, capsys):
    garbage = bytes(range(256)) * 40 + b"\x00\xff\xfe" * 100
    p = tmp_path / "g.csv"
    p.write_bytes(garbage)
    rc, _, err = run(capsys, "--input", str(p), "-o", str(tmp_path / "o.csv"))
    assert rc == 2 and f"{p}:1: binary data" in error_line(err)
    # As JSONL every line is a bad row; with --skip-bad nothing is left to mint.
    j = tmp_path / "g.jsonl"
    j.write_bytes(b"\x89PNG\r\n\x1a\n" + garbage)
    rc, _, err = run(capsys, "--input", str(j), "-o", str(tmp_path / "o.csv"))
    assert rc == 2 and "bad row" in error_line(err)
    assert "binary data" in err or "not UTF-8" in err
    rc, _, err = run(capsys, "--input", str(j), "-o", str(tmp_path / "o.csv"), "--skip-bad")
    assert rc == 2 and "rows are bad; nothing to mint" in error_line(err)
    # A CSV whose header is fine but a row is not UTF-8.
    mixed = tmp_path / "m.csv"
    mixed.write_bytes(b"channel,uid\nlobby,1\n\xff\xfe,2\nlobby,3\n")
    rc, stdout, err = run(capsys, "--input", str(mixed), "-o", str(tmp_path / "o.csv"), "--skip-bad")
    assert rc == 0 and f"{mixed}:3: not UTF-8 text" in err and "skipped 1 bad input row" in stdout


def test_jsonl_bad_rows(tmp_path, capsys):
    p = tmp_path / "r.jsonl"
    p.write_text('{"channel": "a", "uid": 1}\n'
                 '[1, 2]\n'                                   # 2: not an object
                 '{"channel": "a", "uid": 2, "colour": 1}\n'  # 3: unknown key
                 '{"channel": "a", "uid": true}\n'            # 4: bool uid
                 '{"channel": "a"\n'                           # 5: broken JSON
                 '{"channel": 5, "uid": 1}\n'                 # 6: channel not a string
                 '{"channel": "a", "uid": 1, "account": "b"}\n'  # 7: both
                 '{"channel": "a", "uid": 3, "expire": "soon"}\n')  # 8: bad expire
    rc, _, err = run(capsys, "--input", str(p), "-o", str(tmp_path / "o.csv"))
    assert rc == 2
    lines = [int(ln.split(f"{p}:")[1].split(":")[0]) for ln in err.splitlines() if ln.startswith("mintlane: bad row")]
    assert lines == [2, 3, 4, 5, 6, 7, 8]
    assert "7 bad rows" in error_line(err)


def test_unwritable_output_paths(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    gen = ["--channels", "1", "--uids-per-channel", "10"]
    rc, _, err = run(capsys, *gen, "-o", str(tmp_path / "missing" / "o.csv"))
    assert rc == 2 and "does not exist" in error_line(err)
    rc, _, err = run(capsys, *gen, "-o", str(tmp_path / "file" / "o.csv"))
    assert rc == 2 and error_line(err)
    rc, _, err = run(capsys, *gen, "-o", str(tmp_path / "file"), "--partitions", "2", "--format", "csv")
    assert rc == 2 and "not a directory" in error_line(err)
    rc, _, err = run(capsys, *gen, "-o", "/proc/version/o.csv")
    assert rc == 2 and error_line(err)
    rc, _, err = run(capsys, *gen, "-o", "/proc/self/o.csv")  # exists, but no file can be created there
    assert rc == 2 and error_line(err)
    rc, _, err = run(capsys, *gen, "-o", str(tmp_path))
    assert rc == 2 and "is a directory" in error_line(err)
    if os.geteuid() != 0:  # root ignores permission bits
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        rc, _, err = run(capsys, *gen, "-o", str(ro / "o.csv"))
        assert rc == 2 and "permission" in error_line(err).lower()


def test_write_errors_surface_as_one_line(tmp_path, capsys):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    # /dev/full accepts opens but every write fails with ENOSPC: the sink raises OSError.
    from mintlane import _core
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        sink = _core._FileSink(fd)
        with pytest.raises(OSError) as e:
            sink.write(b"x" * 10)
        assert e.value.errno == 28
    finally:
        os.close(fd)


def test_cli_argument_errors(tmp_path, capsys):
    rc, _, err = run(capsys, "-o", str(tmp_path / "o.csv"))
    assert rc == 2 and "say what to mint" in error_line(err)
    rc, _, err = run(capsys, "--channels", "2", "-o", str(tmp_path / "o.csv"))
    assert rc == 2 and "--uids-per-channel" in error_line(err)
    rc, _, err = run(capsys, "--channels", "2", "--uids-per-channel", "3", "--input", "x.csv", "-o", "o.csv")
    assert rc == 2 and "not both" in error_line(err)
    rc, _, err = run(capsys, "--channels", "0", "--uids-per-channel", "3", "-o", str(tmp_path / "o.csv"))
    assert rc == 2 and "channels: must be at least 1" in error_line(err)
    rc, _, err = run(capsys, "--channels", "1", "--uids-per-channel", "3", "--publishers", "lots",
                     "-o", str(tmp_path / "o.csv"))
    assert rc == 2 and "publishers" in error_line(err)
    rc, _, err = run(capsys, "--input", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o.csv"))
    assert rc == 2 and "cannot read" in error_line(err)
    rc = cli_main(["bulk", "--channels", "1", "--uids-per-channel", "1", "-o", str(tmp_path / "o.csv")])
    out, err = capsys.readouterr()
    if not os.environ.get("APP_ID"):
        assert rc == 2 and "app id missing" in error_line(err)
    assert not (tmp_path / "o.csv").exists()
