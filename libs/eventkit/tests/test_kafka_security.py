"""Kafka TLS and SASL: the settings refuse what cannot work, and :func:`eventkit.kafka.connection`
turns them into the arguments every client is built with.

The TLS context is proven by a real handshake with an in-process TLS server holding a certificate
signed by a CA generated here (with ``openssl``); the dev broker (Tansu) speaks plaintext only, so
no test talks TLS or SASL to a Kafka broker.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from eventkit import kafka
from eventkit.app import load_settings
from eventkit.settings import KafkaSettings, ServiceSettings

SCRAM: dict[str, Any] = {
    "bootstrap": "kafka.example.net:9096",
    "security_protocol": "SASL_SSL",
    "sasl_mechanism": "SCRAM-SHA-512",
    "sasl_username": "anju-registry",
    "sasl_password": "s3cret-s3cret",
}


# -- generated certificates -----------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    """A CA, a server certificate for ``localhost`` and a client certificate, all PEM."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _leaf(name: str, cn: str, extensions: str, cwd: Path) -> None:
    (cwd / f"{name}.ext").write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n" + extensions
    )
    _openssl(
        *("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}"),
        *("-keyout", f"{name}.key", "-out", f"{name}.csr"),
        cwd=cwd,
    )
    _openssl(
        *("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key"),
        *("-CAcreateserial", "-days", "2", "-out", f"{name}.pem", "-extfile", f"{name}.ext"),
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to generate a CA and certificates")
    d = tmp_path_factory.mktemp("pki")
    _openssl(
        *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
        *("-subj", "/CN=Anju Test CA", "-keyout", "ca.key", "-out", "ca.pem"),
        *("-addext", "basicConstraints=critical,CA:TRUE"),
        *("-addext", "keyUsage=critical,keyCertSign,cRLSign"),
        cwd=d,
    )
    _leaf(
        "server",
        "localhost",
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        d,
    )
    _leaf("client", "anju-registry", "extendedKeyUsage=clientAuth\n", d)
    return Pki(
        ca=d / "ca.pem",
        server_cert=d / "server.pem",
        server_key=d / "server.key",
        client_cert=d / "client.pem",
        client_key=d / "client.key",
    )


async def _handshake(context: ssl.SSLContext, pki: Pki, *, server_hostname: str) -> str | None:
    """Connect with ``context`` to a TLS server that demands a client certificate from the CA;
    return the client certificate's common name as the server saw it."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=pki.ca)
    server_context.load_cert_chain(pki.server_cert, pki.server_key)
    server_context.verify_mode = ssl.CERT_REQUIRED
    seen: list[str | None] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert") or {}
        subject = dict(item[0] for item in peer.get("subject", ()))
        seen.append(subject.get("commonName"))
        writer.write(b"ok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=context, server_hostname=server_hostname
        )
        assert await reader.read() == b"ok"
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
    return seen[0] if seen else None


# -- settings -------------------------------------------------------------------------------


def test_the_defaults_are_plaintext_and_build_no_tls_or_sasl() -> None:
    settings = KafkaSettings()
    assert settings.security_protocol == "PLAINTEXT"
    assert kafka.connection(settings) == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert kafka.broker_security(settings) is None


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ({"security_protocol": "SASL_SSL"}, "needs KAFKA__SASL_MECHANISM, KAFKA__SASL_USERNAME"),
        ({**SCRAM, "sasl_mechanism": None}, "needs KAFKA__SASL_MECHANISM"),
        ({**SCRAM, "sasl_password": None}, "needs KAFKA__SASL_PASSWORD"),
        ({**SCRAM, "sasl_password": ""}, "needs KAFKA__SASL_PASSWORD"),
        ({**SCRAM, "sasl_username": ""}, "needs KAFKA__SASL_USERNAME"),
        (
            {"security_protocol": "SSL", "sasl_username": "u", "sasl_password": "p"},
            "KAFKA__SASL_USERNAME, KAFKA__SASL_PASSWORD set but KAFKA__SECURITY_PROTOCOL is SSL",
        ),
        ({"sasl_mechanism": "PLAIN"}, "KAFKA__SECURITY_PROTOCOL is PLAINTEXT"),
        ({**SCRAM, "sasl_mechanism": "GSSAPI"}, "sasl_mechanism"),
        ({"security_protocol": "TLS"}, "security_protocol"),
        (
            {**SCRAM, "security_protocol": "SASL_PLAINTEXT", "ssl_cafile": "/etc/hosts"},
            "KAFKA__SSL_CAFILE set but KAFKA__SECURITY_PROTOCOL is SASL_PLAINTEXT",
        ),
        ({"ssl_check_hostname": False}, "KAFKA__SSL_CHECK_HOSTNAME set but"),
        ({"security_protocol": "SSL", "ssl_cafile": "/nonexistent/ca.pem"}, "does not exist"),
        ({"security_protocol": "SSL", "ssl_certfile": "/"}, "KAFKA__SSL_CERTFILE: / does not"),
        (
            {"security_protocol": "SSL", "ssl_keyfile": "/etc/hosts"},
            "KAFKA__SSL_KEYFILE and KAFKA__SSL_KEY_PASSWORD need KAFKA__SSL_CERTFILE",
        ),
    ],
)
def test_settings_that_cannot_work_or_would_be_ignored_are_refused(
    given: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        KafkaSettings.model_validate(given)


def test_sasl_builds_the_mechanism_and_credentials_for_every_client() -> None:
    built = kafka.connection(KafkaSettings.model_validate(SCRAM))
    assert built["bootstrap_servers"] == "kafka.example.net:9096"
    assert built["security_protocol"] == "SASL_SSL"
    assert built["sasl_mechanism"] == "SCRAM-SHA-512"
    assert built["sasl_plain_username"] == "anju-registry"
    assert built["sasl_plain_password"] == "s3cret-s3cret"
    # No CA given: the system's CAs, and the broker's name checked against its certificate.
    context = built["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_sasl_plaintext_has_no_tls_context() -> None:
    settings = KafkaSettings.model_validate(
        {**SCRAM, "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN"}
    )
    built = kafka.connection(settings)
    assert "ssl_context" not in built
    assert built["sasl_mechanism"] == "PLAIN"


def test_the_password_stays_out_of_the_settings_repr() -> None:
    settings = KafkaSettings.model_validate(SCRAM)
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in str(settings.model_dump())


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_the_aiokafka_clients_take_the_built_arguments(mechanism: str) -> None:
    settings = KafkaSettings.model_validate({**SCRAM, "sasl_mechanism": mechanism})
    clients = [
        kafka.producer(settings, client_id="t").client,
        kafka.consumer(settings, "t.events", group_id="g", client_id="t")._client,
        kafka.admin(settings, client_id="t")._client,
    ]
    for client in clients:
        assert client._security_protocol == "SASL_SSL"
        assert client._sasl_mechanism == mechanism
        assert client._sasl_plain_username == "anju-registry"
        assert client._sasl_plain_password == "s3cret-s3cret"
        assert isinstance(client._ssl_context, ssl.SSLContext)


@pytest.mark.parametrize(
    ("protocol", "mechanism"),
    [
        ("SASL_SSL", "SCRAM-SHA-512"),
        ("SASL_SSL", "SCRAM-SHA-256"),
        ("SASL_PLAINTEXT", "PLAIN"),
        ("SSL", None),
    ],
)
def test_a_faststream_broker_gets_the_same_connection(protocol: str, mechanism: str | None) -> None:
    from faststream.kafka.security import parse_security

    given = {**SCRAM, "security_protocol": protocol, "sasl_mechanism": mechanism}
    if protocol == "SSL":
        given = {"security_protocol": "SSL"}
    settings = KafkaSettings.model_validate(given)
    security = kafka.broker_security(settings)
    assert security is not None
    parsed = parse_security(security)
    built = kafka.connection(settings)
    assert parsed["security_protocol"] == built["security_protocol"]
    assert parsed.get("sasl_mechanism") == built.get("sasl_mechanism")
    assert parsed.get("sasl_plain_username") == built.get("sasl_plain_username")
    assert parsed.get("sasl_plain_password") == built.get("sasl_plain_password")
    assert (parsed["ssl_context"] is None) == ("ssl_context" not in built)


def test_a_service_started_with_sasl_and_no_password_exits_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class ProbeSettings(ServiceSettings):
        model_config = ServiceSettings.model_config | {"env_prefix": "ANJU_PROBE_"}
        service: str = "probe"

    monkeypatch.setenv("ANJU_PROBE_DATABASE_URL", "postgresql://nowhere/probe")
    monkeypatch.setenv("ANJU_PROBE_JWT_SECRET", "a-long-enough-secret")
    monkeypatch.setenv("ANJU_PROBE_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("ANJU_PROBE_KAFKA__SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("ANJU_PROBE_KAFKA__SASL_USERNAME", "anju")
    with pytest.raises(SystemExit) as exit_:
        load_settings(ProbeSettings)
    message = str(exit_.value)
    assert "ANJU_PROBE_KAFKA:" in message
    assert "KAFKA__SECURITY_PROTOCOL=SASL_SSL needs KAFKA__SASL_PASSWORD" in message

    monkeypatch.setenv("ANJU_PROBE_KAFKA__SASL_PASSWORD", "from-a-secret")
    settings = load_settings(ProbeSettings)
    assert settings.kafka.sasl_password == SecretStr("from-a-secret")


# -- TLS ------------------------------------------------------------------------------------


def _tls(pki: Pki, **more: Any) -> KafkaSettings:
    return KafkaSettings.model_validate(
        {
            "security_protocol": "SSL",
            "ssl_cafile": str(pki.ca),
            "ssl_certfile": str(pki.client_cert),
            "ssl_keyfile": str(pki.client_key),
            **more,
        }
    )


async def test_the_tls_context_trusts_the_ca_and_presents_the_client_certificate(
    pki: Pki,
) -> None:
    context = kafka.connection(_tls(pki))["ssl_context"]
    assert [dict(i[0] for i in ca["subject"])["commonName"] for ca in context.get_ca_certs()] == [
        "Anju Test CA"
    ]
    assert await _handshake(context, pki, server_hostname="localhost") == "anju-registry"


async def test_the_broker_name_is_checked_unless_turned_off(pki: Pki) -> None:
    checked = kafka.connection(_tls(pki))["ssl_context"]
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        await _handshake(checked, pki, server_hostname="kafka.example.net")

    unchecked = kafka.connection(_tls(pki, ssl_check_hostname=False))["ssl_context"]
    assert not unchecked.check_hostname
    assert unchecked.verify_mode == ssl.CERT_REQUIRED  # still signed by the CA, or refused
    assert await _handshake(unchecked, pki, server_hostname="kafka.example.net") == "anju-registry"


async def test_a_broker_signed_by_another_ca_is_refused(pki: Pki, tmp_path: Path) -> None:
    _openssl(
        *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
        *("-subj", "/CN=Someone Else", "-keyout", "other.key", "-out", "other.pem"),
        cwd=tmp_path,
    )
    context = kafka.connection(_tls(pki, ssl_cafile=str(tmp_path / "other.pem")))["ssl_context"]
    with pytest.raises(ssl.SSLCertVerificationError):
        await _handshake(context, pki, server_hostname="localhost")


def test_files_that_are_not_certificates_are_refused_with_their_names(pki: Pki) -> None:
    wrong = _tls(pki, ssl_certfile=str(pki.ca), ssl_keyfile=str(pki.client_key))
    with pytest.raises(kafka.KafkaSecurityError, match="KAFKA__SSL_CERTFILE="):
        kafka.connection(wrong)
    not_pem = KafkaSettings(security_protocol="SSL", ssl_cafile=Path(__file__))
    with pytest.raises(kafka.KafkaSecurityError, match="cannot load Kafka TLS files"):
        kafka.connection(not_pem)
