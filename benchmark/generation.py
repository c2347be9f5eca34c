"""Asking an OpenAI-compatible chat endpoint, with retries, timeouts and a generation cache.

One `ChatClient` serves a run: requests are bounded by a semaphore (`--concurrency`), each has
a timeout, and failures that are worth retrying (429, 5xx, timeouts, connection errors, an
answer that is not valid JSON) are retried with exponential backoff and jitter. A 429's
`Retry-After` (or `retry-after-ms`) is honoured by every request of the run, not only the one
that got it. Failures that retrying cannot fix stop the run with one line: a refused key (401,
403), an unknown model (404), an endpoint that never answered. Answers are cached on disk under
a key of everything that shapes them (model, base URL, messages, sampling parameters, sample
index), so a rerun or a resumed run asks the server only for what it has not answered yet.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

Message = dict[str, str]

MAX_RETRY_AFTER_S = 120.0
MAX_BACKOFF_S = 60.0


class FatalGenerationError(Exception):
    """The run cannot go on (bad key, unknown model, unreachable endpoint); one line."""


class SampleGenerationError(Exception):
    """This one request failed for good (retries spent, or the server refused the request)."""

    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


@dataclass
class Answer:
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    cached: bool = False
    attempts: int = 0
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class Sampling:
    temperature: float
    top_p: float
    max_tokens: int | None


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "deepeval-lsp" / "generations"


class GenerationCache:
    """Answers on disk, one JSON file per key (`<dir>/<k[:2]>/<k>.json`), written atomically."""

    def __init__(self, root: Path | None) -> None:
        self.root = root

    @staticmethod
    def key(
        model: str, base_url: str, messages: list[Message], sampling: Sampling, sample_index: int
    ) -> str:
        blob = json.dumps(
            {
                "model": model,
                "base_url": base_url.rstrip("/"),
                "messages": messages,
                "temperature": sampling.temperature,
                "top_p": sampling.top_p,
                "max_tokens": sampling.max_tokens,
                "sample_index": sample_index,
            },
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if self.root is None:
            return None
        try:
            return json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        if self.root is None:
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs a repeated request later


@dataclass
class ChatClient:
    """An OpenAI-compatible endpoint, shared by all requests of a run."""

    base_url: str
    api_key: str
    sampling: Sampling
    concurrency: int = 8
    request_timeout: float = 120.0
    retries: int = 6
    backoff_base: float = 1.0
    cache: GenerationCache = field(default_factory=lambda: GenerationCache(None))
    price_in: float | None = None
    price_out: float | None = None
    retry_count: int = 0  # retries made so far, over all requests
    _client: Any = None
    _sem: asyncio.Semaphore | None = None
    _paused_until: float = 0.0
    _any_success: bool = False

    def _ensure(self) -> None:
        if self._client is None:
            from openai import AsyncOpenAI

            self._client = AsyncOpenAI(
                api_key=self.api_key,
                base_url=self.base_url,
                max_retries=0,
                timeout=self.request_timeout,
            )
            self._sem = asyncio.Semaphore(max(1, self.concurrency))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def complete(self, model: str, messages: list[Message], sample_index: int) -> Answer:
        """The answer to `messages` (cached, or asked with retries)."""
        key = self.cache.key(model, self.base_url, messages, self.sampling, sample_index)
        hit = self.cache.get(key)
        if hit is not None and isinstance(hit.get("text"), str):
            return Answer(
                text=hit["text"],
                prompt_tokens=hit.get("prompt_tokens"),
                completion_tokens=hit.get("completion_tokens"),
                cost_usd=hit.get("cost_usd"),
                cached=True,
            )
        self._ensure()
        assert self._sem is not None
        async with self._sem:
            answer = await self._ask_with_retries(model, messages)
        self.cache.put(
            key,
            {
                "text": answer.text,
                "prompt_tokens": answer.prompt_tokens,
                "completion_tokens": answer.completion_tokens,
                "cost_usd": answer.cost_usd,
                "model": model,
                "created": time.time(),
            },
        )
        return answer

    async def _ask_with_retries(self, model: str, messages: list[Message]) -> Answer:
        import openai

        t0 = time.perf_counter()
        attempt = 0
        last_error = ""
        while True:
            attempt += 1
            wait = self._paused_until - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            retry_after: float | None = None
            try:
                answer = await self._ask_once(model, messages)
                answer.attempts = attempt
                answer.elapsed_ms = (time.perf_counter() - t0) * 1000
                self._any_success = True
                return answer
            except openai.AuthenticationError as e:
                raise FatalGenerationError(
                    f"the server at {self.base_url} refused the API key (HTTP 401): "
                    f"{_server_message(e)}; set OPENAI_API_KEY"
                ) from None
            except openai.PermissionDeniedError as e:
                raise FatalGenerationError(
                    f"the server at {self.base_url} denied access (HTTP 403): {_server_message(e)}"
                ) from None
            except openai.NotFoundError as e:
                raise FatalGenerationError(
                    f"unknown model {model!r} at {self.base_url} (HTTP 404): {_server_message(e)}"
                ) from None
            except openai.RateLimitError as e:
                last_error = f"HTTP 429: {_server_message(e)}"
                retry_after = _retry_after(e.response.headers)
            except openai.APIStatusError as e:
                if e.status_code < 500 and e.status_code not in (408, 409):
                    raise SampleGenerationError(
                        f"HTTP {e.status_code}: {_server_message(e)}", attempt
                    ) from None
                last_error = f"HTTP {e.status_code}: {_server_message(e)}"
                retry_after = _retry_after(e.response.headers)
            except openai.APITimeoutError:
                last_error = f"no answer within {self.request_timeout:g} s"
            except openai.APIConnectionError as e:
                last_error = f"cannot reach {self.base_url}: {_cause(e)}"
                if not self._any_success and attempt > min(self.retries, 2):
                    raise FatalGenerationError(last_error) from None
            except (openai.APIResponseValidationError, ValueError, KeyError, TypeError) as e:
                last_error = f"malformed answer from the server: {_cause(e)}"
            if attempt > self.retries:
                raise SampleGenerationError(
                    f"gave up after {attempt} attempts: {last_error}", attempt
                )
            self.retry_count += 1
            if retry_after is not None:
                delay = min(retry_after, MAX_RETRY_AFTER_S)
                self._paused_until = max(self._paused_until, time.monotonic() + delay)
            else:
                delay = min(MAX_BACKOFF_S, self.backoff_base * 2 ** (attempt - 1))
                delay *= random.uniform(0.5, 1.0)
            await asyncio.sleep(delay)

    async def _ask_once(self, model: str, messages: list[Message]) -> Answer:
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "temperature": self.sampling.temperature,
            "top_p": self.sampling.top_p,
        }
        if self.sampling.max_tokens:
            kwargs["max_tokens"] = self.sampling.max_tokens
        raw = await self._client.chat.completions.with_raw_response.create(**kwargs)
        body = json.loads(raw.http_response.text)  # ValueError on a malformed body
        if not isinstance(body, dict) or not body.get("choices"):
            raise ValueError("no 'choices' in the answer")
        message = body["choices"][0].get("message") or {}
        text = message.get("content")
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise TypeError("'content' is not a string")
        usage = body.get("usage") or {}
        pt, ct = usage.get("prompt_tokens"), usage.get("completion_tokens")
        cost = usage.get("cost")
        if not isinstance(cost, int | float):
            cost = None
            if (
                self.price_in is not None
                and self.price_out is not None
                and pt is not None
                and ct is not None
            ):
                cost = (pt * self.price_in + ct * self.price_out) / 1e6
        return Answer(
            text=text,
            prompt_tokens=pt if isinstance(pt, int) else None,
            completion_tokens=ct if isinstance(ct, int) else None,
            cost_usd=float(cost) if cost is not None else None,
        )


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _server_message(e: Any) -> str:
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return _one_line(str(err["message"]))
        if isinstance(err, str):
            return _one_line(err)
    return _one_line(getattr(e, "message", None) or str(e))


def _cause(e: BaseException) -> str:
    inner = e.__cause__ or e.__context__
    text = str(inner) if inner is not None and str(inner) else str(e)
    return _one_line(text or type(e).__name__)


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
