package nxcloud_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/nxcloud/nxcloudtest"
)

// ExampleClient_GetCode sends a WhatsApp registration code through the full stack
// to the simulator, which counts the codes it sent.
func ExampleClient_GetCode() {
	sim := nxcloudtest.New(nxcloudtest.Config{})
	srv := httptest.NewServer(sim)
	defer srv.Close()

	c, err := nxcloud.New(nxcloud.Config{
		BaseURL:     srv.URL,
		Credentials: nxcloud.NewCredentials(nxcloudtest.AccessKey, nxcloudtest.AccessSecret),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	if err := c.GetCode(context.Background(), "+8613800138000", nxcloud.MethodSMS); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("codes sent:", sim.CodesSent("+8613800138000"))
	// Output: codes sent: 1
}

// ExampleClient_Refresher reuses the embedded-page login token with a reuse layer
// of your choice: Refresher is the bare login, every Token call logs in.
func ExampleClient_Refresher() {
	sim := nxcloudtest.New(nxcloudtest.Config{})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, err := nxcloud.New(nxcloud.Config{BaseURL: srv.URL, Credentials: nxcloud.NewCredentials(nxcloudtest.AccessKey, nxcloudtest.AccessSecret)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	ts := oauth2.ReuseTokenSource(nil, c.Refresher())
	for range 3 {
		if _, err := ts.Token(); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("logins:", sim.Logins())
	// Output: logins: 1
}
