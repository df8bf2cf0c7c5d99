#!/usr/bin/python3
"""Looping H.264 RTSP server for the stream tests and benchmark (Debian's python3-gi + gst-rtsp-server).

Runs under /usr/bin/python3, not the venv. The clip is parsed once into access units and replayed
forever through appsrc with monotonic timestamps, so there is no re-encoding (the server costs little
CPU next to the readers under test) and the loop never restarts the RTP clock.
Prints "READY <port>" on stdout once it accepts connections.
"""

import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def load_access_units(path: str) -> list:
    """Demux the clip once: [(bytes, is_delta)] per frame, in byte-stream (Annex B) form."""
    pipe = Gst.parse_launch(
        f'filesrc location="{path}" ! qtdemux ! h264parse config-interval=-1 ! '
        "video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false"
    )
    sink = pipe.get_by_name("sink")
    pipe.set_state(Gst.State.PLAYING)
    units = []
    while (sample := sink.emit("try-pull-sample", 5 * Gst.SECOND)) is not None:
        buf = sample.get_buffer()
        units.append((buf.extract_dup(0, buf.get_size()), buf.has_flags(Gst.BufferFlags.DELTA_UNIT)))
    pipe.set_state(Gst.State.NULL)
    if not units:
        sys.exit(f"no H.264 frames in {path}")
    return units


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clip", required=True)
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--path", default="/cam")
    parser.add_argument("--fps", type=float, default=10.0)
    args = parser.parse_args()
    Gst.init(None)
    units = load_access_units(args.clip)
    duration = int(Gst.SECOND / args.fps)

    def configure(_factory: object, media: GstRtspServer.RTSPMedia) -> None:
        src = media.get_element().get_by_name("src")
        count = [0]

        def need_data(appsrc: Gst.Element, _length: int) -> None:
            data, delta = units[count[0] % len(units)]
            buf = Gst.Buffer.new_wrapped(data)
            buf.pts = buf.dts = count[0] * duration
            buf.duration = duration
            if delta:
                buf.set_flags(Gst.BufferFlags.DELTA_UNIT)
            count[0] += 1
            appsrc.emit("push-buffer", buf)

        src.connect("need-data", need_data)

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        "( appsrc name=src format=time caps=video/x-h264,stream-format=byte-stream,alignment=au "
        "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
    )
    factory.set_shared(True)  # many readers share one pipeline: the benchmark measures the readers
    factory.connect("media-configure", configure)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    server.get_mount_points().add_factory(args.path, factory)
    server.attach(None)
    print(f"READY {server.get_bound_port()}", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
