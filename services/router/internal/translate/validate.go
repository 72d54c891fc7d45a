package translate

import "fmt"

// validate enforces the OpenAI schema rules the edge relies on, so every
// translator can trust the shape of the request.
func (r *ChatRequest) validate() *Error {
	if r.Model == "" {
		return invalidRequest("model", "You must provide a model parameter.")
	}
	if len(r.Messages) == 0 {
		return invalidRequest("messages", "'messages' must contain at least one message.")
	}
	for i := range r.Messages {
		if err := r.Messages[i].validate(i); err != nil {
			return err
		}
	}
	if err := r.validateRanges(); err != nil {
		return err
	}
	for i, t := range r.Tools {
		if t.Type != "function" || t.Function == nil || t.Function.Name == "" {
			return invalidRequest(fmt.Sprintf("tools[%d]", i), "Only function tools with a name are supported.")
		}
	}
	if rf := r.ResponseFormat; rf != nil {
		switch rf.Type {
		case "text", "json_object":
		case "json_schema":
			if rf.JSONSchema == nil || rf.JSONSchema.Name == "" {
				return invalidRequest("response_format.json_schema", "'response_format.json_schema' requires a name.")
			}
		default:
			return invalidRequest("response_format.type", "Invalid 'response_format.type': %q.", rf.Type)
		}
	}
	return nil
}

func (r *ChatRequest) validateRanges() *Error {
	checks := []struct {
		param    string
		value    *float64
		min, max float64
	}{
		{"temperature", r.Temperature, 0, 2},
		{"top_p", r.TopP, 0, 1},
		{"presence_penalty", r.PresencePenalty, -2, 2},
		{"frequency_penalty", r.FrequencyPenalty, -2, 2},
	}
	for _, c := range checks {
		if c.value != nil && (*c.value < c.min || *c.value > c.max) {
			return invalidRequest(c.param, "Invalid '%s': %g is outside the range [%g, %g].", c.param, *c.value, c.min, c.max)
		}
	}
	if r.N != nil && (*r.N < 1 || *r.N > 128) {
		return invalidRequest("n", "Invalid 'n': must be between 1 and 128.")
	}
	for _, p := range []struct {
		param string
		value *int64
	}{{"max_tokens", r.MaxTokens}, {"max_completion_tokens", r.MaxCompletionTokens}, {"top_k", r.TopK}} {
		if p.value != nil && *p.value < 1 {
			return invalidRequest(p.param, "Invalid '%s': must be at least 1.", p.param)
		}
	}
	return nil
}

func (m *Message) validate(i int) *Error {
	param := fmt.Sprintf("messages[%d]", i)
	switch m.Role {
	case "system", "developer", "user":
	case "assistant":
		for j, tc := range m.ToolCalls {
			if tc.ID == "" || tc.Function.Name == "" {
				return invalidRequest(fmt.Sprintf("%s.tool_calls[%d]", param, j), "Each tool call needs an id and a function name.")
			}
		}
	case "tool":
		if m.ToolCallID == "" {
			return invalidRequest(param+".tool_call_id", "Messages with role 'tool' must have a 'tool_call_id'.")
		}
	case "function":
		return invalidRequest(param+".role", "The deprecated 'function' role is not supported; use 'tool' messages.")
	default:
		return invalidRequest(param+".role", "Invalid role %q.", m.Role)
	}
	for j, p := range m.Content.Parts {
		switch p.Type {
		case "text", "refusal", "image_url", "input_audio", "file":
		default:
			return invalidRequest(fmt.Sprintf("%s.content[%d].type", param, j), "Invalid content part type %q.", p.Type)
		}
		if p.Type == "image_url" && (p.ImageURL == nil || p.ImageURL.URL == "") {
			return invalidRequest(fmt.Sprintf("%s.content[%d].image_url", param, j), "An image_url part needs a url.")
		}
	}
	return nil
}
