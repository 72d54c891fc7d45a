package translate

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// Gemini function parameters accept only an OpenAPI 3.0 subset; one unknown
// keyword fails the whole request (rule 6). sanitizeSchema keeps the allowed
// keywords, inlines $ref, maps oneOf/const/type-arrays to their equivalents
// and drops everything else.

// geminiPassKeys are kept as they are.
var geminiPassKeys = map[string]bool{
	"description": true, "nullable": true, "minItems": true, "maxItems": true, "minLength": true,
	"maxLength": true, "pattern": true, "minimum": true, "maximum": true, "minProperties": true,
	"maxProperties": true, "propertyOrdering": true, "example": true,
}

var geminiFormats = map[string]bool{"enum": true, "date-time": true, "int32": true, "int64": true, "float": true, "double": true}

// maxSchemaDepth bounds nesting and $ref expansion of recursive schemas;
// maxSchemaNodes bounds the total output, since a node with two recursive
// references would otherwise expand exponentially.
const (
	maxSchemaDepth = 24
	maxSchemaNodes = 5000
)

type schemaCleaner struct {
	defs  map[string]any
	nodes *int
}

func sanitizeSchema(raw json.RawMessage) (map[string]any, error) {
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil, errors.New("parameters must be a JSON object")
	}
	c := schemaCleaner{defs: map[string]any{}, nodes: new(int)}
	for _, key := range []string{"$defs", "definitions"} {
		if defs, ok := root[key].(map[string]any); ok {
			for name, def := range defs {
				c.defs["#/"+key+"/"+name] = def
			}
		}
	}
	return c.clean(root, 0), nil
}

func (c schemaCleaner) clean(node any, depth int) map[string]any {
	m, ok := node.(map[string]any)
	out := map[string]any{}
	*c.nodes++
	if !ok || depth > maxSchemaDepth || *c.nodes > maxSchemaNodes {
		return out
	}
	if ref, ok := m["$ref"].(string); ok {
		resolved := c.clean(c.defs[ref], depth+1)
		if desc, ok := m["description"].(string); ok {
			resolved["description"] = desc
		}
		return resolved
	}
	for key, value := range m {
		c.cleanKey(out, key, value, depth)
	}
	filterRequired(out)
	return out
}

func (c schemaCleaner) cleanKey(out map[string]any, key string, value any, depth int) {
	switch key {
	case "type":
		setType(out, value)
	case "properties":
		if props, ok := value.(map[string]any); ok {
			cleaned := make(map[string]any, len(props))
			for name, p := range props {
				cleaned[name] = c.clean(p, depth+1)
			}
			out["properties"] = cleaned
		}
	case "items":
		out["items"] = c.clean(value, depth+1)
	case "anyOf", "oneOf":
		if list, ok := value.([]any); ok {
			out["anyOf"] = c.cleanList(list, depth)
		}
	case "allOf":
		if list, ok := value.([]any); ok {
			for _, sub := range c.cleanList(list, depth) {
				for k, v := range sub.(map[string]any) {
					out[k] = v
				}
			}
		}
	case "enum":
		setEnum(out, value)
	case "const":
		setEnum(out, []any{value})
	case "required":
		out["required"] = value
	case "format":
		if f, ok := value.(string); ok && geminiFormats[f] {
			out["format"] = f
		}
	default:
		if geminiPassKeys[key] {
			out[key] = value
		}
	}
}

func (c schemaCleaner) cleanList(list []any, depth int) []any {
	out := make([]any, 0, len(list))
	for _, sub := range list {
		out = append(out, c.clean(sub, depth+1))
	}
	return out
}

// setType uppercases JSON Schema types and turns ["string","null"] into
// type STRING + nullable.
func setType(out map[string]any, value any) {
	switch t := value.(type) {
	case string:
		out["type"] = strings.ToUpper(t)
	case []any:
		for _, v := range t {
			s, _ := v.(string)
			if s == "null" {
				out["nullable"] = true
			} else if s != "" && out["type"] == nil {
				out["type"] = strings.ToUpper(s)
			}
		}
	}
}

// setEnum keeps enums of strings only: Gemini enums are string-typed.
func setEnum(out map[string]any, value any) {
	list, ok := value.([]any)
	if !ok {
		return
	}
	for _, v := range list {
		if _, ok := v.(string); !ok {
			return
		}
	}
	out["enum"] = list
	if out["type"] == nil {
		out["type"] = "STRING"
	}
}

// filterRequired drops required names that have no property: Gemini rejects them.
func filterRequired(out map[string]any) {
	req, ok := out["required"].([]any)
	if !ok {
		delete(out, "required")
		return
	}
	props, _ := out["properties"].(map[string]any)
	kept := slices.DeleteFunc(slices.Clone(req), func(v any) bool {
		name, ok := v.(string)
		_, exists := props[name]
		return !ok || !exists
	})
	if len(kept) == 0 {
		delete(out, "required")
		return
	}
	out["required"] = kept
}
