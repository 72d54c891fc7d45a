package fakes

import (
	"fmt"
	"net/http"
	"strings"
)

// Stock messages, worded as the providers word them (PROTOCOLS.md §1.6, §1.11, §4.3).
const (
	openaiMissingKeyMsg = "You didn't provide an API key. You need to provide your API key in an Authorization header " +
		"using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) " +
		"if you're accessing the API from your browser and are prompted for a username. You can obtain an API key " +
		"from https://platform.openai.com/account/api-keys."
	openaiQuotaMsg = "You exceeded your current quota, please check your plan and billing details. For more " +
		"information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
	openaiServerMsg     = "The server had an error while processing your request. Sorry about that!"
	openaiOverloadedMsg = "The engine is currently overloaded, please try again later"
	azureMissingKeyMsg  = "Access denied due to missing subscription key. Make sure to include subscription key " +
		"when making requests to an API."
	azureInvalidKeyMsg = "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide " +
		"a valid key for an active subscription and use a correct regional API endpoint for your resource."
	azureNoDeploymentMsg = "The API deployment for this resource does not exist. If you created the deployment " +
		"within the last 5 minutes, please wait a moment and try again."
)

// openaiStatus is the natural status of each condition at OpenAI.
var openaiStatus = map[ErrorKind]int{
	KindBadRequest: 400, KindMissingKey: 401, KindInvalidKey: 401, KindPermission: 403,
	KindModelNotFound: 404, KindRateLimit: 429, KindQuota: 429, KindServer: 500, KindOverloaded: 503,
}

func (o *openaiFamily) renderError(ex *exchange, e apiErr) {
	status := e.Status
	if status == 0 {
		status = openaiStatus[e.Kind]
		if o.variant == NIM && e.Kind == KindInvalidKey {
			status = http.StatusForbidden // NVIDIA answers a bad key with 403
		}
	}
	if e.Kind == KindRateLimit || e.Kind == KindOverloaded {
		ex.w.Header().Set("x-should-retry", "true")
	}
	switch o.variant {
	case VLLM:
		ex.writeJSON(status, vllmError(e, status))
	case NIM:
		ex.writeJSON(status, nimProblem(e, status))
	case Azure:
		ex.writeJSON(status, azureError(e))
	default:
		ex.writeJSON(status, map[string]any{"error": openaiError(e)})
	}
}

// openaiError is the OpenAI error object {message, type, param, code}.
func openaiError(e apiErr) map[string]any {
	var param, code any
	if e.Param != "" {
		param = e.Param
	}
	errType, msg := "invalid_request_error", e.Message
	switch e.Kind {
	case KindMissingKey:
		msg = openaiMissingKeyMsg
	case KindInvalidKey:
		code = "invalid_api_key"
		msg = fmt.Sprintf("Incorrect API key provided: %s. You can find your API key at "+
			"https://platform.openai.com/account/api-keys.", e.Message)
	case KindPermission:
		errType, code, msg = "request_forbidden", "unsupported_country_region_territory", "Country, region, or territory not supported"
	case KindModelNotFound:
		code = "model_not_found"
		msg = fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", e.Message)
	case KindRateLimit:
		errType, code = "requests", "rate_limit_exceeded"
		msg = fmt.Sprintf("Rate limit reached for requests in organization org-fake on requests per min (RPM): "+
			"Limit 60, Used 60, Requested 1. Please try again in %ss.", orDefault(e.RetryAfter, "1"))
	case KindQuota:
		errType, code, msg = "insufficient_quota", "insufficient_quota", openaiQuotaMsg
	case KindServer:
		errType, msg = "server_error", openaiServerMsg
	case KindOverloaded:
		errType, msg = "server_error", openaiOverloadedMsg
	}
	return map[string]any{"message": orDefault(msg, "Invalid request."), "type": errType, "param": param, "code": code}
}

// vllmTypes are the exception-like type names vLLM reports.
var vllmTypes = map[int]string{400: "BadRequestError", 404: "NotFoundError", 429: "TooManyRequestsError",
	500: "InternalServerError", 503: "ServiceUnavailableError"}

// vllmError: 401 is the bare {"error":"Unauthorized"}; others carry an
// integer code and a Python-style type.
func vllmError(e apiErr, status int) any {
	if e.Kind == KindMissingKey || e.Kind == KindInvalidKey {
		return map[string]string{"error": "Unauthorized"}
	}
	var param any
	msg := orDefault(e.Message, http.StatusText(status))
	if e.Kind == KindModelNotFound {
		param, msg = "model", fmt.Sprintf("The model `%s` does not exist.", e.Message)
	}
	return map[string]any{"error": map[string]any{"message": msg, "type": orDefault(vllmTypes[status], "BadRequestError"),
		"param": param, "code": status}}
}

// nimProblem is NVIDIA's hosted API RFC 7807 problem object.
func nimProblem(e apiErr, status int) map[string]any {
	detail := orDefault(e.Message, http.StatusText(status))
	switch e.Kind {
	case KindMissingKey:
		detail = "Header of type `authorization` was missing"
	case KindInvalidKey:
		detail = "Authorization failed"
	case KindModelNotFound:
		detail = "Function '2f4f6a0e-0000-4000-8000-fa4ef0000000': Not found for account 'fake-account'"
	case KindRateLimit:
		detail = "Too many requests"
	}
	return map[string]any{"status": status, "title": http.StatusText(status), "detail": detail}
}

// azureError: string codes, no type (except pass-through validation errors).
func azureError(e apiErr) map[string]any {
	var code, msg string
	switch e.Kind {
	case KindMissingKey:
		code, msg = "401", azureMissingKeyMsg
	case KindInvalidKey:
		code, msg = "401", azureInvalidKeyMsg
	case KindModelNotFound:
		code, msg = "DeploymentNotFound", azureNoDeploymentMsg
	case KindRateLimit, KindQuota:
		code = "429"
		msg = fmt.Sprintf("Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 "+
			"have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after %s seconds. "+
			"Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.",
			orDefault(e.RetryAfter, "1"))
	case KindPermission:
		code, msg = "PermissionDenied", "Principal does not have access to API/Operation."
	case KindServer:
		code, msg = "InternalServerError", "Backend returned unexpected response. Please contact Microsoft for help."
	case KindOverloaded:
		code, msg = "ServiceUnavailable", "The service is temporarily unable to process your request. Please try again later."
	default:
		return map[string]any{"error": openaiError(e)} // validation errors pass through OpenAI-shaped
	}
	return map[string]any{"error": map[string]string{"code": code, "message": msg}}
}

// streamError writes the family's mid-stream error event; vLLM (and the
// vLLM-backed NIM) follow it with [DONE].
func (o *openaiFamily) streamError(s *streamer, kind ErrorKind) {
	status := openaiStatus[kind]
	var body any = map[string]any{"error": openaiError(apiErr{Kind: kind})}
	if o.variant == VLLM || o.variant == NIM {
		body = vllmError(apiErr{Kind: kind}, status)
	}
	if s.event("", body) && (o.variant == VLLM || o.variant == NIM) {
		s.raw("data: [DONE]\n\n")
	}
}

// maskKey hides all but the ends of a key, as OpenAI's 401 message does.
func maskKey(key string) string {
	if len(key) <= 8 {
		return strings.Repeat("*", len(key))
	}
	return key[:3] + strings.Repeat("*", len(key)-7) + key[len(key)-4:]
}

// badJSONMessage is each protocol's answer to an unparsable body.
func badJSONMessage(p Protocol, err error) string {
	switch p {
	case Anthropic:
		return "There was an error parsing the body of your request: " + err.Error()
	case Gemini:
		return "Invalid JSON payload received. " + err.Error()
	default:
		return "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your " +
			"HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
