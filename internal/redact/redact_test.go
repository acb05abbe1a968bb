package redact_test

import (
	"testing"

	"github.com/camcloud/camcloud/internal/redact"
)

func TestURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"rtsp://admin:hunter2@cam.local:554/ch1", "rtsp://admin:X@cam.local:554/ch1"},
		{"rtsp://admin@cam.local/ch1", "rtsp://admin@cam.local/ch1"},
		{"rtsp://cam/cam/realmonitor?channel=1&subtype=0", "rtsp://cam/cam/realmonitor?channel=1&subtype=0"},
		{"rtsp://cam/s?user=admin&password=hunter2&channel=1", "rtsp://cam/s?user=admin&password=X&channel=1"},
		{"rtsp://cam/s?PWD=hunter2", "rtsp://cam/s?PWD=X"},
		{"rtsp://cam/s?token=abc.def&api_key=k1;authcode=z", "rtsp://cam/s?token=X&api_key=X;authcode=X"},
		{"rtsp://u:p@cam/s?sig=abc#frag", "rtsp://u:X@cam/s?sig=X#frag"},
		{"rtsp://cam/s?password=", "rtsp://cam/s?password=X"},
	} {
		if got := redact.URL(c.in, "X"); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"dial rtsp://user:pw@10.0.0.1/stream failed", "dial rtsp://X@10.0.0.1/stream failed"},
		{`bad status for "rtsp://cam/s?passwd=hunter2&ch=1": 401`, `bad status for "rtsp://cam/s?passwd=X&ch=1": 401`},
		{"no url here: password is fine", "no url here: password is fine"},
	} {
		if got := redact.Text(c.in, "X"); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
