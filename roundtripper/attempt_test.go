package roundtripper_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/retry"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// TestTokenHeaderFormattedOncePerToken: the header value is formatted once per
// token, not per request, and a new token (after a rejection) gets its own.
func TestTokenHeaderFormattedOncePerToken(t *testing.T) {
	v := &vendor{headers: make(chan http.Header, 16)}
	srv := httptest.NewServer(v)
	defer srv.Close()
	src := tokensource.New(&logins{v: v})
	defer src.Close()
	var formats atomic.Int32
	rt, err := roundtripper.New(roundtripper.Config{
		Hosts: hostsOf(t, srv.URL), Classifier: classify, Token: src,
		TokenFormat: func(tok *oauth2.Token) string { formats.Add(1); return "Bearer " + tok.AccessToken },
	})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: rt}
	get := func() {
		t.Helper()
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for range 5 {
		get()
	}
	if n := formats.Load(); n != 1 {
		t.Errorf("Format called %d times for 5 requests with one token, want 1", n)
	}
	v.accept("someone-else") // the vendor drops the session: tok-1 is rejected
	v.headers = nil
	get()
	get()
	if n := formats.Load(); n != 2 {
		t.Errorf("Format called %d times in all, want 2 (once per token)", n)
	}
}

// TestAttemptCopyLeavesCallerAlone: the token layer's copy, which the
// per-attempt hook and the signer change in place, shares nothing writable with
// the caller's request, however its header slices were built, on the first send
// and on the re-send after a rejection.
func TestAttemptCopyLeavesCallerAlone(t *testing.T) {
	v := &vendor{headers: make(chan http.Header, 4), bodies: make(chan string, 4)}
	srv := httptest.NewServer(v)
	defer srv.Close()
	src := tokensource.New(&logins{v: v})
	defer src.Close()
	if _, err := src.Token(); err != nil {
		t.Fatal(err)
	}
	v.accept("not-yet") // the first send is rejected, the re-send accepted
	signer := roundtripper.SignerFunc(func(r *http.Request, body []byte) ([]byte, error) {
		r.Header.Add("X-Trace", "signed")
		r.Header.Set("X-Sig", "sig")
		return body, nil
	})
	rt, err := roundtripper.New(roundtripper.Config{
		Hosts: hostsOf(t, srv.URL), Classifier: classify, Token: src, Signer: signer,
		PerAttempt:     func(r *http.Request) { r.Header.Set("X-Lang", "en") },
		AttemptTimeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader([]byte("hello")))
	trace := make([]string, 1, 4) // room to append in place: the copy must not
	trace[0] = "caller"
	req.Header["X-Trace"] = trace
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for i := range 2 {
		h := <-v.headers
		if got := h.Values("X-Trace"); len(got) != 2 || got[0] != "caller" || got[1] != "signed" {
			t.Errorf("send %d: X-Trace %q, want [caller signed]", i+1, got)
		}
		if h.Get("X-Lang") != "en" || h.Get("X-Sig") != "sig" || h.Get("Authorization") == "" {
			t.Errorf("send %d: headers %v", i+1, h)
		}
		if b := <-v.bodies; b != "hello" {
			t.Errorf("send %d: body %q", i+1, b)
		}
	}
	if len(req.Header) != 1 || len(req.Header["X-Trace"]) != 1 || trace[:2][1] != "" {
		t.Errorf("the caller's request was modified: %v (backing %q)", req.Header, trace[:2])
	}
}

// onceBody is a body that can be read once and has no GetBody.
type onceBody struct {
	r     io.Reader
	reads atomic.Int32
}

func (b *onceBody) Read(p []byte) (int, error) { b.reads.Add(1); return b.r.Read(p) }
func (b *onceBody) Close() error               { return nil }

// TestTokenOnlyBodies: through a token-only stack without retries, a body that
// cannot rewind itself is read once and re-sent after a rejection; one that can
// (GetBody) is rewound for the re-send, never buffered.
func TestTokenOnlyBodies(t *testing.T) {
	for _, rewindable := range []bool{false, true} {
		v := &vendor{bodies: make(chan string, 4)}
		srv := httptest.NewServer(v)
		src := tokensource.New(&logins{v: v})
		if _, err := src.Token(); err != nil {
			t.Fatal(err)
		}
		v.accept("not-yet")
		rt, err := roundtripper.New(roundtripper.Config{
			Hosts: hostsOf(t, srv.URL), Classifier: classify, Token: src,
			Retry: &retry.Policy{MaxAttempts: 1}, // the token layer alone holds the body
		})
		if err != nil {
			t.Fatal(err)
		}
		body := &onceBody{r: bytes.NewReader([]byte("hello"))}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, body)
		req.ContentLength = 5
		var rewinds atomic.Int32
		if rewindable {
			req.GetBody = func() (io.ReadCloser, error) {
				rewinds.Add(1)
				return io.NopCloser(bytes.NewReader([]byte("hello"))), nil
			}
		}
		resp, err := (&http.Client{Transport: rt}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if a, b := <-v.bodies, <-v.bodies; a != "hello" || b != "hello" {
			t.Errorf("rewindable %v: sent %q then %q", rewindable, a, b)
		}
		if rewindable && rewinds.Load() != 1 {
			t.Errorf("GetBody called %d times, want 1 (the re-send)", rewinds.Load())
		}
		srv.Close()
		src.Close()
	}
}
