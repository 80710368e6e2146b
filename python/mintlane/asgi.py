"""mintlane.asgi: the token server's routes as an ASGI application.

For backends that serve the token endpoints from their own FastAPI / Starlette app:

    from fastapi import FastAPI
    from mintlane.asgi import create_app

    app = FastAPI()
    app.mount("/agora", create_app())          # APP_ID / APP_CERTIFICATE from the environment

Every request goes through the engine's RequestHandler: the same router, parameter rules (D1-D9),
CORS filter, auth gate and responses as `mintlane serve`, byte for byte. Minting takes about a
microsecond, so the handler runs directly on the event loop.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, List, MutableMapping, Optional, Tuple

__all__ = ["create_app", "TokenServerApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_HOP_BY_HOP = {"connection", "date"}


def create_app(app_id: Optional[str] = None, app_certificate: Optional[str] = None, *,
               cors_allow_origin: Optional[str] = None, auth_token: Optional[str] = None,
               body_limit: int = 64 * 1024, env_file: str = ".env") -> "TokenServerApp":
    """Returns the ASGI app.

    With no credentials, APP_ID / APP_CERTIFICATE (and CORS_ALLOW_ORIGIN, MINTLANE_AUTH_TOKEN when
    not given here) come from the environment over `env_file`, as for `mintlane serve`.
    Raises ValueError (naming the variable, never showing the certificate) on bad configuration.
    """
    from mintlane import _core

    if app_id is None and app_certificate is None:
        handler = _core.RequestHandler.from_env(env_file, None, cors_allow_origin=cors_allow_origin,
                                                auth_token=auth_token)
    elif app_id is None or app_certificate is None:
        raise ValueError("create_app: pass both app_id and app_certificate, or neither "
                         "(then APP_ID and APP_CERTIFICATE are read from the environment)")
    else:
        handler = _core.RequestHandler(app_id, app_certificate, cors_allow_origin=cors_allow_origin,
                                       auth_token=auth_token, body_limit=body_limit)
    return TokenServerApp(handler, body_limit=body_limit)


class TokenServerApp:
    """ASGI 3 application over a `mintlane._core.RequestHandler`."""

    def __init__(self, handler: Any, *, body_limit: int = 64 * 1024) -> None:
        self.handler = handler
        self.body_limit = body_limit

    def __repr__(self) -> str:
        return "<mintlane.asgi.TokenServerApp>"

    def metrics(self) -> str:
        return self.handler.metrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        root_path: str = scope.get("root_path", "") or ""
        raw_path: Optional[bytes] = scope.get("raw_path")
        if raw_path is None:
            from urllib.parse import quote

            raw_path = quote(scope["path"], safe="/:@!$&'()*+,;=-._~").encode("ascii")
        root = root_path.encode("utf-8")
        if root and raw_path.startswith(root):  # mounted under a prefix
            raw_path = raw_path[len(root):] or b"/"
        query: bytes = scope.get("query_string", b"") or b""
        target = raw_path + (b"?" + query if query else b"")

        origin: Optional[bytes] = None
        authorization: Optional[bytes] = None
        for name, value in scope.get("headers", ()):
            if name == b"origin" and origin is None:
                origin = value
            elif name == b"authorization" and authorization is None:
                authorization = value

        # Read the body, stopping as soon as it is over the limit (the handler answers 413).
        chunks: List[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            if chunk:
                chunks.append(chunk)
                size += len(chunk)
                if size > self.body_limit:
                    break
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)

        status, headers, content = self.handler.handle(scope["method"], target, origin, authorization, body)
        out: List[Tuple[bytes, bytes]] = []
        for name, value in headers:
            lname = name.lower()
            if lname in _HOP_BY_HOP:
                continue
            if lname == "location" and root_path and value.startswith("/"):
                value = root_path + value
            out.append((lname.encode("latin-1"), value.encode("latin-1")))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": content})

