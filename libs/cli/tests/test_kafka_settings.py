"""The operator commands reach Kafka as the services do: every Kafka setting, TLS and SASL
included, read from ``ANJU_KAFKA_<SETTING>`` and refused with the variable's name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anju_cli.main import main
from anju_cli.operate import OperatorError, kafka_settings


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("ANJU_KAFKA_"):
            monkeypatch.delenv(key)


def test_without_variables_it_is_the_dev_stacks_plaintext_broker(tmp_path: Path) -> None:
    settings = kafka_settings(tmp_path)
    assert settings.bootstrap == "127.0.0.1:9092"
    assert settings.security_protocol == "PLAINTEXT"


def test_a_managed_cluster_with_sasl_ssl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANJU_KAFKA_BOOTSTRAP", "b-1.kafka.example.net:9096")
    monkeypatch.setenv("ANJU_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("ANJU_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("ANJU_KAFKA_SASL_USERNAME", "anju-operator")
    monkeypatch.setenv("ANJU_KAFKA_SASL_PASSWORD", "from-the-vault")
    monkeypatch.setenv("ANJU_KAFKA_PARTITIONS", "6")
    settings = kafka_settings(tmp_path)
    assert settings.bootstrap == "b-1.kafka.example.net:9096"
    assert settings.sasl_mechanism == "SCRAM-SHA-512"
    assert settings.sasl_password is not None
    assert settings.sasl_password.get_secret_value() == "from-the-vault"
    assert settings.partitions == 6


def test_wrong_settings_are_refused_naming_the_operators_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANJU_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("ANJU_KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("ANJU_KAFKA_SASL_USERNAME", "anju")
    with pytest.raises(OperatorError, match="SASL_SSL needs ANJU_KAFKA_SASL_PASSWORD"):
        kafka_settings(tmp_path)

    monkeypatch.setenv("ANJU_KAFKA_SASL_PASSWORD", "p")
    monkeypatch.setenv("ANJU_KAFKA_SSL_CAFILE", str(tmp_path / "missing-ca.pem"))
    with pytest.raises(OperatorError, match=r"ANJU_KAFKA_SSL_CAFILE: .*missing-ca\.pem does not"):
        kafka_settings(tmp_path)

    (tmp_path / "not-a-ca.pem").write_text("hello\n")
    monkeypatch.setenv("ANJU_KAFKA_SSL_CAFILE", str(tmp_path / "not-a-ca.pem"))
    with pytest.raises(
        OperatorError, match=r"cannot load Kafka TLS files \(ANJU_KAFKA_SSL_CAFILE="
    ):
        kafka_settings(tmp_path)

    monkeypatch.setenv("ANJU_KAFKA_PARTITIONS", "none")
    assert main(["topics"]) != 0
    assert "ANJU_KAFKA_PARTITIONS" in capsys.readouterr().err
