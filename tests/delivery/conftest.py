"""Delivery fixtures: the test bed, local receivers, and the API harness (re-exported for the e2e tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.config.site import Site
from tests.api.conftest import harness, make_harness  # noqa: F401  (fixtures, re-exported)
from tests.conftest import server_unavailable
from tests.delivery.receivers import HttpReceiver, MqttSubscriber, broker_reachable
from tests.delivery.support import DeliveryEnv

MakeEnv = Callable[..., DeliveryEnv]


def _env_factory(database_url: str, tmp_path: Path) -> Iterator[MakeEnv]:
    """Build environments on one database; close them all at the end of the test."""
    envs: list[DeliveryEnv] = []

    def build(site: Site, **settings: object) -> DeliveryEnv:
        env = DeliveryEnv(database_url, tmp_path, site, **settings)
        envs.append(env)
        return env

    yield build
    for env in envs:
        env.close()


@pytest.fixture
def make_env(database_url: str, tmp_path: Path) -> Iterator[MakeEnv]:
    yield from _env_factory(database_url, tmp_path)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'clearway.db'}"


@pytest.fixture
def make_sqlite_env(sqlite_url: str, tmp_path: Path) -> Iterator[MakeEnv]:
    """For channel tests where the database is not what is under test."""
    yield from _env_factory(sqlite_url, tmp_path)


@pytest.fixture
def receivers() -> Iterator[Callable[..., HttpReceiver]]:
    started: list[HttpReceiver] = []

    def start(*args: object, **kwargs: object) -> HttpReceiver:
        receiver = HttpReceiver(*args, **kwargs).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def mqtt_broker() -> tuple[str, int]:
    why = broker_reachable("127.0.0.1", 1883)
    if why:
        server_unavailable("Mosquitto MQTT broker on 127.0.0.1:1883", why)
    return "127.0.0.1", 1883


@pytest.fixture
def subscribe(mqtt_broker: tuple[str, int]) -> Iterator[Callable[[str], MqttSubscriber]]:
    subscribers: list[MqttSubscriber] = []

    def make(prefix: str) -> MqttSubscriber:
        subscriber = MqttSubscriber(prefix, *mqtt_broker)
        subscribers.append(subscriber)
        return subscriber

    yield make
    for subscriber in subscribers:
        subscriber.close()
