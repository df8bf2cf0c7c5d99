"""Which camera of the site file a device's notification or upload is: by MAC, serial or address, and channel."""

from __future__ import annotations

from service.config.devices import normal_mac
from service.config.site import Camera, Site


def camera_for_device(
    site: Site,
    vendor: str,
    channel: int,
    mac: str | None = None,
    serial: str | None = None,
    address: str | None = None,
) -> Camera | None:
    """The camera whose `device` matches any identity the device gave, on that channel; MAC first, then serial,
    then address (an address can change with DHCP, a MAC cannot)."""
    try:
        mac = normal_mac(mac) if mac else None
    except ValueError:
        mac = None
    candidates = [c for c in site.cameras if c.device and c.device.vendor == vendor and c.device.channel == channel]
    for field, value in (("mac", mac), ("serial", serial), ("address", address)):
        if value:
            found = next((c for c in candidates if getattr(c.device, field) == value), None)
            if found is not None:
                return found
    return None


def camera_for_ftp_user(site: Site, username: str) -> Camera | None:
    return next((c for c in site.cameras if c.ftp and c.ftp.username == username), None)
