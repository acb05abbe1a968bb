package blob

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// newS3 connects to srv's bucket under prefix, creating the bucket.
func newS3(t testing.TB, srv testenv.S3Server, bucket, prefix string) *S3 {
	t.Helper()
	s, err := NewS3(context.Background(), S3Config{
		Endpoint: srv.Endpoint, Region: "us-east-1", Bucket: bucket, Prefix: prefix,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true,
	})
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	if err := s.EnsureBucket(context.Background()); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	return s
}

func TestS3Store(t *testing.T) {
	srv := testenv.StartS3(t)
	n := 0
	runSuite(t, func(t *testing.T) Store {
		n++ // each subtest gets its own prefix in one shared bucket
		return newS3(t, srv, "suite", fmt.Sprintf("zone-%d", n))
	})
}

func TestS3PrefixIsolation(t *testing.T) {
	srv := testenv.StartS3(t)
	a := newS3(t, srv, "shared", "zone-a")
	b := newS3(t, srv, "shared", "zone-b/")
	put(t, a, "cam/1/x", []byte("from a"))
	put(t, b, "cam/1/x", []byte("from b"))
	put(t, b, "cam/2/y", []byte("b only"))
	if got := strings.Join(listAll(t, a, ""), ","); got != "cam/1/x=6" {
		t.Fatalf("zone a lists %s", got)
	}
	if got := strings.Join(listAll(t, b, "cam/"), ","); got != "cam/1/x=6,cam/2/y=6" {
		t.Fatalf("zone b lists %s", got)
	}
	if got := string(get(t, a, "cam/1/x")); got != "from a" {
		t.Fatalf("zone a reads %q", got)
	}
	if err := a.Delete(context.Background(), "cam/1/x", "cam/2/y"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(listAll(t, b, ""), ","); got != "cam/1/x=6,cam/2/y=6" {
		t.Fatalf("zone a's Delete reached zone b: %s", got)
	}
}

func TestS3PingFollowsServer(t *testing.T) {
	srv := testenv.StartS3(t)
	s := newS3(t, srv, "ping", "")
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping with the server up: %v", err)
	}
	srv.Stop()
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded with the server stopped")
	}
	if err := s.Put(ctx, "k", strings.NewReader("x"), 1); err == nil {
		t.Fatal("Put succeeded with the server stopped")
	}
	srv.Start()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after restart: %v", err)
	}
	put(t, s, "k", []byte("back"))
	if got := string(get(t, s, "k")); got != "back" {
		t.Fatalf("Get after restart = %q", got)
	}
	missing := newS3(t, srv, "ping", "")
	missing.bucket = "no-such-bucket"
	if err := missing.Ping(ctx); err == nil {
		t.Fatal("Ping of a missing bucket succeeded")
	}
}

func TestS3PresignGet(t *testing.T) {
	srv := testenv.StartS3(t)
	s := newS3(t, srv, "presign", "zone")
	put(t, s, "cam/1/seg.m4s", []byte("segment bytes"))
	u, err := s.PresignGet(context.Background(), "cam/1/seg.m4s", time.Minute)
	if err != nil {
		t.Fatalf("PresignGet: %v", err)
	}
	if strings.Contains(u, srv.SecretKey) {
		t.Fatal("presigned URL carries the secret key")
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "segment bytes" {
		t.Fatalf("GET presigned URL: %d %q", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "video/iso.segment" {
		t.Errorf("Content-Type = %q", ct)
	}
	for _, exp := range []time.Duration{0, -time.Second, 8 * 24 * time.Hour} {
		if _, err := s.PresignGet(context.Background(), "cam/1/seg.m4s", exp); err == nil {
			t.Errorf("expiry %v accepted", exp)
		}
	}
}

func TestS3SecretNeverShown(t *testing.T) {
	srv := testenv.StartS3(t)
	const secret = "s3cr3t-value-never-shown"
	cfg := S3Config{
		Endpoint: srv.Endpoint, Region: "us-east-1", Bucket: "b", PathStyle: true,
		AccessKey: srv.AccessKey, SecretKey: secret,
	}
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "s3", cfg)
	printed := fmt.Sprint(cfg) + fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg) + logs.String()
	if strings.Contains(printed, secret) {
		t.Fatalf("secret shown when printing or logging the config: %s", printed)
	}
	s, err := NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var errs []error
	errs = append(errs, s.Ping(ctx), s.EnsureBucket(ctx), s.Put(ctx, "k", strings.NewReader("x"), 1))
	_, err = s.Get(ctx, "k")
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("a request with a wrong secret succeeded")
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error shows the secret: %v", err)
		}
	}
}

func TestNewS3RejectsBadConfig(t *testing.T) {
	cases := []S3Config{
		{Bucket: "b"},
		{Endpoint: "127.0.0.1:1"},
		{Endpoint: "127.0.0.1:1/path", Bucket: "b"},
		{Endpoint: "http://127.0.0.1:1", Bucket: "b", UseTLS: true},
		{Endpoint: "127.0.0.1:1", Bucket: "b", Prefix: "../x"},
	}
	for _, c := range cases {
		if _, err := NewS3(context.Background(), c); err == nil {
			t.Errorf("NewS3(%v) accepted", c)
		}
	}
	if _, err := NewS3(context.Background(), S3Config{Endpoint: "https://s3.example.com", Bucket: "b"}); err != nil {
		t.Errorf("https endpoint refused: %v", err)
	}
}
