"""MQTT (paho-mqtt), in the style NVR software such as Frigate made familiar:

    <prefix>/available                    "online" / "offline" (retained; "offline" is the last will)
    <prefix>/<compound>/<camera>/hazards  every event as JSON, QoS 1, not retained
    <prefix>/<compound>/<camera>/state    the camera's active hazards now, retained
    <prefix>/<compound>/<camera>/digest   a cooldown digest of one of its zones, QoS 1, not retained
    <prefix>/reports/<unit>/<kind>        the latest campaign report of a unit (weekly_report, final_report), retained

One connection per broker and credentials, kept open and reconnected by paho's network thread.
"""

from __future__ import annotations

import json
import threading
import uuid

import paho.mqtt.client as mqtt

from service.delivery.channels.base import Message, RetryableError
from service.delivery.config import MqttChannel
from service.delivery.digest_messages import is_digest
from service.delivery.lift_commands import is_lift_command
from service.delivery.report_messages import is_report


def topics(prefix: str, compound_id: str, camera_id: str) -> tuple[str, str]:
    base = f"{prefix}/{compound_id}/{camera_id}"
    return f"{base}/hazards", f"{base}/state"


def report_topic(prefix: str, unit_id: str, event: str) -> str:
    return f"{prefix}/reports/{unit_id}/{event}"


class _Connection:
    def __init__(self, channel: MqttChannel) -> None:
        self.availability = f"{channel.topic_prefix}/available"
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=channel.client_id or f"clearway-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv311,
        )
        if channel.username:
            self.client.username_pw_set(channel.username, channel.resolved_password)
        if channel.tls:
            self.client.tls_set()
        self.client.will_set(self.availability, "offline", qos=1, retain=True)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.connected = threading.Event()
        self.refusal = ""
        self.started = False
        self.host, self.port = channel.host, channel.port
        self.lock = threading.Lock()

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
        if getattr(reason, "is_failure", False):
            self.refusal = str(reason)
            return
        self.refusal = ""
        client.publish(self.availability, "online", qos=1, retain=True)
        self.connected.set()

    def _on_disconnect(self, *args: object) -> None:
        self.connected.clear()

    def ensure(self, timeout_s: float) -> None:
        with self.lock:
            if not self.started:
                try:
                    self.client.connect(self.host, self.port, keepalive=30)
                except OSError as exc:
                    raise RetryableError(f"MQTT broker {self.host}:{self.port}: {exc}") from None
                self.client.loop_start()
                self.started = True
        if not self.connected.wait(timeout_s):
            raise RetryableError(f"MQTT broker {self.host}:{self.port} not connected {self.refusal}".strip())

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool, timeout_s: float) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RetryableError(f"MQTT publish to {topic}: {mqtt.error_string(info.rc)}")
        if qos == 0:
            return
        try:
            info.wait_for_publish(timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise RetryableError(f"MQTT publish to {topic}: {exc}") from None
        if not info.is_published():
            raise RetryableError(f"MQTT broker did not acknowledge {topic} within {timeout_s:g} s")

    def close(self) -> None:
        if self.started:
            if self.connected.is_set():
                self.client.publish(self.availability, "offline", qos=1, retain=True).wait_for_publish(2)
            self.client.disconnect()
            self.client.loop_stop()


class MqttSender:
    def __init__(self) -> None:
        self._connections: dict[tuple, _Connection] = {}
        self._guard = threading.Lock()

    def _connection(self, channel: MqttChannel) -> _Connection:
        key = (channel.host, channel.port, channel.username, channel.tls, channel.client_id, channel.topic_prefix)
        with self._guard:
            if key not in self._connections:
                self._connections[key] = _Connection(channel)
            return self._connections[key]

    def send(self, channel: MqttChannel, message: Message) -> None:
        connection = self._connection(channel)
        connection.ensure(channel.timeout_s)
        body = json.dumps(message.event, ensure_ascii=False, separators=(",", ":")).encode()
        if is_report(message.event):
            topic = report_topic(channel.topic_prefix, message.event["report"]["unit"]["id"], message.event["event"])
            connection.publish(topic, body, channel.qos, True, channel.timeout_s)
            return
        if is_lift_command(message.event):  # for the lift's controller: apart from the hazard events
            hazard = message.event["hazard"]
            topic = f"{channel.topic_prefix}/{hazard['compound']['id']}/{hazard['camera']['id']}/lift"
            connection.publish(topic, body, channel.qos, False, channel.timeout_s)
            return
        if is_digest(message.event):
            topic = f"{channel.topic_prefix}/{message.event['compound']['id']}/{message.event['camera']['id']}/digest"
            connection.publish(topic, body, channel.qos, False, channel.timeout_s)
            return
        hazard = message.event["hazard"]
        event_topic, state_topic = topics(channel.topic_prefix, hazard["compound"]["id"], hazard["camera"]["id"])
        connection.publish(event_topic, body, channel.qos, False, channel.timeout_s)
        if channel.retain_state:
            state = json.dumps(message.camera_state(), ensure_ascii=False, separators=(",", ":")).encode()
            connection.publish(state_topic, state, channel.qos, True, channel.timeout_s)

    def close(self) -> None:
        with self._guard:
            connections, self._connections = list(self._connections.values()), {}
        for connection in connections:
            connection.close()
