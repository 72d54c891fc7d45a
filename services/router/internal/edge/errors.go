package edge

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/switchyard/switchyard/services/router/internal/edgejson"
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
	type body struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}
	b := body{Message: e.Message, Type: e.Type}
	if e.Param != "" {
		b.Param = &e.Param
	}
	if e.Code != "" {
		b.Code = &e.Code
	}
	data, _ := json.Marshal(map[string]body{"error": b})
	writeJSONError(w, e.Status, data)
}

func writeJSONError(w http.ResponseWriter, status int, data []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(data)
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
