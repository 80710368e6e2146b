"""Shared interop fixtures: each official peer is built, started once per test session and
shared by every module (starting the Go and Node peers costs seconds). With
MINTLANE_REQUIRE_INTEROP=1 (CI) a missing toolchain or package is a failure, not a skip."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402

REQUIRE = os.environ.get("MINTLANE_REQUIRE_INTEROP") == "1"


def start_peer(cls):
    try:
        peers.install_peers(go=cls is peers.GoPeer, node=cls is peers.NodePeer)
        return cls()
    except peers.PeerUnavailable as e:
        msg = f"{cls.__name__} unavailable: {e}"
        if REQUIRE:
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="session")
def go():
    p = start_peer(peers.GoPeer)
    yield p
    p.close()


@pytest.fixture(scope="session")
def node():
    p = start_peer(peers.NodePeer)
    yield p
    p.close()
