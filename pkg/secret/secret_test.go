package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const canary = "sk-canary-7f3a9c1e5b2d4068"

func TestSecretNeverPrintsValue(t *testing.T) {
	s := New(canary)
	type holder struct {
		Exported   Secret
		unexported Secret
	}
	h := holder{Exported: s, unexported: s}
	verbs := []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%X", "%d", "%10s", "%-20v", "%T", "%p"}
	for _, verb := range verbs {
		for name, arg := range map[string]any{"value": s, "pointer": &s, "struct": h, "structPointer": &h, "slice": []Secret{s}, "map": map[string]Secret{"k": s}} {
			out := fmt.Sprintf(verb, arg)
			if strings.Contains(out, canary) {
				t.Errorf("fmt %s of %s leaked the secret: %s", verb, name, out)
			}
		}
	}
}

func TestSecretPlaceholders(t *testing.T) {
	tests := []struct {
		name   string
		render func(Secret) string
		want   string
	}{
		{"String", Secret.String, Redacted},
		{"GoString", Secret.GoString, `secret.Secret("[REDACTED]")`},
		{"Sprint", func(s Secret) string { return fmt.Sprint(s) }, Redacted},
		{"quoted", func(s Secret) string { return fmt.Sprintf("%q", s) }, `"[REDACTED]"`},
		{"JSON", func(s Secret) string { b, _ := json.Marshal(s); return string(b) }, `"[REDACTED]"`},
		{"Text", func(s Secret) string { b, _ := s.MarshalText(); return string(b) }, Redacted},
		{"LogValue", func(s Secret) string { return s.LogValue().String() }, Redacted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.render(New(canary)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestZeroSecret(t *testing.T) {
	var zero Secret
	if !zero.IsZero() || !New("").IsZero() {
		t.Fatal("zero and New(\"\") must be IsZero")
	}
	if New("x").IsZero() {
		t.Fatal("non-empty secret reported IsZero")
	}
	if got := fmt.Sprint(zero); got != "" {
		t.Errorf("zero secret prints %q, want empty", got)
	}
	if zero.Reveal() != "" || zero.Len() != 0 {
		t.Error("zero secret must reveal the empty string")
	}
}

func TestRevealAndEqual(t *testing.T) {
	s := New(canary)
	if s.Reveal() != canary || s.Len() != len(canary) {
		t.Fatalf("Reveal = %d bytes, want the original value", s.Len())
	}
	if !s.Equal(New(canary)) || s.Equal(New(canary+"x")) || s.Equal(Secret{}) {
		t.Error("Equal must compare values")
	}
}

func TestSecretJSONInStructs(t *testing.T) {
	payload := struct {
		APIKey Secret `json:"api_key"`
		Empty  Secret `json:"empty"`
	}{APIKey: New(canary)}
	out, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"api_key":"[REDACTED]","empty":""}`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
}

func TestSecretUnmarshal(t *testing.T) {
	var decoded struct {
		APIKey Secret `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(`{"api_key":"`+canary+`"}`), &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded.APIKey.Reveal() != canary {
		t.Error("JSON decoding lost the value")
	}
	err := json.Unmarshal([]byte(`{"api_key":"[REDACTED]"}`), &decoded)
	if !errors.Is(err, ErrRedactedPlaceholder) {
		t.Errorf("decoding the placeholder: err = %v, want ErrRedactedPlaceholder", err)
	}
}

func TestSecretInSlog(t *testing.T) {
	var buf bytes.Buffer
	for name, handler := range map[string]slog.Handler{
		"json": slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}),
		"text": slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}),
	} {
		logger := slog.New(handler)
		logger.Debug("key", "api_key", New(canary), slog.Any("nested", struct{ K Secret }{New(canary)}))
		logger.Info("group", slog.Group("g", "k", New(canary)))
		if strings.Contains(buf.String(), canary) {
			t.Errorf("%s handler leaked the secret: %s", name, buf.String())
		}
		if !strings.Contains(buf.String(), Redacted) {
			t.Errorf("%s handler output has no placeholder: %s", name, buf.String())
		}
		buf.Reset()
	}
}
