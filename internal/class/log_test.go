package class

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func readAll(t *testing.T, path string) ([]string, Recovery) {
	t.Helper()
	var got []string
	l, rec, err := OpenLog(path, func(p []byte) error { got = append(got, string(p)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return got, rec
}

func TestLogKeepsEveryAcknowledgedRecordInOrderAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "class.log")
	l, _, err := OpenLog(path, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if err := l.Append(context.Background(), fmt.Appendf(nil, "g%d-%d", g, i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	l.Close()
	got, rec := readAll(t, path)
	if len(got) != 400 || rec.Records != 400 || rec.TornBytes != 0 || rec.Corrupt != 0 {
		t.Fatalf("read %d records, recovery %+v; want 400 clean", len(got), rec)
	}
	// Each goroutine's records stay in its own order.
	next := map[string]int{}
	for _, s := range got {
		var g, i int
		fmt.Sscanf(s, "g%d-%d", &g, &i)
		k := fmt.Sprint(g)
		if i != next[k] {
			t.Fatalf("goroutine %d: record %d came before %d", g, i, next[k])
		}
		next[k]++
	}
	// Appending after a reopen goes after the old records.
	l, _, err = OpenLog(path, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	l.Append(context.Background(), []byte("after"))
	l.Close()
	got, _ = readAll(t, path)
	if len(got) != 401 || got[400] != "after" {
		t.Fatalf("after reopen: %d records, last %q", len(got), got[len(got)-1])
	}
}

func TestLogCutsATornLastRecordAndGoesOn(t *testing.T) {
	for _, cut := range []int{1, 4, 7, 8, 9, 12} { // inside the header, at its end, inside the payload
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "class.log")
			l, _, _ := OpenLog(path, func([]byte) error { return nil })
			l.Append(context.Background(), []byte("first record"))
			l.Append(context.Background(), []byte("second record"))
			l.Close()
			fi, _ := os.Stat(path)
			whole := fi.Size()
			second := int64(8 + len("second record"))
			// Keep only cut bytes of the second record: a crash mid-write.
			if err := os.Truncate(path, whole-second+int64(cut)); err != nil {
				t.Fatal(err)
			}
			got, rec := readAll(t, path)
			if len(got) != 1 || got[0] != "first record" || rec.TornBytes != int64(cut) {
				t.Fatalf("got %q, recovery %+v; want only the first record and %d torn bytes", got, rec, cut)
			}
			// The torn end is gone from the file: a new record is read back.
			l, _, _ = OpenLog(path, func([]byte) error { return nil })
			l.Append(context.Background(), []byte("third"))
			l.Close()
			got, rec = readAll(t, path)
			if len(got) != 2 || got[1] != "third" || rec.TornBytes != 0 {
				t.Fatalf("after the cut: %q, %+v", got, rec)
			}
		})
	}
}

func TestLogSkipsARecordWhoseChecksumIsWrong(t *testing.T) {
	path := filepath.Join(t.TempDir(), "class.log")
	l, _, _ := OpenLog(path, func([]byte) error { return nil })
	for _, s := range []string{"one", "two", "three"} {
		l.Append(context.Background(), []byte(s))
	}
	l.Close()
	b, _ := os.ReadFile(path)
	b[8+3+8] ^= 0xff // the first byte of "two"
	os.WriteFile(path, b, 0o600)
	got, rec := readAll(t, path)
	if len(got) != 2 || got[0] != "one" || got[1] != "three" || rec.Corrupt != 1 {
		t.Fatalf("got %q, %+v; want one and three, 1 corrupt", got, rec)
	}
}

func TestLogAppendAfterCloseFails(t *testing.T) {
	l, _, _ := OpenLog(filepath.Join(t.TempDir(), "class.log"), func([]byte) error { return nil })
	l.Close()
	if err := l.Append(context.Background(), []byte("x")); err != ErrLogClosed {
		t.Fatalf("append after close: %v", err)
	}
}
