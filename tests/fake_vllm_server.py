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
- `max_tokens` honoured as vLLM does: a reply longer than it is cut, keeps `finish_reason: "length"`
  and its `<tool_call>` blocks are not parsed into calls (even in native mode);
- vLLM's request errors, in its shape `{"error": {"message", "type", "param", "code"}}`: 400 for a prompt
  over `max_model_len` ("This model's maximum context length is … However, your prompt contains …"),
  for `tools` with `tool_choice` "auto"/"required"/named on a server without the parser flags, for too
  many images, an unreadable image or an aspect ratio of 200 or more after the server's resize; 501 for
  a `data:` URL that is not base64; 404 for another model name; 401 (`{"error": "Unauthorized"}`) for a
  wrong API key;
- the message as vLLM 0.33 writes it: `reasoning` (not `reasoning_content`), no `tool_calls` key when
  there are none;
- failures on demand: HTTP 500 (`Status`), slow or hanging answers (`Slow`, bounded), a non-JSON body
  (`Garbage`), a dropped connection (`Disconnect`);
- `usage` estimated like the app does (text ≈ 3 characters a token, images 1 token per 28×28 block + 2)
  over the prompt as Qwen2.5's template lays it out (system, tools block, turns), and per request the
  part of it identical to the previous request's start (`accounting`: what vLLM's automatic prefix
  caching would reuse, counted in whole 16-token blocks);
- every request body and its headers are recorded for assertions (`requests`, `headers`).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
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
DEFAULT_MAX_MODEL_LEN = 32768
PREFIX_BLOCK_TOKENS = 16   # vLLM's KV-cache block: prefix caching reuses whole blocks only
IMAGE_FACTOR = 28
MAX_ASPECT_RATIO = 200
_HERMES_BLOCK = re.compile(r"<tool_call>(.*?)</tool_call>|<tool_call>(.*)", re.DOTALL)


@dataclass
class Say:
    """The model generates this text (Hermes `<tool_call>` blocks included, as Qwen2.5 writes them).

    The request's `max_tokens` still applies: a longer text is cut there with `finish_reason: "length"`.
    """

    text: str


@dataclass
class Status:
    """The server answers with this HTTP status (e.g. 500 while the engine is restarting)."""

    code: int
    body: str = ('{"error": {"message": "EngineCore encountered an issue. See stack trace (above) for the root '
                 'cause.", "type": "InternalServerError", "param": null, "code": 500}}')


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



def last_user_text(body: dict) -> str:
    """The text of the last user message of a chat request (text parts joined for multimodal content)."""
    for message in reversed(body["messages"]):
        if message["role"] == "user":
            content = message["content"]
            return content if isinstance(content, str) else " ".join(
                part.get("text", "") for part in content if part.get("type") == "text")
    return ""


def tool_results(body: dict) -> list[dict]:
    """The tool results the client just sent the model (prompt mode: <tool_response> blocks in the last
    user turn; native mode: the trailing role "tool" messages), for scripted steps that read them."""
    messages = body["messages"]
    if messages[-1]["role"] == "tool":
        trailing = []
        for message in reversed(messages):
            if message["role"] != "tool":
                break
            trailing.append(json.loads(message["content"]))
        return list(reversed(trailing))
    text = last_user_text(body)
    return [json.loads(chunk.split("</tool_response>")[0]) for chunk in text.split("<tool_response>\n")[1:]]

def _estimate_text_tokens(text: str) -> int:
    return math.ceil(len(text) / 3)


MAX_REMEMBERED_PROMPTS = 256


def _common_prefix_blocks(a: str, b: str) -> int:
    """Tokens of the shared start of two rendered prompts, in whole KV-cache blocks."""
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return (length // 3) // PREFIX_BLOCK_TOKENS * PREFIX_BLOCK_TOKENS


def error_body(status: int, message: str, type_: str = "BadRequestError", param: str | None = None) -> dict:
    """vLLM's ErrorResponse (entrypoints/serve/engine/protocol.py)."""
    return {"error": {"message": message, "type": type_, "param": param, "code": status}}


class RequestRefused(Exception):
    def __init__(self, status: int, message: str, type_: str = "BadRequestError", param: str | None = None):
        super().__init__(message)
        self.status, self.body = status, error_body(status, message, type_, param)


def _decode_image(url: str) -> Image.Image:
    """vLLM's MediaConnector for `data:` URLs: base64 only (501 otherwise), then PIL (400 when unreadable)."""
    if not url.startswith("data:"):
        raise RequestRefused(400, "only data: URLs in tests (the fake never fetches)")
    header, _, payload = url.partition(",")
    if not header.endswith(";base64"):
        raise RequestRefused(501, "Only base64 data URLs are supported for now.", "NotImplementedError")
    try:
        image = Image.open(io.BytesIO(base64.b64decode(payload, validate=True)))
        image.load()
    except (binascii.Error, ValueError, OSError) as error:
        raise RequestRefused(400, f"Failed to load image: {type(error).__name__}") from None
    return image


def server_resize(width: int, height: int, max_pixels: int, min_pixels: int = 4 * IMAGE_FACTOR ** 2) -> tuple[int, int]:
    """Qwen2-VL's `smart_resize` as the server's processor runs it, with its aspect-ratio refusal
    (transformers image_processing_qwen2_vl.py), written independently of inference/images.py."""
    h_bar = max(IMAGE_FACTOR, round(height / IMAGE_FACTOR) * IMAGE_FACTOR)
    w_bar = max(IMAGE_FACTOR, round(width / IMAGE_FACTOR) * IMAGE_FACTOR)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = max(IMAGE_FACTOR, math.floor(height / beta / IMAGE_FACTOR) * IMAGE_FACTOR)
        w_bar = max(IMAGE_FACTOR, math.floor(width / beta / IMAGE_FACTOR) * IMAGE_FACTOR)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / IMAGE_FACTOR) * IMAGE_FACTOR
        w_bar = math.ceil(width * beta / IMAGE_FACTOR) * IMAGE_FACTOR
    ratio = max(h_bar, w_bar) / min(h_bar, w_bar)
    if ratio >= MAX_ASPECT_RATIO:
        raise RequestRefused(400, f"absolute aspect ratio must be smaller than {MAX_ASPECT_RATIO}, got {ratio}")
    return w_bar, h_bar


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
                 max_images: int = 2, models_status: int = 200, port: int = 0,
                 max_model_len: int = DEFAULT_MAX_MODEL_LEN, max_visual_tokens: int = 1280) -> None:
        self.model = model
        self.port = port   # 0: a random free port; a fixed one lets a test bring a "crashed" server back
        self.hermes_parser = hermes_parser
        self.api_key = api_key
        self.max_images = max_images
        self.models_status = models_status
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.image_sizes: list[tuple[int, int]] = []
        self.max_model_len = max_model_len
        self.max_pixels = max_visual_tokens * IMAGE_FACTOR ** 2   # --mm-processor-kwargs max_pixels
        self.accounting: list[dict] = []   # per answered request: prompt, shared prefix, completion tokens
        self._last_prompt = ""
        self._earlier_prompts: list[str] = []
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
                599, json.dumps(error_body(599, "fake vLLM: no scripted answer left for this request", "TestScriptError")))
        while callable(step) and not isinstance(step, (Say, Status, Slow, Garbage, Disconnect)):
            step = step(body)
        return step

    # -- behaviour ---------------------------------------------------------------------------------
    def validate(self, body: dict, headers: dict[str, str]) -> tuple[int, dict] | None:
        """vLLM's request checks that matter here; None when the request is acceptable."""
        if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, {"error": "Unauthorized"}   # vLLM's API-key middleware, not an ErrorResponse
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return 400, error_body(400, "1 validation error:\n  {'type': 'missing', 'loc': ('body', 'messages'), "
                                        "'msg': 'Field required'}", "Bad Request")
        if body.get("model") != self.model:
            return 404, error_body(404, f"The model `{body.get('model')}` does not exist.", "NotFoundError", "model")
        choice = body.get("tool_choice", "auto" if body.get("tools") else "none")
        if body.get("tools") and choice != "none" and not self.hermes_parser:
            if choice == "auto":
                message = '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
            else:
                message = (f'tool_choice={json.dumps(choice)} requires --enable-auto-tool-choice and '
                           "--tool-call-parser to be set")
            return 400, error_body(400, message)
        images = [part for message in body["messages"] if isinstance(message.get("content"), list)
                  for part in message["content"] if isinstance(part, dict) and part.get("type") == "image_url"]
        if len(images) > self.max_images:
            return 400, error_body(400, f"At most {self.max_images} image(s) may be provided in one prompt. "
                                        "Set --limit-mm-per-prompt to increase this limit.")
        try:
            for part in images:
                self._image_tokens(part["image_url"]["url"], record=True)
            prompt_tokens = self.prompt_tokens(body)
        except RequestRefused as refused:
            return refused.status, refused.body
        if prompt_tokens > self.max_model_len:
            return 400, error_body(400, f"This model's maximum context length is {self.max_model_len} tokens. "
                                        f"However, your prompt contains at least {prompt_tokens} input tokens.",
                                   param="input_tokens")
        return None

    def _image_tokens(self, url: str, *, record: bool = False) -> tuple[str, int]:
        """(content hash, visual tokens after the server's resize) of one image."""
        image = _decode_image(url)
        with image:
            if record:
                self.image_sizes.append(image.size)
            width, height = server_resize(*image.size, max_pixels=self.max_pixels)
            digest = hashlib.sha256(image.tobytes()).hexdigest()
        return digest, (width // IMAGE_FACTOR) * (height // IMAGE_FACTOR) + 2

    def render(self, body: dict) -> str:
        """The prompt laid out as Qwen2.5's template does (system, `# Tools` block, turns), with each image
        as a placeholder as long as its tokens (3 characters a token) derived from its content, so that
        `len(render) / 3` is the prompt's tokens and a shared start is a cacheable prefix."""
        parts: list[str] = []
        messages = body["messages"]
        system_first = messages[0].get("role") == "system"
        system = messages[0].get("content") if system_first else ""
        parts.append("<|im_start|>system\n" + (system if isinstance(system, str) else ""))
        if body.get("tools"):
            parts.append("\n\n# Tools\n<tools>\n" + "\n".join(json.dumps(tool, ensure_ascii=False)
                                                          for tool in body["tools"]) + "\n</tools>")
        parts.append("<|im_end|>\n")
        for message in messages[1:] if system_first else messages:
            parts.append(f"<|im_start|>{message.get('role')}\n")
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                for part in content:
                    if part.get("type") == "text":
                        parts.append(part.get("text", ""))
                    elif part.get("type") == "image_url":
                        digest, tokens = self._image_tokens(part["image_url"]["url"])
                        parts.append((digest * (3 * tokens // len(digest) + 1))[: 3 * tokens])
            for call in message.get("tool_calls") or []:
                parts.append("<tool_call>\n" + json.dumps(call.get("function"), ensure_ascii=False) + "\n</tool_call>")
            parts.append("<|im_end|>\n")
        parts.append("<|im_start|>assistant\n")
        return "".join(parts)

    def prompt_tokens(self, body: dict) -> int:
        return _estimate_text_tokens(self.render(body))

    def usage(self, body: dict, completion: str) -> dict:
        prompt = self.prompt_tokens(body)
        completion_tokens = _estimate_text_tokens(completion)
        return {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
                "total_tokens": prompt + completion_tokens}

    def _account(self, body: dict, completion_tokens: int) -> None:
        """Per request: prompt tokens; the start shared with the previous request, and the longest start
        shared with any earlier request (what automatic prefix caching reuses while those blocks are still
        cached), both in whole blocks; completion tokens."""
        rendered = self.render(body)
        shared = _common_prefix_blocks(rendered, self._last_prompt)
        cached = max([shared, *(_common_prefix_blocks(rendered, earlier) for earlier in self._earlier_prompts)])
        self._last_prompt = rendered
        self._earlier_prompts = [*self._earlier_prompts[-(MAX_REMEMBERED_PROMPTS - 1):], rendered]
        self.accounting.append({"prompt_tokens": _estimate_text_tokens(rendered), "shared_prefix_tokens": shared,
                                "cached_prefix_tokens": cached, "completion_tokens": completion_tokens})

    def completion(self, body: dict, text: str) -> dict:
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        room = self.max_model_len - self.prompt_tokens(body)   # vLLM clamps max_tokens to the room left
        limit = min(limit, room) if limit else room
        finish = "stop"
        if _estimate_text_tokens(text) > limit:
            text, finish = text[: limit * 3], "length"
        content: str | None = text
        tool_calls: list[dict] = []
        choice = body.get("tool_choice", "auto" if body.get("tools") else "none")
        if body.get("tools") and choice != "none" and self.hermes_parser and finish != "length":
            content, tool_calls = hermes_extract(text)
            if tool_calls and not isinstance(choice, dict):
                finish = "tool_calls"
        message: dict[str, Any] = {"role": "assistant", "content": content, "reasoning": None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        usage = self.usage(body, text)
        with self._lock:
            self._account(body, usage["completion_tokens"])
        return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
                "model": self.model,
                "choices": [{"index": 0, "message": message, "logprobs": None,
                             "finish_reason": finish, "stop_reason": None}],
                "usage": usage}


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
                    {"id": fake.model, "object": "model", "created": int(time.time()), "owned_by": "vllm",
                     "root": fake.model, "parent": None, "max_model_len": fake.max_model_len,
                     "permission": [{"id": f"modelperm-{uuid.uuid4().hex}", "object": "model_permission",
                                     "allow_sampling": True, "allow_view": True}]}]})
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
                self._send(400, error_body(400, "JSON decode error", "Bad Request"))
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


__all__ = ["FakeVLLMServer", "Say", "Status", "Slow", "Garbage", "Disconnect", "hermes_extract", "MAX_DELAY_S",
           "error_body", "server_resize", "RequestRefused"]
