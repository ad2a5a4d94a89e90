"""textual-serve's server as `assistant serve` runs it.

Three things differ from textual-serve's own: the gate (serve_guard) stands in front
of every route, the WebSocket included; each tab's app is a `ServedApp` (serve_apps),
ended with its tab and when `serve` stops; and the page loads nothing from another
host (textual-serve's links its font from Google: here the same font, which
textual-serve ships, comes from this server)."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from aiohttp import web
from aiohttp.web_runner import GracefulExit
from textual_serve.server import Server, to_int

from assistant.cli.serve_apps import ServedApp
from assistant.cli.serve_guard import Gate

log = logging.getLogger("textual-serve")

# textual-serve's page asks Google for Roboto Mono; its static files hold the font.
_REMOTE_FONT = re.compile(r"<link\b[^>]*\bhref=\"https://fonts\.googleapis\.com/[^\"]*\"[^>]*>", re.DOTALL)
_FONT = "/static/fonts/RobotoMono-VariableFont_wght.ttf"
_ITALIC = "/static/fonts/RobotoMono-Italic-VariableFont_wght.ttf"
LOCAL_FONT = f"""<link rel="preload" href="{_FONT}" as="font" type="font/ttf" crossorigin />
    <style>
      @font-face {{ font-family: "Roboto Mono"; src: url("{_FONT}") format("truetype");
                   font-weight: 100 700; font-style: normal; }}
      @font-face {{ font-family: "Roboto Mono"; src: url("{_ITALIC}") format("truetype");
                   font-weight: 100 700; font-style: italic; }}
    </style>"""


def with_local_font(page: str) -> str:
    """textual-serve's page with its font link pointed at this server."""
    return _REMOTE_FONT.sub(lambda _: LOCAL_FONT, page)


class AssistantServer(Server):
    """textual-serve's server with the gate in front, its apps ended, its page local.

    The app processes get no token: it lives in this process only, never in their
    environment."""

    def __init__(self, command: str, gate: Gate, title: str) -> None:
        super().__init__(command, host=gate.host, port=gate.port, title=title, public_url=gate.origin)
        self.gate = gate
        self.apps: set[ServedApp] = set()
        self._exiting = False

    async def handle_index(self, request: web.Request) -> Any:  # noqa: ANN401 - textual-serve's template reply
        """The page, its script and WebSocket addressed by the name the browser used
        (the gate has checked `Host` names this server): its cookie is that name's, so
        a page opened as `localhost` must not be sent to `127.0.0.1`, nor one opened
        from another machine to `0.0.0.0`. Set and used with no await between."""
        self.public_url = f"http://{request.host}"
        response = await super().handle_index(request)
        response.text = with_local_font(response.text)
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's, with a `ServedApp` for the tab, known to the server until it has ended."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app: ServedApp | None = None
        try:
            await websocket.prepare(request)
            app = ServedApp(self.command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                            close=websocket.close, download_manager=self.download_manager, debug=self.debug)  # fmt: skip
            await app.start(width, height)
            self.apps.add(app)
            await self._process_messages(websocket, app)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # noqa: BLE001 - textual-serve's: a tab's failure is logged, the server goes on
            log.exception(error)
        finally:
            if app is not None:
                await app.stop()
                self.apps.discard(app)
        return websocket

    def request_exit(self) -> None:
        """SIGINT or SIGTERM: stop, ending every app within its grace (on_shutdown); told
        again while they end, end them at once."""
        if self._exiting:
            for app in self.apps:
                app.kill()
            return
        self._exiting = True
        raise GracefulExit

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.gate.admit)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """Silent: textual-serve would print its address without the token, which is refused;
        `serve` has printed the URL to open."""

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(served.stop() for served in list(self.apps)))
