package demo

import (
	"testing"

	"github.com/quotatop/quotatop/source"
)

// startWithAPI starts the demo gateway and its simulated admin API, closed when the test
// ends, and a client of that API.
func startWithAPI(t *testing.T) (*Gateway, *source.Admin) {
	t.Helper()
	g, err := Start(t0, source.DefaultPrefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	api, err := StartAPI(g.Sim)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	admin, err := source.NewAdmin(source.AdminConfig{BaseURL: api.URL, Key: api.Key})
	if err != nil {
		t.Fatal(err)
	}
	return g, admin
}
