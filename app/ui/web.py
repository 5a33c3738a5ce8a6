"""Serving the station as a web app on this machine, with nothing fetched from the internet.

Flet's web client (the ``flet-web`` package) ships CanvasKit, skwasm and the Roboto font, and
``no_cdn=True`` points Flutter at those local copies. One thing still reaches out: the compiled
client injects a ``<script>`` for the Rive animation runtime from cdn.jsdelivr.net at start-up,
whatever the app uses. A station on a closed warehouse network must not depend on that (and must
not leak its presence), so every HTML page we serve carries a small guard that rewrites a script
from another origin to a local stub in ``assets/offline/``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from app.tls import TlsFiles

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"

# Runs before Flutter's bootstrap: a script whose src leaves this origin loads the stub of the
# same file name from /offline/ instead (a missing stub is a 404 on loopback, never the internet).
OFFLINE_GUARD = """<script>
(function () {
  var desc = Object.getOwnPropertyDescriptor(HTMLScriptElement.prototype, "src");
  Object.defineProperty(HTMLScriptElement.prototype, "src", {
    configurable: true,
    get: function () { return desc.get.call(this); },
    set: function (value) {
      var url = new URL(String(value), document.baseURI);
      if (url.origin !== window.location.origin) {
        value = new URL("offline/" + url.pathname.split("/").pop(), document.baseURI).href;
      }
      desc.set.call(this, value);
    }
  });
})();
</script>
"""

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class OfflineGuard:
    """ASGI middleware: inserts :data:`OFFLINE_GUARD` at the top of every HTML response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if not headers.get(b"content-type", b"").startswith(b"text/html"):
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            html = b"".join(body).replace(b"<head>", b"<head>\n" + OFFLINE_GUARD.encode(), 1)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(html)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": html})

        await self.app(scope, receive, capture)


CA_PATH = "/station-ca.crt"


class CaDownload:
    """ASGI middleware: serves the station's CA certificate at :data:`CA_PATH`, so a handheld can
    fetch it from the station to trust it (README: "Trust the station on handhelds")."""

    def __init__(self, app: ASGIApp, ca_cert: Path) -> None:
        self.app = app
        self.ca_cert = ca_cert

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != CA_PATH:
            await self.app(scope, receive, send)
            return
        body = self.ca_cert.read_bytes()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/x-x509-ca-cert"),
                    (b"content-disposition", b'attachment; filename="station-ca.crt"'),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def web_app(
    main: Callable[[Any], Any], *, assets_dir: Path = ASSETS_DIR, ca_cert: Path | None = None
) -> ASGIApp:
    """The station's ASGI app: Flet's web client and session server, guarded to stay local; with
    ``ca_cert``, the station's CA certificate is offered at :data:`CA_PATH`."""
    import flet as ft

    flet_app = ft.run(main, export_asgi_app=True, no_cdn=True, assets_dir=str(assets_dir))
    app: ASGIApp = OfflineGuard(flet_app)
    return CaDownload(app, ca_cert) if ca_cert is not None else app


def _uvicorn_config(app: ASGIApp, host: str, port: int, tls: TlsFiles | None) -> Any:
    import uvicorn

    ssl: dict[str, str] = {}
    if tls is not None:
        ssl = {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key)}
    return uvicorn.Config(app, host=host, port=port, log_level="warning", ws="websockets-sansio", **ssl)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class WebServer:
    """The web app served by uvicorn on a background thread; for tests and ``station demo``."""

    def __init__(
        self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, tls: TlsFiles | None = None
    ) -> None:
        import uvicorn

        self.host = host
        self.port = port or free_port(host)
        self.tls = tls
        self._server = uvicorn.Server(_uvicorn_config(app, host, self.port, tls))
        self._thread = threading.Thread(target=self._server.run, name="station-web", daemon=True)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/"

    def start(self, timeout: float = 20.0) -> WebServer:
        """Start serving; return once the port accepts connections (RuntimeError if it never does)."""
        self._thread.start()
        for _ in range(int(timeout / 0.05)):
            if self._server.started:
                return self
            if not self._thread.is_alive():
                break
            threading.Event().wait(0.05)
        raise RuntimeError(f"the station web server did not start on {self.host}:{self.port}")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def serve_forever(app: ASGIApp, *, host: str, port: int, tls: TlsFiles | None = None) -> None:
    """Serve in the foreground until Ctrl-C (HTTPS and WSS with ``tls``)."""
    import uvicorn

    asyncio.run(uvicorn.Server(_uvicorn_config(app, host, port, tls)).serve())
