package apierr

import "testing"

func TestOpenAIBody(t *testing.T) {
	got := string(OpenAIBody("bad <model>", "invalid_request_error", "", "model_not_found"))
	want := `{"error":{"message":"bad \u003cmodel\u003e","type":"invalid_request_error","param":null,"code":"model_not_found"}}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := string(OpenAIBody("m", "api_error", "p", "")); got != `{"error":{"message":"m","type":"api_error","param":"p","code":null}}` {
		t.Fatalf("got %s", got)
	}
}
