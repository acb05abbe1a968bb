package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/store"
)

// maxBody bounds every JSON request body.
const maxBody = 64 << 10

// Error is the body of every error answer: {"error":{"code","message"}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

func errf(status int, code, format string, a ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, a...)}
}

func badRequest(format string, a ...any) *Error {
	return errf(http.StatusBadRequest, "bad_request", format, a...)
}

var errNotFound = errf(http.StatusNotFound, "not_found", "not found")

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers err in the contract's error shape, mapping service errors to
// statuses; unexpected errors are logged and answered 500 without detail.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	var ve *cameras.ValidationError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &ve):
		e = errf(http.StatusBadRequest, ve.ErrCode(), "%s", ve.Msg)
	case errors.Is(err, authz.ErrNotFound), errors.Is(err, store.ErrNotFound):
		e = errNotFound
	case errors.Is(err, authz.ErrForbidden):
		e = errf(http.StatusForbidden, "forbidden", "you are not allowed to do this")
	case errors.Is(err, store.ErrConflict):
		e = errf(http.StatusConflict, "conflict", "already exists")
	case errors.Is(err, account.ErrUnauthenticated):
		e = errf(http.StatusUnauthorized, "unauthorized", "%s", err.Error())
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = errf(http.StatusInternalServerError, "internal", "internal error")
	}
	writeJSON(w, e.Status, map[string]*Error{"error": e})
}

// decode reads one JSON object into v: bounded size, unknown fields refused,
// nothing after the object.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return errf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
	}
	body := http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return errf(http.StatusRequestEntityTooLarge, "too_large", "request body is larger than %d bytes", maxBody)
		case errors.Is(err, io.EOF):
			return badRequest("request body is empty")
		case errors.As(err, &se):
			return badRequest("malformed JSON at byte %d", se.Offset)
		case errors.As(err, &te):
			return badRequest("field %q must be %s", te.Field, te.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return badRequest("%s", strings.TrimPrefix(err.Error(), "json: "))
		default:
			return badRequest("malformed JSON: %v", err)
		}
	}
	if dec.More() {
		return badRequest("request body must hold one JSON object")
	}
	return nil
}

var idRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// pathID returns a path value that must be an id, or a 400 error.
func pathID(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if !idRE.MatchString(v) {
		return "", badRequest("%s %q is not a valid id", name, v)
	}
	return v, nil
}
