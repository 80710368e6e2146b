"""The shipped type stubs match the extension (STYLE.md §8: stubs drift, so stubtest runs)."""
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).parent


def test_stubtest_core():
    p = subprocess.run([sys.executable, "-m", "mypy.stubtest", "mintlane._core", "--allowlist",
                        str(HERE / "stubtest_allowlist.txt")], capture_output=True, text=True, timeout=300,
                       cwd="/")
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]


def test_package_is_typed():
    import mintlane
    root = pathlib.Path(mintlane.__file__).parent
    assert (root / "py.typed").exists() and (root / "_core.pyi").exists()
