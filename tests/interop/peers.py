"""Drivers for the interop peers (standard library only).

Two long-running peer programs speak the JSON-lines protocol described in
``tests/interop/PROTOCOL.md``:

* :class:`GoPeer`   - ``tests/interop/go`` (AgoraIO-Community/go-tokenbuilder,
  "GoTB"), compiled once into ``build/interop/gopeer``.
* :class:`NodePeer` - ``tests/interop/node/peer.js`` (npm ``agora-token``).

Typical use::

    from peers import install_peers, GoPeer, NodePeer
    install_peers()                     # idempotent; quick when up to date
    with GoPeer() as go, NodePeer() as node:
        r = node.mint("rtc.build_token_with_uid", app_id, cert,
                      {"channel_name": "c", "uid": 1, "role": 1,
                       "token_expire": 600, "privilege_expire": 600},
                      salt=1, issue_ts=1111111)
        go.parse(r["token"], cert)      # -> {"ok": True, ..., "signature_valid": True}

Missing tools raise :class:`PeerUnavailable` with the install command in the
message. Run ``python3 tests/interop/peers.py install`` to prepare everything.
"""

from __future__ import annotations

import collections
import hashlib
import io
import itertools
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

INTEROP_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEROP_DIR.parent.parent
GO_DIR = INTEROP_DIR / "go"
NODE_DIR = INTEROP_DIR / "node"
BUILD_DIR = Path(os.environ.get("MINTLANE_INTEROP_BUILD_DIR", REPO_ROOT / "build" / "interop"))
GO_BINARY = BUILD_DIR / ("gopeer.exe" if os.name == "nt" else "gopeer")
GO_STAMP = BUILD_DIR / "gopeer.stamp"
NODE_STAMP = NODE_DIR / "node_modules" / ".mintlane-interop.stamp"

GO_MODULE = "github.com/AgoraIO-Community/go-tokenbuilder"
NPM_PACKAGE = "agora-token"

DEFAULT_TIMEOUT = 60.0

GO_INSTALL_HINT = (
    "install Go >= 1.21 (https://go.dev/dl/, or `apt-get install golang-go`), make sure `go` is on PATH "
    "and the Go module proxy is reachable, then run `python3 tests/interop/peers.py install`"
)
NODE_INSTALL_HINT = (
    "install Node.js >= 18 with npm (https://nodejs.org/, or `apt-get install nodejs npm`), "
    "then run `python3 tests/interop/peers.py install` (it runs `npm ci` in tests/interop/node)"
)


class PeerUnavailable(RuntimeError):
    """A peer cannot be started: a tool or an installed package is missing."""


class PeerError(RuntimeError):
    """The peer process misbehaved (died, timed out, broke the protocol)."""


# --------------------------------------------------------------------------- install


def _digest(paths: Iterable[Path], extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for p in sorted(paths):
        h.update(p.name.encode() + b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _run(cmd: List[str], cwd: Path, env: Optional[Dict[str, str]] = None, what: str = "") -> str:
    try:
        p = subprocess.run(cmd, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=600)
    except FileNotFoundError as e:
        raise PeerUnavailable(f"{what or cmd[0]}: cannot run {cmd[0]!r} ({e})") from e
    if p.returncode != 0:
        raise PeerUnavailable(
            f"{what or ' '.join(cmd)} failed (exit {p.returncode}) in {cwd}:\n{p.stdout[-2000:]}{p.stderr[-4000:]}"
        )
    return p.stdout


def _go_env() -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GOTOOLCHAIN", "local")
    flags = env.get("GOFLAGS", "")
    if "-mod=" not in flags:
        flags = (flags + " -mod=readonly").strip()
    env["GOFLAGS"] = flags
    return env


def install_go(force: bool = False) -> Path:
    """Build the Go peer into build/interop/gopeer (skipped when up to date)."""
    go = shutil.which("go")
    if go is None:
        if GO_BINARY.exists() and not force:
            return GO_BINARY  # prebuilt binary, no toolchain: use it as is
        raise PeerUnavailable("the Go peer needs the `go` tool, which is not on PATH: " + GO_INSTALL_HINT)
    env = _go_env()
    go_version = _run([go, "env", "GOVERSION"], GO_DIR, env, "go env GOVERSION").strip()
    digest = _digest(list(GO_DIR.glob("*.go")) + [GO_DIR / "go.mod", GO_DIR / "go.sum"], go_version)
    if not force and GO_BINARY.exists() and GO_STAMP.exists() and GO_STAMP.read_text().strip() == digest:
        return GO_BINARY
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    _run([go, "mod", "download"], GO_DIR, env, "go mod download (fetches " + GO_MODULE + ")")
    tmp = GO_BINARY.with_name(GO_BINARY.name + ".tmp")
    _run([go, "build", "-trimpath", "-o", str(tmp), "."], GO_DIR, env, "go build of the Go peer")
    os.replace(tmp, GO_BINARY)
    GO_STAMP.write_text(digest + "\n")
    return GO_BINARY


def _node_installed_version() -> Optional[str]:
    pj = NODE_DIR / "node_modules" / NPM_PACKAGE / "package.json"
    try:
        return json.loads(pj.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def _node_pinned_version() -> str:
    return json.loads((NODE_DIR / "package.json").read_text())["dependencies"][NPM_PACKAGE]


def install_node(force: bool = False) -> Path:
    """Run `npm ci` in tests/interop/node (skipped when up to date)."""
    node = shutil.which("node")
    if node is None:
        raise PeerUnavailable("the Node peer needs `node`, which is not on PATH: " + NODE_INSTALL_HINT)
    digest = _digest([NODE_DIR / "package.json", NODE_DIR / "package-lock.json"])
    if (
        not force
        and _node_installed_version() == _node_pinned_version()
        and NODE_STAMP.exists()
        and NODE_STAMP.read_text().strip() == digest
    ):
        return NODE_DIR
    npm = shutil.which("npm")
    if npm is None:
        raise PeerUnavailable("the Node peer needs `npm` to install agora-token, which is not on PATH: " + NODE_INSTALL_HINT)
    _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], NODE_DIR, None, f"npm ci (installs {NPM_PACKAGE})")
    if _node_installed_version() != _node_pinned_version():
        raise PeerUnavailable(f"npm ci did not install {NPM_PACKAGE} {_node_pinned_version()} in {NODE_DIR}")
    NODE_STAMP.write_text(digest + "\n")
    return NODE_DIR


def install_peers(go: bool = True, node: bool = True, force: bool = False) -> Dict[str, str]:
    """Prepare both peers (go mod download + go build, npm ci). Idempotent.

    Returns {"go": path-or-error, "node": path-or-error}; raises PeerUnavailable
    only if every requested peer failed.
    """
    out: Dict[str, str] = {}
    errors = []
    for name, wanted, fn in (("go", go, install_go), ("node", node, install_node)):
        if not wanted:
            continue
        try:
            out[name] = str(fn(force=force))
        except PeerUnavailable as e:
            out[name] = "unavailable: " + str(e)
            errors.append(str(e))
    if errors and len(errors) == sum(1 for w in (go, node) if w):
        raise PeerUnavailable("\n".join(errors))
    return out


# --------------------------------------------------------------------------- peers


class _JsonLinesPeer:
    name = "peer"

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, auto_install: bool = True):
        self.timeout = timeout
        self._auto_install = auto_install
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._proc: Optional[subprocess.Popen] = None
        self._out: "queue.Queue[Optional[bytes]]" = queue.Queue()
        self._stderr: "collections.deque[str]" = collections.deque(maxlen=200)
        self._start()

    # subclasses
    def _command(self) -> List[str]:  # pragma: no cover
        raise NotImplementedError

    def _cwd(self) -> Path:
        return INTEROP_DIR

    def _start(self) -> None:
        cmd = self._command()
        try:
            self._proc = subprocess.Popen(
                cmd,
                cwd=str(self._cwd()),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
            )
        except OSError as e:
            raise PeerUnavailable(f"cannot start the {self.name} peer {cmd!r}: {e}") from e
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()

    # The pipes are unbuffered (bufsize=0, so that requests go out at once); reading lines from a
    # raw pipe costs one read() per byte, so the pumps read through a BufferedReader.
    def _pump_stdout(self) -> None:
        assert self._proc and self._proc.stdout
        for line in io.BufferedReader(self._proc.stdout, buffer_size=1 << 16):
            self._out.put(line)
        self._out.put(None)

    def _pump_stderr(self) -> None:
        assert self._proc and self._proc.stderr
        for line in io.BufferedReader(self._proc.stderr, buffer_size=1 << 16):
            self._stderr.append(line.decode("utf-8", "replace").rstrip("\n"))

    def stderr_tail(self, n: int = 20) -> str:
        return "\n".join(list(self._stderr)[-n:])

    def _fail(self, msg: str) -> PeerError:
        rc = self._proc.poll() if self._proc else None
        tail = self.stderr_tail()
        return PeerError(f"{self.name} peer: {msg} (exit code {rc}); stderr tail:\n{tail}")

    def _read(self, timeout: float) -> Dict[str, Any]:
        try:
            line = self._out.get(timeout=timeout)
        except queue.Empty:
            raise self._fail(f"no response within {timeout} s") from None
        if line is None:
            self._out.put(None)
            raise self._fail("process closed its output")
        try:
            resp = json.loads(line)
        except ValueError:
            raise self._fail(f"non-JSON output line {line[:200]!r}") from None
        if not isinstance(resp, dict):
            raise self._fail(f"response is not an object: {line[:200]!r}")
        return resp

    def request_many(self, reqs: List[Dict[str, Any]], timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """Send many requests (pipelined) and return the responses in order.

        The driver adds an "id" to each request and removes it from the
        responses (after checking that it matches).
        """
        if not reqs:
            return []
        timeout = self.timeout if timeout is None else timeout
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                raise self._fail("process is not running")
            ids = []
            chunks = []
            for r in reqs:
                rid = next(self._ids)
                ids.append(rid)
                msg = dict(r)
                msg["id"] = rid
                chunks.append(json.dumps(msg, ensure_ascii=True, separators=(",", ":")).encode() + b"\n")
            out: List[Dict[str, Any]] = []
            # stdout is drained by a reader thread, so writing everything first cannot deadlock.
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write(b"".join(chunks))
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError) as e:
                raise self._fail(f"write failed: {e}") from None
            for rid in ids:
                resp = self._read(timeout)
                got = resp.pop("id", None)
                if got != rid:
                    raise self._fail(f"response id {got!r} does not match request id {rid!r}")
                out.append(resp)
            return out

    def request(self, req: Dict[str, Any], timeout: Optional[float] = None) -> Dict[str, Any]:
        return self.request_many([req], timeout)[0]

    # convenience wrappers ---------------------------------------------------

    def version(self) -> Dict[str, Any]:
        return self.request({"op": "version"})

    def capabilities(self) -> Dict[str, Any]:
        return self.request({"op": "capabilities"})

    def parse(self, token: str, certificate: Optional[str] = None) -> Dict[str, Any]:
        req: Dict[str, Any] = {"op": "parse", "token": token}
        if certificate is not None:
            req["certificate"] = certificate
        return self.request(req)

    def mint(
        self, builder: str, app_id: str, certificate: str, args: Dict[str, Any], salt: int, issue_ts: int
    ) -> Dict[str, Any]:
        return self.request(
            {
                "op": "mint",
                "builder": builder,
                "app_id": app_id,
                "certificate": certificate,
                "args": args,
                "salt": salt,
                "issue_ts": issue_ts,
            }
        )

    # lifecycle ----------------------------------------------------------------

    def close(self) -> None:
        p, self._proc = self._proc, None
        if p is None:
            return
        try:
            if p.stdin:
                p.stdin.close()
            p.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            p.kill()
            p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):  # best effort
        try:
            self.close()
        except Exception:
            pass


class GoPeer(_JsonLinesPeer):
    """go-tokenbuilder (GoTB) peer. Builds build/interop/gopeer on first use."""

    name = "go"

    def _command(self) -> List[str]:
        if self._auto_install:
            binary = install_go()
        else:
            binary = GO_BINARY
            if not binary.exists():
                raise PeerUnavailable(f"the Go peer binary {binary} is not built: " + GO_INSTALL_HINT)
        return [str(binary)]

    def mint_006(self, *a, **kw):
        raise PeerUnavailable("GoTB (go-tokenbuilder v1.3.0) has no 006 API")


class NodePeer(_JsonLinesPeer):
    """npm agora-token peer (tests/interop/node/peer.js)."""

    name = "node"

    def _cwd(self) -> Path:
        return NODE_DIR

    def _command(self) -> List[str]:
        node = shutil.which("node")
        if node is None:
            raise PeerUnavailable("the Node peer needs `node`, which is not on PATH: " + NODE_INSTALL_HINT)
        if self._auto_install:
            install_node()
        elif _node_installed_version() != _node_pinned_version():
            raise PeerUnavailable(
                f"npm package {NPM_PACKAGE} {_node_pinned_version()} is not installed in {NODE_DIR}/node_modules: "
                "run `npm ci` there or `python3 tests/interop/peers.py install`"
            )
        return [node, str(NODE_DIR / "peer.js")]

    def parse_006(
        self,
        token: str,
        certificate: Optional[str] = None,
        channel_name: Optional[str] = None,
        uid: Optional[Any] = None,
    ) -> Dict[str, Any]:
        req: Dict[str, Any] = {"op": "parse_006", "token": token}
        for k, v in (("certificate", certificate), ("channel_name", channel_name), ("uid", uid)):
            if v is not None:
                req[k] = v
        return self.request(req)

    def mint_006(
        self, builder: str, app_id: str, certificate: str, args: Dict[str, Any], salt: int, now: int
    ) -> Dict[str, Any]:
        return self.request(
            {
                "op": "mint_006",
                "builder": builder,
                "app_id": app_id,
                "certificate": certificate,
                "args": args,
                "salt": salt,
                "issue_ts": now,
            }
        )


def start_available_peers(**kw) -> Dict[str, _JsonLinesPeer]:
    """Start every peer that can start; returns {"go": GoPeer, "node": NodePeer} (subset)."""
    peers: Dict[str, _JsonLinesPeer] = {}
    for name, cls in (("go", GoPeer), ("node", NodePeer)):
        try:
            peers[name] = cls(**kw)
        except PeerUnavailable:
            pass
    return peers


def _main(argv: List[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else "install"
    if cmd == "install":
        res = install_peers(force="--force" in argv)
        for k, v in res.items():
            print(f"{k}: {v}")
        for name, cls in (("go", GoPeer), ("node", NodePeer)):
            if res.get(name, "").startswith("unavailable"):
                continue
            with cls() as p:
                print(f"{name}: {json.dumps(p.version())}")
        return 0
    print("usage: peers.py install [--force]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
