package source

import (
	"context"
	"net/http/httptest"
	"testing"
)

// A full read of 10,000 accounts in ten pages of 1,000 (decoding every DTO), and the
// same read when every page is answered 304.
func BenchmarkAPIRead10k(b *testing.B) {
	for _, unchanged := range []bool{false, true} {
		name := "changed"
		if unchanged {
			name = "unchanged"
		}
		b.Run(name, func(b *testing.B) {
			g := &listGateway{}
			for i := range 10000 {
				g.accounts = append(g.accounts, dtoAccount(int64(i+1)))
			}
			srv := httptest.NewServer(g)
			defer srv.Close()
			admin, err := NewAdmin(AdminConfig{BaseURL: srv.URL, Key: testKey})
			if err != nil {
				b.Fatal(err)
			}
			api := NewAPI(admin)
			b.ReportAllocs()
			for b.Loop() {
				if !unchanged {
					api.pages = nil // no ETags: every page comes with its body
				}
				if accounts, err := api.Read(context.Background()); err != nil || len(accounts) != 10000 {
					b.Fatal(err, len(accounts))
				}
			}
		})
	}
}
