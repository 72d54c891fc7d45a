package edgejson

import (
	"errors"
	"strings"
	"testing"
)

func nested(depth int) string {
	return `{"model":"m","x":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`
}

func TestScanFields(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Request
	}{
		{"chat", `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},
			"max_tokens":100,"n":2,"messages":[{"role":"user","content":"hello"}]}`,
			Request{Model: "gpt-4o", HasModel: true, Stream: true, IncludeUsage: true, MaxTokens: 100,
				MaxCompletionTokens: -1, N: 2, Messages: 1, PromptBytes: 9}},
		{"defaults", `{"model":"m"}`,
			Request{Model: "m", HasModel: true, MaxTokens: -1, MaxCompletionTokens: -1, N: 1}},
		{"nulls", `{"model":"m","stream":null,"stream_options":null,"max_tokens":null,"n":null,"messages":null}`,
			Request{Model: "m", HasModel: true, MaxTokens: -1, MaxCompletionTokens: -1, N: 1}},
		{"no model", `{"input":"abc"}`,
			Request{MaxTokens: -1, MaxCompletionTokens: -1, N: 1, PromptBytes: 3}},
		{"escaped model", `{"model":"gpt\u002d4o\ud83d\ude00"}`,
			Request{Model: "gpt-4o\U0001F600", HasModel: true, MaxTokens: -1, MaxCompletionTokens: -1, N: 1}},
		{"escaped key is the key", `{"mod\u0065l":"m"}`,
			Request{Model: "m", HasModel: true, MaxTokens: -1, MaxCompletionTokens: -1, N: 1}},
		{"wildcard model kept verbatim", `{"model":"gpt-4.>"}`,
			Request{Model: "gpt-4.>", HasModel: true, MaxTokens: -1, MaxCompletionTokens: -1, N: 1}},
		{"completion tokens", `{"model":"o3","max_completion_tokens":5000}`,
			Request{Model: "o3", HasModel: true, MaxTokens: -1, MaxCompletionTokens: 5000, N: 1}},
		{"token array input", `{"model":"e","input":[[1,2,3],[4]]}`,
			Request{Model: "e", HasModel: true, MaxTokens: -1, MaxCompletionTokens: -1, N: 1, PromptBytes: 16}},
		{"media parts", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"},
			{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}`,
			Request{Model: "m", HasModel: true, MaxTokens: -1, MaxCompletionTokens: -1, N: 1,
				Messages: 1, PromptBytes: 4 + 4 + 2 + 9, MediaParts: 1}},
		{"tools counted", `{"model":"m","tools":[{},{}],"functions":[{}]}`,
			Request{Model: "m", HasModel: true, MaxTokens: -1, MaxCompletionTokens: -1, N: 1, Tools: 3}},
		{"unknown keys pass", `{"model":"m","temperature":1e308,"x":{"model":1,"model":2},"y":-0.5e-999}`,
			Request{Model: "m", HasModel: true, MaxTokens: -1, MaxCompletionTokens: -1, N: 1}},
		{"depth at limit", nested(64),
			Request{Model: "m", HasModel: true, MaxTokens: -1, MaxCompletionTokens: -1, N: 1}},
		{"whitespace", " \t\r\n{ \"model\" : \"m\" , \"stream\" : false } \n",
			Request{Model: "m", HasModel: true, MaxTokens: -1, MaxCompletionTokens: -1, N: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Scan([]byte(tc.body))
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			got.modelStart, got.modelEnd = 0, 0
			if got != tc.want {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestScanErrors(t *testing.T) {
	tests := []struct {
		name, body, code, param string
		opts                    Options
	}{
		{"empty", ``, CodeInvalidJSON, "", Options{}},
		{"array body", `[1]`, CodeNotObject, "", Options{}},
		{"string body", `"model"`, CodeNotObject, "", Options{}},
		{"truncated", `{"model":"m"`, CodeInvalidJSON, "", Options{}},
		{"trailing", `{"model":"m"}{}`, CodeInvalidJSON, "", Options{}},
		{"nul outside", "{\"model\":\"m\"\x00}", CodeInvalidJSON, "", Options{}},
		{"nul in string", "{\"model\":\"m\x00\"}", CodeInvalidJSON, "", Options{}},
		{"escaped nul in model", `{"model":"m\u0000"}`, CodeInvalidValue, "model", Options{}},
		{"bad escape", `{"model":"\x"}`, CodeInvalidJSON, "", Options{}},
		{"short unicode escape", `{"model":"\u12"}`, CodeInvalidJSON, "", Options{}},
		{"leading zero", `{"n":01}`, CodeInvalidJSON, "", Options{}},
		{"bare minus", `{"n":-}`, CodeInvalidJSON, "", Options{}},
		{"missing colon", `{"model" "m"}`, CodeInvalidJSON, "", Options{}},
		{"trailing comma", `{"model":"m",}`, CodeInvalidJSON, "", Options{}},
		{"bad literal", `{"stream":tru}`, CodeInvalidJSON, "", Options{}},
		{"invalid utf8 in model", "{\"model\":\"m\xff\"}", CodeInvalidUTF8, "", Options{}},
		{"invalid utf8 elsewhere", "{\"model\":\"m\",\"user\":\"\xc3\x28\"}", CodeInvalidUTF8, "", Options{}},
		{"encoded surrogate bytes", "{\"x\":\"\xed\xa0\x80\"}", CodeInvalidUTF8, "", Options{}},
		{"lone surrogate model", `{"model":"\ud800x"}`, CodeInvalidUTF8, "model", Options{}},
		{"1e999", `{"model":"m","temperature":1e999}`, CodeNumberOutOfRange, "", Options{}},
		{"-1e309", `{"top_p":-1e309}`, CodeNumberOutOfRange, "", Options{}},
		{"400 digit int", `{"x":1` + strings.Repeat("0", 400) + `}`, CodeNumberOutOfRange, "", Options{}},
		{"too deep", nested(65), CodeTooDeep, "", Options{}},
		{"10k deep", nested(10_000), CodeTooDeep, "", Options{}},
		{"100k deep", nested(100_000), CodeTooDeep, "", Options{}},
		{"custom depth", nested(9), CodeTooDeep, "", Options{MaxDepth: 8}},
		{"deep stream_options", `{"stream_options":{}}`, CodeTooDeep, "", Options{MaxDepth: 1}},
		{"depth beats type", `{"stream":"true","x":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`,
			CodeTooDeep, "", Options{}},
		{"syntax beats duplicate", `{"model":"a","model":"b"`, CodeInvalidJSON, "", Options{}},
		{"duplicate model", `{"model":"a","model":"b"}`, CodeDuplicateKey, "model", Options{}},
		{"duplicate via escape", `{"model":"a","mod\u0065l":"b"}`, CodeDuplicateKey, "model", Options{}},
		{"duplicate stream", `{"stream":false,"model":"m","stream":true}`, CodeDuplicateKey, "stream", Options{}},
		{"duplicate include_usage", `{"stream_options":{"include_usage":true,"include_usage":false}}`,
			CodeDuplicateKey, "stream_options.include_usage", Options{}},
		{"duplicate max_tokens", `{"max_tokens":1,"max_tokens":9}`, CodeDuplicateKey, "max_tokens", Options{}},
		{"case variant", `{"model":"a","MODEL":"b"}`, CodeAmbiguousKey, "model", Options{}},
		{"long s variant", `{"ſtream":true}`, CodeAmbiguousKey, "stream", Options{}},
		{"case variant nested", `{"stream_options":{"Include_Usage":true}}`, CodeAmbiguousKey,
			"stream_options.include_usage", Options{}},
		{"stream string", `{"model":"m","stream":"true"}`, CodeInvalidType, "stream", Options{}},
		{"stream number", `{"stream":1}`, CodeInvalidType, "stream", Options{}},
		{"model number", `{"model":4}`, CodeInvalidType, "model", Options{}},
		{"model null", `{"model":null}`, CodeInvalidType, "model", Options{}},
		{"model empty", `{"model":""}`, CodeInvalidValue, "model", Options{}},
		{"model 10KB", `{"model":"` + strings.Repeat("a", 10_000) + `"}`, CodeInvalidValue, "model", Options{}},
		{"model newline", `{"model":"a\nb"}`, CodeInvalidValue, "model", Options{}},
		{"stream_options scalar", `{"stream_options":true}`, CodeInvalidType, "stream_options", Options{}},
		{"include_usage string", `{"stream_options":{"include_usage":"yes"}}`, CodeInvalidType,
			"stream_options.include_usage", Options{}},
		{"max_tokens float", `{"max_tokens":1.5}`, CodeInvalidType, "max_tokens", Options{}},
		{"max_tokens exp", `{"max_tokens":1e3}`, CodeInvalidType, "max_tokens", Options{}},
		{"max_tokens string", `{"max_tokens":"100"}`, CodeInvalidType, "max_tokens", Options{}},
		{"max_tokens negative", `{"max_tokens":-1}`, CodeInvalidValue, "max_tokens", Options{}},
		{"max_tokens huge", `{"max_tokens":99999999999}`, CodeInvalidValue, "max_tokens", Options{}},
		{"max_completion_tokens 2^31", `{"max_completion_tokens":2147483648}`, CodeInvalidValue,
			"max_completion_tokens", Options{}},
		{"n zero", `{"n":0}`, CodeInvalidValue, "n", Options{}},
		{"n too big", `{"n":129}`, CodeInvalidValue, "n", Options{}},
		{"messages object", `{"messages":{"role":"user"}}`, CodeInvalidType, "messages", Options{}},
		{"too many messages", `{"messages":[{},{},{}]}`, CodeInvalidValue, "messages", Options{MaxMessages: 2}},
		{"too many tools", `{"tools":[{}],"functions":[{}]}`, CodeInvalidValue, "tools", Options{MaxTools: 1}},
		{"first field error wins", `{"stream":"x","model":5}`, CodeInvalidType, "stream", Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.opts.Scan([]byte(tc.body))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Scan error = %v, want *Error with code %s", err, tc.code)
			}
			if e.Code != tc.code || e.Param != tc.param {
				t.Fatalf("got code %q param %q (%v), want %q %q", e.Code, e.Param, e, tc.code, tc.param)
			}
			if !errors.Is(err, &Error{Code: tc.code}) || e.Type() != ErrorType || e.Message == "" {
				t.Fatalf("error %v is not a well-formed client error", err)
			}
		})
	}
}

func TestErrorsMatchSentinels(t *testing.T) {
	_, err := Scan([]byte(nested(200)))
	if !errors.Is(err, ErrTooDeep) || errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("errors.Is mismatch for %v", err)
	}
}

func TestErrorMessagesDoNotEchoContent(t *testing.T) {
	secret := "sk-live-SECRET"
	bodies := []string{
		`{"model":"` + secret + "\n" + `"}`,
		`{"model":"` + secret + `","stream":"` + secret + `"}`,
		`{"model":"` + secret + `"` + secret,
	}
	for _, b := range bodies {
		_, err := Scan([]byte(b))
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Fatalf("error %v for %q leaks content or is missing", err, b)
		}
	}
}

func TestScanLargeShapes(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		bytes int64
	}{
		{"1 MB string", `{"model":"m","input":"` + strings.Repeat("x", 1<<20) + `"}`, 1 << 20},
		{"million element array", `{"model":"m","input":[` + strings.Repeat("1,", 1_000_000) + `1]}`, 4 * 1_000_001},
		{"non-ASCII text", `{"model":"m","prompt":"` + strings.Repeat("日本語", 1000) + `"}`, 9000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := Scan([]byte(tc.body))
			if err != nil || req.PromptBytes != tc.bytes {
				t.Fatalf("Scan = %+v, %v; want PromptBytes %d", req, err, tc.bytes)
			}
		})
	}
}

func TestReserveTokens(t *testing.T) {
	tests := []struct {
		body string
		def  int64
		want int64
	}{
		{`{"model":"m","messages":[{"content":"123456789"}],"max_tokens":10,"n":2}`, 99, 3 + 20},
		{`{"model":"m","messages":[{"content":"123456789"}],"max_completion_tokens":5,"max_tokens":10}`, 99, 3 + 5},
		{`{"model":"m","prompt":"abc"}`, 16, 1 + 16},
		{`{"model":"m","messages":[{"content":[{"image_url":{"url":"x"}}]}]}`, 0, MediaPartTokens},
	}
	for _, tc := range tests {
		req, err := Scan([]byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if got := req.ReserveTokens(tc.def); got != tc.want {
			t.Errorf("ReserveTokens(%s) = %d, want %d", tc.body, got, tc.want)
		}
	}
}

func TestRewriteModel(t *testing.T) {
	tests := []struct {
		name, body, model, want string
	}{
		{"plain", `{"model":"alias","stream":true}`, "gpt-4o", `{"model":"gpt-4o","stream":true}`},
		{"spacing kept", "{ \"messages\" : [ ] ,\n \"model\" :\t\"a\" }", "b", "{ \"messages\" : [ ] ,\n \"model\" :\t\"b\" }"},
		{"escaped old value", `{"model":"\u0061lias","n":1}`, "x", `{"model":"x","n":1}`},
		{"escaped key kept", `{"mod\u0065l":"a"}`, "b", `{"mod\u0065l":"b"}`},
		{"quote and control escaped", `{"model":"a"}`, "q\"\\\x01", `{"model":"q\"\\\u0001"}`},
		{"html not escaped", `{"model":"a"}`, "<b>&", `{"model":"<b>&"}`},
		{"unicode kept", `{"model":"a"}`, "模型/v1:2", `{"model":"模型/v1:2"}`},
		{"nested model untouched", `{"x":{"model":"keep"},"model":"a"}`, "b", `{"x":{"model":"keep"},"model":"b"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RewriteModel([]byte(tc.body), tc.model)
			if err != nil || string(got) != tc.want {
				t.Fatalf("RewriteModel = %s, %v; want %s", got, err, tc.want)
			}
			req, err := Scan(got)
			if tc.model[0] != 'q' && (err != nil || req.Model != tc.model) {
				t.Fatalf("rescan = %+v, %v", req, err)
			}
		})
	}
}

func TestRewriteModelErrors(t *testing.T) {
	tests := []struct {
		name, body, model string
		want              error
	}{
		{"no model", `{"stream":true}`, "m", ErrNoModel},
		{"bad body", `{"model":"a"`, "m", ErrInvalidJSON},
		{"duplicate", `{"model":"a","model":"b"}`, "m", ErrDuplicateKey},
		{"bad new model", `{"model":"a"}`, "m\xff", ErrInvalidUTF8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := RewriteModel([]byte(tc.body), tc.model); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestRequestRewriteRejectsForeignBody(t *testing.T) {
	req, err := Scan([]byte(`{"padding":"xxxxxxxx","model":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := req.RewriteModel([]byte(`{"model":"a"}`), "b"); !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("err = %v, want ErrInvalidValue", err)
	}
}

func TestRewriteDoesNotModifyInput(t *testing.T) {
	body := []byte(`{"model":"a","stream":false}`)
	orig := string(body)
	if _, err := RewriteModel(body, "a-much-longer-model-name"); err != nil || string(body) != orig {
		t.Fatalf("input changed to %s (err %v)", body, err)
	}
}
