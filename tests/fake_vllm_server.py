"""TEST DOUBLE: a fake vLLM OpenAI-compatible server for the LLM tests and the LLM benchmark.

Never shipped, never a stand-in for the model: it answers only what a test scripts. Model weights cannot
be downloaded on the development machines, so this reproduces the parts of `vllm serve` with Qwen2.5-VL
that the client and the agent loop depend on:

- a real HTTP server on 127.0.0.1 and a random port: POST /v1/chat/completions, GET /v1/models, GET /health;
- scripted model output per request (`Say`): Hermes text with zero, one or several `<tool_call>` blocks,
  malformed JSON, text around the blocks;
- vLLM's `hermes` tool parser when the request carries `tools` (and the server was "started" with
  `--enable-auto-tool-choice --tool-call-parser hermes`): `tool_calls` with arguments as a JSON string
  (`ensure_ascii=False`), ids `chatcmpl-tool-<hex>`, `content` = text before the first block or null,
  `finish_reason="tool_calls"`, and all-or-nothing: one unreadable block returns the whole text as content;
- vLLM's request errors: 400 for tools without the parser, too many images, or an unreadable image;
  404 for another model name; 401 for a wrong API key;
- failures on demand: HTTP 500 (`Status`), slow or hanging answers (`Slow`, bounded), a non-JSON body
  (`Garbage`), a dropped connection (`Disconnect`);
- `usage` estimated like the app does (text ≈ 3 characters a token, images 1 token per 28×28 block + 2);
- every request body and its headers are recorded for assertions (`requests`, `headers`).
"""
from __future__ import annotations

import base64
import io
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

MAX_DELAY_S = 10.0     # a "hang" never outlives a test
DEFAULT_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"
_HERMES_BLOCK = re.compile(r"<tool_call>(.*?)</tool_call>|<tool_call>(.*)", re.DOTALL)


@dataclass
class Say:
    """The model generates this text (Hermes `<tool_call>` blocks included, as Qwen2.5 writes them)."""

    text: str


@dataclass
class Status:
    """The server answers with this HTTP status (e.g. 500 while the engine is restarting)."""

    code: int
    body: str = '{"object": "error", "message": "Internal Server Error", "type": "InternalServerError", "code": 500}'


@dataclass
class Slow:
    """Answer `then` after `seconds` (capped at MAX_DELAY_S); a long delay is a hang for the client."""

    seconds: float
    then: Step


@dataclass
class Garbage:
    """HTTP 200 with a body that is not a chat completion."""

    body: bytes = b"<html>502 Bad Gateway (proxy)</html>"
    content_type: str = "text/html"


class Disconnect:
    """Close the connection without any response."""


Step = Say | Status | Slow | Garbage | Disconnect | Callable[[dict], "Step"]


def _estimate_text_tokens(text: str) -> int:
    return math.ceil(len(text) / 3)


def _image_size(url: str) -> tuple[int, int]:
    if not url.startswith("data:"):
        raise ValueError("only data: URLs in tests")
    header, _, payload = url.partition(",")
    if ";base64" not in header:
        raise ValueError("data URL is not base64")
    with Image.open(io.BytesIO(base64.b64decode(payload, validate=True))) as image:
        return image.size


def hermes_extract(text: str) -> tuple[str | None, list[dict]]:
    """vLLM's hermes parser (non-streaming), all-or-nothing: (content, tool_calls)."""
    if "<tool_call>" not in text:
        return text, []
    try:
        raw_calls = [json.loads(match[0] if match[0] else match[1]) for match in _HERMES_BLOCK.findall(text)]
        calls = [{"id": f"chatcmpl-tool-{uuid.uuid4().hex}", "type": "function",
                  "function": {"name": call["name"],
                               "arguments": json.dumps(call["arguments"], ensure_ascii=False)}}
                 for call in raw_calls]
    except Exception:  # vLLM logs "Error in extracting tool call from response." and gives up on all
        return text, []
    content = text[: text.find("<tool_call>")]
    return (content or None), calls


class FakeVLLMServer:
    """TEST DOUBLE of `vllm serve` (see the module docstring). Use as a context manager."""

    def __init__(self, *, model: str = DEFAULT_MODEL, hermes_parser: bool = True, api_key: str | None = None,
                 max_images: int = 2, models_status: int = 200, port: int = 0) -> None:
        self.model = model
        self.port = port   # 0: a random free port; a fixed one lets a test bring a "crashed" server back
        self.hermes_parser = hermes_parser
        self.api_key = api_key
        self.max_images = max_images
        self.models_status = models_status
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.image_sizes: list[tuple[int, int]] = []
        self._script: list[Step] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> FakeVLLMServer:
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-vllm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeVLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """What LLM_BASE_URL would be: the OpenAI-compatible root."""
        return self.root_url + "/v1"

    # -- scripting ---------------------------------------------------------------------------------
    def script(self, *steps: Step) -> FakeVLLMServer:
        """Queue answers, one per chat request, in order."""
        with self._lock:
            self._script.extend(steps)
        return self

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._script)

    def _next_step(self, body: dict) -> Step:
        with self._lock:
            step = self._script.pop(0) if self._script else Status(
                599, '{"message": "fake vLLM: no scripted answer left for this request"}')
        while callable(step) and not isinstance(step, (Say, Status, Slow, Garbage, Disconnect)):
            step = step(body)
        return step

    # -- behaviour ---------------------------------------------------------------------------------
    def validate(self, body: dict, headers: dict[str, str]) -> tuple[int, dict] | None:
        """vLLM's request checks that matter here; None when the request is acceptable."""
        if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, {"error": "Unauthorized"}
        if body.get("model") != self.model:
            return 404, {"object": "error", "message": f"The model `{body.get('model')}` does not exist.",
                         "type": "NotFoundError", "code": 404}
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return 400, {"object": "error", "message": "messages: field required", "code": 400}
        if body.get("tools") and body.get("tool_choice", "auto") == "auto" and not self.hermes_parser:
            return 400, {"object": "error", "code": 400, "message": '"auto" tool choice requires '
                         "--enable-auto-tool-choice and --tool-call-parser to be set"}
        images = [part for message in body["messages"] if isinstance(message.get("content"), list)
                  for part in message["content"] if isinstance(part, dict) and part.get("type") == "image_url"]
        if len(images) > self.max_images:
            return 400, {"object": "error", "code": 400,
                         "message": f"At most {self.max_images} image(s) may be provided in one prompt."}
        for part in images:
            try:
                self.image_sizes.append(_image_size(part["image_url"]["url"]))
            except Exception as error:
                return 400, {"object": "error", "code": 400, "message": f"cannot load image: {error}"}
        return None

    def usage(self, body: dict, completion: str) -> dict:
        prompt = 0
        for message in body["messages"]:
            prompt += 4
            content = message.get("content")
            if isinstance(content, str):
                prompt += _estimate_text_tokens(content)
            elif isinstance(content, list):
                for part in content:
                    if part.get("type") == "text":
                        prompt += _estimate_text_tokens(part.get("text", ""))
                    elif part.get("type") == "image_url":
                        width, height = _image_size(part["image_url"]["url"])
                        prompt += (width // 28) * (height // 28) + 2
            for call in message.get("tool_calls") or []:
                prompt += _estimate_text_tokens(json.dumps(call, ensure_ascii=False))
        if body.get("tools"):
            prompt += _estimate_text_tokens(json.dumps(body["tools"], ensure_ascii=False)) + 60
        completion_tokens = _estimate_text_tokens(completion)
        return {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
                "total_tokens": prompt + completion_tokens}

    def completion(self, body: dict, text: str) -> dict:
        content: str | None = text
        tool_calls: list[dict] = []
        if body.get("tools") and body.get("tool_choice", "auto") != "none" and self.hermes_parser:
            content, tool_calls = hermes_extract(text)
        message: dict[str, Any] = {"role": "assistant", "content": content, "reasoning_content": None,
                                   "tool_calls": tool_calls}
        return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
                "model": self.model,
                "choices": [{"index": 0, "message": message, "logprobs": None,
                             "finish_reason": "tool_calls" if tool_calls else "stop", "stop_reason": None}],
                "usage": self.usage(body, text)}


def _handler_for(fake: FakeVLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True   # headers and body go in two writes; no 40 ms delayed-ACK stall

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, payload: dict | bytes, content_type: str = "application/json") -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/health":
                self._send(200, b"", "text/plain")
            elif self.path == "/v1/models":
                if fake.models_status != 200:
                    self._send(fake.models_status, {"error": "engine not ready"})
                    return
                self._send(200, {"object": "list", "data": [
                    {"id": fake.model, "object": "model", "owned_by": "vllm", "root": fake.model,
                     "max_model_len": 32768}]})
            else:
                self._send(404, {"detail": "Not Found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path != "/v1/chat/completions":
                self._send(404, {"detail": "Not Found"})
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._send(400, {"object": "error", "message": "invalid JSON body", "code": 400})
                return
            headers = {key.lower(): value for key, value in self.headers.items()}
            with fake._lock:
                fake.requests.append(body)
                fake.headers.append(headers)
            rejected = fake.validate(body, headers)
            if rejected:
                self._send(*rejected)
                return
            self._answer(fake._next_step(body), body)

        def _answer(self, step: Step, body: dict) -> None:
            if isinstance(step, Slow):
                if fake._stopping.wait(min(step.seconds, MAX_DELAY_S)):
                    return
                self._answer(step.then, body)
            elif isinstance(step, Status):
                self._send(step.code, step.body.encode())
            elif isinstance(step, Garbage):
                self._send(200, step.body, step.content_type)
            elif isinstance(step, Disconnect):
                self.close_connection = True
                self.connection.shutdown(2)
            elif isinstance(step, Say):
                self._send(200, fake.completion(body, step.text))
            else:
                raise TypeError(f"not a fake vLLM step: {step!r}")

    return Handler


__all__ = ["FakeVLLMServer", "Say", "Status", "Slow", "Garbage", "Disconnect", "hermes_extract", "MAX_DELAY_S"]
