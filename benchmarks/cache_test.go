package benchmarks

import (
	"testing"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/tokensource"
)

// BenchmarkCacheHit measures a token-cache hit: authwire's tokensource (one atomic
// load and a clock read) against oauth2.ReuseTokenSource (a mutex and a clock
// read), serially and from all Ps at once.
func BenchmarkCacheHit(b *testing.B) {
	aw := tokensource.New(newStaticTokens())
	b.Cleanup(func() { aw.Close() })
	impls := []struct {
		name string
		ts   oauth2.TokenSource
	}{
		{"authwire", aw},
		{"oauth2.ReuseTokenSource", oauth2.ReuseTokenSource(nil, newStaticTokens())},
	}
	for _, im := range impls {
		if _, err := im.ts.Token(); err != nil { // fill the cache
			b.Fatal(err)
		}
		b.Run("impl="+im.name+"/mode=serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := im.ts.Token(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("impl="+im.name+"/mode=parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := im.ts.Token(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
