// Package stock serves GET /availability?skus=a,b,c for a shop's product
// page: how many of each product are in stock. The inventory service has
// no batch endpoint, so the handler asks it once per product, all at
// once. Lesson 12 asks you to find why the page is slow and to size the
// client to what the inventory service says it can take.
package stock

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Inventory is the downstream service. GET URL+"/stock?sku=X" answers
// {"sku":"X","stock":N}.
type Inventory struct {
	URL string
	// Limit is the most requests the inventory service accepts at once
	// from one client, as its documentation states. It answers 429 Too
	// Many Requests to any request beyond that.
	Limit int
}

// New returns the handler of GET /availability. It answers a JSON object
// that maps every SKU asked for to its stock, or 502 Bad Gateway when a
// call to the inventory service failed.
func New(inv Inventory) http.Handler {
	client := sharedClient(inv.Limit)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		skus := strings.Split(r.URL.Query().Get("skus"), ",")
		stock := make([]int, len(skus))
		errs := make([]error, len(skus))
		var wg sync.WaitGroup
		for i, sku := range skus {
			wg.Go(func() { // ends when the call has returned
				stock[i], errs[i] = fetchStock(client, inv.URL, sku)
			})
		}
		wg.Wait()
		answer := make(map[string]int, len(skus))
		for i, sku := range skus {
			if errs[i] != nil {
				http.Error(w, errs[i].Error(), http.StatusBadGateway)
				return
			}
			answer[sku] = stock[i]
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(answer)
	})
}

// shared is the one client every handler uses, made the first time it is
// needed, so connections are reused everywhere.
var shared struct {
	once   sync.Once
	client *http.Client
}

// sharedClient returns the shared client, sized to the first limit it sees.
func sharedClient(limit int) *http.Client {
	shared.once.Do(func() { shared.client = NewClient(limit) })
	return shared.client
}

// fetchStock asks the inventory service for one SKU's stock.
func fetchStock(client *http.Client, base, sku string) (int, error) {
	resp, err := client.Get(base + "/stock?sku=" + url.QueryEscape(sku))
	if err != nil {
		return 0, fmt.Errorf("stock of %s: %w", sku, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // read to the end, so the connection can be reused
	if err != nil {
		return 0, fmt.Errorf("stock of %s: %w", sku, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("stock of %s: inventory answered %s", sku, resp.Status)
	}
	var v struct {
		SKU   string `json:"sku"`
		Stock int    `json:"stock"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return 0, fmt.Errorf("stock of %s: %w", sku, err)
	}
	if v.SKU != sku {
		return 0, fmt.Errorf("stock of %s: inventory answered for %q", sku, v.SKU)
	}
	return v.Stock, nil
}
