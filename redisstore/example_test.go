package redisstore_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/redisstore"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// One replica's wiring. The output is the same whether Redis is there or not:
// without it, the replica logs in by itself.
func ExampleNew() {
	opt, err := redis.ParseURL(os.Getenv("AUTHWIRE_TEST_REDIS"))
	if err != nil {
		opt = &redis.Options{Addr: "127.0.0.1:6390"}
	}
	opt.MaxRetries, opt.DialerRetries = -1, 1 // notice a dead Redis at once
	rdb := redis.NewClient(opt)
	defer rdb.Close()

	fleet := redisstore.New(rdb)            // redisstore.WithLogger(logger) to hear about outages
	key := make([]byte, redisstore.KeySize) // in real life: 32 random bytes from your secret manager
	store, err := fleet.TokenStore(key)
	if err != nil {
		fmt.Println(err)
		return
	}
	login := tokensource.FetcherFunc(func(ctx context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "token-from-login", Expiry: time.Now().Add(20 * time.Minute)}, nil
	})
	src := tokensource.New(login, tokensource.WithStore(store, "example:account-42"))
	defer src.Close()

	rt, err := roundtripper.New(roundtripper.Config{
		Hosts:    roundtripper.Hosts{"https://api.example.com"},
		Token:    src,
		Limiter:  fleet.Limiter(ratelimit.Config{Rate: 20}),                   // 20 req/s for the whole fleet
		Breakers: breaker.NewSet(breaker.Config{Store: fleet.BreakerStore()}), // one breaker for the fleet
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = &http.Client{Transport: rt}

	tok, err := src.TokenContext(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.AccessToken)
	_ = store.Delete(context.Background(), "example:account-42", tok) // leave Redis clean
	// Output: token-from-login
}
