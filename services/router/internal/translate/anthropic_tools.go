package translate

import (
	"encoding/json"
	"slices"
)

var emptyObjectSchema = json.RawMessage(`{"type":"object","properties":{}}`)

// anthropicTools maps tools, tool_choice, parallel_tool_calls and
// response_format (which Anthropic lacks: a forced synthetic tool carries the
// JSON answer when the client has no tools, a system instruction otherwise).
func anthropicTools(req *ChatRequest, out *anthropicRequest) {
	for _, t := range req.Tools {
		if req.ToolChoice != nil && len(req.ToolChoice.Allowed) > 0 && !slices.Contains(req.ToolChoice.Allowed, t.Function.Name) {
			continue
		}
		schema := t.Function.Parameters
		if len(schema) == 0 || string(schema) == "null" {
			schema = emptyObjectSchema
		}
		out.Tools = append(out.Tools, anthropicTool{Name: t.Function.Name, Description: t.Function.Description, InputSchema: schema})
	}
	if len(out.Tools) > 0 {
		out.ToolChoice = anthropicChoice(req)
	}
	switch {
	case anthropicJSONMode(req):
		out.Tools = []anthropicTool{{Name: jsonToolName, Description: jsonToolDescription(req.ResponseFormat),
			InputSchema: jsonSchemaOf(req.ResponseFormat)}}
		out.ToolChoice = &anthropicToolChoice{Type: "tool", Name: jsonToolName}
	case wantsJSON(req.ResponseFormat):
		out.System = append(out.System, anthropicBlock{Type: "text", Text: jsonInstruction(req.ResponseFormat)})
	}
}

func anthropicChoice(req *ChatRequest) *anthropicToolChoice {
	var tc *anthropicToolChoice
	if c := req.ToolChoice; c != nil {
		switch {
		case c.Function != "":
			tc = &anthropicToolChoice{Type: "tool", Name: c.Function}
		case c.Mode == "none":
			return &anthropicToolChoice{Type: "none"}
		case c.Mode == "required":
			tc = &anthropicToolChoice{Type: "any"}
		case c.Mode == "auto":
			tc = &anthropicToolChoice{Type: "auto"}
		}
	}
	if req.ParallelToolCalls != nil && !*req.ParallelToolCalls {
		if tc == nil {
			tc = &anthropicToolChoice{Type: "auto"}
		}
		tc.DisableParallelToolUse = true
	}
	return tc
}

func wantsJSON(rf *ResponseFormat) bool {
	return rf != nil && (rf.Type == "json_object" || rf.Type == "json_schema")
}

// anthropicJSONMode reports whether the answer travels in the synthetic
// json_response tool and must be turned back into message content.
func anthropicJSONMode(req *ChatRequest) bool {
	return wantsJSON(req.ResponseFormat) && len(req.Tools) == 0
}

func jsonSchemaOf(rf *ResponseFormat) json.RawMessage {
	if rf.Type == "json_schema" && len(rf.JSONSchema.Schema) > 0 && string(rf.JSONSchema.Schema) != "null" {
		return rf.JSONSchema.Schema
	}
	return json.RawMessage(`{"type":"object"}`)
}

func jsonToolDescription(rf *ResponseFormat) string {
	desc := "Respond with the final answer as this tool's input, a JSON object."
	if rf.Type == "json_schema" && rf.JSONSchema.Description != "" {
		desc += " " + rf.JSONSchema.Description
	}
	return desc
}

func jsonInstruction(rf *ResponseFormat) string {
	text := "When you give your final answer, reply with a single valid JSON object and nothing else."
	if rf.Type == "json_schema" {
		text += " It must match this JSON Schema: " + string(jsonSchemaOf(rf))
	}
	return text
}
