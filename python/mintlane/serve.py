"""`mintlane serve`: the native token server (spec/TOKEN_SERVER.md routes, deviations D1-D10).

Configuration follows the community token service: APP_ID, APP_CERTIFICATE, SERVER_PORT (then
PORT, then 8080), CORS_ALLOW_ORIGIN, from the environment over a `.env` file in the working
directory; MINTLANE_AUTH_TOKEN adds a bearer-token gate. Command-line options win over both.

Malformed or missing credentials: one line on stderr, exit status 2, nothing listens (D8).
SIGTERM / SIGINT: stop accepting, finish the requests in flight, exit 0 (D10).
"""
from __future__ import annotations

import argparse
import signal
import sys
from typing import Any, Optional

__all__ = ["add_arguments", "run"]


class _StopRequested(BaseException):
    """Raised by the signal handler inside Server.wait() (BaseException: not caught by accident)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="0.0.0.0",
                        help="address to bind (default 0.0.0.0; '::' binds IPv6 and IPv4)")
    parser.add_argument("--port", type=int, default=None,
                        help="TCP port (default: $SERVER_PORT, then $PORT, then 8080; 0 = any free port)")
    parser.add_argument("--threads", type=int, default=0,
                        help="server threads, one io_context each (default: one per core)")
    parser.add_argument("--env-file", default=".env",
                        help="KEY=value file read before the environment, which wins (default: .env; '' = none)")
    parser.add_argument("--access-log", nargs="?", const="-", default=None, metavar="PATH",
                        help="write one JSON line per request to PATH (default when given: stderr)")
    parser.add_argument("--cors-allow-origin", default=None, metavar="ORIGINS",
                        help="'*' or a comma-separated list of origins (default: $CORS_ALLOW_ORIGIN)")
    parser.add_argument("--shutdown-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="on SIGTERM/SIGINT, how long requests in flight may take to finish (default 10)")
    parser.add_argument("--header-read-timeout", type=float, default=None, metavar="SECONDS",
                        help="a request's headers must arrive within this time of its first byte (default 10)")
    parser.add_argument("--idle-timeout", type=float, default=None, metavar="SECONDS",
                        help="close keep-alive connections idle this long (default 60)")
    parser.add_argument("--max-connections", type=int, default=None,
                        help="connections beyond this get 503 (default 10000)")


def _error(message: str) -> int:
    sys.stderr.write(f"mintlane serve: error: {message}\n")
    sys.stderr.flush()
    return 2


def run(args: argparse.Namespace) -> int:
    from mintlane import _core

    if args.port is not None and not 0 <= args.port <= 65535:
        return _error("--port must be in 0..65535")
    if args.threads is not None and not 0 <= args.threads <= 1024:
        return _error("--threads must be in 0..1024 (0 = one per core)")
    if not args.shutdown_timeout >= 0:
        return _error("--shutdown-timeout must be >= 0")
    kwargs: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "threads": args.threads,
        "cors_allow_origin": args.cors_allow_origin,
        "header_read_timeout": args.header_read_timeout,
        "idle_timeout": args.idle_timeout,
        "max_connections": args.max_connections,
    }
    if args.access_log is not None:
        kwargs["access_log"] = True
        kwargs["access_log_path"] = args.access_log
    try:
        server = _core.Server.from_env(args.env_file or "", None, **kwargs)
    except ValueError as e:  # ServerConfigError, InvalidCredentialsError: never the certificate
        return _error(str(e))

    received: list = []

    def on_signal(signum: int, frame: Optional[object]) -> None:
        if not received:  # only the first signal interrupts; later ones wait for the drain
            received.append(signum)
            raise _StopRequested(signum)

    signals = (signal.SIGTERM, signal.SIGINT)
    reason = "stopped"
    try:
        for sig in signals:
            signal.signal(sig, on_signal)
        try:
            server.start()
        except OSError as e:
            return _error(str(e.strerror or e))
        sys.stderr.write(f"mintlane serve: listening on http://{_display_host(server.host)}:{server.port} "
                         f"({server.threads} threads)\n")
        sys.stderr.flush()
        server.wait()  # runs Python signal handlers every 50 ms; the GIL is free otherwise
    except _StopRequested as stop:
        reason = signal.Signals(stop.args[0]).name
    except KeyboardInterrupt:  # SIGINT before our handler was installed
        reason = "SIGINT"
    finally:
        for sig in signals:
            signal.signal(sig, signal.SIG_IGN)
    forced = server.stop(timeout=args.shutdown_timeout)
    note = f", {forced} connection(s) closed at the timeout" if forced else ""
    sys.stderr.write(f"mintlane serve: {reason}: drained and stopped{note}\n")
    sys.stderr.flush()
    return 0


def _display_host(host: str) -> str:
    if host in ("", "::"):
        return "[::]"
    return f"[{host}]" if ":" in host else host
