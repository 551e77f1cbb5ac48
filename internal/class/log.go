package class

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
)

// Log is an append-only file of records, each acknowledged only after it is
// on the disk (fsynced). Appends from many goroutines are written and
// fsynced together (group commit), so a class of 200 learners costs a few
// fsyncs a second rather than 200.
//
// A record on disk is: 4 bytes length (big endian), 4 bytes CRC-32C of the
// payload, the payload. Opening a log reads every record; a torn last
// record (a crash in the middle of a write) is detected, reported and cut
// off, and a record whose checksum does not match is skipped.
type Log struct {
	f    *os.File
	reqs chan logReq
	done chan struct{}

	mu     sync.Mutex
	closed bool
}

type logReq struct {
	payload []byte
	ack     chan error
}

// Recovery says what opening a log found.
type Recovery struct {
	Records   int   // good records read
	Corrupt   int   // whole records skipped because their checksum was wrong
	TornBytes int64 // bytes of an incomplete last record, cut off
}

// maxRecord bounds one record; a length field above it is damage.
const maxRecord = 4 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// OpenLog opens (or creates) the log at path, calls each for every good
// record in order, and starts the writer. Close ends the writer.
func OpenLog(path string, each func(payload []byte) error) (*Log, Recovery, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, Recovery{}, fmt.Errorf("open the class log: %w", err)
	}
	rec, end, err := readLog(f, each)
	if err != nil {
		f.Close()
		return nil, rec, err
	}
	if rec.TornBytes > 0 {
		if err := f.Truncate(end); err != nil {
			f.Close()
			return nil, rec, fmt.Errorf("cut the torn end of the class log: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, rec, fmt.Errorf("sync the class log: %w", err)
		}
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return nil, rec, fmt.Errorf("seek the class log: %w", err)
	}
	l := &Log{f: f, reqs: make(chan logReq, 1024), done: make(chan struct{})}
	// The writer ends when Close closes reqs.
	go l.writer()
	return l, rec, nil
}

// readLog reads records from the start of f and returns the offset where
// the next record should go.
func readLog(f *os.File, each func([]byte) error) (Recovery, int64, error) {
	var rec Recovery
	fi, err := f.Stat()
	if err != nil {
		return rec, 0, fmt.Errorf("stat the class log: %w", err)
	}
	size := fi.Size()
	r := bufio.NewReaderSize(f, 1<<16)
	var off int64
	var hdr [8]byte
	for off < size {
		if size-off < 8 {
			rec.TornBytes = size - off
			return rec, off, nil
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return rec, off, fmt.Errorf("read the class log: %w", err)
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		sum := binary.BigEndian.Uint32(hdr[4:])
		if n > maxRecord || off+8+n > size {
			// An incomplete record can only be the last one: nothing
			// after it is trustworthy.
			rec.TornBytes = size - off
			return rec, off, nil
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return rec, off, fmt.Errorf("read the class log: %w", err)
		}
		off += 8 + n
		if crc32.Checksum(payload, castagnoli) != sum {
			rec.Corrupt++
			continue
		}
		if err := each(payload); err != nil {
			return rec, off, err
		}
		rec.Records++
	}
	return rec, off, nil
}

// ErrLogClosed is returned by Append after Close.
var ErrLogClosed = errors.New("the class log is closed")

// Append writes payload and returns once it is fsynced (nil), or the write
// failed, or ctx ended (then the record may or may not be on the disk, and
// the caller must not acknowledge it).
func (l *Log) Append(ctx context.Context, payload []byte) error {
	if len(payload) > maxRecord {
		return fmt.Errorf("a class log record of %d bytes is over the limit", len(payload))
	}
	ack := make(chan error, 1)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrLogClosed
	}
	select {
	case l.reqs <- logReq{payload, ack}:
	case <-ctx.Done():
		l.mu.Unlock()
		return ctx.Err()
	}
	l.mu.Unlock()
	select {
	case err := <-ack:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writer takes every request waiting, writes them in one go, fsyncs once
// and acknowledges them all.
func (l *Log) writer() {
	defer close(l.done)
	w := bufio.NewWriterSize(l.f, 1<<16)
	var batch []logReq
	var hdr [8]byte
	// After a failed write the file may end in part of a record: nothing
	// more is appended after it (every later append fails), so a restart
	// finds it as a torn last record.
	var sticky error
	for first := range l.reqs {
		batch = append(batch[:0], first)
	more:
		for len(batch) < 4096 {
			select {
			case r, ok := <-l.reqs:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		err := sticky
		for _, r := range batch {
			if err != nil {
				break
			}
			binary.BigEndian.PutUint32(hdr[:4], uint32(len(r.payload)))
			binary.BigEndian.PutUint32(hdr[4:], crc32.Checksum(r.payload, castagnoli))
			if _, err = w.Write(hdr[:]); err != nil {
				break
			}
			if _, err = w.Write(r.payload); err != nil {
				break
			}
		}
		if err == nil {
			err = w.Flush()
		}
		if err == nil {
			err = l.f.Sync()
		}
		if err != nil {
			if sticky == nil {
				sticky = fmt.Errorf("write the class log: %w", err)
			}
			err = sticky
		}
		for _, r := range batch {
			r.ack <- err
		}
	}
}

// Close stops accepting appends, waits for those already taken to be
// written, and closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.reqs)
	l.mu.Unlock()
	<-l.done
	return l.f.Close()
}
