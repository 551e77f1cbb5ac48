package class

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Membership is what a learner's workspace remembers of the class it
// joined (in .tutor/class.json, readable only by its owner).
type Membership struct {
	Server  string    `json:"server"` // base URL, e.g. http://192.168.1.20:7171
	Learner string    `json:"learner"`
	Token   string    `json:"token"`
	Name    string    `json:"name"`
	Joined  time.Time `json:"joined"`
}

// MembershipFile is the file name of a membership in a workspace's state directory.
const MembershipFile = "class.json"

// OutboxFile is the file name of the sender's outbox in the same directory.
const OutboxFile = "class-outbox.json"

// LoadMembership reads dir/class.json; a missing file is (nil, nil).
func LoadMembership(dir string) (*Membership, error) {
	b, err := os.ReadFile(filepath.Join(dir, MembershipFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the class membership: %w", err)
	}
	var m Membership
	if err := json.Unmarshal(b, &m); err != nil || m.Server == "" || m.Token == "" {
		return nil, fmt.Errorf("the class membership %s is damaged; join again with `tutor join URL`", filepath.Join(dir, MembershipFile))
	}
	return &m, nil
}

// Save writes m to dir/class.json.
func (m *Membership) Save(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, MembershipFile), b)
}

func writeFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save %s: %w", filepath.Base(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save %s: %w", filepath.Base(path), err)
	}
	return nil
}

// Join registers name with the class at joinURL (the address `tutor class`
// printed, with ?code=…) and returns the membership to save.
func Join(ctx context.Context, client *http.Client, joinURL, name string) (*Membership, error) {
	u, err := url.Parse(joinURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not a class address (it looks like http://HOST:PORT/join?code=…)", joinURL)
	}
	code := u.Query().Get("code")
	if code == "" {
		return nil, fmt.Errorf("the class address %q has no join code (?code=…): copy the whole address the instructor's tutor printed", joinURL)
	}
	base := u.Scheme + "://" + u.Host
	body, _ := json.Marshal(JoinRequest{Code: code, Name: name})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/join", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("join the class at %s: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("join the class at %s: %s", base, serverReason(resp))
	}
	var jr JoinResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&jr); err != nil || jr.Token == "" {
		return nil, fmt.Errorf("join the class at %s: the answer is not a class server's", base)
	}
	return &Membership{Server: base, Learner: jr.Learner, Token: jr.Token, Name: name, Joined: time.Now().UTC()}, nil
}

func serverReason(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(b)), "tutor class:"))
	if msg == "" {
		msg = resp.Status
	}
	return fmt.Sprintf("%s (%d)", oneLine(msg), resp.StatusCode)
}

// SenderOptions tune a [Sender]. Zero values mean the defaults.
type SenderOptions struct {
	Client     *http.Client  // default: 5 s timeout
	MinBackoff time.Duration // first wait after a failure (default 500 ms)
	MaxBackoff time.Duration // longest wait (default 30 s)
	Capacity   int           // updates kept while the server is away (default 256)
	Now        func() time.Time
}

// Sender sends a learner's updates to the class server from its own
// goroutine ([Sender.Run]). Adding never waits on the network: updates go
// to an outbox, bounded and saved in the workspace, which Run empties
// whenever the server answers; when it does not, Run retries with
// exponential backoff, and a restarted tutor sends what the last one could
// not.
type Sender struct {
	m    Membership
	path string // the outbox file
	o    SenderOptions
	wake chan struct{}

	mu      sync.Mutex
	out     outbox
	lastErr string
	stopped string // why sending stopped for good ("" while it goes on)
	sent    int64  // updates acknowledged since start
	dropped int    // updates dropped because the outbox was full
	dirty   bool   // the outbox changed since it was saved
}

// outbox is the saved part of a Sender.
type outbox struct {
	NextSeq int64                `json:"next_seq"`
	Items   []Update             `json:"items"`
	First   map[string]time.Time `json:"first"`  // first check of each lesson
	Passed  map[string]time.Time `json:"passed"` // when it passed: time on it stops there
}

// NewSender loads the outbox in dir (the workspace's state directory).
func NewSender(m Membership, dir string, o SenderOptions) (*Sender, error) {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.Capacity <= 0 {
		o.Capacity = 256
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Sender{m: m, path: filepath.Join(dir, OutboxFile), o: o, wake: make(chan struct{}, 1)}
	s.out = outbox{NextSeq: 1, First: map[string]time.Time{}, Passed: map[string]time.Time{}}
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read the class outbox: %w", err)
	default:
		var ob outbox
		if json.Unmarshal(b, &ob) == nil && ob.NextSeq >= 1 {
			if ob.First == nil {
				ob.First = map[string]time.Time{}
			}
			if ob.Passed == nil {
				ob.Passed = map[string]time.Time{}
			}
			s.out = ob
		}
		// A damaged outbox is started afresh: the next result of each
		// lesson carries its whole state again.
	}
	return s, nil
}

// Add queues u (its Seq and time on the lesson are filled in here). It
// touches neither the network nor the disk: Run saves the outbox.
func (s *Sender) Add(u Update) {
	s.mu.Lock()
	now := s.o.Now()
	if u.At.IsZero() {
		u.At = now.UTC()
	}
	first, ok := s.out.First[u.Lesson]
	if !ok && (u.Verdict != "" || u.Help != nil) {
		first = now
		s.out.First[u.Lesson] = first
		ok = true
	}
	if u.Status == "passed" {
		if _, done := s.out.Passed[u.Lesson]; !done {
			s.out.Passed[u.Lesson] = now
		}
	}
	if ok {
		end := now
		if p, done := s.out.Passed[u.Lesson]; done {
			end = p
		}
		u.TimeOnLessonS = int64(max(0, end.Sub(first).Seconds()))
	}
	// Seq never goes back, even if the outbox file was lost: it is at
	// least the clock in microseconds, so the server (which keeps only
	// updates newer than the last it kept) does not ignore a fresh outbox.
	u.Seq = max(s.out.NextSeq, now.UnixMicro())
	s.out.NextSeq = u.Seq + 1
	s.out.Items = append(s.out.Items, u)
	s.trim()
	s.dirty = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// trim keeps the outbox within its capacity: the oldest plain updates go
// first (each update carries its lesson's whole state, so a newer one of
// the same lesson makes up for it), then the oldest help requests.
func (s *Sender) trim() {
	for len(s.out.Items) > s.o.Capacity {
		i := 0
		for j, u := range s.out.Items {
			if u.Help == nil {
				i = j
				break
			}
		}
		s.out.Items = append(s.out.Items[:i], s.out.Items[i+1:]...)
		s.dropped++
	}
}

func (s *Sender) saveLocked() error {
	s.dirty = false
	b, err := json.Marshal(s.out)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.path, b)
}

// save writes the outbox if it changed; a failure shows in Status.
func (s *Sender) save() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirty {
		return
	}
	if err := s.saveLocked(); err != nil {
		s.lastErr = "the outbox could not be saved: " + oneLine(err.Error())
	}
}

// Pending is the number of updates not yet acknowledged.
func (s *Sender) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.out.Items)
}

// Status says how sending goes, in one line for the learner ("" when all
// is well).
func (s *Sender) Status() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped != "" {
		return s.stopped
	}
	if s.lastErr != "" {
		return fmt.Sprintf("the class server is not answering (%s); %d updates wait and will be sent when it is back", s.lastErr, len(s.out.Items))
	}
	return ""
}

// Run sends the outbox until ctx is done. It is the sender's one
// goroutine; it returns when ctx ends, after saving the outbox.
func (s *Sender) Run(ctx context.Context) {
	defer s.save()
	wait := time.Duration(0)
	for {
		s.save()
		if wait > 0 {
			// While waiting to retry, what is added is still saved.
			t := time.NewTimer(wait)
		waiting:
			for {
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-s.wake:
					s.save()
				case <-t.C:
					break waiting
				}
			}
		}
		batch := s.batch()
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
				wait = 0
				continue
			}
		}
		acked, err := s.post(ctx, batch)
		if ctx.Err() != nil {
			return
		}
		var perm *permanentError
		switch {
		case err == nil:
			s.ack(acked, "")
			wait = 0
		case errors.As(err, &perm) && perm.drop:
			// The server refuses these updates for good (too big, not
			// valid): they are dropped so that the rest can go.
			s.dropBatch(batch, err.Error())
			wait = 0
		case errors.As(err, &perm):
			s.mu.Lock()
			s.stopped = "the class server no longer knows this learner (" + err.Error() + "); join again with `tutor join URL`"
			s.mu.Unlock()
			<-ctx.Done()
			return
		default:
			s.mu.Lock()
			s.lastErr = oneLine(err.Error())
			s.mu.Unlock()
			wait = nextBackoff(wait, s.o.MinBackoff, s.o.MaxBackoff)
		}
	}
}

// nextBackoff doubles the wait between min and max, with ±20 % jitter so
// that a room of laptops does not retry in step.
func nextBackoff(cur, lo, hi time.Duration) time.Duration {
	next := cur * 2
	if next < lo {
		next = lo
	}
	if next > hi {
		next = hi
	}
	jitter := 0.8 + 0.4*rand.Float64()
	return min(hi, time.Duration(float64(next)*jitter))
}

// batch is what the next request carries: a help request alone, or up to
// 32 plain updates.
func (s *Sender) batch() []Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Update
	for _, u := range s.out.Items {
		if u.Help != nil {
			if len(out) == 0 {
				out = append(out, u)
			}
			break
		}
		out = append(out, u)
		if len(out) == 32 {
			break
		}
	}
	return out
}

func (s *Sender) ack(acked int64, _ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.out.Items[:0]
	for _, u := range s.out.Items {
		if u.Seq > acked {
			kept = append(kept, u)
		} else {
			s.sent++
		}
	}
	s.out.Items = kept
	s.lastErr = ""
	s.saveLocked()
}

func (s *Sender) dropBatch(batch []Update, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := batch[len(batch)-1].Seq
	kept := s.out.Items[:0]
	for _, u := range s.out.Items {
		if u.Seq > last {
			kept = append(kept, u)
		} else {
			s.dropped++
		}
	}
	s.out.Items = kept
	s.lastErr = "some updates were refused: " + oneLine(why)
	s.saveLocked()
}

// permanentError is an answer that retrying will not change.
type permanentError struct {
	msg  string
	drop bool // drop the batch and go on (else: stop sending)
}

func (e *permanentError) Error() string { return e.msg }

func (s *Sender) post(ctx context.Context, batch []Update) (int64, error) {
	body, err := json.Marshal(UpdatesRequest{Updates: batch})
	if err != nil {
		return 0, &permanentError{msg: err.Error(), drop: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.m.Server+"/api/updates", bytes.NewReader(body))
	if err != nil {
		return 0, &permanentError{msg: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.m.Token)
	resp, err := s.o.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		var ur UpdatesResponse
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&ur); err != nil {
			return 0, fmt.Errorf("the class server's answer is not JSON: %w", err)
		}
		return ur.Acked, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return 0, &permanentError{msg: serverReason(resp)}
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestEntityTooLarge || resp.StatusCode == http.StatusConflict:
		return 0, &permanentError{msg: serverReason(resp), drop: true}
	default: // 429, 5xx: try again later
		return 0, errors.New(serverReason(resp))
	}
}
