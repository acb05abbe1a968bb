// Package redact hides credentials in URLs and in texts that quote URLs
// (library error messages), before they are logged or shown: the password
// of a URL's userinfo and the values of query parameters whose names say
// they carry a secret (password=, token=, api_key=, auth=, sig= ...).
package redact

import (
	"net/url"
	"regexp"
)

var (
	// userinfo matches the credentials of any URL in a text.
	userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@`)
	// queryCred matches a query parameter whose name looks like a
	// credential, up to its value.
	queryCred = regexp.MustCompile(`(?i)([?&;][^=&#\s/]*(?:pass|pwd|pw|secret|token|key|auth|sig|cred|session)[^=&#\s/]*=)[^&;#\s'"]*`)
)

// Text replaces the userinfo of every URL in s by mask, and credential
// query values by mask.
func Text(s, mask string) string {
	s = userinfo.ReplaceAllString(s, "${1}"+mask+"@")
	return Query(s, mask)
}

// Query replaces the values of credential-named query parameters in s by
// mask, leaving the others (channel=1, subtype=0) readable.
func Query(s, mask string) string {
	return queryCred.ReplaceAllString(s, "${1}"+mask)
}

// URL returns raw with its password, if any, and its credential query
// values replaced by mask; the user name stays. Unparsable input is
// redacted as text.
func URL(raw, mask string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Text(raw, mask)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), mask)
		}
	}
	u.RawQuery = Query("?"+u.RawQuery, mask)[1:]
	return u.String()
}
