package translate

import (
	"fmt"
	"slices"
	"strings"
)

// thoughtSignatureSep joins a tool call id and the Gemini thought signature
// that came with the call. Gemini thinking models require the signature to
// be sent back with the call in the next turn; carrying it inside the id the
// client echoes keeps the gateway stateless.
const thoughtSignatureSep = "~ts~"

func joinCallID(id, signature string) string {
	if signature == "" {
		return id
	}
	return id + thoughtSignatureSep + signature
}

// splitCallID returns the id Gemini generated (synthesized call_ ids are
// not sent back) and any thought signature carried by an edge tool call id.
func splitCallID(edgeID string) (upstreamID, signature string) {
	id, signature, _ := strings.Cut(edgeID, thoughtSignatureSep)
	if strings.HasPrefix(id, "call_") {
		id = ""
	}
	return id, signature
}

func (b *geminiBuilder) user(i int, c Content) *Error {
	if !c.IsParts {
		if strings.TrimSpace(c.Text) != "" {
			b.add("user", []geminiPart{{Text: c.Text}})
		}
		return nil
	}
	var parts []geminiPart
	for j, p := range c.Parts {
		part, err := geminiUserPart(fmt.Sprintf("messages[%d].content[%d]", i, j), p)
		if err != nil {
			return err
		}
		if part != nil {
			parts = append(parts, *part)
		}
	}
	b.add("user", parts)
	return nil
}

func geminiUserPart(param string, p ContentPart) (*geminiPart, *Error) {
	switch p.Type {
	case "image_url":
		return geminiImage(param, p.ImageURL.URL)
	case "input_audio":
		if p.InputAudio == nil || p.InputAudio.Data == "" {
			return nil, invalidRequest(param+".input_audio", "An input_audio part needs data.")
		}
		mime := "audio/wav"
		if p.InputAudio.Format == "mp3" {
			mime = "audio/mp3"
		}
		return &geminiPart{InlineData: &geminiBlob{MimeType: mime, Data: p.InputAudio.Data}}, nil
	case "file":
		src, err := fileSource(param, p.File)
		if err != nil {
			return nil, err
		}
		return &geminiPart{InlineData: &geminiBlob{MimeType: src.MediaType, Data: src.Data}}, nil
	}
	if strings.TrimSpace(p.Text+p.Refusal) == "" {
		return nil, nil // Gemini rejects empty parts
	}
	return &geminiPart{Text: p.Text + p.Refusal}, nil
}

// geminiImage inlines data: URIs and passes Google file URIs; the Gemini API
// cannot fetch arbitrary URLs and the gateway does not fetch them for it.
func geminiImage(param, uri string) (*geminiPart, *Error) {
	if mime, data, ok := dataURI(uri); ok {
		return &geminiPart{InlineData: &geminiBlob{MimeType: mime, Data: data}}, nil
	}
	if strings.HasPrefix(uri, "gs://") || strings.HasPrefix(uri, "https://generativelanguage.googleapis.com/") {
		return &geminiPart{FileData: &geminiFile{FileURI: uri}}, nil
	}
	return nil, unsupported(param+".image_url.url",
		"Gemini cannot fetch image URLs: send the image as a base64 data: URI or a Gemini Files API URI.")
}

func geminiTools(req *ChatRequest, out *geminiRequest) *Error {
	if len(req.Tools) == 0 {
		return nil
	}
	decls := make([]geminiFunctionDecl, 0, len(req.Tools))
	for i, t := range req.Tools {
		if req.ToolChoice != nil && len(req.ToolChoice.Allowed) > 0 && !slices.Contains(req.ToolChoice.Allowed, t.Function.Name) {
			continue // allowed_tools restricts the set the model may call
		}
		decl := geminiFunctionDecl{Name: t.Function.Name, Description: t.Function.Description}
		if len(t.Function.Parameters) > 0 && string(t.Function.Parameters) != "null" {
			schema, err := sanitizeSchema(t.Function.Parameters)
			if err != nil {
				return invalidRequest(fmt.Sprintf("tools[%d].function.parameters", i), "Invalid JSON Schema: %v", err)
			}
			decl.Parameters = schema
		}
		decls = append(decls, decl)
	}
	out.Tools = []geminiTool{{FunctionDeclarations: decls}}
	out.ToolConfig = geminiToolChoice(req.ToolChoice)
	return nil
}

func geminiToolChoice(c *ToolChoice) *geminiToolConfig {
	if c == nil {
		return nil
	}
	tc := &geminiToolConfig{}
	fc := &tc.FunctionCallingConfig
	switch {
	case c.Function != "":
		fc.Mode, fc.AllowedFunctionNames = "ANY", []string{c.Function}
	case c.Mode == "none":
		fc.Mode = "NONE"
	case c.Mode == "required":
		fc.Mode = "ANY"
	default:
		fc.Mode = "AUTO"
	}
	if len(c.Allowed) > 0 && fc.Mode == "ANY" {
		fc.AllowedFunctionNames = c.Allowed
	}
	return tc
}
