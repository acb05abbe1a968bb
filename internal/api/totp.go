package api

import (
	"errors"
	"net/http"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/httpapi"
)

// stepUpReq is the body of the TOTP actions: the current password, or a
// second-factor code, as each action asks.
type stepUpReq struct {
	Password string `json:"password,omitempty"`
	Code     string `json:"code,omitempty"`
}

// Fields of stepUpReq an action may require.
const (
	fieldPassword = "password"
	fieldCode     = "code"
)

// stepUp runs a TOTP action that needs field of stepUpReq (1 to 1024
// bytes): run gets its value and returns the answer (nil: 204). Failures
// are answered by failSecondFactor, successes audited as action.
func (s *server) stepUp(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, action, field string, run func(v string) (any, error)) {
	var req stepUpReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	v := req.Password
	if field == fieldCode {
		v = req.Code
	}
	if v == "" || len(v) > 1024 {
		httpapi.Fail(w, r, httpapi.BadRequest("%s is required (at most 1024 bytes)", field))
		return
	}
	out, err := run(v)
	if err != nil {
		s.failSecondFactor(w, r, rq, action, err)
		return
	}
	httpapi.Record(r, rq, action, "user:"+rq.User.ID, "", "", "")
	if out == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// failSecondFactor answers an error of the TOTP actions; failed checks of
// a password or code are audited (rate-limited) as action.
func (s *server) failSecondFactor(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, action string, err error) {
	switch {
	case errors.Is(err, account.ErrBadCredentials):
		s.recordFailure(r, rq, "auth.reauth_failed", "", "user:"+rq.User.ID, action)
		err = httpapi.Errorf(http.StatusUnauthorized, "unauthorized", "the current password is wrong")
	case errors.Is(err, account.ErrBadTOTP):
		s.recordFailure(r, rq, "auth.totp_failed", "", "user:"+rq.User.ID, action)
		err = httpapi.Errorf(http.StatusBadRequest, "bad_totp", "%s", err.Error())
	case errors.Is(err, account.ErrTOTPEnabled), errors.Is(err, account.ErrTOTPNotEnabled):
		err = httpapi.Errorf(http.StatusConflict, "conflict", "%s", err.Error())
	}
	httpapi.Fail(w, r, err)
}

// beginTOTP starts enrolment after checking the current password.
func (s *server) beginTOTP(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	s.stepUp(w, r, rq, "user.totp_begin", fieldPassword, func(pw string) (any, error) {
		secret, url, err := s.Accounts.BeginTOTP(r.Context(), rq.User, pw)
		if err != nil {
			return nil, err
		}
		return map[string]string{"secret": secret, "otpauth_url": url}, nil
	})
}

// confirmTOTP enables TOTP with a code of the secret begun; an empty code
// is a wrong one (400 bad_totp), as it always was.
func (s *server) confirmTOTP(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	var req stepUpReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if len(req.Code) > 64 {
		req.Code = "" // cannot be a code
	}
	if err := s.Accounts.ConfirmTOTP(r.Context(), rq.User, req.Code); err != nil {
		s.failSecondFactor(w, r, rq, "user.totp_enabled", err)
		return
	}
	httpapi.Record(r, rq, "user.totp_enabled", "user:"+rq.User.ID, "", "", "")
	w.WriteHeader(http.StatusNoContent)
}

// disableTOTP turns TOTP off with a current TOTP code or a recovery code.
func (s *server) disableTOTP(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	s.stepUp(w, r, rq, "user.totp_disabled", fieldCode, func(code string) (any, error) {
		return nil, s.Accounts.DisableTOTP(r.Context(), rq.User, code)
	})
}

// recoveryCodes replaces the caller's recovery codes after checking the
// current password, and shows the new ones once.
func (s *server) recoveryCodes(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	s.stepUp(w, r, rq, "user.recovery_codes", fieldPassword, func(pw string) (any, error) {
		codes, err := s.Accounts.NewRecoveryCodes(r.Context(), rq.User, pw)
		if err != nil {
			return nil, err
		}
		return map[string]any{"recovery_codes": codes}, nil
	})
}
