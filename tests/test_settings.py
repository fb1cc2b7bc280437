import pytest

from shop.settings import ConfigError, load_settings


def test_defaults_are_the_embedded_setup():
    settings = load_settings(_env_file=None)
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url is None


@pytest.mark.parametrize("overrides, variable", [
    ({"promptpay_id": "812345678"}, "PROMPTPAY_ID"),
    ({"promptpay_id": "08-1234-567x"}, "PROMPTPAY_ID"),
    ({"slip_provider": "paypal"}, "SLIP_PROVIDER"),
    ({"database_url": "mysql://x"}, "DATABASE_URL"),
    ({"llm_tool_mode": "magic"}, "LLM_TOOL_MODE"),
])
def test_a_bad_value_names_the_variable_in_one_line(overrides, variable):
    with pytest.raises(ConfigError) as error:
        load_settings(_env_file=None, **overrides)
    message = str(error.value)
    assert message.startswith(variable + ":")
    assert "\n" not in message


def test_production_needs_https_public_url():
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL must be https"):
        load_settings(_env_file=None, app_env="production", public_base_url="http://shop.example",
                      line_channel_secret="s", line_channel_access_token="t", slip_provider="slipok")


def test_postgres_urls_use_psycopg3():
    settings = load_settings(_env_file=None, database_url="postgres://u@h/db")
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_secrets_do_not_print():
    settings = load_settings(_env_file=None, line_channel_secret="topsecret")
    assert "topsecret" not in repr(settings)


PRODUCTION = dict(_env_file=None, app_env="production", public_base_url="https://shop.example",
                  line_channel_secret="0123456789abcdef0123456789abcdef", line_channel_access_token="t",
                  slip_provider="slipok", slip_provider_api_key="k", slipok_branch_id="1", secret_key="k" * 32)


@pytest.mark.parametrize("overrides, message", [
    ({"line_channel_secret": "s"}, "LINE_CHANNEL_SECRET is too short"),
    ({"line_api_base_url": "https://collector.example"}, "LINE_API_BASE_URL must be unset"),
    ({"line_api_base_url": "http://127.0.0.1:8000/sim/line"}, "LINE_API_BASE_URL must be unset"),
    ({"slip_provider_base_url": "http://slips.example"}, "SLIP_PROVIDER_BASE_URL must be https://"),
    ({"llm_base_url": "http://gpu.example:8000/v1", "llm_api_key": "secret"}, "LLM_BASE_URL must be https://"),
])
def test_production_refuses_settings_that_leak_or_forge(overrides, message):
    """Issue 11 item 4: a one-character secret, a foreign LINE host or an API key over http:// stop start-up."""
    with pytest.raises(ConfigError, match="^" + message) as error:
        load_settings(**{**PRODUCTION, **overrides})
    assert "\n" not in str(error.value)


def test_production_accepts_the_real_hosts_and_local_plain_http():
    settings = load_settings(**PRODUCTION, line_api_base_url="https://api.line.me",
                             llm_base_url="http://127.0.0.1:8000/v1", llm_api_key="local-key")
    assert settings.line_api_base_url == "https://api.line.me"
    assert load_settings(**{**PRODUCTION, "llm_base_url": "http://gpu.example/v1"}).llm_base_url  # no key: nothing leaks


def test_workers_run_apart_from_the_web_in_production():
    """Issue 11 item 7: the default production layout keeps turns out of the web processes."""
    assert load_settings(**PRODUCTION).worker_in_web is False
    assert load_settings(_env_file=None, app_env="development").worker_in_web is True
    assert load_settings(**PRODUCTION, worker_in_web=True).worker_in_web is True
