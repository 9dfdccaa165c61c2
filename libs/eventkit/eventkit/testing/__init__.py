"""Testing helpers: real PostgreSQL and Kafka-protocol brokers, and pytest fixtures."""

from eventkit.testing.infra import (
    KAFKA_TEST_CONSUMER_SETTINGS,
    TansuBroker,
    create_database,
    database_url_for,
    docker_available,
    embedded_postgres,
    ensure_database,
    free_port,
    kafka_bootstrap,
    postgres_url,
    tansu_binary,
    wait_for_kafka,
)

__all__ = [
    "KAFKA_TEST_CONSUMER_SETTINGS",
    "TansuBroker",
    "create_database",
    "database_url_for",
    "docker_available",
    "embedded_postgres",
    "ensure_database",
    "free_port",
    "kafka_bootstrap",
    "postgres_url",
    "tansu_binary",
    "wait_for_kafka",
]
