package ingesturl

import (
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	long := strings.Repeat("a", 64)
	cases := []struct {
		path, id, secret string
		ok               bool
	}{
		{"/cam/c1/s3cret", "c1", "s3cret", true},
		{"cam/c1/s3cret", "c1", "s3cret", true},
		{"/cam/c1/s3cret/", "c1", "s3cret", true},
		{"/cam/A-b_9/x-Y_0", "A-b_9", "x-Y_0", true},
		{"/cam/" + long + "/" + long, long, long, true},
		{"/cam/" + long + "a/s", "", "", false},
		{"/cam/c1/" + long + "a", "", "", false},
		{"/cam/c1", "", "", false},
		{"/cam//s", "", "", false},
		{"/cam/c1/", "", "", false},
		{"/cam/c1/s/x", "", "", false},
		{"/live/c1/s", "", "", false},
		{"/cam/c.1/s", "", "", false},
		{"/cam/c1/s?x=1", "", "", false},
		{"/cam/c1/s%20", "", "", false},
		{"", "", "", false},
		{"/", "", "", false},
		{"//cam/c1/s", "", "", false},
	}
	for _, c := range cases {
		id, secret, err := ParsePath(c.path)
		if (err == nil) != c.ok || id != c.id || secret != c.secret {
			t.Errorf("ParsePath(%q) = %q, %q, %v; want %q, %q, ok=%v", c.path, id, secret, err, c.id, c.secret, c.ok)
		}
	}
}

func TestURLsRoundTrip(t *testing.T) {
	rtsp, rtmp := URLs("rtsp://h:8554/", "rtmp://h:1935", "cam-1", "Secret_2")
	if rtsp != "rtsp://h:8554/cam/cam-1/Secret_2" || rtmp != "rtmp://h:1935/cam/cam-1/Secret_2" {
		t.Fatalf("URLs = %q, %q", rtsp, rtmp)
	}
	for _, u := range []string{rtsp, rtmp} {
		path := u[strings.Index(u[len("rtmp://"):], "/")+len("rtmp://"):]
		id, secret, err := ParsePath(path)
		if err != nil || id != "cam-1" || secret != "Secret_2" {
			t.Errorf("ParsePath(%q) = %q, %q, %v", path, id, secret, err)
		}
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/cam/a/b", "cam/a/b/", "/cam/a", "/x/a/b", "/cam/a/b/c", "", "/cam/\x00/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		id, secret, err := ParsePath(path)
		if err != nil {
			if id != "" || secret != "" {
				t.Fatalf("error with values: %q %q", id, secret)
			}
			return
		}
		if !ValidID(id) || !ValidID(secret) {
			t.Fatalf("invalid parts accepted from %q: %q %q", path, id, secret)
		}
		// What was accepted must come back the same from URLs.
		u, _ := URLs("rtsp://h", "rtmp://h", id, secret)
		id2, secret2, err := ParsePath(strings.TrimPrefix(u, "rtsp://h"))
		if err != nil || id2 != id || secret2 != secret {
			t.Fatalf("round trip of %q failed: %q %q %v", path, id2, secret2, err)
		}
	})
}

func TestLogPath(t *testing.T) {
	secret := "s3cr3t-s3cr3t-s3cr3t"
	for in, want := range map[string]string{
		"/live/cam1/" + secret:              "/live/<4 chars>/<20 chars>",
		"/" + secret:                        "/<20 chars>",
		"/cam/" + secret + "?key=" + secret: "/cam/<20 chars>",
		"":                                  "/",
		"/a/b/c/d/e/f/g/h/i/j":              "/a/<1 chars>/<1 chars>/<1 chars>/<1 chars>/<1 chars>/<1 chars>/<1 chars>/...(2 more)",
	} {
		got := LogPath(in)
		if got != want {
			t.Errorf("LogPath(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, secret) {
			t.Errorf("LogPath(%q) shows the secret", in)
		}
	}
}
