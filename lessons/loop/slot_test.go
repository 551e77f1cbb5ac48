package loop

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestVerifyInPoolSlot(t *testing.T) {
	if err := VerifyInPoolSlot(); err != nil {
		t.Fatal(err)
	}
}

func TestInPoolSlot(t *testing.T) {
	if InPoolSlot() {
		t.Error("InPoolSlot outside any App = true, want false")
	}
	app := New(Options{PoolSize: 1})
	var inSlot, inGoroutine, afterSlot bool
	app.Async("/", func(c *Ctx) string {
		c.RunInPool(func() {
			inSlot = InPoolSlot()
			done := make(chan bool)
			go func() { done <- InPoolSlot() }() // ends after one send
			inGoroutine = <-done
		})
		afterSlot = InPoolSlot()
		return "ok"
	})
	app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if !inSlot {
		t.Error("InPoolSlot inside RunInPool = false, want true")
	}
	if inGoroutine {
		t.Error("InPoolSlot in a goroutine started inside RunInPool = true, want false: the goroutine is not in the slot")
	}
	if afterSlot {
		t.Error("InPoolSlot after RunInPool returned = true, want false")
	}
}
