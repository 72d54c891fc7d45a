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

func TestBytes(t *testing.T) {
	cases := map[string]int64{"48MiB": 48 << 20, "1GiB": 1 << 30, "512": 512, "2 KiB": 2048, "0": 0}
	for in, want := range cases {
		var b Bytes
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "12XB", "1.5GiB"} {
		var b Bytes
		if err := b.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
	b := Bytes(48 << 20)
	if b.String() != "48MiB" {
		t.Errorf("String = %q", b.String())
	}
}
