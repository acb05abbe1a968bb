package ingest

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		{"path has changed: /cam/c1/topsecret", "path has changed: /cam/c1/REDACTED"},
		{"dial rtsp://user:pw@10.0.0.1/stream failed", "dial rtsp://REDACTED@10.0.0.1/stream failed"},
		{"nothing here", "nothing here"},
	}
	for _, c := range cases {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := RedactURL("rtsp://admin:hunter2@cam.local:554/ch1"); strings.Contains(got, "hunter2") || !strings.Contains(got, "admin") {
		t.Errorf("RedactURL kept the password or lost the user: %q", got)
	}
	if got := RedactURL("rtmp://h:1935/cam/c1/s3cr3t"); strings.Contains(got, "s3cr3t") {
		t.Errorf("RedactURL kept the secret: %q", got)
	}
}
