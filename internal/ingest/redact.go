package ingest

import (
	"regexp"

	"github.com/camcloud/camcloud/internal/ingesturl"
	"github.com/camcloud/camcloud/internal/redact"
)

// secretInPath matches the secret of an ingest path.
var secretInPath = regexp.MustCompile(`(/` + ingesturl.PathPrefix + `/[A-Za-z0-9_-]{1,64}/)[^/\s?'"]+`)

// Redact removes ingest secrets and URL credentials (userinfo and
// credential query parameters) from a text (typically an error message
// from a library) before it is logged.
func Redact(s string) string {
	s = secretInPath.ReplaceAllString(s, "${1}REDACTED")
	return redact.Text(s, "REDACTED")
}

// redactErr is redact for an error, nil-safe.
func redactErr(err error) string {
	if err == nil {
		return ""
	}
	return Redact(err.Error())
}

// RedactURL returns u with its password, credential query values and any
// ingest secret hidden, for logs.
func RedactURL(u string) string {
	return secretInPath.ReplaceAllString(redact.URL(u, "REDACTED"), "${1}REDACTED")
}
