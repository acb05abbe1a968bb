package blob

import (
	"fmt"
	"log/slog"
	"strings"
)

// S3Config says how to reach one S3-compatible bucket. Its String, GoString
// and LogValue methods leave the secret key out, so the config can be
// printed or logged as a whole.
type S3Config struct {
	// Endpoint is host[:port], e.g. "s3.eu-west-1.amazonaws.com" or
	// "127.0.0.1:7070". An "http://" or "https://" scheme is accepted
	// and decides UseTLS.
	Endpoint string
	// Region of the bucket, e.g. "us-east-1". Set it: when empty the
	// client asks the server, which costs a request and breaks presigning
	// while the server is down.
	Region string
	// Bucket holds the objects; several zones can share it by Prefix.
	Bucket string
	// Prefix is prepended to every key ("zone-a" makes key "x" the object
	// "zone-a/x"); a missing trailing slash is added.
	Prefix string
	// AccessKey and SecretKey are the static credentials; both empty means
	// anonymous requests.
	AccessKey string
	SecretKey string
	// UseTLS selects https.
	UseTLS bool
	// PathStyle forces path-style bucket addressing (host/bucket/key),
	// which most self-hosted servers need; otherwise it is chosen
	// automatically.
	PathStyle bool
}

// redacted is a copy with the secret key replaced, for printing.
func (c S3Config) redacted() s3ConfigView {
	v := s3ConfigView(c)
	if v.SecretKey != "" {
		v.SecretKey = "REDACTED"
	}
	return v
}

// s3ConfigView has S3Config's fields and none of its methods, so printing it
// does not recurse.
type s3ConfigView S3Config

// String describes the config without the secret key.
func (c S3Config) String() string { return fmt.Sprintf("%+v", c.redacted()) }

// GoString is String for %#v.
func (c S3Config) GoString() string { return "blob.S3Config" + c.String() }

// LogValue logs the config without the secret key.
func (c S3Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("endpoint", c.Endpoint),
		slog.String("region", c.Region),
		slog.String("bucket", c.Bucket),
		slog.String("prefix", c.Prefix),
		slog.String("access_key", c.AccessKey),
		slog.Bool("tls", c.UseTLS),
		slog.Bool("path_style", c.PathStyle),
	)
}

// endpoint splits an optional scheme off Endpoint and checks it.
func (c S3Config) endpoint() (host string, tls bool, err error) {
	host, tls = c.Endpoint, c.UseTLS
	switch {
	case strings.HasPrefix(host, "https://"):
		host, tls = strings.TrimPrefix(host, "https://"), true
	case strings.HasPrefix(host, "http://"):
		if c.UseTLS {
			return "", false, fmt.Errorf("blob: s3 endpoint %q is http:// but UseTLS is set", c.Endpoint)
		}
		host = strings.TrimPrefix(host, "http://")
	}
	host = strings.TrimSuffix(host, "/")
	switch {
	case host == "":
		return "", false, fmt.Errorf("blob: s3 endpoint is empty")
	case strings.ContainsAny(host, "/?# "):
		return "", false, fmt.Errorf("blob: s3 endpoint %q must be host[:port], without a path", c.Endpoint)
	}
	return host, tls, nil
}

// keyPrefix returns the normalised Prefix ("" or ending in "/").
func (c S3Config) keyPrefix() (string, error) {
	p := strings.Trim(c.Prefix, "/")
	if p == "" {
		return "", nil
	}
	if err := ValidateKey(p); err != nil {
		return "", fmt.Errorf("blob: s3 prefix: %w", err)
	}
	return p + "/", nil
}
