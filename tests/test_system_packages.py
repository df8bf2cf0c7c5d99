"""scripts/system-packages.sh, which `make test` runs first: silent when everything is there, installs what is
missing as root, and otherwise names the packages and the command and fails (the suite never quietly skips).
Nothing is installed or removed here: the list is replaced (CLEARWAY_SYSTEM_PACKAGES) and, on the root path,
apt-get by a recorder (CLEARWAY_APT_GET)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "system-packages.sh"
MISSING = "clearway-no-such-package"


def run(packages: str, *prefix: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = os.environ | {"CLEARWAY_SYSTEM_PACKAGES": packages} | env
    return subprocess.run(
        [*prefix, str(SCRIPT)], env=environment, capture_output=True, text=True, timeout=60, check=False
    )


def test_make_test_and_ci_use_the_one_list() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "test: system-packages" in makefile and "scripts/system-packages.sh" in makefile
    ci = (REPO / ".ci" / "run").read_text()
    assert "make system-packages" in ci and "make test" in ci and "apt-get" not in ci
    listed = SCRIPT.read_text()
    for package in ("ffmpeg", "chromium", "poppler-utils", "gir1.2-gst-rtsp-server-1.0", "fonts-wqy-microhei"):
        assert package in listed, package


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="not a Debian system")
def test_all_present_is_quiet_and_quick() -> None:
    done = run("dpkg bash")  # installed wherever dpkg is
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert run("").returncode == 0  # an empty list checks nothing


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="not a Debian system")
def test_missing_without_root_names_them_and_the_command_and_fails() -> None:
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root without setpriv: cannot drop to another user")
        prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    done = run(f"dpkg {MISSING}", *prefix)
    assert done.returncode == 2
    assert MISSING in done.stderr and "dpkg " not in done.stderr.split("installed:", 1)[1].split("install them")[0]
    assert f"sudo apt-get install -y --no-install-recommends {MISSING}" in done.stderr


@pytest.mark.skipif(shutil.which("dpkg") is None or os.geteuid() != 0, reason="the root path needs root and dpkg")
def test_missing_as_root_are_installed_with_apt_get(tmp_path: Path) -> None:
    log = tmp_path / "apt.log"
    recorder = tmp_path / "apt-get"
    recorder.write_text(f'#!/bin/sh\necho "$DEBIAN_FRONTEND $*" >> {log}\n')
    recorder.chmod(0o755)
    done = run(f"dpkg {MISSING} other-{MISSING}", CLEARWAY_APT_GET=str(recorder))
    assert done.returncode == 0, done.stderr
    assert log.read_text().splitlines() == [
        "noninteractive update -q",
        f"noninteractive install -y -q --no-install-recommends {MISSING} other-{MISSING}",
    ]
