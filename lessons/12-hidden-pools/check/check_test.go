//go:build tutorcheck

package stock

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotutor/tutor/lessons/harness"
)

// The scenarios the checks run. Every call to the inventory takes
// checkDelay (or checkQuick), so a fan-out of n calls with a limit of L
// takes ⌈n/L⌉ of them.
const (
	checkDelay = 100 * time.Millisecond // one stock call in Throughput and Limit
	checkQuick = 50 * time.Millisecond  // one stock call in Calls and Reuse

	checkFastLimit = 12 // Throughput: the inventory's limit
	checkFastSKUs  = 24 // Throughput: SKUs on the page, two rounds of 12

	checkLowLimit = 5  // Limit: a smaller inventory service
	checkLowSKUs  = 10 // Limit: SKUs on each of two pages served at once, four rounds of 5 in all

	checkCallsLimit = 6  // Calls: the inventory's limit
	checkCallsSKUs  = 12 // Calls: SKUs on the page

	checkReuseLimit = 8  // Reuse: the inventory's limit
	checkReuseSKUs  = 16 // Reuse: SKUs on the page
	checkReusePages = 4  // Reuse: pages asked for one after another
)

// checkInventory is the inventory service the checks own: it counts every
// call, the calls in flight at once and the TCP connections it accepted,
// answers 429 beyond its limit, and makes up stock levels from a random
// seed, so only a real call can know them.
type checkInventory struct {
	limit int
	delay time.Duration
	srv   *httptest.Server
	rec   *harness.Recorder

	mu       sync.Mutex
	seed     [16]byte
	inFlight int
	peak     int
	calls    map[string]int // SKU → calls, answered or not
	rejected int            // calls answered 429
	conns    int            // TCP connections accepted
}

// checkNewInventory starts an inventory service on loopback that closes
// when the test ends.
func checkNewInventory(t *testing.T, t0 time.Time, limit int, delay time.Duration) *checkInventory {
	t.Helper()
	inv := &checkInventory{limit: limit, delay: delay, rec: harness.NewRecorder(t0), calls: map[string]int{}}
	rand.Read(inv.seed[:])
	inv.srv = httptest.NewUnstartedServer(http.HandlerFunc(inv.serve))
	inv.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			inv.mu.Lock()
			inv.conns++
			inv.mu.Unlock()
		}
	}
	inv.srv.Start()
	t.Cleanup(inv.srv.Close)
	return inv
}

// Inventory returns what the learner's New is given.
func (inv *checkInventory) Inventory() Inventory {
	return Inventory{URL: inv.srv.URL, Limit: inv.limit}
}

// stock is the stock level of sku under the current seed.
func (inv *checkInventory) stock(sku string) int {
	inv.mu.Lock()
	seed := inv.seed
	inv.mu.Unlock()
	sum := sha256.Sum256(append(seed[:], sku...))
	return int(binary.BigEndian.Uint32(sum[:4]) % 1000)
}

// restock changes every stock level, as a delivery would.
func (inv *checkInventory) restock() {
	inv.mu.Lock()
	rand.Read(inv.seed[:])
	inv.mu.Unlock()
}

func (inv *checkInventory) serve(w http.ResponseWriter, r *http.Request) {
	sku := r.URL.Query().Get("sku")
	if r.URL.Path != "/stock" || sku == "" {
		http.Error(w, "ask GET /stock?sku=X", http.StatusNotFound)
		return
	}
	end := inv.rec.Start("stock " + sku)
	inv.mu.Lock()
	inv.calls[sku]++
	inv.inFlight++
	now := inv.inFlight
	inv.peak = max(inv.peak, now)
	if now > inv.limit {
		inv.rejected++
	}
	inv.mu.Unlock()
	defer func() {
		inv.mu.Lock()
		inv.inFlight--
		inv.mu.Unlock()
	}()
	if now > inv.limit {
		end("rejected")
		http.Error(w, fmt.Sprintf("more than %d requests at once", inv.limit), http.StatusTooManyRequests)
		return
	}
	time.Sleep(inv.delay)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"sku": sku, "stock": inv.stock(sku)})
	end("ok")
}

// checkCounts is what the inventory saw.
type checkCounts struct {
	peak, rejected, conns, calls int
	perSKU                       map[string]int
}

// counts returns what the inventory has seen since the last reset.
func (inv *checkInventory) counts() checkCounts {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	c := checkCounts{peak: inv.peak, rejected: inv.rejected, conns: inv.conns, perSKU: map[string]int{}}
	for k, v := range inv.calls {
		c.perSKU[k] = v
		c.calls += v
	}
	return c
}

// checkSKUs returns n SKU names.
func checkSKUs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("sku-%02d", i+1)
	}
	return out
}

// checkPage is one answer of the learner's handler.
type checkPage struct {
	status  int
	body    string
	took    time.Duration
	span    harness.Span
	timeout bool
}

// checkAsk sends GET /availability for skus to h and waits for the answer
// for at most harness.Deadline.
func checkAsk(h http.Handler, t0 time.Time, skus []string, label string) checkPage {
	req := httptest.NewRequest(http.MethodGet, "/availability?skus="+strings.Join(skus, ","), nil)
	rec := httptest.NewRecorder()
	start := time.Now()
	done := make(chan struct{})
	go func() { // ends when the handler returns
		defer close(done)
		h.ServeHTTP(rec, req)
	}()
	p := checkPage{span: harness.Span{Label: label, Start: start.Sub(t0)}}
	select {
	case <-done:
		p.took = time.Since(start)
		p.status = rec.Code
		p.body = rec.Body.String()
		p.span.Outcome = "ok"
		if p.status != http.StatusOK {
			p.span.Outcome = "error"
		}
	case <-time.After(harness.Deadline):
		p.took = time.Since(start)
		p.timeout = true
		p.span.Outcome = "late"
	}
	p.span.End = time.Since(t0)
	return p
}

// checkWrong explains what is wrong with a page's answer, or returns "".
func checkWrong(p checkPage, inv *checkInventory, skus []string) string {
	if p.timeout {
		return fmt.Sprintf("GET /availability did not answer within %s.", harness.Deadline)
	}
	if p.status != http.StatusOK {
		return fmt.Sprintf("GET /availability answered %d (%s), not 200.", p.status, strings.TrimSpace(checkShort(p.body)))
	}
	var got map[string]int
	if err := json.Unmarshal([]byte(p.body), &got); err != nil {
		return fmt.Sprintf("GET /availability answered %q, not a JSON object of SKU → stock: %v.", checkShort(p.body), err)
	}
	for _, sku := range skus {
		v, ok := got[sku]
		if !ok {
			return fmt.Sprintf("The answer has no stock for %s.", sku)
		}
		if want := inv.stock(sku); v != want {
			return fmt.Sprintf("The answer says %s has %d in stock; the inventory says %d right now. Every answer must come from a call made for this request.", sku, v, want)
		}
	}
	if len(got) != len(skus) {
		return fmt.Sprintf("The answer has %d SKUs; %d were asked for.", len(got), len(skus))
	}
	return ""
}

func checkShort(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// checkRounds is ⌈n/limit⌉: how many rounds a fan-out of n calls takes.
func checkRounds(n, limit int) int { return (n + limit - 1) / limit }

func TestThroughput(t *testing.T) {
	c := harness.Begin(t, fmt.Sprintf("%d stock calls of %s each, with a limit of %d at once, answer in %d rounds", checkFastSKUs, checkMs(checkDelay), checkFastLimit, checkRounds(checkFastSKUs, checkFastLimit)))
	skus := checkSKUs(checkFastSKUs)
	rounds := checkRounds(checkFastSKUs, checkFastLimit)
	ideal := time.Duration(rounds) * checkDelay
	var wrong string
	var spans []harness.Span
	page := func() (time.Duration, checkCounts) {
		t0 := time.Now()
		inv := checkNewInventory(t, t0, checkFastLimit, checkDelay)
		p := checkAsk(New(inv.Inventory()), t0, skus, "GET /availability")
		spans = append(inv.rec.Spans(), p.span)
		if w := checkWrong(p, inv, skus); w != "" && wrong == "" {
			wrong = w
		}
		return p.took, inv.counts()
	}
	took, got := page()
	c.Value(harness.Quantity{
		What:  "Stock calls the inventory saw at once, at the most",
		Unit:  harness.Count,
		Want:  fmt.Sprintf("a client sized to the inventory's limit keeps %d calls in flight", checkFastLimit),
		Cause: "Fewer calls reach the inventory at once than it accepts: the client's pool is smaller than the inventory's Limit.",
	}, "min", checkFastLimit, float64(got.peak))
	first := true
	c.AtMost(harness.Quantity{
		What:  fmt.Sprintf("GET /availability for %d SKUs (each stock call takes %s, the inventory takes %d at once)", checkFastSKUs, checkMs(checkDelay), checkFastLimit),
		Unit:  harness.Millis,
		Want:  fmt.Sprintf("a client sized to the inventory's limit makes %d rounds of %d calls: about %s", rounds, checkFastLimit, checkMs(ideal)),
		Cause: "The calls wait for a free connection: something between your goroutines and the inventory lets fewer than the inventory's limit through at once. Look at the Transport's MaxConnsPerHost in client.go.",
	}, harness.Ms(5*ideal/2), func() float64 {
		if first { // the page measured above
			first = false
			return harness.Ms(took)
		}
		d, _ := page()
		return harness.Ms(d)
	})
	c.Timeline(spans)
	if wrong != "" {
		c.Fail(wrong)
	}
}

func TestLimit(t *testing.T) {
	c := harness.Begin(t, fmt.Sprintf("The inventory never sees more calls at once than its limit (%d, then %d with two pages at once, in this check)", checkFastLimit, checkLowLimit))
	// A handler for an inventory with a larger limit serves a page first,
	// in the same process, so a client made once for the whole package
	// (sized to whichever inventory came first) is found out.
	t0 := time.Now()
	big := checkNewInventory(t, t0, checkFastLimit, checkQuick)
	bigSKUs := checkSKUs(checkFastLimit)
	pb := checkAsk(New(big.Inventory()), t0, bigSKUs, fmt.Sprintf("GET /availability, limit %d", checkFastLimit))
	// Then two pages at once through one handler: the inventory's limit
	// is per client, not per page.
	skus := checkSKUs(2 * checkLowSKUs)
	inv := checkNewInventory(t, t0, checkLowLimit, checkDelay)
	h := New(inv.Inventory())
	var pages [2]checkPage
	var wg sync.WaitGroup
	for i := range pages {
		wg.Go(func() { // ends when checkAsk returns, within harness.Deadline
			pages[i] = checkAsk(h, t0, skus[i*checkLowSKUs:(i+1)*checkLowSKUs], fmt.Sprintf("GET /availability %d, limit %d", i+1, checkLowLimit))
		})
	}
	wg.Wait()
	c.Timeline(append(inv.rec.Spans(), pages[0].span, pages[1].span))
	if w := checkWrong(pb, big, bigSKUs); w != "" {
		c.Fail(fmt.Sprintf("With an inventory that takes %d at once: %s", checkFastLimit, w))
	}
	for i, p := range pages {
		if w := checkWrong(p, inv, skus[i*checkLowSKUs:(i+1)*checkLowSKUs]); w != "" {
			c.Fail(fmt.Sprintf("Page %d: %s", i+1, w))
		}
	}
	got := inv.counts()
	// Judged last, so that on failure its message comes first.
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("Stock calls the inventory saw at once, at the most, for 2 pages of %d SKUs served at once", checkLowSKUs),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("the inventory's Limit is %d, so a client sized to it never has more in flight, whatever the number of pages", checkLowLimit),
		Cause: fmt.Sprintf("The inventory answered 429 to %d calls. The calls are not limited to Inventory.Limit for the whole handler: is the limit a constant, one too high, gone, or one per page?", got.rejected),
	}, "max", checkLowLimit, float64(got.peak))
}

func TestCalls(t *testing.T) {
	c := harness.Begin(t, "Every SKU is asked for once per request, and the answer is the inventory's")
	t0 := time.Now()
	skus := checkSKUs(checkCallsSKUs)
	inv := checkNewInventory(t, t0, checkCallsLimit, checkQuick)
	h := New(inv.Inventory())
	p1 := checkAsk(h, t0, skus, "GET /availability, first")
	w1 := checkWrong(p1, inv, skus)
	first := inv.counts()
	inv.restock()
	p2 := checkAsk(h, t0, skus, "GET /availability, after a delivery")
	w2 := checkWrong(p2, inv, skus)
	c.Timeline(append(inv.rec.Spans(), p1.span, p2.span))
	all := inv.counts()
	var off []string
	for _, sku := range skus {
		if n := all.perSKU[sku]; n != 2 {
			off = append(off, fmt.Sprintf("%s %d×", sku, n))
		}
	}
	for sku := range all.perSKU {
		if !slices.Contains(skus, sku) {
			off = append(off, fmt.Sprintf("%s (not asked for) %d×", sku, all.perSKU[sku]))
		}
	}
	slices.Sort(off)
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("SKUs not asked for exactly once in each of 2 requests for %d SKUs", checkCallsSKUs),
		Unit:  harness.Count,
		Want:  "every request asks the inventory once for every SKU, so none",
		Cause: fmt.Sprintf("The first request made %d stock calls, the second %d (%d SKUs each); calls per SKU that were not 2: %s. No skipping, no remembering an earlier answer, no asking twice.", first.calls, all.calls-first.calls, checkCallsSKUs, strings.Join(off, ", ")),
	}, "max", 0, float64(len(off)))
	if w1 != "" {
		c.Fail("First request: " + w1)
	}
	if w2 != "" {
		c.Fail("After the stock changed: " + w2)
	}
}

func TestReuse(t *testing.T) {
	c := harness.Begin(t, fmt.Sprintf("%d pages in a row reuse the client's connections", checkReusePages))
	t0 := time.Now()
	skus := checkSKUs(checkReuseSKUs)
	inv := checkNewInventory(t, t0, checkReuseLimit, checkQuick)
	h := New(inv.Inventory())
	var spans []harness.Span
	var wrong string
	for i := range checkReusePages {
		p := checkAsk(h, t0, skus, fmt.Sprintf("GET /availability %d", i+1))
		spans = append(spans, p.span)
		if w := checkWrong(p, inv, skus); w != "" && wrong == "" {
			wrong = fmt.Sprintf("Page %d: %s", i+1, w)
		}
	}
	c.Timeline(append(inv.rec.Spans(), spans...))
	got := inv.counts()
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("TCP connections the inventory accepted for %d pages of %d SKUs", checkReusePages, checkReuseSKUs),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("a client that keeps its connections opens %d, one per call it may have in flight, and reuses them", checkReuseLimit),
		Cause: "Connections are closed and dialled again: either a new Transport (or Client) is made per request or per call, or the Transport keeps fewer idle connections per host (MaxIdleConnsPerHost, 2 by default) than it uses at once.",
	}, "max", checkReuseLimit, float64(got.conns))
	if wrong != "" {
		c.Fail(wrong)
	}
}

// checkMs prints a duration the way the harness prints times: "100 ms".
func checkMs(d time.Duration) string { return harness.Format(harness.Millis, harness.Ms(d)) }
