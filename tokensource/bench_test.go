package tokensource_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/tokensource"
)

type staticSource struct{}

func (staticSource) Token() (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: "x", Expiry: time.Now().Add(time.Hour)}, nil
}

func benchSources(b *testing.B) map[string]oauth2.TokenSource {
	s := tokensource.New(tokensource.FromOAuth2(staticSource{}))
	b.Cleanup(func() { s.Close() })
	return map[string]oauth2.TokenSource{
		"authwire":                s,
		"oauth2.ReuseTokenSource": oauth2.ReuseTokenSource(nil, staticSource{}),
	}
}

func BenchmarkCacheHit(b *testing.B) {
	for name, ts := range benchSources(b) {
		if _, err := ts.Token(); err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ts.Token(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := ts.Token(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkCacheHitContext(b *testing.B) {
	s := tokensource.New(tokensource.FromOAuth2(staticSource{}))
	defer s.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.TokenContext(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
