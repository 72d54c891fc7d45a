package edgejson

import (
	"errors"
	"testing"
)

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
