package fakes

import (
	"bufio"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStampChunks: with StampChunks every streamed chunk carries the time
// it was written, between the request and the end of the answer.
func TestStampChunks(t *testing.T) {
	for _, p := range []Protocol{OpenAI, Anthropic} {
		f := Start(t, p, Config{Chunks: 5, StampChunks: true})
		body := `{"model":"` + f.cfg.Models[0] + `","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`
		path := "/v1/chat/completions"
		if p == Anthropic {
			path = "/v1/messages"
		}
		before := time.Now()
		req, _ := http.NewRequest(http.MethodPost, f.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Anthropic-Version", "2023-06-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%v: status %d", p, resp.StatusCode)
		}
		var stamps []int64
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			for _, m := range regexp.MustCompile(`T(\d{19})`).FindAllStringSubmatch(sc.Text(), -1) {
				n, _ := strconv.ParseInt(m[1], 10, 64)
				stamps = append(stamps, n)
			}
		}
		resp.Body.Close()
		after := time.Now()
		if len(stamps) != 5 {
			t.Fatalf("%v: %d stamps; want 5", p, len(stamps))
		}
		for _, n := range stamps {
			if n < before.UnixNano() || n > after.UnixNano() {
				t.Fatalf("%v: stamp %d outside the request (%d..%d)", p, n, before.UnixNano(), after.UnixNano())
			}
		}
	}
}
