package procstat

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// tcpTimeWait is the TIME_WAIT state code in /proc/net/tcp.
const tcpTimeWait = "06"

// TimeWait counts the machine's TCP sockets in TIME_WAIT whose local or
// remote port is port: connections to (or from) it that were closed
// within the last minute. A proxy that reuses its upstream connections
// leaves almost none behind; one that dials per request leaves one per
// request.
func TimeWait(port int) (int, error) {
	total := 0
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		n, err := countTimeWait(table, port)
		if err != nil && !os.IsNotExist(err) {
			return 0, err
		}
		total += n
	}
	return total, nil
}

func countTimeWait(path string, port int) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	hexPort := ":" + strings.ToUpper(strconv.FormatInt(int64(port), 16))
	for len(hexPort) < 5 {
		hexPort = ":0" + hexPort[1:]
	}
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if isTimeWaitOn(sc.Text(), hexPort) {
			n++
		}
	}
	return n, sc.Err()
}

// isTimeWaitOn parses one /proc/net/tcp line:
// "sl local_address rem_address st ...", addresses as HEXIP:HEXPORT.
func isTimeWaitOn(line, hexPort string) bool {
	f := strings.Fields(line)
	if len(f) < 4 || f[3] != tcpTimeWait {
		return false
	}
	return strings.HasSuffix(f[1], hexPort) || strings.HasSuffix(f[2], hexPort)
}
