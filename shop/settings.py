"""One settings object for the whole service, read from the environment (and `.env` in development).

A wrong value stops start-up with one clear line naming the variable: see `load_settings`.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal, NoReturn
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shop.promptpay_id import parse_target

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'salesbot.db'}"

# A slip must show at least this many digits of the receiver's account or PromptPay id (payments/receiver.py).
RECEIVER_MIN_DIGITS = 4

SlipProviderName = Literal["simulator", "openslipverify", "slipok", "easyslip", "none"]


LINE_API_ORIGIN = "https://api.line.me"
LINE_SECRET_LENGTH = 32  # LINE channel secrets are 32 hexadecimal characters
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _safe_for_a_key(url: str) -> bool:
    """An API key may go to an https:// URL, or over plain http only to this machine."""
    return url.startswith("https://") or (urlsplit(url).hostname or "").lower() in _LOOPBACK_HOSTS


class ConfigError(Exception):
    """A setting has a wrong value. `str()` is one line that names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      case_sensitive=False)

    app_env: Literal["development", "production", "test"] = "development"

    database_url: str = DEFAULT_SQLITE_URL
    redis_url: str | None = None

    line_channel_secret: SecretStr = SecretStr("")
    line_channel_access_token: SecretStr = SecretStr("")
    line_api_base_url: str | None = None  # simulator only; production leaves it unset
    line_timeout_seconds: float = 10.0
    line_profile_refresh_hours: float = Field(default=7 * 24.0, gt=0)  # re-read a customer's display name after this
    # /callback answers 500 when storing its events takes longer. Default: 0.8 s on PostgreSQL (a server
    # that hangs); 1.8 s on SQLite, whose writers queue for one lock by design and whose file cannot hang.
    ack_deadline_seconds: float | None = Field(default=None, gt=0)

    # Webhook inbox and workers (webhooks/): see docs/webhooks.md
    inbox_max_attempts: int = Field(default=5, ge=1)  # then the event is marked failed for staff
    inbox_lease_seconds: float = Field(default=120.0, gt=0)  # must outlast one turn (LLM deadline + sending)
    worker_threads: int = Field(default=8, ge=1)  # embedded mode, per web process; turns mostly wait on the LLM
    # embedded worker threads in each web process; default: yes in development, no in production, where a
    # separate `salesbot worker` (the Procfile's `worker` line) runs the turns so they never starve the acks
    worker_in_web: bool | None = None
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0)  # workers say they are alive; 3 missed: "no worker"
    rq_queue_name: str = "salesbot"
    customer_image_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)

    public_base_url: str = "http://127.0.0.1:8000"

    # Observability: see README "Logs and metrics"
    log_format: Literal["text", "json"] = "text"
    metrics_token: SecretStr = SecretStr("")   # /metrics needs "Authorization: Bearer <token>"; unset: loopback only
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)  # `salesbot worker` serves /metrics here

    shop_name: str = "ร้านบอร์ดเกมตัวอย่าง"
    promptpay_id: str = "0812345678"
    # The shop's own receiving account, checked on every slip (any provider).
    shop_account_name: str = ""          # e.g. "บจก. บอร์ดเกม" or "สมชาย ใจดี", as the bank prints it in Thai
    shop_account_name_en: str = ""       # the same account's English name, e.g. "BOARDGAME CO., LTD."
    shop_account_bank: str = ""          # bank code, e.g. "004" (KBank)
    shop_account_last_digits: str = ""   # digits the bank leaves unmasked (at least 4), e.g. "1234"

    slip_provider: SlipProviderName = "simulator"
    slip_provider_api_key: SecretStr = SecretStr("")
    slip_provider_base_url: str | None = None
    slipok_branch_id: str = ""
    slip_max_age_minutes: int = Field(default=24 * 60, ge=1)
    slip_clock_skew_minutes: int = Field(default=5, ge=0)   # slip time may precede the order by this much
    slip_provider_timeout_seconds: float = Field(default=10.0, gt=0)

    order_expiry_minutes: int = Field(default=60, ge=1)
    retention_days: int = Field(default=180, ge=1)            # personal data of settled orders is deleted after this
    handoff_timeout_minutes: int = Field(default=120, ge=1)   # a chat taken over by staff returns to the bot
    delivery_fee_satang: int = Field(default=5000, ge=0)
    # The shop's facts for customers (delivery, pickup, payment, returns, hours): a TOML file, see
    # shop/data/shop_info.toml (the default when empty).
    shop_info_path: str = ""

    llm_base_url: str | None = None
    llm_model: str = "Qwen/Qwen2.5-VL-7B-Instruct"
    llm_tool_mode: Literal["prompt", "native"] = "prompt"
    llm_api_key: SecretStr = SecretStr("")
    # Chat-sized waits (docs/llm.md "Deadlines"): a hung model costs the customer 8 s, a whole turn 12 s,
    # then the offline agent answers.
    llm_timeout_seconds: float = Field(default=8.0, gt=0)
    llm_turn_deadline_seconds: float = Field(default=12.0, gt=0)
    llm_max_visual_tokens: int = Field(default=1280, ge=4, le=16384)   # per customer photo, after resizing
    llm_history_tokens: int = Field(default=1500, ge=0)                # recent turns sent with each request
    llm_retry_after_seconds: float = Field(default=30.0, gt=0)         # circuit breaker cool-down after a failure

    # Back office (admin/): SECRET_KEY signs the staff session cookie and CSRF tokens (required in
    # production; without it in development each process makes its own, so sessions end at restart).
    secret_key: SecretStr = SecretStr("")
    # Staff alerts on LINE (new paid order, slip to review, failed event): a group id (C...), a room id
    # (R...) or a staff member's user id (U...) the bot can push to. Empty: no alerts.
    staff_line_target: str = ""
    # Reverse proxies in front of the service that append to X-Forwarded-For (0: clients connect directly).
    # The back office counts failed sign-ins per client address, read from that header when this is set.
    trusted_proxies: int = Field(default=0, ge=0, le=5)

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @field_validator("promptpay_id")
    @classmethod
    def _promptpay_target(cls, value: str) -> str:
        parse_target(value)  # raises ValueError with a readable reason
        return value

    @field_validator("public_base_url", "line_api_base_url", "llm_base_url", "slip_provider_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("staff_line_target")
    @classmethod
    def _line_chat_id(cls, value: str) -> str:
        value = value.strip()
        if value and not (len(value) == 33 and value[0] in "UCR" and all(c in "0123456789abcdef" for c in value[1:])):
            raise ValueError("must be a LINE group id (C + 32 hex digits), room id (R...) or user id (U...)")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value.startswith("postgres://"):  # Heroku-style URLs
            value = "postgresql://" + value[len("postgres://"):]
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://"):]
        if not value.startswith(("sqlite:", "postgresql+psycopg:")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("shop_account_bank", "shop_account_last_digits")
    @classmethod
    def _digits_only(cls, value: str) -> str:
        value = value.strip()
        if value and not (value.isdigit() and value.isascii()):
            raise ValueError("must be digits only (bank code like 004, or the unmasked account digits)")
        return value

    @field_validator("shop_info_path")
    @classmethod
    def _shop_info_readable(cls, value: str) -> str:
        from shop.info import load_shop_info

        load_shop_info(value)  # a missing or broken file stops the process at start, not at a customer's question
        return value

    @field_validator("shop_account_last_digits")
    @classmethod
    def _enough_digits(cls, value: str) -> str:
        if value and len(value) < RECEIVER_MIN_DIGITS:
            raise ValueError(f"give at least {RECEIVER_MIN_DIGITS} digits: fewer prove nothing about the receiver")
        return value

    @model_validator(mode="after")
    def _worker_layout(self) -> Settings:
        if self.worker_in_web is None:
            self.worker_in_web = not self.production
        if self.ack_deadline_seconds is None:
            self.ack_deadline_seconds = 1.8 if self.database_url.startswith("sqlite") else 0.8
        return self

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.production:
            if not (self.public_base_url or "").startswith("https://"):
                raise ValueError("PUBLIC_BASE_URL must be https:// in production (LINE only loads HTTPS images)")
            if not self.line_channel_secret.get_secret_value():
                raise ValueError("LINE_CHANNEL_SECRET is required in production")
            if not self.line_channel_access_token.get_secret_value():
                raise ValueError("LINE_CHANNEL_ACCESS_TOKEN is required in production")
            if self.slip_provider == "simulator":
                raise ValueError("SLIP_PROVIDER=simulator is for development only")
            if len(self.secret_key.get_secret_value()) < 32:
                raise ValueError("SECRET_KEY of at least 32 characters is required in production "
                                 "(it signs the back-office sessions): python -c 'import secrets; "
                                 "print(secrets.token_hex(32))'")
            if len(self.line_channel_secret.get_secret_value()) < LINE_SECRET_LENGTH:
                raise ValueError(f"LINE_CHANNEL_SECRET is too short: LINE's channel secrets have "
                                 f"{LINE_SECRET_LENGTH} characters (copy it from the LINE Developers console)")
            if self.line_api_base_url not in (None, LINE_API_ORIGIN):
                raise ValueError(f"LINE_API_BASE_URL must be unset (or {LINE_API_ORIGIN}) in production: the "
                                 "channel access token goes to that host")
            for name, url, key in (("SLIP_PROVIDER_BASE_URL", self.slip_provider_base_url, self.slip_provider_api_key),
                                   ("LLM_BASE_URL", self.llm_base_url, self.llm_api_key)):
                if key.get_secret_value() and url and not _safe_for_a_key(url):
                    raise ValueError(f"{name} must be https:// (or on this machine) in production: "
                                     "its API key would cross the network in clear text")
        return self

    @model_validator(mode="after")
    def _slip_provider_rules(self) -> Settings:
        if self.slip_provider in ("openslipverify", "slipok", "easyslip") \
                and not self.slip_provider_api_key.get_secret_value():
            raise ValueError(f"SLIP_PROVIDER_API_KEY is required for SLIP_PROVIDER={self.slip_provider}")
        if self.slip_provider == "slipok" and not self.slipok_branch_id:
            raise ValueError("SLIPOK_BRANCH_ID is required for SLIP_PROVIDER=slipok")
        return self


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    names = [str(part).upper() for part in first.get("loc", ()) if part != "__root__"]
    message = first.get("msg", "invalid value").removeprefix("Value error, ")
    if names:
        return f"{names[0]}: {message}"
    return message


def load_settings(**overrides) -> Settings:
    """Build settings, turning a validation error into `ConfigError` with one readable line."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(_one_line(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def exit_on_config_error(error: ConfigError) -> NoReturn:
    print(f"salesbot: configuration error: {error}", file=sys.stderr)
    raise SystemExit(2)


def settings_or_exit() -> Settings:
    """The settings for a command: a configuration error ends the process with one line, exit code 2."""
    try:
        return get_settings()
    except ConfigError as error:
        exit_on_config_error(error)


__all__ = ["Settings", "ConfigError", "load_settings", "get_settings", "exit_on_config_error", "settings_or_exit"]
