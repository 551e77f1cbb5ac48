package class

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gotutor/tutor/site"
)

// Lesson is a column of the dashboard.
type Lesson struct {
	ID    string
	Title string
}

// Limits bound what a client may send. The zero value of a field means its
// default (see [DefaultLimits]).
type Limits struct {
	MaxBody        int64   // bytes of a join or an update request without help
	MaxHelpBody    int64   // bytes of an update request that carries a help request
	MaxBatch       int     // updates in one request
	MaxLearners    int     // learners in a class
	MaxNameLen     int     // runes of a display name
	LearnerRate    float64 // update requests a second per learner, sustained
	LearnerBurst   int     // … and in a burst
	JoinRate       float64 // joins a second, for the whole class
	JoinBurst      int
	MaxSubscribers int // dashboards open at once
}

// DefaultLimits are generous for a class and tight for a flood: a
// learner's tutor sends one request per check result, or a batch after
// being offline.
func DefaultLimits() Limits {
	return Limits{
		MaxBody: 64 << 10, MaxHelpBody: 512 << 10, MaxBatch: 64,
		MaxLearners: 1000, MaxNameLen: 40,
		LearnerRate: 5, LearnerBurst: 20,
		JoinRate: 20, JoinBurst: 300,
		MaxSubscribers: 16,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBody == 0 {
		l.MaxBody = d.MaxBody
	}
	if l.MaxHelpBody == 0 {
		l.MaxHelpBody = d.MaxHelpBody
	}
	if l.MaxBatch == 0 {
		l.MaxBatch = d.MaxBatch
	}
	if l.MaxLearners == 0 {
		l.MaxLearners = d.MaxLearners
	}
	if l.MaxNameLen == 0 {
		l.MaxNameLen = d.MaxNameLen
	}
	if l.LearnerRate == 0 {
		l.LearnerRate = d.LearnerRate
	}
	if l.LearnerBurst == 0 {
		l.LearnerBurst = d.LearnerBurst
	}
	if l.JoinRate == 0 {
		l.JoinRate = d.JoinRate
	}
	if l.JoinBurst == 0 {
		l.JoinBurst = d.JoinBurst
	}
	if l.MaxSubscribers == 0 {
		l.MaxSubscribers = d.MaxSubscribers
	}
	return l
}

// Config is what [NewServer] needs.
type Config struct {
	LogPath string   // the append-only log; created if missing
	Lessons []Lesson // the dashboard's columns; updates for other IDs are refused
	// InstructorToken opens the dashboard; JoinCode lets a learner join.
	// Both must be set (see [site.NewToken]) and differ.
	InstructorToken string
	JoinCode        string
	Limits          Limits
}

// Server is a class server. It implements http.Handler.
type Server struct {
	cfg      Config
	lim      Limits
	log      *Log
	gate     *site.TokenGate
	joinCode string
	mux      *http.ServeMux
	recovery Recovery
	joins    *bucket

	mu       sync.Mutex
	learners map[string]*learner // by ID
	byToken  map[string]*learner // by the hash of the learner's token
	order    []*learner          // in joining order
	help     []*helpItem
	subs     map[*subscriber]struct{}
}

type learner struct {
	id, name  string
	tokenHash string
	joined    time.Time
	lastSeq   int64
	lastSeen  time.Time
	lessons   map[string]*Update
	rate      *bucket
	// posting serialises one learner's update requests, so that the
	// order they are logged in is the order they are applied in.
	posting sync.Mutex
}

type helpItem struct {
	N       int
	Learner string
	Name    string
	Update  Update
	Done    bool
}

// record is one line of the log.
type record struct {
	T       string    `json:"t"` // "join", "up", "done"
	ID      string    `json:"id,omitempty"`
	Name    string    `json:"name,omitempty"`
	Token   string    `json:"th,omitempty"` // sha256 of the learner's token
	At      time.Time `json:"at"`
	Updates []Update  `json:"us,omitempty"`
	N       int       `json:"n,omitempty"`
}

// NewServer opens the log, replays it and returns the server. Close it.
func NewServer(cfg Config) (*Server, error) {
	if cfg.InstructorToken == "" || cfg.JoinCode == "" || cfg.InstructorToken == cfg.JoinCode {
		return nil, errors.New("class: the instructor token and the join code must be set and differ")
	}
	gate, err := site.NewTokenGate(cfg.InstructorToken)
	if err != nil {
		return nil, err
	}
	lim := cfg.Limits.withDefaults()
	s := &Server{
		cfg: cfg, lim: lim, gate: gate, joinCode: cfg.JoinCode,
		joins:    newBucket(lim.JoinRate, lim.JoinBurst),
		learners: map[string]*learner{}, byToken: map[string]*learner{},
		subs: map[*subscriber]struct{}{},
	}
	l, rec, err := OpenLog(cfg.LogPath, s.replay)
	if err != nil {
		return nil, err
	}
	s.log, s.recovery = l, rec
	s.routes()
	return s, nil
}

// Recovery says what opening the log found (records read, a torn end cut off).
func (s *Server) Recovery() Recovery { return s.recovery }

// Close stops writing the log. The HTTP server must be shut down first.
func (s *Server) Close() error {
	s.mu.Lock()
	for sub := range s.subs {
		sub.drop()
	}
	s.mu.Unlock()
	return s.log.Close()
}

func (s *Server) replay(payload []byte) error {
	var r record
	if err := json.Unmarshal(payload, &r); err != nil {
		return fmt.Errorf("class log: a record is not JSON: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apply(r)
	return nil
}

// apply changes the state by one record; s.mu is held. It returns the
// learner and the lessons it changed, and whether a help request came.
func (s *Server) apply(r record) (l *learner, lessons []string, helped bool) {
	switch r.T {
	case "join":
		if s.learners[r.ID] != nil {
			return nil, nil, false
		}
		l = &learner{id: r.ID, name: r.Name, tokenHash: r.Token, joined: r.At, lessons: map[string]*Update{},
			rate: newBucket(s.lim.LearnerRate, s.lim.LearnerBurst)}
		s.learners[r.ID] = l
		s.byToken[r.Token] = l
		s.order = append(s.order, l)
		return l, nil, false
	case "up":
		l = s.learners[r.ID]
		if l == nil {
			return nil, nil, false
		}
		for _, u := range r.Updates {
			if u.Seq <= l.lastSeq {
				continue // a retry of one already kept
			}
			l.lastSeq = u.Seq
			l.lastSeen = r.At
			if u.Help != nil {
				s.help = append(s.help, &helpItem{N: len(s.help) + 1, Learner: l.id, Name: l.name, Update: u})
				helped = true
				u.Help = nil // the grid keeps the summary; the code stays in the help queue
			}
			cp := u
			l.lessons[u.Lesson] = &cp
			if !slices.Contains(lessons, u.Lesson) {
				lessons = append(lessons, u.Lesson)
			}
		}
		return l, lessons, helped
	case "done":
		if r.N >= 1 && r.N <= len(s.help) {
			s.help[r.N-1].Done = true
		}
	}
	return nil, nil, false
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /api/join", s.handleJoin)
	m.HandleFunc("POST /api/updates", s.learnerOnly(s.handleUpdates))
	m.HandleFunc("GET /api/me", s.learnerOnly(s.handleMe))
	m.HandleFunc("GET /join", s.handleJoinPage)
	inst := http.NewServeMux()
	inst.HandleFunc("GET /{$}", s.handleDashboard)
	inst.HandleFunc("GET /events", s.handleEvents)
	inst.HandleFunc("GET /export.csv", s.handleCSV)
	inst.HandleFunc("GET /api/state", s.handleState)
	inst.HandleFunc("GET /help/{n}", s.handleHelp)
	inst.HandleFunc("POST /help/{n}/done", s.handleHelpDone)
	inst.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	m.Handle("/", s.gate.Wrap(inst))
	s.mux = m
}

// ServeHTTP implements http.Handler: security headers, cross-origin
// refusal of state changes from browsers, then the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	if err := crossOrigin.Check(r); err != nil {
		refuse(w, http.StatusForbidden, "refused a request from another site")
		return
	}
	s.mux.ServeHTTP(w, r)
}

var crossOrigin = http.NewCrossOriginProtection()

// refuse writes a one-line plain-text reason.
func refuse(w http.ResponseWriter, code int, reason string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	io.WriteString(w, "tutor class: "+reason+"\n")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// readBody reads at most limit bytes of r's body into v; over the limit or
// not JSON is a one-line error.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	if r.ContentLength > limit {
		refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is %d bytes, over the limit of %d", r.ContentLength, limit))
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	if err := dec.Decode(v); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is over the limit of %d bytes", limit))
		} else {
			refuse(w, http.StatusBadRequest, "the request is not the JSON expected: "+oneLine(err.Error()))
		}
		return false
	}
	return true
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// JoinRequest is the body of POST /api/join.
type JoinRequest struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// JoinResponse is its answer: the learner's ID and token (keep it: it is
// shown once).
type JoinResponse struct {
	Learner string `json:"learner"`
	Token   string `json:"token"`
}

var nameOK = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} ._'-]*$`)

func (s *Server) handleJoin(w http.ResponseWriter, r *http.Request) {
	var req JoinRequest
	if !readBody(w, r, s.lim.MaxBody, &req) {
		return
	}
	s.mu.Lock()
	allowed := s.joins.take(time.Now())
	s.mu.Unlock()
	if !allowed {
		refuse(w, http.StatusTooManyRequests, "too many joins at once; try again in a second")
		return
	}
	if !codeMatch(req.Code, s.joinCode) {
		refuse(w, http.StatusUnauthorized, "the join code is wrong: use the address the instructor's tutor printed")
		return
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || utf8.RuneCountInString(name) > s.lim.MaxNameLen || !nameOK.MatchString(name) {
		refuse(w, http.StatusBadRequest, fmt.Sprintf("a display name is 1 to %d letters, digits, spaces and . _ ' -", s.lim.MaxNameLen))
		return
	}
	tok, err := site.NewToken()
	if err != nil {
		refuse(w, http.StatusInternalServerError, "could not make a token")
		return
	}
	idb, err := site.NewToken()
	if err != nil {
		refuse(w, http.StatusInternalServerError, "could not make an ID")
		return
	}
	rec := record{T: "join", ID: "l" + idb[:12], Name: name, Token: tokenHash(tok), At: time.Now().UTC()}
	s.mu.Lock()
	full := len(s.learners) >= s.lim.MaxLearners
	s.mu.Unlock()
	if full {
		refuse(w, http.StatusTooManyRequests, fmt.Sprintf("the class is full (%d learners)", s.lim.MaxLearners))
		return
	}
	if !s.persist(w, r, rec) {
		return
	}
	s.mu.Lock()
	l, _, _ := s.apply(rec)
	s.mu.Unlock()
	if l != nil {
		s.publishLearner(l)
	}
	writeJSON(w, JoinResponse{Learner: rec.ID, Token: tok})
}

// persist appends rec to the log; a failure is answered with 503 and
// nothing is acknowledged.
func (s *Server) persist(w http.ResponseWriter, r *http.Request, rec record) bool {
	b, err := json.Marshal(rec)
	if err == nil {
		err = s.log.Append(r.Context(), b)
	}
	if err != nil {
		refuse(w, http.StatusServiceUnavailable, "could not record it: "+oneLine(err.Error()))
		return false
	}
	return true
}

func codeMatch(a, b string) bool {
	return len(a) == len(b) && tokenHash(a) == tokenHash(b)
}

// learnerOnly admits a request carrying a learner's token (Authorization:
// Bearer) and passes the learner on.
func (s *Server) learnerOnly(h func(http.ResponseWriter, *http.Request, *learner)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			refuse(w, http.StatusUnauthorized, "this needs a learner's token (join with `tutor join URL`)")
			return
		}
		s.mu.Lock()
		l := s.byToken[tokenHash(strings.TrimSpace(tok))]
		s.mu.Unlock()
		if l == nil {
			refuse(w, http.StatusUnauthorized, "this learner token is not one of this class's")
			return
		}
		h(w, r, l)
	}
}

// maxOpenHelp bounds a learner's unanswered help requests (each carries
// their code, up to MaxHelpBody).
const maxOpenHelp = 3

// UpdatesRequest is the body of POST /api/updates.
type UpdatesRequest struct {
	Updates []Update `json:"updates"`
}

// UpdatesResponse acknowledges every update up to Acked (on the disk).
type UpdatesResponse struct {
	Acked int64 `json:"acked"`
}

func (s *Server) handleUpdates(w http.ResponseWriter, r *http.Request, l *learner) {
	var req UpdatesRequest
	if !readBody(w, r, s.lim.MaxHelpBody, &req) {
		return
	}
	s.mu.Lock()
	allowed := l.rate.take(time.Now())
	s.mu.Unlock()
	if !allowed {
		refuse(w, http.StatusTooManyRequests, "too many updates; slow down")
		return
	}
	if len(req.Updates) == 0 || len(req.Updates) > s.lim.MaxBatch {
		refuse(w, http.StatusBadRequest, fmt.Sprintf("send 1 to %d updates at a time", s.lim.MaxBatch))
		return
	}
	l.posting.Lock()
	defer l.posting.Unlock()
	helps := 0
	for i, u := range req.Updates {
		if msg := s.validate(u); msg != "" {
			refuse(w, http.StatusBadRequest, fmt.Sprintf("update %d: %s", i+1, msg))
			return
		}
		if u.Help != nil {
			helps++
		}
	}
	if helps == 0 && r.ContentLength > s.lim.MaxBody {
		refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("an update without a help request is at most %d bytes", s.lim.MaxBody))
		return
	}
	s.mu.Lock()
	var fresh []Update
	for _, u := range req.Updates {
		if u.Seq > l.lastSeq {
			fresh = append(fresh, u)
		}
	}
	open := 0
	for _, h := range s.help {
		if h.Learner == l.id && !h.Done {
			open++
		}
	}
	s.mu.Unlock()
	if helps > 0 && open+helps > maxOpenHelp && slices.ContainsFunc(fresh, func(u Update) bool { return u.Help != nil }) {
		refuse(w, http.StatusConflict, fmt.Sprintf("you already have %d help requests waiting: the instructor will come to you", open))
		return
	}
	if len(fresh) > 0 {
		rec := record{T: "up", ID: l.id, At: time.Now().UTC(), Updates: fresh}
		if !s.persist(w, r, rec) {
			return
		}
		s.mu.Lock()
		_, lessons, helped := s.apply(rec)
		s.mu.Unlock()
		s.publishLearner(l)
		for _, id := range lessons {
			s.publishLesson(id)
		}
		if helped {
			s.publishHelp()
		}
	}
	s.mu.Lock()
	acked := l.lastSeq
	s.mu.Unlock()
	writeJSON(w, UpdatesResponse{Acked: acked})
}

// validate returns why u is refused, "" if it is not.
func (s *Server) validate(u Update) string {
	if u.Seq <= 0 {
		return "seq must be positive"
	}
	if !slices.ContainsFunc(s.cfg.Lessons, func(l Lesson) bool { return l.ID == u.Lesson }) {
		return "unknown lesson " + strconv.Quote(oneLine(u.Lesson))
	}
	if !slices.Contains([]string{"not-started", "in-progress", "passed"}, u.Status) {
		return "unknown status " + strconv.Quote(oneLine(u.Status))
	}
	if !slices.Contains([]string{"", "pass", "fail", "build-error", "timeout"}, u.Verdict) {
		return "unknown verdict " + strconv.Quote(oneLine(u.Verdict))
	}
	if len(u.Failing) > 64 {
		return "too many failing checks"
	}
	for _, f := range u.Failing {
		if len(f.Name) > 200 || len(f.Title) > 200 || len(f.Measures) > 16 {
			return "a failing check is too long"
		}
	}
	if u.Help != nil && len(u.Help.Files) > 32 {
		return "a help request carries at most 32 files"
	}
	return ""
}

// MeResponse is a learner's own record on the server.
type MeResponse struct {
	Learner string             `json:"learner"`
	Name    string             `json:"name"`
	Acked   int64              `json:"acked"`
	Lessons map[string]*Update `json:"lessons"`
}

// handleMe shows a learner their own record, and only theirs: the token
// picks the learner, nothing in the request can name another.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, l *learner) {
	s.mu.Lock()
	resp := MeResponse{Learner: l.id, Name: l.name, Acked: l.lastSeq, Lessons: map[string]*Update{}}
	for id, u := range l.lessons {
		cp := *u
		resp.Lessons[id] = &cp
	}
	s.mu.Unlock()
	writeJSON(w, resp)
}

func (s *Server) handleJoinPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "This is a tutor class. To join it, run in a terminal:\n\n    tutor join 'http://%s%s' --name \"Your Name\"\n\nthen start the tutor as usual (tutor).\n", r.Host, r.URL.RequestURI())
}

// bucket is a token bucket: rate a second, up to burst.
type bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst)}
}

// take spends one token if there is one. The caller serialises calls.
func (b *bucket) take(now time.Time) bool {
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
