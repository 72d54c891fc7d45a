package apierr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestCodesAndMatching(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", Field("name", "must be lowercase"))
	if CodeOf(err) != InvalidArgument {
		t.Fatalf("CodeOf = %q", CodeOf(err))
	}
	if !errors.Is(err, &Error{Code: InvalidArgument}) || errors.Is(err, &Error{Code: NotFound}) {
		t.Fatal("errors.Is must match on code only")
	}
	if got := As(errors.New("db password=hunter2")); got.Code != Internal || got.Message == "db password=hunter2" {
		t.Fatalf("foreign error leaked: %+v", got)
	}
	if CodeOf(nil) != "" {
		t.Fatal("nil has no code")
	}
	cases := map[Code]int{InvalidArgument: 400, NotFound: 404, FailedPrecondition: 409,
		Unavailable: 503, ResourceExhausted: 429, Internal: 500, Code("bogus"): 500}
	for c, want := range cases {
		if got := HTTPStatus(c); got != want {
			t.Errorf("HTTPStatus(%s) = %d, want %d (%s)", c, got, want, http.StatusText(want))
		}
	}
}

func TestTransient(t *testing.T) {
	for err, want := range map[error]bool{
		New(Unavailable, "no responders"):                true,
		New(DeadlineExceeded, "no reply"):                true,
		New(NotFound, "no credential"):                   false,
		New(FailedPrecondition, "env unset"):             false,
		errors.New("foreign error (Internal)"):           false,
		fmt.Errorf("wrapped: %w", New(Unavailable, "x")): true,
	} {
		if got := Transient(err); got != want {
			t.Errorf("Transient(%v) = %v, want %v", err, got, want)
		}
	}
	if Transient(nil) {
		t.Error("Transient(nil)")
	}
}
