package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"

	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/store"
)

// maxBody bounds every JSON request body.
const maxBody = 64 << 10

// WriteJSON answers v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Decode reads one JSON object into v: bounded size, unknown fields
// refused, field names matched in their exact case, no key twice in an
// object, nothing after the object. Its errors are ready to Fail with.
func Decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Errorf(http.StatusRequestEntityTooLarge, "too_large", "request body is larger than %d bytes", maxBody)
		}
		return BadRequest("the request body could not be read")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return BadRequest("request body is empty")
		case errors.As(err, &se):
			return BadRequest("malformed JSON at byte %d", se.Offset)
		case errors.As(err, &te):
			return BadRequest("field %q must be %s", te.Field, te.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return BadRequest("%s", strings.TrimPrefix(err.Error(), "json: "))
		default:
			return BadRequest("malformed JSON: %v", err)
		}
	}
	if dec.More() {
		return BadRequest("request body must hold one JSON object")
	}
	return strictKeys(data, reflect.TypeOf(v))
}

var idRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// IsID reports whether s has the shape of a camcloud id (32 hex digits).
func IsID(s string) bool { return idRE.MatchString(s) }

// PathID returns a path value that must be an id, or a 400 error.
func PathID(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if !IsID(v) {
		return "", BadRequest("%s %q is not a valid id", name, v)
	}
	return v, nil
}

// NonNil returns v, or an empty slice for nil, so that lists answer [] and
// never null.
func NonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// PathCamera loads the camera of the {id} path value for rq, who must be
// allowed perm on it; others' cameras are not found.
func PathCamera(r *http.Request, rq *Request, cams *cameras.Service, perm string) (store.Camera, error) {
	id, err := PathID(r, "id")
	if err != nil {
		return store.Camera{}, err
	}
	c, err := cams.ForPrincipal(r.Context(), rq.P, id, perm)
	var refused *cameras.Refused
	if errors.As(err, &refused) {
		recordRefused(r, rq, refused)
	}
	return c, err
}
