package fakes

import (
	"encoding/json"
	"fmt"
	"sort"
)

// geminiContent is one turn of a Gemini request.
type geminiContent struct {
	Role  string                       `json:"role"`
	Parts []map[string]json.RawMessage `json:"parts"`
}

// geminiRequest is the part of a generateContent body the fake validates.
type geminiRequest struct {
	Contents []geminiContent `json:"contents"`
	Tools    []struct {
		FunctionDeclarations []struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"functionDeclarations"`
	} `json:"tools"`
}

// partDataFields are the oneof `data` members of a Part (both JSON spellings).
var partDataFields = []string{"text", "inlineData", "inline_data", "fileData", "file_data",
	"functionCall", "function_call", "functionResponse", "function_response",
	"executableCode", "executable_code", "codeExecutionResult", "code_execution_result"}

// schemaKeys are the OpenAPI-subset Schema fields Gemini accepts in
// function parameters; anything else fails the whole request (rule 6).
var schemaKeys = map[string]bool{"type": true, "format": true, "title": true, "description": true,
	"nullable": true, "enum": true, "default": true, "example": true, "properties": true, "required": true,
	"propertyOrdering": true, "items": true, "minItems": true, "maxItems": true, "minLength": true,
	"maxLength": true, "pattern": true, "minimum": true, "maximum": true, "minProperties": true,
	"maxProperties": true, "anyOf": true}

// validate returns Gemini's 400 message for the mistakes translators make
// (PROTOCOLS.md §3.2, §3.3, rules 4 and 6), or "".
func (req geminiRequest) validate() string {
	if len(req.Contents) == 0 {
		return "* GenerateContentRequest.contents: contents is not specified\n"
	}
	for i, c := range req.Contents {
		if msg := c.validate(i); msg != "" {
			return msg
		}
		if msg := req.checkResponses(i); msg != "" {
			return msg
		}
	}
	for i, tool := range req.Tools {
		for j, fn := range tool.FunctionDeclarations {
			if bad := unknownSchemaKey(fn.Parameters); bad != "" {
				return fmt.Sprintf("Invalid JSON payload received. Unknown name %q at "+
					"'tools[%d].function_declarations[%d].parameters': Cannot find field.", bad, i, j)
			}
		}
	}
	return ""
}

func (c geminiContent) validate(i int) string {
	if c.Role != "" && c.Role != "user" && c.Role != "model" {
		return "Please use a valid role: user, model."
	}
	if len(c.Parts) == 0 {
		return fmt.Sprintf("* GenerateContentRequest.contents[%d].parts: contents.parts must not be empty.\n", i)
	}
	for j, part := range c.Parts {
		if !hasAny(part, partDataFields) {
			return fmt.Sprintf("* GenerateContentRequest.contents[%d].parts[%d].data: required oneof field "+
				"'data' must have one initialized field\n", i, j)
		}
	}
	return ""
}

// checkResponses enforces that a turn with N functionCall parts is
// followed by a turn with exactly N functionResponse parts.
func (req geminiRequest) checkResponses(i int) string {
	calls := countParts(req.Contents[i], "functionCall", "function_call")
	if calls == 0 || i+1 >= len(req.Contents) {
		return ""
	}
	if countParts(req.Contents[i+1], "functionResponse", "function_response") != calls {
		return "Please ensure that the number of function response parts is equal to the number of function " +
			"call parts of the function call turn."
	}
	return ""
}

func countParts(c geminiContent, names ...string) int {
	n := 0
	for _, part := range c.Parts {
		if hasAny(part, names) {
			n++
		}
	}
	return n
}

func hasAny(part map[string]json.RawMessage, names []string) bool {
	for _, name := range names {
		if _, ok := part[name]; ok {
			return true
		}
	}
	return false
}

// unknownSchemaKey walks a Schema through properties, items and anyOf and
// returns the first field Gemini would reject, or "".
func unknownSchemaKey(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var schema map[string]json.RawMessage
	if json.Unmarshal(raw, &schema) != nil {
		return ""
	}
	keys := make([]string, 0, len(schema))
	for k := range schema {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic message when several keys are bad
	for _, k := range keys {
		if !schemaKeys[k] {
			return k
		}
	}
	var nested []json.RawMessage
	var props map[string]json.RawMessage
	if json.Unmarshal(schema["properties"], &props) == nil {
		names := make([]string, 0, len(props))
		for name := range props {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			nested = append(nested, props[name])
		}
	}
	var anyOf []json.RawMessage
	if json.Unmarshal(schema["anyOf"], &anyOf) == nil {
		nested = append(nested, anyOf...)
	}
	nested = append(nested, schema["items"])
	for _, n := range nested {
		if bad := unknownSchemaKey(n); bad != "" {
			return bad
		}
	}
	return ""
}
