"""The `mintlane` command: mint, decode, verify, demo, serve, bench, bulk, verify-pool.

Every error is one line on stderr and exit status 2 (1 for a well-formed token that fails
verification); never a traceback. The app certificate is read from --app-certificate,
--app-certificate-file or $APP_CERTIFICATE and never printed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from typing import Any, Callable, Dict, List, NoReturn, Optional, Sequence

# Demo-only credentials: the public test fixture of Agora's reference builders. Tokens minted
# with them are accepted by no real Agora project.
DEMO_APP_ID = "970CA35de60c44645bbae8a215061b33"
DEMO_APP_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"


_HEX32 = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32}(?![0-9A-Fa-f])")


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not the usage block
        # argparse quotes the offending value; a certificate typed in the wrong place must not
        # be echoed, so every 32-hex-character run is masked.
        message = _HEX32.sub("<32 hex characters>", message)
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _credentials(args: argparse.Namespace, *, demo_ok: bool = False) -> tuple:
    app_id = args.app_id or os.environ.get("APP_ID", "")
    cert = getattr(args, "app_certificate", None)
    cert_file = getattr(args, "app_certificate_file", None)
    if cert_file:
        try:
            with open(cert_file, encoding="ascii") as f:
                cert = f.read().strip()
        except (OSError, UnicodeDecodeError) as e:
            raise CliError(f"--app-certificate-file: cannot read {cert_file}: {getattr(e, 'strerror', None) or 'not ASCII text'}")
        if not cert:
            raise CliError(f"--app-certificate-file: {cert_file} is empty (it must hold the 32-hex-character certificate)")
    cert = cert or os.environ.get("APP_CERTIFICATE", "")
    if not app_id and not cert and demo_ok:
        return DEMO_APP_ID, DEMO_APP_CERTIFICATE, True
    if not app_id:
        raise CliError("app id missing: pass --app-id or set APP_ID")
    if not cert:
        raise CliError("app certificate missing: pass --app-certificate(-file) or set APP_CERTIFICATE")
    return app_id, cert, False


def _add_credentials(p: argparse.ArgumentParser, certificate: bool = True) -> None:
    p.add_argument("--app-id", help="32 hex characters (default: $APP_ID)")
    if certificate:
        p.add_argument("--app-certificate", help="32 hex characters (default: $APP_CERTIFICATE)")
        p.add_argument("--app-certificate-file", help="read the certificate from this file")


# ---- mint ------------------------------------------------------------------------------
def _parse_permission(text: str) -> tuple:
    # "resource_type:permission_type:res1,res2" with names or numbers
    names = {"message_channels": 0, "stream_channels": 1, "group_channels": 2, "server_groups": 3, "users": 4,
             "read": 0, "write": 1}
    parts = text.split(":", 2)
    if len(parts) != 3:
        raise CliError(f"--permission: {text!r} is not RESOURCE_TYPE:PERMISSION:RES1,RES2 (e.g. message_channels:read:lobby)")
    def num(s: str) -> int:
        if s in names:
            return names[s]
        if s.isdigit():
            return int(s)
        raise CliError(f"--permission: unknown type {s!r}")
    return num(parts[0]), num(parts[1]), [r for r in parts[2].split(",") if r]


MINT_TYPES = ["rtc", "rtc-privileges", "rtc-rtm", "rtc-rtm2", "rtm", "rtm2", "chat-user", "chat-app",
              "apaas-room-user", "apaas-user", "apaas-app", "education-room-user", "education-user",
              "education-app", "fpa", "convoai", "stt", "rtc-006", "rtm-006"]


def _need(args: argparse.Namespace, *names: str) -> None:
    for n in names:
        if getattr(args, n) is None:
            raise CliError(f"mint {args.type}: --{n.replace('_', '-')} is required")


def _cmd_mint(args: argparse.Namespace) -> int:
    import mintlane

    app_id, cert, _ = _credentials(args)
    m = mintlane.Minter(app_id, cert, compression=args.compression, threads=1)
    common = {"salt": args.salt, "issue_ts": args.issue_ts}
    t = args.type
    priv = dict(join_channel=args.join_channel, publish_audio=args.publish_audio,
                publish_video=args.publish_video, publish_data=args.publish_data)
    if t in ("rtc", "rtc-privileges", "rtc-006"):
        _need(args, "channel")
        if args.uid is not None and args.account is not None:
            raise CliError(f"mint {t}: give --uid or --account, not both")
        if t == "rtc":
            token = m.rtc(args.channel, args.uid, account=args.account, role=args.role, expire=args.expire,
                          privilege_expire=args.privilege_expire, **common)
        elif t == "rtc-privileges":
            token = m.rtc_with_privileges(args.channel, args.uid, account=args.account, expire=args.expire,
                                          **priv, **common)
        else:
            token = m.rtc_006(args.channel, args.uid, account=args.account, role=args.role, expire=args.expire,
                              salt=args.salt, now=args.issue_ts)
    elif t == "rtc-rtm":
        _need(args, "channel", "account")
        token = m.rtc_rtm(args.channel, args.account, role=args.role, expire=args.expire,
                          privilege_expire=args.privilege_expire, **common)
    elif t in ("rtc-rtm2", "convoai", "stt"):
        _need(args, "channel", "rtm_user_id")
        rtc_account = args.account if args.account is not None else ("" if args.uid in (None, 0) else str(args.uid))
        fn = {"rtc-rtm2": m.rtc_rtm2, "convoai": m.convoai, "stt": m.stt}[t]
        token = fn(args.channel, rtc_account, args.rtm_user_id, role=args.role, rtc_expire=args.expire,
                   rtm_expire=args.rtm_expire, **priv, **common)
    elif t in ("rtm", "rtm-006"):
        _need(args, "user_id")
        token = (m.rtm(args.user_id, expire=args.expire, **common) if t == "rtm"
                 else m.rtm_006(args.user_id, expire=args.expire, salt=args.salt, now=args.issue_ts))
    elif t == "rtm2":
        _need(args, "user_id")
        perms = [_parse_permission(p) for p in args.permission or []]
        token = m.rtm2(args.user_id, perms, expire=args.expire, **common)
    elif t == "chat-user":
        _need(args, "user_id")
        token = m.chat_user(args.user_id, expire=args.expire, **common)
    elif t == "chat-app":
        token = m.chat_app(expire=args.expire, **common)
    elif t in ("apaas-room-user", "education-room-user"):
        _need(args, "room_uuid", "user_uuid", "apaas_role")
        token = m.apaas_room_user(args.room_uuid, args.user_uuid, args.apaas_role, expire=args.expire, **common)
    elif t in ("apaas-user", "education-user"):
        _need(args, "user_uuid")
        token = m.apaas_user(args.user_uuid, expire=args.expire, **common)
    elif t in ("apaas-app", "education-app"):
        token = m.apaas_app(expire=args.expire, **common)
    else:  # fpa
        token = m.fpa(**common)
    if args.json:
        print(json.dumps({"token": token, **mintlane.decode(token).to_dict()}))
    else:
        print(token)
    return 0


# ---- decode / verify ------------------------------------------------------------------------
def _read_token(arg: str) -> str:
    if arg == "-":
        return sys.stdin.read().strip()
    return arg.strip()


def _human(d: Dict[str, Any]) -> str:
    lines = [f"version     {d['version']}", f"app_id      {d['app_id']}"]
    if d["version"] == "007":
        lines += [f"issue_ts    {d['issue_ts']}  ({_iso(d['issue_ts'])})",
                  f"expire      {d['expire']} s  (expires {_iso(d['expires_at'])})",
                  f"salt        {d['salt']}", f"signature   {d['signature']}",
                  f"services    {len(d['services'])} of {d['services_declared']} declared"]
        for s in d["services"]:
            fields = ", ".join(f"{k}={v!r}" for k, v in s.items() if k not in ("type", "name", "privileges"))
            privs = ", ".join(f"{pid}→{val}" for pid, val in s["privileges"])
            lines.append(f"  [{s['type']}] {s['name']}: {fields}  privileges {{{privs}}}")
        if d.get("unknown_service_type") is not None:
            lines.append(f"  (parsing stopped at unknown service type {d['unknown_service_type']})")
    else:
        lines += [f"ts          {d['ts']}  ({_iso(d['ts'])})", f"salt        {d['salt']}",
                  f"crc_channel {d['crc_channel']}", f"crc_uid     {d['crc_uid']}",
                  "privileges  " + ", ".join(f"{k}→{v}" for k, v in d["privileges"].items()),
                  f"signature   {d['signature']}"]
    return "\n".join(lines)


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _cmd_decode(args: argparse.Namespace) -> int:
    import mintlane

    d = mintlane.decode(_read_token(args.token)).to_dict()
    print(json.dumps(d) if args.json else _human(d))
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    import mintlane

    token = _read_token(args.token)
    _, cert, _ = _credentials(argparse.Namespace(app_id="-", app_certificate=args.app_certificate,
                                                 app_certificate_file=args.app_certificate_file))
    now = args.now if args.now is not None else (None if args.no_expiry else int(time.time()))
    r = mintlane.verify(token, cert, now=now, channel=args.channel, uid=args.uid, account=args.account,
                        privilege=args.privilege)
    if r.status == "missing_privilege" and r.reason.startswith("unknown privilege name"):
        raise CliError(f"--privilege: {r.reason} (e.g. join_channel, publish_audio, publish_video, publish_data, "
                       "rtm.login, chat.user)")
    if r.status == "malformed" or r.status == "bad_certificate":
        raise CliError(r.reason)
    if args.json:
        print(json.dumps({"ok": r.ok, "status": r.status, "reason": r.reason}))
    else:
        print("valid" if r.ok else f"invalid: {r.status}: {r.reason}")
    return 0 if r.ok else 1


# ---- demo (the README's main job) -----------------------------------------------------
def _cmd_demo(args: argparse.Namespace) -> int:
    import mintlane

    if args.count < 1:
        raise CliError(f"--count: must be at least 1, got {args.count}")
    app_id, cert, demo = _credentials(args, demo_ok=True)
    if demo:
        print("NOTE: using the built-in DEMO credentials (Agora's public test fixture); these tokens are "
              "for trying mintlane only. Set APP_ID and APP_CERTIFICATE for real tokens.")
    m = mintlane.Minter(app_id, cert)
    n = args.count
    t0 = time.perf_counter()
    batch = m.rtc_batch(channel=args.channel, uids=range(1, n + 1), role="publisher", expire=args.expire)
    dt = time.perf_counter() - t0
    first = batch[0]
    ok = mintlane.verify(first, cert, channel=args.channel, uid=1)
    print(f"minted {len(batch):,} RTC publisher tokens for channel {args.channel!r} (uids 1..{n}, "
          f"expire {args.expire} s) on {m.threads} threads in {dt * 1000:.1f} ms: {len(batch) / dt:,.0f} tokens/s")
    print(f"first token ({len(first)} chars, verifies: {ok.ok}): {first}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mintlane", description="Mint, decode and verify Agora access tokens; serve them; build pools.")
    p.add_argument("--version", action="version", version=f"mintlane {_version()}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    sub.required = True

    mp = sub.add_parser("mint", help="mint one token of any type")
    mp.add_argument("type", choices=MINT_TYPES, metavar="TYPE", help=", ".join(MINT_TYPES))
    _add_credentials(mp)
    mp.add_argument("--channel")
    mp.add_argument("--uid", type=int)
    mp.add_argument("--account")
    mp.add_argument("--user-id")
    mp.add_argument("--rtm-user-id")
    mp.add_argument("--room-uuid")
    mp.add_argument("--user-uuid")
    mp.add_argument("--apaas-role", type=int)
    mp.add_argument("--role", default="publisher", help="publisher/1 or subscriber/2")
    mp.add_argument("--expire", type=int, default=3600, help="seconds from now, 1..86400 (default 3600)")
    mp.add_argument("--privilege-expire", type=int)
    mp.add_argument("--rtm-expire", type=int)
    for name in ("join-channel", "publish-audio", "publish-video", "publish-data"):
        mp.add_argument(f"--{name}", type=int, help="privilege expiry in seconds")
    mp.add_argument("--permission", action="append", help="RTM2: RESOURCE_TYPE:PERMISSION:RES1,RES2 (repeatable)")
    mp.add_argument("--salt", type=int)
    mp.add_argument("--issue-ts", type=int)
    mp.add_argument("--compression", default="fast", choices=["fast", "isal", "exact"])
    mp.add_argument("--json", action="store_true", help="print the token and its decoded fields as JSON")
    mp.set_defaults(func=_cmd_mint)

    dp = sub.add_parser("decode", help="print every field of a token ('-' reads stdin)")
    dp.add_argument("token")
    dp.add_argument("--json", action="store_true")
    dp.set_defaults(func=_cmd_decode)

    vp = sub.add_parser("verify", help="check a token's signature, expiry, channel, user and privilege")
    vp.add_argument("token")
    vp.add_argument("--app-certificate")
    vp.add_argument("--app-certificate-file")
    vp.add_argument("--channel")
    vp.add_argument("--uid", type=int)
    vp.add_argument("--account")
    vp.add_argument("--privilege", help="e.g. join_channel, publish_audio, rtm.login")
    vp.add_argument("--now", type=int, help="Unix time to check expiry against (default: now)")
    vp.add_argument("--no-expiry", action="store_true", help="do not check expiry")
    vp.add_argument("--json", action="store_true")
    vp.set_defaults(func=_cmd_verify)

    demo = sub.add_parser("demo", help="mint tokens for a sample event and print the rate")
    _add_credentials(demo)
    demo.add_argument("--channel", default="demo-event")
    demo.add_argument("--count", type=int, default=100_000)
    demo.add_argument("--expire", type=int, default=3600)
    demo.set_defaults(func=_cmd_demo)

    for name, module, helptext in (("serve", "mintlane.serve", "run the token server"),
                                   ("bench", "mintlane.bench", "measure tokens/s, side by side with peers"),
                                   ("bulk", "mintlane.bulk", "mint a token pool to CSV/JSONL/k6/vegeta"),
                                   ("verify-pool", "mintlane.verify_pool", "check every token of a pool file")):
        _add_optional_command(sub, name, module, helptext)
    return p


def _add_optional_command(sub: Any, name: str, module: str, helptext: str) -> None:
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError:
        return
    sp = sub.add_parser(name, help=helptext)
    mod.add_arguments(sp)
    sp.set_defaults(func=mod.run)


def _version() -> str:
    try:
        from mintlane import __version__
        return __version__
    except ImportError:  # pragma: no cover
        return "unknown"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CliError as e:
        sys.stderr.write(f"mintlane: error: {e}\n")
        return 2
    except (ValueError, TypeError, OverflowError) as e:
        # mintlane's errors are ValueErrors whose messages never contain the certificate.
        sys.stderr.write(f"mintlane: error: {str(e).splitlines()[0] if str(e) else type(e).__name__}\n")
        return 2
    except OSError as e:
        sys.stderr.write(f"mintlane: error: {e.strerror or e}{': ' + e.filename if getattr(e, 'filename', None) else ''}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("mintlane: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
