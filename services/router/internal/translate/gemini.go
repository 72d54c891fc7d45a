package translate

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// NewGemini returns the OpenAI ⇄ Gemini generateContent translator.
func NewGemini() Chat { return geminiChat{} }

type geminiChat struct{}

type geminiRequest struct {
	Contents          []geminiContent   `json:"contents"`
	SystemInstruction *geminiContent    `json:"systemInstruction,omitempty"`
	Tools             []geminiTool      `json:"tools,omitempty"`
	ToolConfig        *geminiToolConfig `json:"toolConfig,omitempty"`
	GenerationConfig  *geminiGenConfig  `json:"generationConfig,omitempty"`
}

type geminiContent struct {
	Role  string       `json:"role,omitempty"`
	Parts []geminiPart `json:"parts"`
}

type geminiPart struct {
	Text             string              `json:"text,omitempty"`
	Thought          bool                `json:"thought,omitempty"`
	ThoughtSignature string              `json:"thoughtSignature,omitempty"`
	InlineData       *geminiBlob         `json:"inlineData,omitempty"`
	FileData         *geminiFile         `json:"fileData,omitempty"`
	FunctionCall     *geminiFunctionCall `json:"functionCall,omitempty"`
	FunctionResponse *geminiFunctionResp `json:"functionResponse,omitempty"`
}

type geminiBlob struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

type geminiFile struct {
	MimeType string `json:"mimeType,omitempty"`
	FileURI  string `json:"fileUri"`
}

type geminiFunctionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

type geminiFunctionResp struct {
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type geminiTool struct {
	FunctionDeclarations []geminiFunctionDecl `json:"functionDeclarations"`
}

type geminiFunctionDecl struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Parameters  any    `json:"parameters,omitempty"`
}

type geminiToolConfig struct {
	FunctionCallingConfig struct {
		Mode                 string   `json:"mode"`
		AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
	} `json:"functionCallingConfig"`
}

type geminiGenConfig struct {
	Temperature        *float64        `json:"temperature,omitempty"`
	TopP               *float64        `json:"topP,omitempty"`
	TopK               *int64          `json:"topK,omitempty"`
	MaxOutputTokens    *int64          `json:"maxOutputTokens,omitempty"`
	StopSequences      []string        `json:"stopSequences,omitempty"`
	CandidateCount     *int64          `json:"candidateCount,omitempty"`
	Seed               *int64          `json:"seed,omitempty"`
	PresencePenalty    *float64        `json:"presencePenalty,omitempty"`
	FrequencyPenalty   *float64        `json:"frequencyPenalty,omitempty"`
	ResponseMimeType   string          `json:"responseMimeType,omitempty"`
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema,omitempty"`
}

// maxGeminiStops is Gemini's stopSequences limit.
const maxGeminiStops = 5

func (geminiChat) Request(req *ChatRequest, t Target) (UpstreamRequest, error) {
	model := t.Model
	if model == "" {
		model = req.Model
	}
	out := geminiRequest{GenerationConfig: geminiGeneration(req)}
	if len(req.Stop) > maxGeminiStops {
		return UpstreamRequest{}, invalidRequest("stop", "Gemini accepts at most %d stop sequences.", maxGeminiStops)
	}
	b := geminiBuilder{out: &out, idToName: map[string]string{}}
	if err := b.messages(req.Messages); err != nil {
		return UpstreamRequest{}, err
	}
	if err := geminiTools(req, &out); err != nil {
		return UpstreamRequest{}, err
	}
	body, err := json.Marshal(out)
	if err != nil {
		return UpstreamRequest{}, AsError(err)
	}
	up := UpstreamRequest{Method: http.MethodPost, Path: "/v1beta/" + geminiResource(model) + ":generateContent", Body: body}
	if req.Stream {
		up.Path = "/v1beta/" + geminiResource(model) + ":streamGenerateContent"
		up.Query = url.Values{"alt": {"sse"}} // without it Gemini streams one JSON array, not SSE
	}
	return up, nil
}

// geminiResource turns a model id into its resource name (models/{id});
// ids that already name a collection (tunedModels/…) are kept.
func geminiResource(model string) string {
	if strings.Contains(model, "/") {
		return model
	}
	return "models/" + url.PathEscape(model)
}

func geminiGeneration(req *ChatRequest) *geminiGenConfig {
	g := geminiGenConfig{Temperature: req.Temperature, TopP: req.TopP, TopK: req.TopK, MaxOutputTokens: req.maxOutputTokens(),
		StopSequences: req.Stop, Seed: req.Seed, PresencePenalty: req.PresencePenalty, FrequencyPenalty: req.FrequencyPenalty}
	if req.N != nil && *req.N != 1 {
		g.CandidateCount = req.N
	}
	if wantsJSON(req.ResponseFormat) {
		g.ResponseMimeType = "application/json"
		if req.ResponseFormat.Type == "json_schema" {
			g.ResponseJSONSchema = jsonSchemaOf(req.ResponseFormat)
		}
	}
	if out, _ := json.Marshal(g); string(out) == "{}" {
		return nil
	}
	return &g
}

// geminiBuilder turns messages into contents, remembering which tool call id
// named which function: Gemini matches responses by name (rule 5).
type geminiBuilder struct {
	out      *geminiRequest
	idToName map[string]string
	kinds    []string // per content: "user", "model" or "tool"
}

func (b *geminiBuilder) messages(msgs []Message) *Error {
	for i, m := range msgs {
		var err *Error
		switch m.Role {
		case "system", "developer":
			b.system(m.Content.text())
		case "assistant":
			err = b.assistant(i, m)
		case "tool":
			err = b.tool(i, m)
		default:
			err = b.user(i, m.Content)
		}
		if err != nil {
			return err
		}
	}
	if len(b.out.Contents) == 0 {
		return invalidRequest("messages", "'messages' must contain at least one non-system message with content.")
	}
	return b.checkToolTurns()
}

func (b *geminiBuilder) system(text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	if b.out.SystemInstruction == nil {
		b.out.SystemInstruction = &geminiContent{}
	}
	b.out.SystemInstruction.Parts = append(b.out.SystemInstruction.Parts, geminiPart{Text: text})
}

// add appends parts, merging with the previous content of the same kind.
func (b *geminiBuilder) add(kind string, parts []geminiPart) {
	if len(parts) == 0 {
		return
	}
	if n := len(b.out.Contents); n > 0 && b.kinds[n-1] == kind {
		b.out.Contents[n-1].Parts = append(b.out.Contents[n-1].Parts, parts...)
		return
	}
	role := "user"
	if kind == "model" {
		role = "model"
	}
	b.out.Contents = append(b.out.Contents, geminiContent{Role: role, Parts: parts})
	b.kinds = append(b.kinds, kind)
}

func (b *geminiBuilder) assistant(i int, m Message) *Error {
	var parts []geminiPart
	if text := m.Content.text() + m.Refusal; strings.TrimSpace(text) != "" {
		parts = append(parts, geminiPart{Text: text})
	}
	for j, tc := range m.ToolCalls {
		args, err := toolArguments(tc.Function.Arguments)
		if err != nil {
			return invalidRequest(fmt.Sprintf("messages[%d].tool_calls[%d].function.arguments", i, j),
				"Tool call arguments must be a JSON object.")
		}
		b.idToName[tc.ID] = tc.Function.Name
		upstreamID, signature := splitCallID(tc.ID)
		parts = append(parts, geminiPart{ThoughtSignature: signature,
			FunctionCall: &geminiFunctionCall{ID: upstreamID, Name: tc.Function.Name, Args: args}})
	}
	b.add("model", parts)
	return nil
}

func (b *geminiBuilder) tool(i int, m Message) *Error {
	name, ok := b.idToName[m.ToolCallID]
	if !ok {
		return invalidRequest(fmt.Sprintf("messages[%d].tool_call_id", i),
			"Tool message refers to tool_call_id %q, which no earlier assistant message called.", m.ToolCallID)
	}
	upstreamID, _ := splitCallID(m.ToolCallID)
	response, _ := json.Marshal(map[string]json.RawMessage{"output": toolOutput(m.Content.text())})
	b.add("tool", []geminiPart{{FunctionResponse: &geminiFunctionResp{ID: upstreamID, Name: name, Response: response}}})
	return nil
}

// toolOutput keeps JSON tool results structured and wraps anything else as a string.
func toolOutput(text string) json.RawMessage {
	trimmed := strings.TrimSpace(text)
	if trimmed != "" && (trimmed[0] == '{' || trimmed[0] == '[') && json.Valid([]byte(trimmed)) {
		return json.RawMessage(trimmed)
	}
	return quoteJSON(text)
}

// checkToolTurns enforces rule 4: a turn of N function calls must be answered
// by one turn of exactly N function responses, or Gemini rejects the request.
func (b *geminiBuilder) checkToolTurns() *Error {
	for i, kind := range b.kinds {
		if kind != "tool" {
			continue
		}
		calls := 0
		if i > 0 && b.kinds[i-1] == "model" {
			calls = countParts(b.out.Contents[i-1].Parts, func(p geminiPart) bool { return p.FunctionCall != nil })
		}
		if responses := len(b.out.Contents[i].Parts); responses != calls {
			return invalidRequest("messages", "Each assistant message with %d tool calls must be followed by exactly that many tool messages (got %d).", calls, responses)
		}
	}
	return nil
}

func countParts(parts []geminiPart, match func(geminiPart) bool) int {
	n := 0
	for _, p := range parts {
		if match(p) {
			n++
		}
	}
	return n
}
