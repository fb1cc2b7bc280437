"""A small client for an OpenAI-compatible chat endpoint (vLLM's `vllm serve`), built to fail fast.

Every request has a timeout bounded by the caller's turn deadline; connection errors and 5xx answers
are retried a bounded number of times; any failure opens a simple circuit breaker so the next turns
go straight to the offline agent until a cool-down has passed (`available()`), after which one request
is let through to probe the server again.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from shop.metrics import LLM_REQUEST_SECONDS, LLM_TOKENS

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({500, 502, 503, 504})


class LLMError(Exception):
    """The model gave no usable answer. `reason` is a short word the caller can log or count."""

    reason = "llm_error"


class LLMUnavailable(LLMError):
    """Not reachable, 5xx after the retries, or the circuit breaker is open."""

    reason = "llm_unavailable"


class LLMTimeout(LLMError):
    """No answer before the per-request timeout or the turn deadline."""

    reason = "llm_timeout"


class LLMBadResponse(LLMError):
    """HTTP 200 but not a chat completion (not JSON, or no choices)."""

    reason = "llm_garbage"


class LLMRequestRejected(LLMError):
    """4xx or 501: this request was refused (bad model name, wrong key, an image the server cannot
    read, a tool choice it was not started for). Not retried; does not open the breaker."""

    reason = "llm_rejected"

    def __init__(self, message: str, *, status: int = 0, server_message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.server_message = server_message


class LLMContextOverflow(LLMRequestRejected):
    """400: the prompt is longer than the server's context (`--max-model-len`). The caller may send
    a shorter prompt once."""

    reason = "llm_context_overflow"


_OVERFLOW = re.compile(r"maximum context length is \d+ tokens|longer than the maximum model length", re.IGNORECASE)


def server_error_message(response: httpx.Response) -> str:
    """The message of vLLM's `{"error": {"message", "type", "param", "code"}}` (or an older flat
    `{"message"}`, or the raw text), for logs and for telling the error kinds apart."""
    try:
        payload = response.json()
    except ValueError:
        return response.text[:300]
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    if isinstance(payload, dict) and isinstance(payload.get("message"), str):
        return payload["message"]
    if isinstance(error, str):
        return error
    return response.text[:300]


def rejection(response: httpx.Response) -> LLMRequestRejected:
    message = server_error_message(response)
    kind = LLMContextOverflow if (response.status_code == 400 and _OVERFLOW.search(message)) else LLMRequestRejected
    return kind(f"HTTP {response.status_code}: {message[:200]}", status=response.status_code, server_message=message)


@dataclass
class ChatResult:
    content: str | None
    tool_calls: list[dict]            # OpenAI shape: {"id", "type": "function", "function": {"name", "arguments": str}}
    finish_reason: str | None        # "stop", "tool_calls", "length" (cut by max_tokens: never act on it)
    prompt_tokens: int | None         # from the server's `usage`, None when it sent none
    completion_tokens: int | None
    attempts: int
    elapsed_s: float
    raw: dict = field(repr=False, default_factory=dict)


def _api_root(base_url: str) -> str:
    """`http://host:8000` and `http://host:8000/v1` both mean the same OpenAI-compatible root."""
    root = base_url.rstrip("/")
    return root if root.endswith("/v1") else root + "/v1"


class ChatClient:
    """Chat completions against `base_url` for one `model`. Thread-safe; share one per process."""

    def __init__(self, base_url: str, model: str, *, api_key: str = "", timeout_s: float = 30.0,
                 connect_timeout_s: float = 3.0, max_retries: int = 2, retry_backoff_s: float = 0.25,
                 cooldown_s: float = 30.0, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        if timeout_s <= 0 or connect_timeout_s <= 0:
            raise ValueError("timeouts must be positive")
        self.api_root = _api_root(base_url)
        self.model = model
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.max_retries = max(0, max_retries)
        self.retry_backoff_s = retry_backoff_s
        self.cooldown_s = cooldown_s
        self._clock = clock
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(headers=headers, transport=transport)
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._last_error: str | None = None

    def __repr__(self) -> str:  # never shows the key
        return f"ChatClient({self.api_root!r}, model={self.model!r})"

    # -- circuit breaker -------------------------------------------------------------------------
    def available(self) -> bool:
        """False while the breaker is open (a recent failure, cool-down not over)."""
        with self._lock:
            return self._clock() >= self._open_until

    def status(self) -> dict[str, Any]:
        """For /readyz: "ok", or "degraded" with the last error and seconds until the next probe."""
        with self._lock:
            wait = self._open_until - self._clock()
            if wait <= 0 and self._last_error is None:
                return {"state": "ok"}
            return {"state": "degraded" if wait > 0 else "probing", "last_error": self._last_error,
                    "retry_in_s": round(max(0.0, wait), 1)}

    def _failed(self, error: LLMError) -> LLMError:
        with self._lock:
            self._open_until = self._clock() + self.cooldown_s
            self._last_error = f"{error.reason}: {error}"
        log.warning("LLM marked unavailable for %.0f s: %s", self.cooldown_s, self._last_error)
        return error

    def _succeeded(self) -> None:
        with self._lock:
            if self._last_error is not None:
                log.info("LLM reachable again")
            self._open_until = 0.0
            self._last_error = None

    # -- requests --------------------------------------------------------------------------------
    def _timeout(self, deadline: float | None) -> httpx.Timeout:
        total = self.timeout_s
        if deadline is not None:
            total = min(total, deadline - self._clock())
        if total <= 0:
            raise LLMTimeout("turn deadline passed before the request")
        return httpx.Timeout(total, connect=min(self.connect_timeout_s, total))

    def chat(self, messages: list[dict], *, tools: list[dict] | None = None, temperature: float = 0.2,
             max_tokens: int = 800, deadline: float | None = None,
             extra_body: dict | None = None) -> ChatResult:
        """One chat completion. `deadline` is an absolute `time.monotonic()` value for the whole turn.

        Raises an `LLMError` subclass; every one except `LLMRequestRejected` opens the breaker.
        """
        if not self.available():
            raise LLMUnavailable(f"circuit open after: {self._last_error}")
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": temperature,
                                "max_completion_tokens": max_tokens, "stream": False}
        if tools:
            body["tools"] = tools
            body["tool_choice"] = "auto"
        if extra_body:
            body.update(extra_body)
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.post(f"{self.api_root}/chat/completions", json=body,
                                           timeout=self._timeout(deadline))
            except LLMTimeout as error:
                raise self._failed(error) from None
            except httpx.TimeoutException as error:
                # A slow model is not retried: a second wait would only make the customer wait twice.
                raise self._failed(LLMTimeout(f"no answer in time ({type(error).__name__})")) from None
            except httpx.RequestError as error:  # connection refused/reset, protocol or decoding errors
                failure: LLMError = LLMUnavailable(f"cannot reach {self.api_root} ({type(error).__name__})")
            else:
                if response.status_code in RETRYABLE_STATUS:
                    failure = LLMUnavailable(f"HTTP {response.status_code} from the model server")
                elif response.status_code >= 400:
                    raise rejection(response)
                else:
                    try:
                        result = self._parse(response, attempt, self._clock() - started)
                    except LLMBadResponse as error:
                        raise self._failed(error) from None
                    self._succeeded()
                    return result
            pause = self.retry_backoff_s * attempt
            out_of_time = deadline is not None and self._clock() + pause >= deadline
            if attempt > self.max_retries or out_of_time:
                raise self._failed(failure)
            log.info("LLM attempt %d failed (%s); retrying in %.2f s", attempt, failure, pause)
            time.sleep(pause)

    def _parse(self, response: httpx.Response, attempts: int, elapsed: float) -> ChatResult:
        try:
            payload = response.json()
            choice = payload["choices"][0]
            message = choice["message"]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, IndexError, TypeError):
            raise LLMBadResponse(f"not a chat completion: {response.text[:120]!r}") from None
        if not isinstance(message, dict):
            raise LLMBadResponse("message is not an object")
        content = message.get("content")
        tool_calls = message.get("tool_calls") or []
        if (content is not None and not isinstance(content, str)) or not isinstance(tool_calls, list):
            raise LLMBadResponse("message content or tool_calls has the wrong type")
        usage = payload.get("usage") or {}
        result = ChatResult(content=content, tool_calls=tool_calls, finish_reason=choice.get("finish_reason"),
                            prompt_tokens=usage.get("prompt_tokens"),
                            completion_tokens=usage.get("completion_tokens"),
                            attempts=attempts, elapsed_s=elapsed, raw=payload)
        LLM_REQUEST_SECONDS.observe(elapsed)
        for kind, count in (("prompt", result.prompt_tokens), ("completion", result.completion_tokens)):
            if isinstance(count, int):
                LLM_TOKENS.labels(kind).inc(count)
        log.info("LLM answered in %.2f s (attempts %d, prompt tokens %s, completion tokens %s, tool calls %d)",
                 elapsed, attempts, result.prompt_tokens, result.completion_tokens, len(tool_calls))
        return result

    def server_visual_tokens(self, image_part: dict) -> int | None:
        """Visual tokens the server spends on `image_part` (an OpenAI image content part): the prompt
        tokens of a one-token request with the image minus the same request without it, minus the two
        framing tokens. None when the server sends no usage. Two short requests: for health checks."""
        text = {"type": "text", "text": "."}
        with_image = self.chat([{"role": "user", "content": [image_part, text]}], max_tokens=1, temperature=0)
        without = self.chat([{"role": "user", "content": [text]}], max_tokens=1, temperature=0)
        if with_image.prompt_tokens is None or without.prompt_tokens is None:
            return None
        return with_image.prompt_tokens - without.prompt_tokens - 2

    def health(self) -> bool:
        """GET /v1/models: True when the server answers and serves our model. Updates the breaker."""
        try:
            response = self._http.get(f"{self.api_root}/models", timeout=self._timeout(None))
            response.raise_for_status()
            served = [entry.get("id") for entry in response.json().get("data", [])]
        except (httpx.HTTPError, ValueError, AttributeError, TypeError) as error:
            self._failed(LLMUnavailable(f"health check failed ({type(error).__name__})"))
            return False
        if self.model not in served:
            self._failed(LLMUnavailable(f"model {self.model!r} not served (server has {served})"))
            return False
        self._succeeded()
        return True

    def close(self) -> None:
        self._http.close()


__all__ = ["ChatClient", "ChatResult", "LLMError", "LLMUnavailable", "LLMTimeout", "LLMBadResponse",
           "LLMRequestRejected", "LLMContextOverflow", "RETRYABLE_STATUS", "server_error_message"]
