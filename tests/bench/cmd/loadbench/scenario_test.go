package main

import (
	"strings"
	"testing"
)

func TestScenarioRequests(t *testing.T) {
	scs, err := scenarios([]string{scenarioChat, scenarioAnthropic}, 18000, 1000, 100)
	if err != nil {
		t.Fatal(err)
	}
	chat, anth := scs[0], scs[1]
	cases := []struct {
		name       string
		s          scenario
		target     string
		wantURL    string
		wantAuth   string
		wantTail   string
		wantInBody string
	}{
		{"chat direct", chat, targetDirect, "http://127.0.0.1:18001/v1/chat/completions", "Bearer " + fakeKey, "", `"stream":false`},
		{"chat switchyard", chat, targetSwitchyard, "http://127.0.0.1:18080/v1/chat/completions", "Bearer sy-key", "", `"model":"bench-chat"`},
		{"anthropic bare is native", anth, targetBare, "http://127.0.0.1:18103/v1/messages", "Bearer consumer-key", "message_stop", `"system"`},
		{"anthropic switchyard is OpenAI", anth, targetSwitchyard, "http://127.0.0.1:18080/v1/chat/completions", "Bearer sy-key", "[DONE]", `"messages"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.s.request(tc.target, 18080, "sy-key")
			if r.URL != tc.wantURL || r.Header.Get("Authorization") != tc.wantAuth || r.ExpectTail != tc.wantTail ||
				!strings.Contains(string(r.Body), tc.wantInBody) {
				t.Fatalf("request %+v body %s", r, r.Body)
			}
		})
	}
}

func TestAnthropicDirectCarriesProviderHeaders(t *testing.T) {
	scs, _ := scenarios([]string{scenarioAnthropic}, 18000, 1000, 100)
	r := scs[0].request(targetDirect, 18080, "sy-key")
	if r.Header.Get("X-Api-Key") != fakeKey || r.Header.Get("Anthropic-Version") == "" {
		t.Fatalf("headers %v", r.Header)
	}
}

func TestFlagValidation(t *testing.T) {
	cases := []struct {
		args    []string
		wantErr bool
	}{
		{nil, false},
		{[]string{"-features", "off"}, false},
		{[]string{"-features", "full"}, false},
		{[]string{"-features", "auth"}, false},
		{[]string{"-features", "fast"}, true},
	}
	for _, tc := range cases {
		if _, err := parseFlags(tc.args); (err != nil) != tc.wantErr {
			t.Errorf("parseFlags(%v) = %v, want error %v", tc.args, err, tc.wantErr)
		}
	}
	if _, err := scenarios([]string{"embeddings"}, 18000, 1, 1); err == nil {
		t.Error("unknown scenario accepted")
	}
}
