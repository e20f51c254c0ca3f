package provider_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/retry"
)

// widgetVendor is a made-up vendor: POST /login returns {"code":"OK","data":
// {"token":…,"ttl":…}}; calls carry "Authorization: Bearer <token>" and answer
// {"code":…,"message":…,"data":…}; code "E_AUTH" means the token expired.
func widgetVendor() *httptest.Server {
	var logins int
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/login":
			logins++
			fmt.Fprintf(w, `{"code":"OK","data":{"token":"tok-%d","ttl":"900"}}`, logins)
		case r.Header.Get("Authorization") != fmt.Sprint("Bearer tok-", logins):
			fmt.Fprint(w, `{"code":"E_AUTH","message":"token expired"}`)
		case r.URL.Path == "/widgets/7":
			fmt.Fprint(w, `{"code":"OK","data":{"name":"sprocket"}}`)
		default:
			fmt.Fprint(w, `{"code":"E_NOTFOUND","message":"no such widget","request_id":"r-42"}`)
		}
	}))
}

// Example declares a whole vendor: its envelope and code table, its login, where
// the token goes. Everything else — caching the token, re-login, pacing, retries,
// the breaker, timeouts — is the framework's.
func Example() {
	srv := widgetVendor()
	defer srv.Close()

	widgets := &outcome.Envelope{
		Vendor: "widgets", CodeField: "code", MessageFields: []string{"message"}, TraceField: "request_id",
		Codes: outcome.Table[string]{Success: "OK", Undocumented: outcome.Transient, Codes: map[string]outcome.Rule{
			"E_AUTH":     {Kind: outcome.TokenRejected, Meaning: "token expired"},
			"E_SLOW":     {Kind: outcome.RateLimited, Meaning: "slow down"},
			"E_NOTFOUND": {Kind: outcome.Permanent, Meaning: "not found"},
		}},
	}
	c, err := provider.New(provider.Spec{
		Name:     "widgets",
		BaseURLs: []string{srv.URL}, // loopback http is allowed; anything else must be https
		LoginURL: "/login",
		Envelope: widgets,
		Login: provider.JSONLogin{
			Body:          provider.JSONBody(map[string]string{"key": "k-1"}),
			TokenField:    "data.token",
			LifetimeField: "data.ttl",
		},
	}, provider.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	var w struct{ Name string }
	err = c.Call(context.Background(), "/widgets/7", nil, &w)
	fmt.Println(w.Name, err)

	err = c.Call(context.Background(), "/widgets/8", nil, &w)
	var e *outcome.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Kind, e.TraceID)
	}
	fmt.Println(err)
	fmt.Println("logins:", c.Logins())
	// Output:
	// sprocket <nil>
	// E_NOTFOUND permanent r-42
	// widgets: /widgets/8: code E_NOTFOUND no such widget (HTTP 200, permanent, request_id r-42)
	// logins: 1
}

// ExampleClient_Refresher hands the bare login to another reuse layer:
// oauth2.ReuseTokenSource caches its tokens instead of the client's own cache.
func ExampleClient_Refresher() {
	srv := widgetVendor()
	defer srv.Close()
	c, err := provider.New(provider.Spec{
		Name: "widgets", BaseURLs: []string{srv.URL}, LoginURL: "/login",
		Login: provider.JSONLogin{Body: provider.JSONBody(map[string]string{"key": "k-1"}), TokenField: "data.token", LifetimeField: "data.ttl"},
	}, provider.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	ts := oauth2.ReuseTokenSource(nil, c.Refresher())
	for range 3 {
		tok, err := ts.Token()
		fmt.Println(tok.AccessToken, time.Until(tok.Expiry) > 14*time.Minute, err)
	}
	// Output:
	// tok-1 true <nil>
	// tok-1 true <nil>
	// tok-1 true <nil>
}

// Example_mTLS reaches a vendor that requires a client certificate: the TLS
// settings (client certificate, the vendor's CA) live on the base transport given
// in the Options, and the provider wraps it.
func Example_mTLS() {
	clientCert, clientCAs := selfSignedClientCert()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cn := r.TLS.PeerCertificates[0].Subject.CommonName // verified by the TLS handshake
		json.NewEncoder(w).Encode(map[string]any{"code": "OK", "data": map[string]string{"client": cn}})
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
	srv.StartTLS()
	defer srv.Close()

	// The vendor's CA (here httptest's) and our client certificate.
	transport := srv.Client().Transport.(*http.Transport).Clone()
	transport.TLSClientConfig.Certificates = []tls.Certificate{clientCert}

	c, err := provider.New(provider.Spec{
		Name: "secure", BaseURLs: []string{srv.URL},
		Envelope: &outcome.Envelope{Vendor: "secure", CodeField: "code", Codes: outcome.Table[string]{Success: "OK"}},
		// No Login and no Signer: the credential is the client certificate.
	}, provider.Options{Transport: transport})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	var out struct{ Client string }
	err = c.Call(context.Background(), "/v1/whoami", nil, &out)
	fmt.Println(out.Client, err)

	// Without the certificate the handshake fails, and nothing was processed.
	bare, _ := provider.New(provider.Spec{Name: "secure", BaseURLs: []string{srv.URL}},
		provider.Options{Transport: srv.Client().Transport, Retry: &retry.Policy{MaxAttempts: 1}})
	_, err = bare.DoJSON(context.Background(), http.MethodPost, "/v1/whoami", nil, nil)
	fmt.Println(err != nil)
	// Output:
	// authwire-client <nil>
	// true
}

// selfSignedClientCert makes a client certificate and the pool that trusts it.
func selfSignedClientCert() (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "authwire-client"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
