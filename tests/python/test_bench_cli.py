"""`mintlane bench` (python/mintlane/bench.py) as users run it: `python -m mintlane bench --quick
--json` in a real process. Checks the document's structure and internal consistency, never the
timings (the host is shared and noisy)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import mintlane
from mintlane import _core

WORKLOAD_UID = 2882341273


def run_bench(*extra, timeout=300):
    env = {k: v for k, v in os.environ.items() if k not in ("APP_ID", "APP_CERTIFICATE")}
    p = subprocess.run([sys.executable, "-m", "mintlane", "bench", "--quick", "--json", *extra],
                       capture_output=True, text=True, env=env, timeout=timeout)
    assert "Traceback" not in p.stderr, p.stderr
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.fixture(scope="module")
def doc():
    return run_bench()


def check_rate_row(r):
    t = r["tokens_per_s"]
    assert set(t) == {"median", "min", "max"}
    assert 0 < t["min"] <= t["median"] <= t["max"]
    assert len(r["runs_tokens_per_s"]) >= 1
    assert t["min"] == min(r["runs_tokens_per_s"]) and t["max"] == max(r["runs_tokens_per_s"])
    assert r["ns_per_token"] == pytest.approx(1e9 / t["median"])
    assert r["spread_pct"] >= 0


def test_top_level_sections(doc):
    assert doc["tool"] == "mintlane bench"
    for key in ("workload", "method", "build", "load", "results", "ratios", "targets"):
        assert key in doc, key


def test_workload_is_the_perf_notes_one(doc):
    w = doc["workload"]
    assert w["app_id"] == "970CA35de60c44645bbae8a215061b33"
    assert w["channel"] == "7d72365eb983485397e3e3f9d460bdda"
    assert w["uid"] == WORKLOAD_UID
    assert w["role"] == "publisher" and w["expire"] == 3600
    assert "5CFd2fd1755d40ecb72977518be15d3b" not in json.dumps(doc)  # the certificate is never printed


def test_method_states_median_spread_and_rounds(doc):
    m = doc["method"]
    assert m["quick"] is True
    assert m["runs"] >= 5
    assert m["statistic"] == "median" and m["spread"] == "min-max"
    assert m["count"] >= 1 and m["peer_count"] >= 1
    assert "median" in m["description"]


def test_build_info_reports_kernels_and_compression(doc):
    b = doc["build"]
    kernels = dict(_core._active_kernels())
    assert b["kernels"]["sign"] == kernels["sign"]
    assert b["kernels"]["base64"] == kernels["base64"]
    assert b["cpu_features"] == kernels.get("cpu_features", "")
    assert b["compression"] == "fast"
    assert b["mintlane"] == mintlane.__version__
    assert b["threads_all"] >= 1


def test_load_average_is_reported(doc):
    load = doc["load"]
    assert isinstance(load["busy"], bool)
    for k in ("before", "after"):
        assert load[k] is None or len(load[k]) == 3


def test_mintlane_rows_cover_single_batch_and_tolist_on_one_and_all_threads(doc):
    rows = [r for r in doc["results"] if r["impl"] == "mintlane"]
    threads_all = doc["build"]["threads_all"]
    for key in ("single", "batch", "batch+tolist"):
        for t in sorted({1, threads_all}):
            match = [r for r in rows if r["key"] == key and r["threads"] == t]
            assert len(match) == 1, (key, t)
            r = match[0]
            assert "skipped" not in r, r
            assert r["token"] == "007" and r["compression"] == "fast"
            assert r["count"] == doc["method"]["count"]
            assert len(r["runs_tokens_per_s"]) == doc["method"]["runs"]
            check_rate_row(r)
            assert r["cpu_ns_per_token"] > 0
            assert 190 <= r["token_chars"] <= 230  # ~208 chars for the workload token


def test_peer_rows_are_measured_or_say_why_not(doc):
    impls = {r["impl"] for r in doc["results"]}
    assert {"mintlane.compat", "agora-token-builder", "agora-token"} <= impls
    for r in doc["results"]:
        if r["impl"] == "mintlane":
            continue
        if "skipped" in r:
            assert isinstance(r["skipped"], str) and r["skipped"]
        else:
            check_rate_row(r)
            assert r["count"] == doc["method"]["peer_count"]
    compat = next(r for r in doc["results"] if r["impl"] == "mintlane.compat")
    assert "skipped" not in compat  # ships with the package
    assert compat["compression"] == "exact"


def test_ratios_are_medians_of_the_same_run(doc):
    by = {(r["key"], r["threads"]): r for r in doc["results"] if "skipped" not in r}
    names = [q["name"] for q in doc["ratios"]]
    assert len(names) == len(set(names))
    for q in doc["ratios"]:
        assert q["ratio"] > 0
    # The batch-vs-single ratio is recomputable from the rows.
    q = next(q for q in doc["ratios"] if q["name"] == "mintlane batch vs single call (1 thread)")
    want = by[("batch", 1)]["tokens_per_s"]["median"] / by[("single", 1)]["tokens_per_s"]["median"]
    assert q["ratio"] == pytest.approx(want)


def test_targets_name_the_python_goals(doc):
    targets = {t["name"]: t for t in doc["targets"]}
    assert any("2.5 M/s" in n for n in targets)
    assert any("tolist" in n for n in targets)
    for t in targets.values():
        assert t["min_tokens_per_s"] > 0
        assert t["met"] in (True, False)
        assert t["met"] == (t["measured"] >= t["min_tokens_per_s"])


def test_table_output_and_options():
    env = {k: v for k, v in os.environ.items() if k not in ("APP_ID", "APP_CERTIFICATE")}
    p = subprocess.run([sys.executable, "-m", "mintlane", "bench", "--quick", "--no-peers", "--runs", "5",
                        "--count", "600", "--threads", "2", "--compression", "isal"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    for words in ("median of 5", "compression isal", "targets:", "rtc_batch()", "tolist()"):
        assert words in p.stdout, words
    bad = subprocess.run([sys.executable, "-m", "mintlane", "bench", "--runs", "0"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert bad.returncode == 2
    assert "--runs" in bad.stderr and "Traceback" not in bad.stderr
