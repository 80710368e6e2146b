"""mintlane verify-pool: a good pool passes; altered tokens, rows that do not match their token,
duplicates, expiry, and damaged partitioned pools are reported with file and line (exit 1)."""
from __future__ import annotations

import gzip
import json
import pathlib

import pytest

from mintlane import bulk
from mintlane.cli import main as cli_main
from mintlane.verify_pool import verify_pool

from conftest import APP_ID, CERT

TS = 1_700_000_000
GEN = bulk.Generator(channels=3, users_per_channel=40, publishers=4)


def make(tmp_path: pathlib.Path, name: str, **kw) -> pathlib.Path:
    path = tmp_path / name
    bulk.write_pool(GEN, str(path), app_id=APP_ID, app_certificate=CERT, issue_ts=TS, salt_seed=1, **kw)
    return path


def verify_cli(capsys, *argv: str):
    rc = cli_main(["verify-pool", "--app-certificate", CERT, *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def flip(token: str, at: int = 40) -> str:
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1:]


def test_good_pools_pass_in_every_format(tmp_path, capsys):
    for name in ("p.csv", "p.jsonl.gz", "p.k6.json", "p.locust.csv.gz"):
        path = make(tmp_path, name)
        rc, out, _ = verify_cli(capsys, str(path), "--now", str(TS + 60))
        assert rc == 0 and out.startswith("OK: checked 120 tokens"), out


def test_bad_rows_are_reported_with_file_line_and_reason(tmp_path, capsys):
    path = make(tmp_path, "p.jsonl")
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    rows[3]["token"] = flip(rows[3]["token"])       # line 4: altered token
    rows[5]["channel"] = "channel-9"                 # line 6: not the token's channel
    rows[7]["uid"] = 999                             # line 8: not the token's uid
    rows[9]["role"] = "publisher"                    # line 10: a subscriber's token (position 9 >= 4)
    rows[11]["expires_at"] += 1                      # line 12: column disagrees with the token
    rows[13] = dict(rows[20])                        # line 14: duplicate of line 21
    lines = [json.dumps(r) for r in rows]
    lines[15] = "{not json"                          # line 16: unreadable row
    path.write_text("\n".join(lines) + "\n")
    rc, out, _ = verify_cli(capsys, str(path), "--now", str(TS + 60))
    assert rc == 1
    found = {int(ln.split(":")[1]): ln.split(":")[2].strip() for ln in out.splitlines() if ln.startswith(str(path))}
    assert found[4] in ("bad_signature", "malformed")
    assert (found[6], found[8], found[10], found[12], found[16]) == (
        "wrong_channel", "wrong_uid", "wrong_role", "wrong_expires_at", "bad_row")
    assert found[21] == "duplicate" and f"already at {path}:14" in out
    assert "FAILED" in out.splitlines()[-1] and "1 duplicate" in out.splitlines()[-1]


def test_expiry_window_and_certificate(tmp_path, capsys):
    path = make(tmp_path, "p.csv")
    rc, out, _ = verify_cli(capsys, str(path), "--now", str(TS + 3601))
    assert rc == 1 and ": expired: token expired at" in out
    rc, out, _ = verify_cli(capsys, str(path), "--now", str(TS - 3600))
    assert rc == 1 and "not_yet_valid" in out
    assert verify_cli(capsys, str(path), "--no-expiry")[0] == 0
    rc = cli_main(["verify-pool", "--app-certificate", "0" * 32, str(path), "--no-expiry"])
    assert rc == 1 and "bad_signature" in capsys.readouterr().out
    report = verify_pool(str(path), CERT, app_id="0" * 32, check_expiry=False)
    assert not report.ok and report.problems[0].status == "wrong_app_id"


def test_partitioned_pool_against_its_manifest(tmp_path, capsys):
    out = make(tmp_path, "pool", partitions=3, format="jsonl", gzip=True)
    assert verify_cli(capsys, str(out), "--now", str(TS))[0] == 0
    part = out / "part-00001.jsonl.gz"
    rows = gzip.decompress(part.read_bytes()).splitlines()
    part.write_bytes(gzip.compress(b"\n".join(rows[:-1]) + b"\n"))  # a row lost after the fact
    (out / "part-00002.jsonl.gz").unlink()
    rc, text, _ = verify_cli(capsys, str(out), "--now", str(TS))
    assert rc == 1
    assert "part-00001.jsonl.gz: sha256" in text and "39 rows but manifest.json says 40" in text
    assert "part-00002.jsonl.gz: listed in manifest.json but missing" in text
    m = json.loads((out / "manifest.json").read_text())
    m["parts"] = m["parts"][:1]
    (out / "manifest.json").write_text(json.dumps(m))
    rc, text, _ = verify_cli(capsys, str(out), "--now", str(TS))
    assert rc == 1 and "part 1 is missing from manifest.json" in text


def test_unverifiable_inputs_are_errors(tmp_path, capsys):
    v = tmp_path / "t.vegeta.jsonl"
    bulk.write_pool(GEN, str(v), app_id=APP_ID, app_certificate=CERT, vegeta_url="http://x/{token}")
    rc, _, err = verify_cli(capsys, str(v))
    assert rc == 2 and "vegeta targets hold requests" in err
    rc, _, err = verify_cli(capsys, str(tmp_path / "missing.csv"))
    assert rc == 2 and "no such file" in err
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    rc, _, err = verify_cli(capsys, str(tmp_path / "x.csv"))
    assert rc == 2 and "not a pool CSV" in err
    (tmp_path / "bad.jsonl.gz").write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    rc, _, err = verify_cli(capsys, str(tmp_path / "bad.jsonl.gz"))
    assert rc == 2 and "unreadable" in err
    (tmp_path / "d").mkdir()
    rc, _, err = verify_cli(capsys, str(tmp_path / "d"))
    assert rc == 2 and "not a mintlane pool" in err


def test_k6_array_not_in_mintlane_layout_is_read_whole(tmp_path):
    path = make(tmp_path, "p.k6.json")
    data = json.loads(path.read_text())
    path.write_text(json.dumps(data, indent=2))
    assert verify_pool(str(path), CERT, check_expiry=False).ok
    with pytest.raises(bulk.BulkError):
        path.write_text("[1, 2")
        verify_pool(str(path), CERT)
