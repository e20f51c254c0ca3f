package tokensource_test

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/tokensource"
)

func ExampleNew() {
	logins := 0
	src := tokensource.New(tokensource.FetcherFunc(func(ctx context.Context) (*oauth2.Token, error) {
		logins++ // the vendor's login call goes here
		return &oauth2.Token{AccessToken: fmt.Sprintf("token-%d", logins), Expiry: time.Now().Add(time.Hour)}, nil
	}), tokensource.WithEarlyRefresh(5*time.Minute, 30*time.Second))
	defer src.Close()

	tok, _ := src.TokenContext(context.Background())
	again, _ := src.Token() // a cache hit: no login
	fmt.Println(tok.AccessToken, again.AccessToken, logins)

	src.Invalidate(tok) // the vendor answered 401 to this token
	fresh, _ := src.Token()
	fmt.Println(fresh.AccessToken, logins)
	// Output:
	// token-1 token-1 1
	// token-2 2
}

// ToOAuth2 hands a Fetcher (a vendor's login) to code that takes an
// oauth2.TokenSource, here oauth2's own reuse layer.
func ExampleToOAuth2() {
	logins := 0
	login := tokensource.FetcherFunc(func(ctx context.Context) (*oauth2.Token, error) {
		logins++
		return &oauth2.Token{AccessToken: fmt.Sprintf("token-%d", logins), Expiry: time.Now().Add(time.Hour)}, nil
	})
	ts := oauth2.ReuseTokenSource(nil, tokensource.ToOAuth2(login))
	a, _ := ts.Token()
	b, _ := ts.Token()
	fmt.Println(a.AccessToken, b.AccessToken, logins)
	// Output: token-1 token-1 1
}
