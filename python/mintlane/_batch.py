"""TokenBatch.write: pools to files in plain lines, CSV, JSONL or a JSON array, gzip by suffix."""
from __future__ import annotations

import gzip
import io
import json
import os
from typing import IO, Optional, Union

from mintlane import _core

FORMATS = ("lines", "csv", "jsonl", "json")
PathOrFile = Union[str, "os.PathLike[str]", IO[bytes], IO[str]]


def _guess_format(name: str) -> str:
    base = name[:-3] if name.endswith(".gz") else name
    for ext, fmt in ((".csv", "csv"), (".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "json")):
        if base.endswith(ext):
            return fmt
    return "lines"


def _render(batch: "_core.TokenBatch", fmt: str) -> bytes:
    if fmt == "lines":
        return batch.tobytes()
    tokens = batch.tolist()
    if fmt == "csv":
        return ("index,token\n" + "".join(f"{i},{t}\n" for i, t in enumerate(tokens))).encode("ascii")
    if fmt == "jsonl":
        return "".join(f'{{"index":{i},"token":"{t}"}}\n' for i, t in enumerate(tokens)).encode("ascii")
    return (json.dumps(tokens) + "\n").encode("ascii")


def write(self: "_core.TokenBatch", path_or_file: PathOrFile, format: Optional[str] = None,
          *, compress: Optional[bool] = None) -> int:
    """Writes the batch and returns the number of bytes written (before compression).

    ``format``: ``"lines"`` (one token per line), ``"csv"`` (index,token), ``"jsonl"`` or ``"json"``
    (an array, k6-friendly); guessed from the file name when omitted. A path ending in ``.gz``
    (or ``compress=True``) is gzip-compressed. A path is written to a temporary name and
    renamed when complete, so an interrupted write never leaves a file that looks finished.
    """
    name = os.fspath(path_or_file) if isinstance(path_or_file, (str, os.PathLike)) else getattr(path_or_file, "name", "")
    name = name if isinstance(name, str) else ""
    fmt = format or _guess_format(name)
    if fmt not in FORMATS:
        raise _core.InvalidArgumentError(f"format: unknown format {fmt!r} (use one of {', '.join(FORMATS)})")
    gz = compress if compress is not None else name.endswith(".gz")
    data = _render(self, fmt)
    payload = gzip.compress(data, compresslevel=6) if gz else data
    if isinstance(path_or_file, (str, os.PathLike)):
        path = os.fspath(path_or_file)
        tmp = f"{path}.tmp-{os.getpid()}"
        try:
            with open(tmp, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException as e:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            if isinstance(e, OSError) and e.errno is not None:
                raise OSError(e.errno, e.strerror, path) from None  # name the file, not the temp name
            raise
    elif isinstance(path_or_file, io.TextIOBase):
        if gz:
            raise _core.InvalidArgumentError("compress: gzip output needs a binary file")
        path_or_file.write(data.decode("ascii"))
    else:
        path_or_file.write(payload)  # type: ignore[arg-type]
    return len(data)


def install_batch_methods() -> None:
    _core.TokenBatch.write = write  # type: ignore[attr-defined]
