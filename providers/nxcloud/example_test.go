package nxcloud_test

import (
	"context"
	"fmt"
	"net/http/httptest"

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
