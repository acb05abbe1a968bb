package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"

	"github.com/camcloud/camcloud/internal/netpolicy"
)

// PullFailures may be implemented by the Events given to NewPuller: it is
// then told, after each failed attempt, why a pulled camera could not be
// read, in words an operator acts on (PullFailureReason), so that the
// camera's status can say why it is offline.
type PullFailures interface {
	PullFailed(cameraID, reason string)
}

// maxReasonLen bounds a reason (the tail of an unexpected error is cut).
const maxReasonLen = 200

// PullFailureReason says in a short line why a pull ended with err:
// "connection refused", "the camera refused the credentials (401
// Unauthorized)", "timeout: ...", and otherwise the error itself with
// credentials hidden.
func PullFailureReason(err error) string {
	var bad liberrors.ErrClientBadStatusCode
	var dns *net.DNSError
	var nerr net.Error
	msg := redactErr(err)
	switch {
	case err == nil:
		return "the stream ended"
	case errors.Is(err, netpolicy.ErrRefused):
		return "the destination policy does not allow this camera's address"
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(msg, "connection refused"):
		return "connection refused: nothing listens at the camera's address and port"
	case errors.As(err, &bad) && bad.Code == 401:
		return "the camera refused the credentials (401 Unauthorized): check the user and password in the URL"
	case errors.As(err, &bad) && bad.Code == 404:
		return "the camera has no stream at this path (404 Not Found)"
	case errors.As(err, &bad):
		return trimReason(fmt.Sprintf("the camera answered %d %s", bad.Code, bad.Message))
	case errors.As(err, &dns):
		return trimReason("host not found: " + dns.Name)
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return "the camera's address is unreachable"
	case errors.Is(err, syscall.ECONNRESET) || strings.Contains(msg, "connection reset"):
		return "the camera reset the connection"
	case errors.As(err, &liberrors.ErrClientTCPTimeout{}) || errors.As(err, &liberrors.ErrClientUDPTimeout{}):
		return fmt.Sprintf("timeout: the camera sent no media for %s", pullTimeout)
	case errors.As(err, &liberrors.ErrClientRequestTimedOut{}) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &nerr) && nerr.Timeout():
		return fmt.Sprintf("timeout: the camera did not answer within %s", pullTimeout)
	}
	return trimReason(msg)
}

// trimReason bounds a reason's length, on a character boundary.
func trimReason(s string) string {
	if len(s) <= maxReasonLen {
		return s
	}
	r := []rune(s[:maxReasonLen])
	return string(r[:len(r)-1]) + "…"
}
