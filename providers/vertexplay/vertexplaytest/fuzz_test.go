package vertexplaytest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/providers/vertexplay/vertexplaytest"
)

// FuzzServer feeds arbitrary requests to the simulator's handler: method, path,
// header lines ("Name: value" per line) and body. With mode bit 1 the body is
// taken as the plaintext and sent encrypted and correctly signed, with bit 2 a
// live Bearer token is added: the fuzzer then also reaches the operations behind
// the signature, decryption and token checks, with any JSON. The simulator must
// not panic and never answer 500; every answer is VertexPlay's JSON envelope with
// a numeric code.
//
//	go test -run '^$' -fuzz '^FuzzServer$' -fuzztime 10s ./providers/vertexplay/vertexplaytest
func FuzzServer(f *testing.F) {
	sim := vertexplaytest.New(vertexplaytest.Config{Seed: 1})
	sim.AddPlayer("alice", "100.00")
	signer, err := vertexplay.NewSigner(vertexplay.SignerConfig{Credentials: sim.Credentials()})
	if err != nil {
		f.Fatal(err)
	}
	tok := fuzzAuth(f, sim, signer)

	const (
		sealed = 1
		authed = 3 // sealed, with a token
	)
	seeds := []struct {
		method, path, headers, body string
		mode                        uint8
	}{
		{"POST", vertexplay.AuthPath, "", `{"agentId":"integratorNBTest01","secret":"examplesecret=="}`, sealed},
		{"POST", vertexplay.AuthPath, "", `{"agentId":"integratorNBTest01","secret":"wrong"}`, sealed},
		{"POST", vertexplay.AuthPath, "", `{"agentId":7}`, sealed},
		{"POST", vertexplay.PathGames, "", `{}`, authed},
		{"POST", vertexplay.PathBalance, "", `{"username":"alice"}`, authed},
		{"POST", vertexplay.PathCreatePlayer, "", `{"username":"bob","siteId":12}`, authed},
		{"POST", vertexplay.PathTransfer, "", `{"username":"alice","amount":10.5,"transId":"t-1"}`, authed},
		{"POST", vertexplay.PathTransfer, "", `{"username":"alice","amount":-1000,"transId":"t-2"}`, authed},
		{"POST", vertexplay.PathTransfer, "", `{"username":"alice","amount":"1e400","transId":"t-3"}`, authed},
		{"POST", vertexplay.PathCheckTransaction, "", `{"username":"alice","transId":"t-1"}`, authed},
		{"POST", vertexplay.PathGames, "", `not json`, authed},
		{"POST", vertexplay.PathGames, "", `{}`, sealed},
		{"POST", vertexplay.PathGames, "Authorization: Bearer a.b.c\n", `{}`, sealed},
		{"POST", vertexplay.PathGames, "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.\n", `{}`, sealed},
		// Unsealed: the wire shapes the simulator must refuse.
		{"POST", vertexplay.PathGames, "x-agentid: integratorNBTest01\nx-timestamp: 1\nx-nonce: 00112233445566778899aabbccddeeff\nx-signature: 00\n", `{"cipherText":"AAAA"}`, 0},
		{"POST", vertexplay.PathGames, "x-agentid: integratorNBTest01\nx-timestamp: 99999999999999999999\n", `{"cipherText":null}`, 0},
		{"GET", vertexplay.PathGames, "", "", 0},
		{"POST", "/v2/unknown", "", "{}", 0},
		{"", "", "", "", 0},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.headers, []byte(s.body), s.mode)
	}
	f.Fuzz(func(t *testing.T, method, path, headers string, body []byte, mode uint8) {
		wire := body
		var sh http.Header
		if mode&1 != 0 {
			s, err := signer.Seal(body, vertexplay.Fixed{})
			if err != nil {
				t.Fatal(err)
			}
			wire, sh = s.Body, s.Header()
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(wire))
		req.Method, req.URL.Path = method, path
		for k, v := range sh {
			req.Header[k] = v
		}
		if mode&2 != 0 {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		addHeaderLines(req.Header, headers)
		rec := serveNoPanic(t, sim, req)
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("HTTP 500: %s", rec.Body)
		}
		var env struct {
			Code *int `json:"code"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Code == nil {
			t.Fatalf("HTTP %d without a VertexPlay envelope: %q", rec.Code, rec.Body)
		}
	})
}

// fuzzAuth gets a token through the handler.
func fuzzAuth(f *testing.F, h http.Handler, signer *vertexplay.Signer) string {
	s, err := signer.Seal([]byte(`{"agentId":"`+vertexplaytest.AgentID+`","secret":"`+vertexplaytest.SecretKey+`"}`), vertexplay.Fixed{})
	if err != nil {
		f.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, vertexplay.AuthPath, bytes.NewReader(s.Body))
	req.Header = s.Header()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var env struct {
		Data struct {
			AccessToken string `json:"accessToken"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Data.AccessToken == "" {
		f.Fatalf("auth: %s", rec.Body)
	}
	return env.Data.AccessToken
}

// addHeaderLines adds "Name: value" lines as given, without canonicalising the
// name: the simulator must cope with any spelling.
func addHeaderLines(h http.Header, lines string) {
	for line := range strings.SplitSeq(lines, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		h[name] = append(h[name], strings.TrimSpace(value))
	}
}

func serveNoPanic(t *testing.T, h http.Handler, req *http.Request) (rec *httptest.ResponseRecorder) {
	t.Helper()
	rec = httptest.NewRecorder()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	h.ServeHTTP(rec, req)
	return rec
}
