"""Writes seed corpora for the fuzz targets from the golden vectors and acceptance cases.

usage: python3 fuzz/make_corpus.py OUT_DIR
"""
import base64
import hashlib
import json
import pathlib
import sys
import zlib

root = pathlib.Path(__file__).resolve().parent.parent
vec = root / "tests" / "vectors"
out = pathlib.Path(sys.argv[1])


def put(target: str, data: bytes) -> None:
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


tokens = []
for name in ("generated_007.json", "generated_006.json", "reference_known_answers.json"):
    for v in json.loads((vec / name).read_text())["vectors"]:
        tokens.append(v["token"])
        tokens += [e["token"] for e in v.get("equivalent_tokens", [])]
cases = json.loads((vec / "parse_cases.json").read_text())
tokens += [c["token"] for c in cases["cases_007"] + cases["cases_006"]]
for v in json.loads((vec / "generated_npm_services_9_10.json").read_text())["vectors"]:
    tokens.append(v["token_node_zlib"])

for t in tokens:
    if t.startswith("007"):
        put("fuzz_decode007", t.encode())
        try:
            raw = base64.b64decode(t[3:])
            put("fuzz_inflate", raw)
            put("fuzz_inflate", zlib.compress(zlib.decompress(raw), 9))
        except Exception:
            pass
        put("fuzz_base64", t[3:].encode())
    elif t.startswith("006"):
        put("fuzz_decode006", t[3:].encode())
        put("fuzz_base64", t[35:].encode())

requests = [
    "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /rtc/lobby/publisher/uid/42/?expiry=600 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /rtc/lobby/1/userAccount/alice/ HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\r\n",
    "GET /rte/lobby/subscriber/uid/7/bob/?expiry=3600 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /rtm/alice/ HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /chat/app/ HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /chat/account/alice/?expiry=60 HTTP/1.1\r\nHost: x\r\n\r\n",
    "OPTIONS /rtc/a/b/c/d/ HTTP/1.1\r\nHost: x\r\nOrigin: https://other.example\r\n\r\n",
    "GET /rtc/%zz/publisher/uid/1/ HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    'POST /getToken HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 70\r\n\r\n'
    '{"tokenType":"rtc","channel":"lobby","role":"publisher","uid":"42","expire":600}'[:70],
    'POST /getToken HTTP/1.1\r\nHost: x\r\nContent-Length: 46\r\n\r\n{"tokenType":"rtm","uid":"alice","channel":"*"}',
    "GET /rtc/lobby/publisher/uid/42 HTTP/1.1\r\nHost: x\r\n\r\n",
]
for r in requests:
    put("fuzz_server_request", r.encode())
print(f"corpus written to {out}")
