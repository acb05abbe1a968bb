#!/usr/bin/python3
"""A real gst-rtsp-server camera for camcloud's tests: live H.264 (x264enc) from
videotestsrc at 25 fps, served at rtsp://127.0.0.1:PORT/cam.

Usage: gst_rtspcam.py PORT [--shared] [--gop N]; prints "ready PORT" once listening.
With --shared every client shares one pipeline, whose timestamps restart
when another client connects (what a real shared factory does).
"""
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer, GLib

def main():
    port = sys.argv[1]
    shared = "--shared" in sys.argv
    gop = 50
    if "--gop" in sys.argv:
        gop = int(sys.argv[sys.argv.index("--gop") + 1])
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1 "
        f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate=300 "
        "! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=-1 )")
    factory.set_shared(shared)
    server.get_mount_points().add_factory("/cam", factory)
    server.attach(None)
    print("ready", server.get_bound_port(), flush=True)
    GLib.MainLoop().run()

main()
