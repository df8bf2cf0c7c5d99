"""Test and benchmark helpers: an H.264 clip made from a real photo, and the local RTSP server process.

Shared by tests/streams and bench/rtsp_decode.py. Needs ffmpeg (with libx264) on PATH and, for the
server, Debian's python3-gi + gir1.2-gst-rtsp-server-1.0 for /usr/bin/python3.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def bus_photo() -> Path:
    """The bus photo shipped with ultralytics (found without importing it: that would import torch)."""
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("ultralytics is not installed in this environment")
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / "bus.jpg"


def missing_tools() -> str | None:
    """Why the RTSP tests cannot run here, or None."""
    if shutil.which("ffmpeg") is None:
        return "ffmpeg is not installed (apt-get install ffmpeg)"
    probe = "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"
    try:
        subprocess.run([SYSTEM_PYTHON, "-c", probe], check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "GStreamer RTSP server missing (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0)"
    return None


def make_clip(
    out: Path,
    *,
    width: int = 320,
    height: int = 240,
    fps: int = 10,
    gop_s: float = 1.0,
    seconds: float = 10.0,
    noise: int = 4,
    still: bool = False,
    preset: str = "veryfast",
    bitrate_kbps: int | None = None,
) -> Path:
    """H.264 (no B-frames, fixed GOP) from the bus photo: a slow pan with temporal sensor noise, so
    consecutive samples differ like a real camera's; `still=True` gives an identical picture each frame."""
    gop = max(1, round(gop_s * fps))
    scale_w = width * 2
    pan = (
        f"scale={scale_w}:-2,crop={width}:{height}:"
        f"x='(iw-{width})*(0.5+0.5*sin(2*PI*t/{seconds}))':y='(ih-{height})*(0.5+0.5*cos(2*PI*t/{seconds}))'"
    )
    filters = f"scale={width}:{height}" if still else pan + (f",noise=alls={noise}:allf=t" if noise else "")
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-framerate", str(fps)]
    cmd += ["-i", str(bus_photo()), "-vf", filters + ",format=yuv420p", "-t", str(seconds)]
    cmd += ["-c:v", "libx264", "-preset", preset, "-profile:v", "main", "-bf", "0"]
    cmd += ["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"]
    if bitrate_kbps:  # constant-ish bitrate, like a camera's CBR/VBR cap
        cmd += ["-b:v", f"{bitrate_kbps}k", "-maxrate", f"{bitrate_kbps}k", "-bufsize", f"{2 * bitrate_kbps}k"]
    cmd.append(str(out))
    subprocess.run(cmd, check=True, timeout=300)
    return out


class RtspServer:
    """The looping RTSP server as a child process, with the failure modes the tests need:
    kill (connection refused / EOF), freeze with SIGSTOP (stall), and restart on the same port."""

    def __init__(self, clip: Path, fps: int = 10, path: str = "/cam", port: int = 0) -> None:
        self.clip, self.fps, self.path, self.port = clip, fps, path, port
        self.proc: subprocess.Popen[str] | None = None

    def url(self, path: str | None = None, userinfo: str = "") -> str:
        return f"rtsp://{userinfo}127.0.0.1:{self.port}{path or self.path}"

    def start(self, timeout: float = 30.0) -> RtspServer:
        cmd = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--clip", str(self.clip), "--fps", str(self.fps)]
        cmd += ["--port", str(self.port), "--path", self.path]
        env = {**os.environ, "GST_DEBUG": "0"}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith("READY"):
            self.kill()
            raise RuntimeError(f"RTSP server did not start within {timeout}s: {line!r}")
        self.port = int(line[0].split()[1])
        return self

    def kill(self) -> None:
        """SIGKILL: clients see EOF, then connection refused until `start()` again (same port)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def freeze(self) -> None:
        """SIGSTOP: the socket stays open and silent, like a hung camera."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def restart(self, timeout: float = 30.0) -> None:
        self.kill()
        deadline = time.monotonic() + timeout
        while True:  # the port may linger briefly after the kill
            try:
                self.start(timeout=max(1.0, deadline - time.monotonic()))
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def cpu_seconds(self) -> float:
        """User+system CPU the server process has used (for the benchmark)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> RtspServer:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.kill()
