"""A loopback OpenAI-compatible server for the faults a real llama-server cannot
produce on cue: 429 and 503 answers, a stream that stalls, one without usage.
Each chat request takes the next scripted `Reply` (the last one repeats)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    status: int = 200
    words: tuple[str, ...] = ("Two", " three", " five")
    usage: bool = True  # a final usage chunk
    stall_after: int | None = None  # stop sending (without closing) after this many words
    headers: dict[str, str] = field(default_factory=dict)
    error: str = "scripted failure"


class StubServer:
    def __init__(self, replies: list[Reply], model: str = "stub-model", loading: int = 0) -> None:
        """`loading`: how many times /v1/models answers 503 first, as llama-server does
        while it loads its model."""
        self.loading = loading
        self.replies = list(replies)
        self.model = model
        self.requests: list[dict] = []
        self.release = threading.Event()  # lets a stalled stream end
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _json(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/v1/models" and stub.loading > 0:
                    stub.loading -= 1
                    self._json(503, {"error": {"message": "Loading model", "type": "unavailable_error", "code": 503}})
                elif self.path == "/v1/models":
                    self._json(200, {"object": "list", "data": [{"id": stub.model, "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path != "/v1/chat/completions":
                    self._json(404, {"error": {"message": "not found"}})
                    return
                stub.requests.append(body)
                reply = stub.replies.pop(0) if len(stub.replies) > 1 else stub.replies[0]
                if reply.status != 200:
                    self._json(reply.status, {"error": {"message": reply.error}}, reply.headers)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for i, word in enumerate(reply.words):
                        if reply.stall_after is not None and i == reply.stall_after:
                            stub.release.wait(30)
                            return
                        self._event({"choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]})
                    self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                    if reply.usage:
                        self._event({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": len(reply.words),
                                                              "total_tokens": 12 + len(reply.words)}})  # fmt: skip
                    self._send(b"data: [DONE]\n\n")
                    self._send(b"")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _event(self, payload: dict) -> None:
                chunk = {"id": "c1", "object": "chat.completion.chunk", "created": int(time.time()), "model": stub.model,
                         **payload}  # fmt: skip
                self._send(f"data: {json.dumps(chunk)}\n\n".encode())

            def _send(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
