package benchmarks

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/internal/reqbody"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// countingBody is a request body that is not replayable (no GetBody, not a
// *bytes.Reader the transport could rewind) and counts what is read from it.
type countingBody struct {
	r      io.Reader
	reads  int
	bytes  int
	closed int
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.reads++
	c.bytes += n
	return n, err
}

func (c *countingBody) Close() error { c.closed++; return nil }

// wireSpy sits where the network would be and records the body buffer each
// attempt carries.
type wireSpy struct {
	mu   sync.Mutex
	bufs [][]byte
	base http.RoundTripper
}

func (w *wireSpy) RoundTrip(req *http.Request) (*http.Response, error) {
	// reqbody.Read hands back the bytes of an in-memory body without copying
	// them, so the spy sees the very buffer the attempt carries; it sends a copy of
	// the request with that same buffer on.
	buf, err := reqbody.Read(req)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.bufs = append(w.bufs, buf)
	w.mu.Unlock()
	c := *req
	reqbody.Set(&c, buf)
	return w.base.RoundTrip(&c)
}

// TestBodyCopiedOnce sends a 1 KB POST through the full stack (retry → limiter →
// breaker → re-auth → NXCloud signer) while the vendor answers 503 (retried),
// then 401 (re-login and re-send), then success: three attempts. The caller's
// body must be read exactly once, and every attempt must send that same buffer:
// one copy in all, none per layer or per attempt.
func TestBodyCopiedOnce(t *testing.T) {
	var mu sync.Mutex
	var got [][]byte
	script := []int{http.StatusServiceUnavailable, http.StatusUnauthorized, http.StatusOK}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, b)
		status := script[min(len(got), len(script))-1]
		mu.Unlock()
		w.WriteHeader(status)
		if status == http.StatusOK {
			io.WriteString(w, okBody)
		}
	}))
	var logins int
	src := tokensource.New(tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		logins++
		return &oauth2.Token{AccessToken: "tok-" + strconv.Itoa(logins), Expiry: time.Now().Add(time.Hour)}, nil
	}))
	defer src.Close()
	hosts, _ := roundtripper.HostsOf(srv.URL)
	spy := &wireSpy{base: baseTransport(t)}
	rt, err := roundtripper.New(roundtripper.Config{
		Hosts:      hosts,
		Classifier: vertexplay.Classify, // 401 means token rejected; NXCloud has no token
		Token:      src,
		Signer:     &nxcloud.Signer{Credentials: nxcloud.NewCredentials(nxAccessKey, nxAccessSecret)},
		Limiter:    ratelimit.NewAdaptive(ratelimit.Config{Rate: 1e9, Burst: 1 << 20}),
		Breakers:   breaker.NewSet(breaker.Config{}),
		Retry:      &retry.Policy{WaitMin: time.Millisecond, WaitMax: time.Millisecond},
		Base:       spy,
	})
	if err != nil {
		t.Fatal(err)
	}

	body := &countingBody{r: bytes.NewReader(payload)}
	ctx := retry.Idempotent(context.Background()) // so the 503 is retried
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+nxcloud.PathOTAInit, body)
	req.ContentLength = int64(len(payload))
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200 after the retry and the re-auth", resp.StatusCode)
	}

	if body.bytes != len(payload) {
		t.Errorf("read %d bytes from the caller's body in %d reads, want exactly %d: it must be read once", body.bytes, body.reads, len(payload))
	}
	if body.closed == 0 {
		t.Error("the caller's body was never closed")
	}
	if len(got) != 3 || logins != 2 {
		t.Fatalf("vendor saw %d attempts with %d logins, want 3 attempts (503, 401, 200) and 2 logins", len(got), logins)
	}
	for i, b := range got {
		if !bytes.Equal(b, payload) {
			t.Errorf("attempt %d sent a different body (%d bytes)", i+1, len(b))
		}
	}
	if len(spy.bufs) != 3 {
		t.Fatalf("%d attempts reached the wire, want 3", len(spy.bufs))
	}
	first := unsafe.SliceData(spy.bufs[0])
	for i, b := range spy.bufs {
		switch {
		case b == nil:
			t.Errorf("attempt %d: no body at the wire", i+1)
		case unsafe.SliceData(b) != first:
			t.Errorf("attempt %d sent a copy of the body: every attempt must replay the one buffer", i+1)
		}
	}
}

// BenchmarkBodyCopy reports B/op of a large POST through the bare transport and
// through two stacks at three sizes: the full framework stack (token and a no-op
// signer, which needs the body's bytes) and a token-only stack (which does not).
// The stack's B/op minus bare's, over the body size, is what the stack allocates
// per body byte: zero when nothing copies the body.
func BenchmarkBodyCopy(b *testing.B) {
	srv := newServer(b, trivialHandler())
	for _, size := range []int{64 << 10, 256 << 10, 1 << 20} {
		for _, via := range []string{"bare", "authwire-full", "authwire-token"} {
			b.Run("size="+strconv.Itoa(size>>10)+"KB/via="+via, func(b *testing.B) {
				var rt http.RoundTripper = baseTransport(b)
				switch via {
				case "authwire-full":
					rt = authwireStack(b, frameworkStack, srv.URL, rt)
				case "authwire-token":
					rt = authwireStack(b, tokenOnlyStack, srv.URL, rt)
				}
				client := &http.Client{Transport: rt}
				body := bytes.Repeat([]byte("x"), size)
				url := srv.URL + "/api/call"
				b.ReportAllocs()
				b.SetBytes(int64(size))
				for b.Loop() {
					if err := do(client, http.MethodPost, url, body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
