// Package procstat reads a process's CPU time and memory high-water mark
// from Linux /proc, so the benchmark harness can report CPU per request
// and peak RSS for each server process it started.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the times in /proc/<pid>/stat. The kernel exports
// USER_HZ, which is 100 on every architecture Go supports on Linux.
const userHZ = 100

// CPU returns the user plus system CPU time pid has used so far (10 ms
// resolution; measure over thousands of requests).
func CPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStat(raw)
}

// parseStat extracts utime+stime. The command name (field 2) may contain
// spaces and parentheses, so fields are counted from the last ')'.
func parseStat(raw []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return 0, errors.New("procstat: malformed stat: no ')'")
	}
	fields := strings.Fields(string(raw[end+1:]))
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("procstat: malformed stat: %d fields", len(fields))
	}
	var ticks int64
	for _, f := range []string{fields[utime], fields[stime]} {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procstat: stat field %q: %w", f, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// PeakRSS returns pid's resident-set high-water mark (VmHWM) in bytes.
func PeakRSS(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusKB(raw, "VmHWM")
}

// parseStatusKB finds "key:   N kB" in a status file and returns N*1024.
func parseStatusKB(raw []byte, key string) (int64, error) {
	for line := range strings.Lines(string(raw)) {
		rest, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		num, _ := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		kb, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procstat: %s %q: %w", key, rest, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("procstat: no %s in status", key)
}

// Syscalls returns how many read-like and write-like system calls pid has
// made so far (syscr and syscw in /proc/<pid>/io). Per request they show
// how well a proxy batches its socket I/O, which CPU time alone hides.
func Syscalls(pid int) (reads, writes int64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseIO(raw)
}

// parseIO extracts syscr and syscw from a /proc/<pid>/io file.
func parseIO(raw []byte) (reads, writes int64, err error) {
	found := 0
	for line := range strings.Lines(string(raw)) {
		key, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (key != "syscr" && key != "syscw") {
			continue
		}
		n, perr := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("procstat: io field %q: %w", line, perr)
		}
		if key == "syscr" {
			reads = n
		} else {
			writes = n
		}
		found++
	}
	if found != 2 {
		return 0, 0, errors.New("procstat: io file without syscr and syscw")
	}
	return reads, writes, nil
}
