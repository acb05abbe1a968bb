package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/store"
)

// Error is the body of every error answer: {"error":{"code","message"}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Errorf builds an error answered with status and code.
func Errorf(status int, code, format string, a ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, a...)}
}

// BadRequest is a 400 "bad_request" error.
func BadRequest(format string, a ...any) *Error {
	return Errorf(http.StatusBadRequest, "bad_request", format, a...)
}

// ErrNotFound is the 404 of a resource the caller may not see or that does
// not exist (the two are not told apart).
var ErrNotFound = Errorf(http.StatusNotFound, "not_found", "not found")

// Fail answers err in the contract's error shape, mapping service errors to
// statuses; unexpected errors are logged and answered 500 without detail.
func Fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	var ve *cameras.ValidationError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &ve):
		e = Errorf(http.StatusBadRequest, ve.ErrCode(), "%s", ve.Msg)
	case errors.Is(err, authz.ErrNotFound), errors.Is(err, store.ErrNotFound):
		e = ErrNotFound
	case errors.Is(err, authz.ErrForbidden):
		e = Errorf(http.StatusForbidden, "forbidden", "you are not allowed to do this")
	case errors.Is(err, store.ErrLastOwner):
		e = Errorf(http.StatusConflict, "last_owner", "an organisation must keep at least one owner")
	case errors.Is(err, store.ErrConflict):
		e = Errorf(http.StatusConflict, "conflict", "already exists")
	case errors.Is(err, account.ErrUnauthenticated):
		e = Errorf(http.StatusUnauthorized, "unauthorized", "%s", err.Error())
	case errors.Is(err, account.ErrRateLimited):
		w.Header().Set("Retry-After", "60")
		e = Errorf(http.StatusTooManyRequests, "rate_limited", "%s", err.Error())
	default:
		logger(r).Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = Errorf(http.StatusInternalServerError, "internal", "internal error")
	}
	WriteJSON(w, e.Status, map[string]*Error{"error": e})
}
