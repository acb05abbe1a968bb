package testenv

import (
	"bufio"
	"context"
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

//go:embed gst_rtspcam.py
var gstRTSPCam []byte

// gstPython is Debian's interpreter, which has the GStreamer bindings
// (python3-gi, gir1.2-gst-rtsp-server-1.0); a python3 earlier on PATH
// (pyenv, a venv) usually has not.
const gstPython = "/usr/bin/python3"

// GstRTSPCamera runs a real gst-rtsp-server camera (live H.264 from
// videotestsrc, key frame every gop frames at 25 fps) on a free port of
// 127.0.0.1 and returns its URL; it stops with the test. shared makes all
// clients share one pipeline, as a gst-rtsp-server factory set shared does.
// It skips or fails the test when GStreamer or its Python bindings are
// missing.
func GstRTSPCamera(t testing.TB, gop int, shared bool) string {
	t.Helper()
	check := exec.Command(gstPython, "-c", `import gi; gi.require_version("GstRtspServer", "1.0"); gi.require_version("Gst", "1.0"); from gi.repository import Gst, GstRtspServer; Gst.init(None); assert Gst.ElementFactory.find("x264enc")`)
	if out, err := check.CombinedOutput(); err != nil {
		Missing(t, "GStreamer with gst-rtsp-server Python bindings and x264enc ("+strings.TrimSpace(lastLine(string(out)))+")")
	}
	script := filepath.Join(t.TempDir(), "gst_rtspcam.py")
	if err := os.WriteFile(script, gstRTSPCam, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{script, "0", "--gop", strconv.Itoa(gop)}
	if shared {
		args = append(args, "--shared")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, gstPython, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "ready" {
				ready <- f[1]
			}
		}
	}()
	select {
	case port := <-ready:
		return "rtsp://127.0.0.1:" + port + "/cam"
	case <-time.After(20 * time.Second):
		t.Fatal("gst-rtsp-server camera did not start within 20 s")
		return ""
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
