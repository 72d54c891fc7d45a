// Package apierr is Switchyard's error vocabulary: a small set of stable
// codes that travel unchanged over NATS (as micro error headers), map to
// HTTP statuses at the edge, and carry a message that tells the caller what
// to do next. Messages must never contain secrets.
package apierr

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is a stable, machine-readable error code.
type Code string

// The codes. They are part of the admin API: never rename one.
const (
	InvalidArgument    Code = "invalid_argument"
	NotFound           Code = "not_found"
	AlreadyExists      Code = "already_exists"
	FailedPrecondition Code = "failed_precondition"
	PermissionDenied   Code = "permission_denied"
	Unauthenticated    Code = "unauthenticated"
	ResourceExhausted  Code = "resource_exhausted"
	Unavailable        Code = "unavailable"
	DeadlineExceeded   Code = "deadline_exceeded"
	Internal           Code = "internal"
)

// Error is an error with a stable code, an actionable message and, for
// validation failures, the field at fault.
type Error struct {
	Code    Code
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Is makes errors.Is(err, &Error{Code: X}) match on the code alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Field == ""
}

// New returns an error with code and message.
func New(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// Newf formats the message.
func Newf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field returns an InvalidArgument error for one request field.
func Field(field, msg string) *Error {
	return &Error{Code: InvalidArgument, Field: field, Message: msg}
}

// CodeOf returns err's code, Internal for foreign errors and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Transient reports whether err says the service did not answer (it is
// down, overloaded or cut off: Unavailable or DeadlineExceeded), as
// opposed to an answer. A caller that already holds a good result keeps
// it over a transient error and tries again later.
func Transient(err error) bool {
	switch CodeOf(err) {
	case Unavailable, DeadlineExceeded:
		return true
	}
	return false
}

// As returns err as an *Error, wrapping foreign errors as Internal with a
// generic message so internal details do not leak to callers.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "internal error; see the service log"}
}

// HTTPStatus maps a code to the status the edge answers with.
func HTTPStatus(c Code) int {
	switch c {
	case InvalidArgument:
		return http.StatusBadRequest
	case NotFound:
		return http.StatusNotFound
	case AlreadyExists, FailedPrecondition:
		return http.StatusConflict
	case PermissionDenied:
		return http.StatusForbidden
	case Unauthenticated:
		return http.StatusUnauthorized
	case ResourceExhausted:
		return http.StatusTooManyRequests
	case Unavailable:
		return http.StatusServiceUnavailable
	case DeadlineExceeded:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}
