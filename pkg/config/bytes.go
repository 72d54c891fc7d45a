package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Bytes is a byte-size flag: a plain number of bytes or one with a KiB,
// MiB or GiB suffix ("48MiB").
type Bytes int64

var byteUnits = []struct {
	suffix string
	factor int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

func (b *Bytes) String() string {
	for _, u := range byteUnits[:3] {
		if *b != 0 && int64(*b)%u.factor == 0 {
			return strconv.FormatInt(int64(*b)/u.factor, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(*b), 10)
}

// Set parses v.
func (b *Bytes) Set(v string) error {
	v = strings.TrimSpace(v)
	factor := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(v, u.suffix) {
			v, factor = strings.TrimSpace(strings.TrimSuffix(v, u.suffix)), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/factor {
		return fmt.Errorf("%q is not a byte size: use a number with an optional KiB, MiB or GiB suffix", v)
	}
	*b = Bytes(n * factor)
	return nil
}
