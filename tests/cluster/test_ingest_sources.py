"""Role ingest in process, against a real nats-server and PostgreSQL: a device's alarm picture (Hikvision alarm
server) and a pushed frame are published to their camera's partition the same way, their bytes in the frame
store, nothing applied locally (an ingest runs no model)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.api.app import create_app
from service.auth.keys import create_key
from service.cluster.broker import BrokerSettings, FrameBroker
from service.cluster.partitions import partition_of
from service.config.settings import Settings
from service.store import models as m
from service.store.evidence import EvidenceStore
from tests.cluster.conftest import NatsServer
from tests.conftest import postgres_schema
from tests.devices.hikvision_device import alert_xml, jpeg, multipart
from tests.devices.test_hikvision_push import device_site, local

PARTITIONS = 4


@pytest.fixture
def schema_url(postgres_server: str) -> Iterator[str]:
    with postgres_schema(postgres_server) as url:
        yield url


async def published(server: NatsServer, partition: int, want: int) -> list:
    """The frame messages in one partition (acked as read), up to `want`, waiting a few seconds at most."""
    broker = FrameBroker(BrokerSettings(url=server.url, partitions=PARTITIONS, request_timeout_s=2.0))
    await broker.connect()
    try:
        got: list = []
        for _ in range(10):
            for delivery in await broker.fetch(partition, batch=want, timeout=0.5):
                got.append(delivery.message)
                await delivery.ack()
            if len(got) >= want:
                break
        return got
    finally:
        await broker.close()


def test_a_device_picture_and_a_pushed_frame_are_published_to_the_cameras_partition(
    tmp_path: Path, schema_url: str, nats_server: NatsServer
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=schema_url,
        site_file=device_site(tmp_path),
        role="ingest",
        nats=BrokerSettings(url=nats_server.url, partitions=PARTITIONS, reconnect_wait_s=0.2),
    )
    with TestClient(create_app(settings)) as client:
        runtime = client.app.state.runtime
        with runtime.db.session() as session:
            key = create_key(session, "gw", "gateway", camera_ids=["lanting-gate"])
        alarm, content_type = multipart(alert_xml(when=local(0)), [jpeg(1)])
        basic = "Basic " + base64.b64encode(f"admin:{key}".encode()).decode()
        answer = client.post(
            "/api/v1/push/hikvision", content=alarm, headers={"Content-Type": content_type, "Authorization": basic}
        )
        assert answer.status_code == 200, answer.text
        runtime.devices.join()
        pushed = client.post(
            "/api/v1/cameras/lanting-gate/frames",
            content=jpeg(2),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "image/jpeg"},
            params={"captured_at": local(5)},
        )
        assert pushed.status_code == 202, pushed.text
        with runtime.db.session() as session:
            assert session.scalar(select(func.count()).select_from(m.FrameRecord)) == 0  # applied by workers only
    partition = partition_of("lanting-gate", PARTITIONS)
    assert pushed.json()["partition"] == partition
    messages = asyncio.run(published(nats_server, partition, want=2))
    assert [(msg.camera_id, msg.source) for msg in messages] == [
        ("lanting-gate", "hikvision"),
        ("lanting-gate", "push"),
    ]
    store = EvidenceStore(settings.incoming_dir)
    for msg, data in zip(messages, (jpeg(1), jpeg(2)), strict=True):
        assert store.read_verified(msg.storage_key, msg.sha256) == data  # the bytes as sent, where workers read
