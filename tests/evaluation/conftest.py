"""A local OpenAI-compatible server with scripted replies, for the VLM judge's tests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from evaluation.judge import Judge


class Script:
    """Replies in order; each is ("ok", text), ("status", code), or ("slow", seconds)."""

    def __init__(self, replies):
        self.replies, self.calls, self.lock = list(replies), 0, threading.Lock()
        self.bodies = []

    def next(self):
        with self.lock:
            self.calls += 1
            return self.replies.pop(0) if self.replies else ("ok", "age:30")


@pytest.fixture
def server():
    script = Script([])

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            script.bodies.append(json.loads(self.rfile.read(length)))
            kind, value = script.next()
            if kind == "slow":
                time.sleep(value)
                kind, value = "ok", "age:30"
            if kind == "status":
                self.send_response(value)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"error": {"message": "busy", "type": "server"}}).encode())
                return
            body = {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "judge",
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": value}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", script
    httpd.shutdown()


def judge(url, **kwargs):
    return Judge(url, "judge", timeout=kwargs.pop("timeout", 2.0), backoff=0.01, **kwargs)
