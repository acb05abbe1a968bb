package ingest

import (
	"net/url"
	"regexp"

	"github.com/camcloud/camcloud/internal/ingesturl"
)

var (
	// secretInPath matches the secret of an ingest path.
	secretInPath = regexp.MustCompile(`(/` + ingesturl.PathPrefix + `/[A-Za-z0-9_-]{1,64}/)[^/\s?'"]+`)
	// userinfoInURL matches the credentials of any URL in a text.
	userinfoInURL = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@`)
)

// Redact removes ingest secrets and URL credentials from a text (typically
// an error message from a library) before it is logged.
func Redact(s string) string {
	s = secretInPath.ReplaceAllString(s, "${1}REDACTED")
	return userinfoInURL.ReplaceAllString(s, "${1}REDACTED@")
}

// redactErr is redact for an error, nil-safe.
func redactErr(err error) string {
	if err == nil {
		return ""
	}
	return Redact(err.Error())
}

// RedactURL returns u with its password (and any ingest secret) hidden,
// for logs. Unparsable input is redacted as text.
func RedactURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return Redact(u)
	}
	if pu.User != nil {
		if _, has := pu.User.Password(); has {
			pu.User = url.UserPassword(pu.User.Username(), "REDACTED")
		}
	}
	return secretInPath.ReplaceAllString(pu.String(), "${1}REDACTED")
}
