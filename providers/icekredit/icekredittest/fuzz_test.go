package icekredittest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/authwire/authwire/providers/icekredit/icekredittest"
)

// FuzzServer feeds arbitrary requests to the simulator's handler: method, path,
// header lines ("Name: value" per line) and body, optionally with a live
// token_id and the Language header (so that the fuzzer also reaches the products
// behind the token check, with any body). The simulator must not panic and never
// answer 500; every answer is IceKredit's JSON envelope with a response_code.
//
//	go test -run '^$' -fuzz '^FuzzServer$' -fuzztime 10s ./providers/icekredit/icekredittest
func FuzzServer(f *testing.F) {
	sim := icekredittest.New(icekredittest.Config{Seed: 1})
	tok := fuzzLogin(f, sim)

	const (
		js   = "Content-Type: application/json\n"
		form = "Content-Type: application/x-www-form-urlencoded\n"
		// with a token_id and Language: en
		authed = 3
		lang   = 2
	)
	product := `{"ID":"22222222222","mobile":"08000000000","equipment_sn":"e1","sn":"s1","borrow_count":0}`
	seeds := []struct {
		method, path, headers, body string
		mode                        uint8
	}{
		{"POST", icekredittest.LoginPath, form, "merchant_name=acme&merchant_pwd=" + icekredittest.PasswordMD5, lang},
		{"POST", icekredittest.LoginPath, js, `{"merchant_name":"acme","merchant_pwd":"` + icekredittest.PasswordMD5 + `"}`, lang},
		{"POST", icekredittest.LoginPath, js, `{"merchant_name":1,"merchant_pwd":[]}`, lang},
		{"POST", icekredittest.LoginPath, form, "merchant_name=acme&merchant_pwd=%zz", lang},
		{"POST", icekredittest.LoginPath, "Content-Type: text/plain\n", "x", lang},
		{"POST", icekredittest.LoginPath, form, "merchant_name=acme", 0},
		{"POST", icekredittest.PathNigeriaAutoDecision, js, product, authed},
		{"POST", icekredittest.PathNigeriaAutoDecision, js, `{"ID":"1","mobile":"2","equipment_sn":"3","sn":"4","borrow_count":-1}`, authed},
		{"POST", icekredittest.PathNigeriaAutoDecision, js, `{"ID":"1","mobile":"2","equipment_sn":"3","sn":"4","borrow_count":1e400}`, authed},
		{"POST", icekredittest.PathNigeriaAutoDecision, js, product + `{}`, authed},
		{"POST", icekredittest.PathNigeriaAutoDecision, js, `null`, authed},
		{"POST", icekredittest.PathNigeriaAutoDecision, js + "token_id: 0123\n", product, lang},
		{"POST", icekredittest.PathNigeriaAutoDecision, js, product, lang},
		{"POST", "/person-ds/credit/Unknown", js, product, authed},
		{"GET", icekredittest.PathNigeriaAutoDecision, "", "", authed},
		{"", "", "", "", 0},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.headers, []byte(s.body), s.mode)
	}
	f.Fuzz(func(t *testing.T, method, path, headers string, body []byte, mode uint8) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Method, req.URL.Path = method, path
		addHeaderLines(req.Header, headers)
		if mode&1 != 0 {
			req.Header["token_id"] = []string{tok}
		}
		if mode&2 != 0 {
			req.Header.Set("Language", "en")
		}
		rec := serveNoPanic(t, sim, req)
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("HTTP 500: %s", rec.Body)
		}
		var env struct {
			Code *string `json:"response_code"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Code == nil || *env.Code == "" {
			t.Fatalf("HTTP %d without an IceKredit envelope: %q", rec.Code, rec.Body)
		}
	})
}

// fuzzLogin logs in through the handler and returns the token.
func fuzzLogin(f *testing.F, h http.Handler) string {
	req := httptest.NewRequest(http.MethodPost, icekredittest.LoginPath,
		strings.NewReader("merchant_name="+icekredittest.MerchantName+"&merchant_pwd="+icekredittest.PasswordMD5))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Language", "en")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var env struct {
		TokenID string `json:"token_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.TokenID == "" {
		f.Fatalf("login: %s", rec.Body)
	}
	return env.TokenID
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
