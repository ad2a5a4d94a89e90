"""A loopback OpenAI-compatible server for the faults a real llama-server cannot
produce on cue: 429 and 503 answers, a stream that stalls, drips or stops short,
one without usage or with any usage and timings at all, a 200 that is no stream,
any `/props` body. Each chat request takes the next scripted `Reply` (the last one
repeats); a test may set `replies`, `props` and `listing` between requests."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


DEFAULT = object()  # a Reply field left as the stub's usual answer


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up mid-answer (the app cancelling, cutting off) is no news:
        socketserver's traceback on stderr would land in what a test captures of the app."""


@dataclass(frozen=True)
class Reply:
    status: int = 200
    words: tuple[str, ...] = ("Two", " three", " five")
    usage: bool = True  # a final usage chunk
    stall_after: int | None = None  # stop sending (without closing) after this many words
    headers: dict[str, str] = field(default_factory=dict)
    error: str = "scripted failure"
    drip: float = 0.0  # seconds between words
    finish: bool = True  # the finish_reason chunk, [DONE] and the body's end; False: the body just ends
    usage_body: Any = DEFAULT  # the usage chunk's `usage`, as sent (any JSON)
    timings: Any = DEFAULT  # llama-server's `timings` on the last chunk (any JSON); DEFAULT: none
    body: bytes | None = None  # instead of a stream: this body, with `content_type`
    content_type: str = "text/event-stream"
    hang_up: bool = False  # close the connection without an answer


class StubServer:
    def __init__(self, replies: list[Reply], model: str = "stub-model", loading: int = 0) -> None:
        """`loading`: how many times /v1/models answers 503 first, as llama-server does
        while it loads its model."""
        self.loading = loading
        self.replies = list(replies)
        self.model = model
        self.requests: list[dict] = []
        self.release = threading.Event()  # lets a stalled stream end
        self.props: bytes | None = None  # /props's body (served as JSON); None: 404, as other engines
        self.listing: Any = DEFAULT  # /v1/models's body (any JSON); DEFAULT: the model alone
        self.words_sent = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                self._body(status, json.dumps(body).encode(), "application/json", headers)

            def _body(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/v1/models" and stub.loading > 0:
                    stub.loading -= 1
                    self._json(503, {"error": {"message": "Loading model", "type": "unavailable_error", "code": 503}})
                elif self.path == "/v1/models":
                    listing = stub.listing
                    if listing is DEFAULT:
                        listing = {"object": "list", "data": [{"id": stub.model, "object": "model"}]}
                    self._json(200, listing)
                elif self.path == "/props" and stub.props is not None:
                    self._body(200, stub.props, "application/json")
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path != "/v1/chat/completions":
                    self._json(404, {"error": {"message": "not found"}})
                    return
                stub.requests.append(body)
                reply = stub.replies.pop(0) if len(stub.replies) > 1 else stub.replies[0]
                if reply.hang_up:
                    self.close_connection = True
                    return
                if reply.status != 200:
                    self._json(reply.status, {"error": {"message": reply.error}}, reply.headers)
                    return
                if reply.body is not None:
                    self._body(200, reply.body, reply.content_type)
                    return
                self.send_response(200)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    self._stream(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _stream(self, reply: Reply) -> None:
                for i, word in enumerate(reply.words):
                    if reply.stall_after is not None and i == reply.stall_after:
                        stub.release.wait(30)
                        return
                    if i and reply.drip and stub.release.wait(reply.drip):
                        return
                    self._event({"choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]})
                    stub.words_sent += 1
                if not reply.finish:
                    self._send(b"")  # the body's end, with no finish_reason and no [DONE]
                    return
                last: dict[str, Any] = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                if reply.timings is not DEFAULT:
                    last["timings"] = reply.timings
                self._event(last)
                if reply.usage:
                    usage = reply.usage_body
                    if usage is DEFAULT:
                        usage = {"prompt_tokens": 12, "completion_tokens": len(reply.words), "total_tokens": 12 + len(reply.words)}
                    self._event({"choices": [], "usage": usage})
                self._send(b"data: [DONE]\n\n")
                self._send(b"")

            def _event(self, payload: dict) -> None:
                chunk = {"id": "c1", "object": "chat.completion.chunk", "created": int(time.time()), "model": stub.model,
                         **payload}  # fmt: skip
                self._send(f"data: {json.dumps(chunk)}\n\n".encode())

            def _send(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> StubServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
