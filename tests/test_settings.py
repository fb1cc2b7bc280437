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
