"""The one place that turns settings into an LLM client (inference/ itself takes plain parameters)."""
from __future__ import annotations

from inference.client import ChatClient
from shop.settings import Settings


def chat_client_from_settings(settings: Settings) -> ChatClient | None:
    """A client for LLM_BASE_URL, or None when no LLM is configured (the offline agent answers)."""
    if not settings.llm_base_url:
        return None
    return ChatClient(settings.llm_base_url, settings.llm_model,
                      api_key=settings.llm_api_key.get_secret_value(),
                      timeout_s=settings.llm_timeout_seconds, cooldown_s=settings.llm_retry_after_seconds)


__all__ = ["chat_client_from_settings"]
