"""Keeps the app certificate out of TypeError messages raised by the extension.

pybind11 reports a call it cannot match ("incompatible function arguments") with an
"Invoked with: ..." list of every argument, and for the constructors and functions below one
of them is the app certificate. Each is wrapped once, at import, so that such messages keep the
signature hint and drop the argument values.
"""
from __future__ import annotations

import functools
import re
from typing import Any, Callable

from mintlane import _core

_HEX32 = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32}(?![0-9A-Fa-f])")


def redact(text: str) -> str:
    """Drops pybind11's 'Invoked with' argument dump and masks any 32-hex-character run."""
    cut = text.find("Invoked with")
    if cut >= 0:
        text = text[:cut].rstrip() + "\n(argument values not shown: they may include the app certificate)"
    return _HEX32.sub("<32 hex characters>", text)


def _wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    if getattr(fn, "_mintlane_redacting", False):
        return fn

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TypeError as e:
            raise TypeError(redact(str(e))) from None

    wrapper._mintlane_redacting = True  # type: ignore[attr-defined]
    return wrapper


def install() -> None:
    for owner, names in ((_core, ("encode_007", "encode_006", "_verify")),
                         (_core.Minter, ("__init__",)),
                         (getattr(_core, "_PoolVerifier", None), ("__init__",))):
        if owner is None:
            continue
        for name in names:
            setattr(owner, name, _wrap(getattr(owner, name)))
    for cls_name in ("Server", "RequestHandler"):
        cls = getattr(_core, cls_name, None)
        if cls is None:
            continue
        cls.__init__ = _wrap(cls.__init__)
        # from_env is a staticmethod: wrap the function, keep it static.
        cls.from_env = staticmethod(_wrap(cls.from_env))
