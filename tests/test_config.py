"""Config validation: defaults, clear errors naming the key, and no network call."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from blink2mqtt.config import ConfigError, load_config, validate_config


def test_defaults() -> None:
    config = validate_config({})
    assert config.bridge["poll_interval"] == 60
    assert config.mqtt["base_topic"] == "blink2mqtt"
    assert config.homeassistant["discovery_prefix"] == "homeassistant"
    assert config.blink["verify_tls"] is True
    assert config.mqtt["tls"]["insecure"] is False


@pytest.mark.parametrize(("data", "fragment"), [
    ({"bridge": {"poll_interval": 10}}, "bridge.poll_interval"),
    ({"bridge": {"poll_interval": "often"}}, "bridge.poll_interval"),
    ({"mqtt": {"port": 70000}}, "mqtt.port"),
    ({"mqtt": {"prot": 1}}, "mqtt.prot: is not a known key"),
    ({"mqtt": {"base_topic": "a/#"}}, "mqtt.base_topic"),
    ({"mqtt": {"protocol": "4"}}, "mqtt.protocol"),
    ({"blink": {"hosts": {"oauth_url": "ftp://x"}}}, "blink.hosts.oauth_url"),
    ({"blink": {"hosts": {"tier_url_template": "https://x"}}}, "tier_url_template"),
    ({"blink": {"client_profile": {"nonsense": "1"}}}, "blink.client_profile.nonsense"),
    ({"mqtt": {"tls": {"cert_file": "a.pem"}}}, "mqtt.tls"),
    ({"logging": {"level": "loud"}}, "logging.level"),
    ({"unknown_section": {}}, "unknown_section"),
    (["a", "list"], "YAML mapping"),
])
def test_invalid_values_name_the_key(data: object, fragment: str) -> None:
    with pytest.raises(ConfigError) as error:
        validate_config(data)
    assert fragment in str(error.value)


def test_fast_polling_allowed_only_on_loopback() -> None:
    local = {"blink": {"hosts": {"oauth_url": "http://127.0.0.1:9/hosts/oauth",
                                 "rest_prod_url": "http://127.0.0.1:9/hosts/rest-prod",
                                 "tier_url_template": "http://127.0.0.1:9/hosts/rest-{tier}"}},
             "bridge": {"poll_interval": 1}}
    assert validate_config(local).bridge["poll_interval"] == 1


def test_password_never_in_error() -> None:
    with pytest.raises(ConfigError) as error:
        validate_config({"blink": {"password": ["hunter2-secret"]}})
    assert "hunter2-secret" not in str(error.value)


def test_environment_overrides_secrets() -> None:
    config = validate_config({"blink": {"email": "a@b.c"}},
                             environ={"BLINK2MQTT_BLINK_PASSWORD": "from-env",
                                      "BLINK2MQTT_MQTT_PASSWORD": "mqtt-env"})
    assert config.blink["password"] == "from-env"
    assert config.mqtt["password"] == "mqtt-env"


def test_broken_yaml_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("mqtt:\n  host: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_config(path)


def test_empty_file_uses_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("", encoding="utf-8")
    assert load_config(path).mqtt["host"] == "localhost"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_check_config_command(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("mqtt:\n  host: broker.invalid\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "blink2mqtt", "check-config", "-c", str(good)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text("bridge:\n  poll_interval: 5\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "blink2mqtt", "check-config", "-c", str(bad)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "bridge.poll_interval" in result.stderr
