package edge

import (
	"errors"
	"net/http"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/services/router/internal/edgejson"
	"github.com/switchyard/switchyard/services/router/internal/keys"
	"github.com/switchyard/switchyard/services/router/internal/metrics"
	"github.com/switchyard/switchyard/services/router/internal/translate"
)

// apiError is an OpenAI-shaped error the edge answers with.
type apiError struct {
	Status  int
	Type    string
	Code    string
	Param   string
	Message string
}

// OpenAI error types by meaning.
const (
	typeInvalidRequest = "invalid_request_error"
	typeAPI            = "api_error"
)

func (e *apiError) write(w http.ResponseWriter) {
	writeJSONError(w, e.Status, apierr.OpenAIBody(e.Message, e.Type, e.Param, e.Code))
}

func writeJSONError(w http.ResponseWriter, status int, data []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// refuse answers a request refused before any upstream call and counts
// it by reason.
func (s *Server) refuse(w http.ResponseWriter, err error) {
	status, reason := http.StatusInternalServerError, "internal"
	var ae *apiError
	var ke *keys.Error
	var te *translate.Error
	switch {
	case errors.As(err, &ae):
		status, reason = ae.Status, ae.Code
	case errors.As(err, &ke):
		status, reason = ke.Status, refusalOf(ke)
	case errors.As(err, &te):
		status, reason = te.Status, "bad_request"
	}
	metrics.Refused(reason, status)
	writeErr(w, err)
}

func refusalOf(e *keys.Error) string {
	switch e.Status {
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	}
	return "auth_failures"
}

// writeErr answers err in OpenAI's shape, whichever layer raised it.
func writeErr(w http.ResponseWriter, err error) {
	var te *translate.Error
	if errors.As(err, &te) {
		writeJSONError(w, te.Status, te.JSON())
		return
	}
	var se *edgejson.Error
	if errors.As(err, &se) {
		(&apiError{Status: http.StatusBadRequest, Type: edgejson.ErrorType, Code: se.Code,
			Param: se.Param, Message: se.Message}).write(w)
		return
	}
	var ae *apiError
	if errors.As(err, &ae) {
		ae.write(w)
		return
	}
	var ke *keys.Error
	if errors.As(err, &ke) {
		ke.Write(w)
		return
	}
	(&apiError{Status: http.StatusInternalServerError, Type: typeAPI,
		Message: "The gateway failed to process the request; retry it, and report the x-request-id if it persists."}).write(w)
}

func (e *apiError) Error() string { return e.Message }

func modelNotFound(model string) *apiError {
	return &apiError{Status: http.StatusNotFound, Type: typeInvalidRequest, Code: "model_not_found", Param: "model",
		Message: "The model `" + model + "` does not exist or you do not have access to it. " +
			"List the available models with GET /v1/models."}
}

func noUsableRoute(model, why string) *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Type: typeAPI, Code: "upstream_unavailable",
		Message: "No healthy upstream can serve `" + model + "` right now: " + why}
}

func upstreamUnreachable(service string) *apiError {
	return &apiError{Status: http.StatusBadGateway, Type: typeAPI, Code: "upstream_unreachable",
		Message: "The upstream service `" + service + "` could not be reached; retry later."}
}

func upstreamTimeout(service string) *apiError {
	return &apiError{Status: http.StatusGatewayTimeout, Type: typeAPI, Code: "upstream_timeout",
		Message: "The upstream service `" + service + "` did not answer in time; retry later."}
}
