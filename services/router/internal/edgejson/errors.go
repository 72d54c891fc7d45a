package edgejson

import "fmt"

// Stable error codes. The router puts Code into the OpenAI error's "code"
// field, so clients and dashboards can match on it; never rename one.
const (
	CodeInvalidJSON      = "invalid_json"
	CodeTooDeep          = "json_too_deep"
	CodeInvalidUTF8      = "invalid_utf8"
	CodeNumberOutOfRange = "number_out_of_range"
	CodeNotObject        = "invalid_body"
	CodeDuplicateKey     = "duplicate_key"
	CodeAmbiguousKey     = "ambiguous_key"
	CodeInvalidType      = "invalid_type"
	CodeInvalidValue     = "invalid_value"
	CodeNoModel          = "missing_model"
)

// ErrorType is the OpenAI error "type" for every error this package returns.
const ErrorType = "invalid_request_error"

// Sentinel errors for errors.Is; an *Error matches the sentinel with its Code.
var (
	ErrInvalidJSON      = &Error{Code: CodeInvalidJSON}
	ErrTooDeep          = &Error{Code: CodeTooDeep}
	ErrInvalidUTF8      = &Error{Code: CodeInvalidUTF8}
	ErrNumberOutOfRange = &Error{Code: CodeNumberOutOfRange}
	ErrNotObject        = &Error{Code: CodeNotObject}
	ErrDuplicateKey     = &Error{Code: CodeDuplicateKey}
	ErrAmbiguousKey     = &Error{Code: CodeAmbiguousKey}
	ErrInvalidType      = &Error{Code: CodeInvalidType}
	ErrInvalidValue     = &Error{Code: CodeInvalidValue}
	ErrNoModel          = &Error{Code: CodeNoModel}
)

// Error is a client error fit for an OpenAI-style 400 body:
// {"error":{"message":Message,"type":ErrorType,"param":Param,"code":Code}}.
// Message never quotes request content, so it cannot leak what a client sent.
type Error struct {
	Code    string // stable machine code, one of the Code* constants
	Param   string // offending top-level parameter, "" when none (syntax errors)
	Message string // human sentence for the client
	Offset  int    // byte offset in the body where the problem was found
}

// Error implements error.
func (e *Error) Error() string {
	if e.Param == "" {
		return fmt.Sprintf("edgejson: %s at byte %d: %s", e.Code, e.Offset, e.Message)
	}
	return fmt.Sprintf("edgejson: %s (%s) at byte %d: %s", e.Code, e.Param, e.Offset, e.Message)
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Type returns the OpenAI error type, always "invalid_request_error".
func (e *Error) Type() string { return ErrorType }

func syntaxError(off int, what string) *Error {
	return &Error{
		Code:    CodeInvalidJSON,
		Offset:  off,
		Message: "We could not parse the JSON body of your request: " + what + ". The API expects a JSON object.",
	}
}

func tooDeepError(off, max int) *Error {
	return &Error{
		Code:    CodeTooDeep,
		Offset:  off,
		Message: fmt.Sprintf("The JSON body of your request is nested more than %d levels deep.", max),
	}
}

func utf8Error(off int) *Error {
	return &Error{
		Code:    CodeInvalidUTF8,
		Offset:  off,
		Message: "The JSON body of your request contains invalid UTF-8.",
	}
}

func rangeError(off int) *Error {
	return &Error{
		Code:    CodeNumberOutOfRange,
		Offset:  off,
		Message: "The JSON body of your request contains a number too large to represent.",
	}
}

func duplicateError(off int, param string) *Error {
	return &Error{
		Code:    CodeDuplicateKey,
		Param:   param,
		Offset:  off,
		Message: fmt.Sprintf("The parameter '%s' appears more than once in the request body.", param),
	}
}

func ambiguousError(off int, param string) *Error {
	return &Error{
		Code:    CodeAmbiguousKey,
		Param:   param,
		Offset:  off,
		Message: fmt.Sprintf("A request body key differs from '%s' only by letter case; use '%s' exactly.", param, param),
	}
}

func typeError(off int, param, want string) *Error {
	return &Error{
		Code:    CodeInvalidType,
		Param:   param,
		Offset:  off,
		Message: fmt.Sprintf("Invalid type for '%s': expected %s.", param, want),
	}
}

func valueError(off int, param, why string) *Error {
	return &Error{
		Code:    CodeInvalidValue,
		Param:   param,
		Offset:  off,
		Message: fmt.Sprintf("Invalid value for '%s': %s.", param, why),
	}
}
