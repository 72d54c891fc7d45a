package usage

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The spool is an append-only log of encoded usage events in numbered
// segment files (usage-<n>.spool). The writer appends a batch and fsyncs
// it once (group commit); the reader publishes records in order; a segment
// is deleted once it is sealed, fully read and every record read from it
// was acknowledged by JetStream. Segments found at start were left by a
// crash or a drain timeout and are read again from the beginning: their
// events carry their request ids, so JetStream's dedupe window and
// metering's ledger make the replay count once.
//
// Record: 4-byte little-endian payload length, 4-byte CRC-32C of the
// payload, payload (a protobuf UsageEvent). A torn tail (the process died
// mid-write, before the fsync that would have acknowledged it) fails the
// length or CRC check and ends that segment.

var crcTable = crc32.MakeTable(crc32.Castagnoli)

const recordHeader = 8

// maxRecord bounds one record so a corrupt length cannot allocate much.
const maxRecord = 1 << 20

type segment struct {
	id       uint64
	path     string
	size     int64 // bytes fsynced (readable)
	readOff  int64
	inflight int  // records handed out and not yet acknowledged
	open     int  // started markers of requests whose final event is not yet spooled
	sealed   bool // no more appends
	reader   *os.File
	buf      *bufio.Reader
}

type spool struct {
	dir      string
	maxBytes int64
	segBytes int64

	mu     sync.Mutex
	segs   []*segment // in id order; the last one is being written
	total  int64
	active *os.File
	notify chan struct{}
	// open maps the request id of each started marker written by this run,
	// whose final event is not yet spooled, to where the marker is.
	open map[string]*openMarker
	// carry: a segment is done but for its open markers, which the writer
	// must copy forward before it can go.
	carry bool
}

type openMarker struct {
	seg     *segment
	payload []byte
}

// record is one spool record to append: a final event, or a request's
// started marker.
type record struct {
	id      string
	payload []byte
	marker  bool
}

func segmentName(id uint64) string { return fmt.Sprintf("usage-%016d.spool", id) }

// openSpool opens dir, keeps the segments already there for replay and
// starts a new segment to write. It returns how many bytes were left.
func openSpool(dir string, maxBytes, segBytes int64) (*spool, int64, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, 0, fmt.Errorf("usage spool: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("usage spool: %w", err)
	}
	s := &spool{dir: dir, maxBytes: maxBytes, segBytes: segBytes, notify: make(chan struct{}, 1),
		open: map[string]*openMarker{}}
	var next uint64 = 1
	for _, e := range entries {
		id, ok := parseSegment(e.Name())
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, 0, fmt.Errorf("usage spool: %w", err)
		}
		s.segs = append(s.segs, &segment{id: id, path: filepath.Join(dir, e.Name()), size: info.Size(), sealed: true})
		s.total += info.Size()
		next = max(next, id+1)
	}
	slices.SortFunc(s.segs, func(a, b *segment) int { return cmp.Compare(a.id, b.id) })
	left := s.total
	if err := s.rotate(next); err != nil {
		return nil, 0, err
	}
	return s, left, nil
}

func parseSegment(name string) (uint64, bool) {
	num, ok := strings.CutPrefix(name, "usage-")
	if !ok {
		return 0, false
	}
	num, ok = strings.CutSuffix(num, ".spool")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(num, 10, 64)
	return id, err == nil
}

// rotate seals the active segment and starts segment id. The caller holds
// no lock (only the writer goroutine rotates).
func (s *spool) rotate(id uint64) error {
	path := filepath.Join(s.dir, segmentName(id))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("usage spool: %w", err)
	}
	old := s.active
	s.mu.Lock()
	if n := len(s.segs); n > 0 && !s.segs[n-1].sealed {
		s.segs[n-1].sealed = true
	}
	s.segs = append(s.segs, &segment{id: id, path: path})
	s.active = f
	s.collectLocked()
	s.mu.Unlock()
	if old != nil {
		return old.Close()
	}
	return nil
}

// errSpoolFull is returned by append when the batch would exceed maxBytes.
var errSpoolFull = errors.New("usage spool full")

// append writes the records as one batch and fsyncs it. Only the writer
// goroutine calls it. Once they are durable, a marker becomes open (moved
// here if it was open elsewhere: a carry) and a final event closes its
// request's marker, both under the lock that makes the records readable,
// so no segment is collected with a marker not yet accounted for.
func (s *spool) append(recs []record) error {
	var buf []byte
	for _, r := range recs {
		var h [recordHeader]byte
		binary.LittleEndian.PutUint32(h[:4], uint32(len(r.payload)))
		binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(r.payload, crcTable))
		buf = append(append(buf, h[:]...), r.payload...)
	}
	s.mu.Lock()
	full := s.total+int64(len(buf)) > s.maxBytes
	cur := s.segs[len(s.segs)-1]
	s.mu.Unlock()
	if full {
		return errSpoolFull
	}
	if _, err := s.active.Write(buf); err != nil {
		return err
	}
	if err := s.active.Sync(); err != nil {
		return err
	}
	s.mu.Lock()
	cur.size += int64(len(buf))
	s.total += int64(len(buf))
	s.trackLocked(cur, recs)
	rotateNow := cur.size >= s.segBytes
	s.mu.Unlock()
	s.wake()
	if rotateNow {
		return s.rotate(cur.id + 1)
	}
	return nil
}

func (s *spool) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// next returns the next unread record and its segment, or ok=false when
// everything written so far has been read.
func (s *spool) next() (payload []byte, seg *segment, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seg := range s.segs {
		if seg.readOff >= seg.size {
			continue
		}
		p, err := s.readLocked(seg)
		if err != nil {
			// A torn or corrupt tail: nothing after it in this segment was
			// acknowledged to anyone, so the rest of it is skipped.
			seg.readOff, seg.sealed = seg.size, true
			s.collectLocked()
			continue
		}
		seg.inflight++
		return p, seg, true
	}
	return nil, nil, false
}

func (s *spool) readLocked(seg *segment) ([]byte, error) {
	if seg.reader == nil {
		f, err := os.Open(seg.path)
		if err != nil {
			return nil, err
		}
		seg.reader, seg.buf = f, bufio.NewReaderSize(f, 64<<10)
	}
	var h [recordHeader]byte
	if seg.readOff+recordHeader > seg.size {
		return nil, io.ErrUnexpectedEOF
	}
	if _, err := io.ReadFull(seg.buf, h[:]); err != nil {
		return nil, err
	}
	n := int64(binary.LittleEndian.Uint32(h[:4]))
	if n > maxRecord || seg.readOff+recordHeader+n > seg.size {
		return nil, io.ErrUnexpectedEOF
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(seg.buf, p); err != nil {
		return nil, err
	}
	if crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, errors.New("usage spool: record checksum mismatch")
	}
	seg.readOff += recordHeader + n
	return p, nil
}

// done marks one record of seg acknowledged.
func (s *spool) done(seg *segment) {
	s.mu.Lock()
	seg.inflight--
	s.collectLocked()
	s.mu.Unlock()
}

// collectLocked deletes, oldest first, the segments that are sealed, fully
// read and fully acknowledged and hold no open marker. It stops at the
// first segment it must keep: deleting in order means a marker still on
// disk always has its final event (if spooled) on disk too, so a replay
// never synthesizes an interrupted event for a request whose final event
// was acknowledged. A segment held only by open markers asks the writer
// to carry them forward.
func (s *spool) collectLocked() {
	n := 0
	for _, seg := range s.segs {
		if !seg.sealed || seg.readOff < seg.size || seg.inflight > 0 {
			break
		}
		if seg.open > 0 {
			s.carry = true
			break
		}
		if seg.reader != nil {
			_ = seg.reader.Close()
		}
		_ = os.Remove(seg.path)
		s.total -= seg.size
		n++
	}
	s.segs = s.segs[n:]
}

// bytes is the spool's size on disk.
func (s *spool) bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// close closes the files. Segments with records not yet acknowledged stay
// on disk for the next start; a fully acknowledged active segment goes, so
// a clean stop replays nothing.
func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.segs); n > 0 {
		s.segs[n-1].sealed = true
		s.collectLocked()
	}
	for _, seg := range s.segs {
		if seg.reader != nil {
			_ = seg.reader.Close()
		}
	}
	return s.active.Close()
}
