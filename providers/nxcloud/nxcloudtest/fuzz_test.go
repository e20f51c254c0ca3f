package nxcloudtest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/nxcloud/nxcloudtest"
)

// FuzzServer feeds arbitrary requests to the simulator's handler: method, path,
// header lines ("Name: value" per line) and body, optionally signed correctly
// first (so that the fuzzer also reaches the operations behind the signature
// check, with any body). The simulator must not panic and never answer 500; a
// request to one of its operations always gets NXCloud's JSON envelope with a
// numeric code (an unknown path or method may get a bare 404/405, as NXCloud's
// gateway answers).
//
//	go test -run '^$' -fuzz '^FuzzServer$' -fuzztime 10s ./providers/nxcloud/nxcloudtest
func FuzzServer(f *testing.F) {
	sim := nxcloudtest.New(nxcloudtest.Config{Seed: 1})
	signer := &nxcloud.Signer{Credentials: nxcloud.NewCredentials(nxcloudtest.AccessKey, nxcloudtest.AccessSecret)}
	sha := &nxcloud.Signer{Credentials: signer.Credentials, Algorithm: nxcloud.SHA256}

	const ct = "Content-Type: application/json\n"
	seeds := []struct {
		method, path, headers, body string
		sign                        uint8 // 0 none, 1 MD5, 2 SHA-256
	}{
		{"POST", nxcloudtest.PathLogin, ct, "", 1},
		{"POST", nxcloudtest.PathGetCode, ct, `{"phone_number":"+8613800000000","method":"sms"}`, 1},
		{"POST", nxcloudtest.PathGetCode, ct, `{"phone_number":"185xxx99","method":"voice"}`, 2},
		{"POST", nxcloudtest.PathGetCode, ct, `{"phone_number":12,"method":null}`, 1},
		{"POST", nxcloudtest.PathOTAInit, ct, `{"appkey":"sim-ota-app","phone":"+2348000000000","userIp":"203.0.113.9"}`, 1},
		{"POST", nxcloudtest.PathOTAInit, ct, `{"appkey":"nope","phone":"1","userIp":"::1"}`, 1},
		{"POST", nxcloudtest.PathOTAInit, ct, `[]`, 1},
		{"POST", nxcloudtest.PathOTAInit, "Content-Type: multipart/form-data; boundary=x\n", "--x--", 1},
		// The spec's getCode vector, at its own (now stale) ts: 1004.
		{"POST", nxcloudtest.PathGetCode, ct + "accessKey: fme2na3kdi3ki\nts: 1655710885431\nbizType: 2\naction: getCode\nsign: c3252cf9a3c743821441a6a6d5657c6c\n", `{"phone_number":"185xxx99","method":"sms"}`, 0},
		{"POST", nxcloudtest.PathLogin, "accessKey: fme2na3kdi3ki\naccessKey: x\nts: 1\nbizType: 2\naction: login\nsign: 00\nalgorithm: sha512\n", "", 0},
		{"POST", nxcloudtest.PathLogin, "Accesskey: fme2na3kdi3ki\nTs: 99999999999999999999\nBiztype: 2\nAction: login\nSign: x\n", "", 0},
		{"GET", nxcloudtest.PathLogin, "", "", 0},
		{"POST", "/nope", ct, "{}", 0},
		{"", "", "", "", 0},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.headers, []byte(s.body), s.sign)
	}
	f.Fuzz(func(t *testing.T, method, path, headers string, body []byte, sign uint8) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Method, req.URL.Path = method, path
		addHeaderLines(req.Header, headers)
		switch sign % 3 {
		case 1:
			signer.Sign(req, body) // an error (unknown path) leaves the request unsigned
		case 2:
			sha.Sign(req, body)
		}
		rec := serveNoPanic(t, sim, req)
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("HTTP 500: %s", rec.Body)
		}
		if _, known := nxcloud.OperationOf(path); !known || method != http.MethodPost {
			return
		}
		var env struct {
			Code *int `json:"code"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Code == nil {
			t.Fatalf("HTTP %d without an NXCloud envelope: %q", rec.Code, rec.Body)
		}
	})
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
