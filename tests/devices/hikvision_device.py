"""Requests built the way Hikvision cameras and NVRs build them for an alarm server (ISAPI EventNotificationAlert).

The XML follows the devices' own output (camera firmware 5.x: ver20 schema; NVRs: psialliance schema with
Extensions); multipart bodies name their parts after the event, as the firmware does, with the picture parts
last. Used by the tests and the benchmark.
"""

from __future__ import annotations

import io
import uuid

import numpy as np
from PIL import Image

CAMERA_NS = "http://www.hikvision.com/ver20/XMLSchema"
NVR_NS = "urn:psialliance-org"
MAC = "44:19:b6:12:34:56"


def alert_xml(
    event: str = "fielddetection",
    state: str = "active",
    channel: int = 1,
    when: str = "2026-05-01T16:05:00+08:00",
    mac: str = MAC,
    nvr_serial: str | None = None,
    target: str = "vehicle",
) -> bytes:
    """One EventNotificationAlert; with `nvr_serial` in an NVR's dialect (psialliance, Extensions, dynChannelID)."""
    namespace, version = (NVR_NS, "1.0") if nvr_serial else (CAMERA_NS, "2.0")
    extensions = (
        f"<Extensions><serialNumber>{nvr_serial}</serialNumber><eventPush>1</eventPush></Extensions>"
        if nvr_serial
        else ""
    )
    channel_xml = f"<dynChannelID>{channel}</dynChannelID>" if nvr_serial else f"<channelID>{channel}</channelID>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="{version}" xmlns="{namespace}">
<ipAddress>192.168.1.64</ipAddress>
<portNo>80</portNo>
<protocol>HTTP</protocol>
<macAddress>{mac}</macAddress>
{channel_xml}
<dateTime>{when}</dateTime>
<activePostCount>1</activePostCount>
<eventType>{event}</eventType>
<eventState>{state}</eventState>
<eventDescription>{event} alarm</eventDescription>
<channelName>Camera 01</channelName>
<DetectionRegionList>
<DetectionRegionEntry>
<regionID>1</regionID>
<sensitivityLevel>50</sensitivityLevel>
<detectionTarget>{target}</detectionTarget>
<TargetRect><X>312</X><Y>625</Y><width>125</width><height>312</height></TargetRect>
</DetectionRegionEntry>
</DetectionRegionList>
{extensions}
</EventNotificationAlert>""".encode()


def jpeg(seed: int, size: tuple[int, int] = (64, 48)) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(buffer, format="JPEG")
    return buffer.getvalue()


def multipart(
    xml: bytes, pictures: list[bytes], event: str = "fielddetection", subtype: str = "form-data"
) -> tuple[bytes, str]:
    """(body, content type): the XML part first, then the pictures, each part named as the firmware names it."""
    boundary = f"boundary{uuid.uuid4().hex}"
    parts = [
        (
            f'Content-Disposition: form-data; name="{event}"; filename="{event}.xml"\r\n'
            "Content-Type: application/xml\r\n",
            xml,
        )
    ]
    for n, picture in enumerate(pictures):
        parts.append(
            (
                f'Content-Disposition: form-data; name="{event}Image"; filename="{event}_{n}.jpg"\r\n'
                f"Content-Type: image/jpeg\r\nContent-Length: {len(picture)}\r\n",
                picture,
            )
        )
    body = b"".join(f"--{boundary}\r\n".encode() + head.encode() + b"\r\n" + data + b"\r\n" for head, data in parts)
    return body + f"--{boundary}--\r\n".encode(), f"multipart/{subtype}; boundary={boundary}"
