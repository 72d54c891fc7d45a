package config

import (
	"flag"
	"testing"
)

func TestApplyEnvRespectsCommandLine(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	url := fs.String("nats-url", "nats://default", "")
	listen := fs.String("router.listen", ":8080", "")
	var list StringList
	fs.Var(&list, "targets", "")
	t.Setenv("SY_NATS_URL", "nats://env")
	t.Setenv("SY_ROUTER_LISTEN", ":9999")
	t.Setenv("SY_TARGETS", "a, b,,c")
	if err := fs.Parse([]string{"-router.listen=:1234"}); err != nil {
		t.Fatal(err)
	}
	if err := ApplyEnv(fs); err != nil {
		t.Fatal(err)
	}
	if *url != "nats://env" || *listen != ":1234" || len(list) != 3 || list[2] != "c" {
		t.Fatalf("url=%s listen=%s list=%v", *url, *listen, list)
	}
}
