package procstat

import (
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	cases := []struct {
		name    string
		raw     string
		want    time.Duration
		wantErr bool
	}{
		{"plain", "42 (switchyard) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 0 0",
			3 * time.Second, false},
		{"name with spaces and parens", "7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0", 30 * time.Millisecond, false},
		{"truncated", "7 (x) R 1 2", 0, true},
		{"no name", "garbage", 0, true},
		{"bad number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 x 2 0 0", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat([]byte(tc.raw))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("parseStat = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestParseStatusKB(t *testing.T) {
	status := "Name:\tswitchyard\nVmPeak:\t 2000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t 40000 kB\n"
	cases := []struct {
		key     string
		want    int64
		wantErr bool
	}{
		{"VmHWM", 51200 * 1024, false},
		{"VmRSS", 40000 * 1024, false},
		{"VmSwap", 0, true},
	}
	for _, tc := range cases {
		got, err := parseStatusKB([]byte(status), tc.key)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s = %d, %v; want %d", tc.key, got, err, tc.want)
		}
	}
}

func TestOwnProcess(t *testing.T) {
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) { // burn CPU so the counter moves
	}
	cpu, err := CPU(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Fatalf("CPU = %v, %v", cpu, err)
	}
	rss, err := PeakRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("PeakRSS = %d, %v", rss, err)
	}
}

func TestIsTimeWaitOn(t *testing.T) {
	const port = ":4651" // 18001
	cases := []struct {
		name string
		line string
		want bool
	}{
		{"remote port", "  3: 0100007F:A1B2 0100007F:4651 06 00000000:00000000 03:00000 00000000 0 0 0 3", true},
		{"local port", "  4: 0100007F:4651 0100007F:A1B2 06 00000000:00000000 03:00000 00000000 0 0 0 3", true},
		{"established", "  5: 0100007F:A1B2 0100007F:4651 01 00000000:00000000 00:00000 00000000 0 0 0 1", false},
		{"other port", "  6: 0100007F:A1B2 0100007F:4652 06 00000000:00000000 03:00000 00000000 0 0 0 3", false},
		{"header", "  sl  local_address rem_address   st tx_queue rx_queue", false},
	}
	for _, tc := range cases {
		if got := isTimeWaitOn(tc.line, port); got != tc.want {
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
}

func TestParseIO(t *testing.T) {
	raw := "rchar: 100\nwchar: 200\nsyscr: 17\nsyscw: 23\nread_bytes: 0\n"
	r, w, err := parseIO([]byte(raw))
	if err != nil || r != 17 || w != 23 {
		t.Fatalf("parseIO = %d, %d, %v; want 17, 23", r, w, err)
	}
	if _, _, err := parseIO([]byte("rchar: 1\nsyscr: 2\n")); err == nil {
		t.Fatal("parseIO accepted a file without syscw")
	}
	if _, _, err := parseIO([]byte("syscr: x\nsyscw: 1\n")); err == nil {
		t.Fatal("parseIO accepted a non-number")
	}
	r, w, err = Syscalls(os.Getpid())
	if err != nil || r <= 0 {
		t.Fatalf("Syscalls(self) = %d, %d, %v", r, w, err)
	}
}
