"""`clearway serve --role ...` processes for the cluster tests: real processes, one PostgreSQL, one NATS."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.pipeline_bench import clearway, wait_ready
from tests.support import free_port

READY_S = 120.0


@dataclass
class Node:
    """One `clearway serve` process; `kill()` is kill -9 (nothing cleaned up, leases left to lapse)."""

    role: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Node:
        command = [
            *clearway(),
            "serve",
            "--role",
            self.role,
            "--port",
            str(self.port),
            "--log-level",
            os.environ.get("CLUSTER_TEST_LOG", "warning"),
        ]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(command, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self) -> None:
        assert self.proc is not None
        wait_ready(self.base, self.proc, self.log, READY_S)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGINT (a clean stop: partitions handed back), then kill if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def node_env(base: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWAY_") and k != "DATABASE_URL"}
    return env | base | extra
