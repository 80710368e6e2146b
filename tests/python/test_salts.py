"""Salts come from the CSPRNG, differ per token, and a forked child never reuses its parent's
pre-drawn salts (single mints draw 256 at a time)."""
import os

import mintlane
from conftest import APP_ID, CERT


def test_single_mints_have_distinct_salts():
    m = mintlane.Minter(APP_ID, CERT, threads=1)
    salts = [mintlane.decode(m.rtc("c", i)).salt for i in range(2000)]
    assert len(set(salts)) > 1990


def test_forked_child_does_not_reuse_the_parents_salts():
    m = mintlane.Minter(APP_ID, CERT, threads=1)
    m.rtc("c", 1)  # fills this thread's salt pool
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the next salts must come from a fresh draw
        try:
            salts = [mintlane.decode(m.rtc("c", i)).salt for i in range(50)]
            os.write(w, (",".join(map(str, salts))).encode())
        finally:
            os._exit(0)
    os.close(w)
    child = [int(x) for x in os.read(r, 1 << 16).decode().split(",")]
    os.close(r)
    os.waitpid(pid, 0)
    parent = [mintlane.decode(m.rtc("c", i)).salt for i in range(50)]
    assert len(child) == 50 and not set(child) & set(parent)
