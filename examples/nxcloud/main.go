// Command nxcloud shows the NXCloud client against its simulator on loopback:
// a signed getCode, OTA init, a cached embedded-page login token, a 2206 storm
// absorbed by the limiter and retries, and a getCode whose reply is lost (the SMS
// is not sent twice).
//
//	go run ./examples/nxcloud
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/nxcloud/nxcloudtest"
)

func main() {
	sim := nxcloudtest.New(nxcloudtest.Config{})
	srv := httptest.NewServer(sim)
	defer srv.Close()

	c, err := nxcloud.New(nxcloud.Config{
		BaseURL:     srv.URL, // default: https://api2.nxcloud.com
		Credentials: nxcloud.NewCredentials(nxcloudtest.AccessKey, nxcloudtest.AccessSecret),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	// A signed call: accessKey, ts, bizType, action and sign are set on every attempt.
	if err := c.GetCode(ctx, "+8613800138000", nxcloud.MethodSMS); err != nil {
		log.Fatal(err)
	}
	fmt.Println("getCode: code sent; simulator counts", sim.CodesSent("+8613800138000"))

	res, err := c.OTAInit(ctx, nxcloud.OTAInitRequest{AppKey: nxcloudtest.AppKey, Phone: "+8613800138000", UserIP: "203.0.113.7"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("OTA init: requestId", res.RequestID != "", "url", res.URL != "")

	// The embedded-page login token is fetched once and reused.
	for range 3 {
		if _, err := c.TokenSource().TokenContext(ctx); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("login token used 3 times, logins:", sim.Logins())

	// "Too frequent": the request was not processed, so it is retried (after the
	// limiter's pause) and succeeds.
	sim.Inject(nxcloudtest.Fault{Code: nxcloudtest.CodeRateLimited, Count: 2})
	if err := c.GetCode(ctx, "+8613800138002", nxcloud.MethodVoice); err != nil {
		log.Fatal(err)
	}
	fmt.Println("getCode after two 2206 answers: ok, codes sent", sim.CodesSent("+8613800138002"))

	// The SMS goes out but the reply is lost: getCode is never re-sent.
	sim.Inject(nxcloudtest.Fault{Path: nxcloud.PathGetCode, Lose: true})
	err = c.GetCode(ctx, "+8613800138003", nxcloud.MethodSMS)
	fmt.Println("getCode with a lost reply: outcome unknown:", errors.Is(err, outcome.ErrUnknown), "codes sent", sim.CodesSent("+8613800138003"))

	// A vendor error is a typed *nxcloud.Error.
	bad, err := nxcloud.New(nxcloud.Config{BaseURL: srv.URL, Credentials: nxcloud.NewCredentials(nxcloudtest.AccessKey, "wrong")})
	if err != nil {
		log.Fatal(err)
	}
	defer bad.Close()
	var e *nxcloud.Error
	if err := bad.GetCode(ctx, "+8613800138004", nxcloud.MethodSMS); errors.As(err, &e) {
		fmt.Printf("wrong secret: code %s %q (auth error: %v)\n", e.Code, e.Message, nxcloud.IsAuth(err))
	}
}
