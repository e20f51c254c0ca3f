package outcome_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authwire/authwire/outcome"
)

func resp(status int, body string, hdr ...string) *http.Response {
	r := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

func TestByStatus(t *testing.T) {
	for _, tc := range []struct {
		status int
		hdr    []string
		want   outcome.Kind
		after  time.Duration
	}{
		{200, nil, outcome.Success, 0},
		{302, nil, outcome.Permanent, 0}, // a redirect that reached the caller was not followed
		{304, nil, outcome.Success, 0},
		{400, nil, outcome.Permanent, 0},
		{401, nil, outcome.TokenRejected, 0},
		{403, nil, outcome.Permanent, 0},
		{408, nil, outcome.Transient, 0},
		{429, []string{"Retry-After", "2"}, outcome.RateLimited, 2 * time.Second},
		{429, []string{"Retry-After", "soon"}, outcome.RateLimited, 0},
		{429, []string{"Retry-After", "9223372037"}, outcome.RateLimited, outcome.MaxRetryAfter}, // would overflow
		{429, []string{"Retry-After", "-3"}, outcome.RateLimited, 0},
		{500, nil, outcome.Transient, 0},
		{503, []string{"Retry-After", "7"}, outcome.Transient, 7 * time.Second},
	} {
		t.Run(fmt.Sprint(tc.status, tc.hdr), func(t *testing.T) {
			r := outcome.ByStatus(resp(tc.status, "", tc.hdr...), nil)
			if r.Kind != tc.want || r.After != tc.after {
				t.Fatalf("got %v after %v, want %v after %v", r.Kind, r.After, tc.want, tc.after)
			}
			if (r.Err == nil) != (tc.want == outcome.Success) {
				t.Fatalf("err = %v", r.Err)
			}
			if r.Err != nil {
				if k, ok := outcome.KindOf(r.Err); !ok || k != tc.want {
					t.Fatalf("KindOf(err) = %v, %v", k, ok)
				}
			}
		})
	}
}

func TestReadClassifiesOnceAndRestoresBody(t *testing.T) {
	calls := 0
	c := func(r *http.Response, body []byte) outcome.Result {
		calls++
		if strings.Contains(string(body), "42900") {
			return outcome.Result{Kind: outcome.RateLimited}
		}
		return outcome.Result{Kind: outcome.Success}
	}
	r := resp(200, `{"code":42900}`)
	for range 3 {
		if got := outcome.Read(r, c).Kind; got != outcome.RateLimited {
			t.Fatalf("kind = %v", got)
		}
	}
	if got := outcome.Of(r); got.Kind != outcome.RateLimited || !got.Sent {
		t.Fatalf("Of = %+v", got)
	}
	if calls != 1 {
		t.Fatalf("classifier called %d times, want 1", calls)
	}
	b, _ := io.ReadAll(r.Body)
	if string(b) != `{"code":42900}` {
		t.Fatalf("body after classification = %q", b)
	}
}

func TestReadLeavesLargeBodiesStreaming(t *testing.T) {
	big := strings.Repeat("x", outcome.MaxBody+10)
	r := resp(200, big)
	if got := outcome.Read(r, func(*http.Response, []byte) outcome.Result {
		t.Fatal("classifier must not see a truncated body")
		return outcome.Result{}
	}); got.Kind != outcome.Success {
		t.Fatalf("kind = %v", got.Kind)
	}
	b, _ := io.ReadAll(r.Body)
	if len(b) != len(big) {
		t.Fatalf("read %d bytes, want %d", len(b), len(big))
	}
}

func TestFromError(t *testing.T) {
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	dial := &net.OpError{Op: "dial", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		kind outcome.Kind
		safe bool
	}{
		{"refused before sending", ctx, dial, outcome.Transient, true},
		{"dns", ctx, &net.DNSError{Err: "no such host"}, outcome.Transient, true},
		{"reset after sending", ctx, io.ErrUnexpectedEOF, outcome.Unknown, false},
		{"caller gave up after sending", cancelled, context.Canceled, outcome.Unknown, false},
		{"caller gave up before sending", cancelled, outcome.NotSent(context.Canceled), outcome.Permanent, false},
		{"limiter gave up, caller still there", ctx, outcome.NotSent(errors.New("wait")), outcome.Transient, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := outcome.FromError(tc.ctx, tc.err)
			if r.Kind != tc.kind || r.Safe() != tc.safe {
				t.Fatalf("got %v safe=%v, want %v safe=%v", r.Kind, r.Safe(), tc.kind, tc.safe)
			}
		})
	}
}

func TestUnknownErrorMatchesBoth(t *testing.T) {
	cause := errors.New("EOF")
	err := fmt.Errorf("wrapped: %w", &outcome.UnknownError{Method: "POST", Host: "h", Path: "/sms", Err: cause})
	if !errors.Is(err, outcome.ErrUnknown) || !errors.Is(err, cause) {
		t.Fatalf("%v does not match both the sentinel and the cause", err)
	}
}

func TestTableLookup(t *testing.T) {
	tbl := outcome.Table[string]{
		Success:      "00",
		Codes:        map[string]outcome.Rule{"42901": {Kind: outcome.RateLimited}},
		Undocumented: outcome.Transient,
	}
	for code, want := range map[string]outcome.Kind{"00": outcome.Success, "42901": outcome.RateLimited, "77777": outcome.Transient} {
		if got := tbl.Lookup(code).Kind; got != want {
			t.Errorf("%s: %v, want %v", code, got, want)
		}
	}
}

func ExampleRead() {
	// A vendor that says "too frequent" inside an HTTP 200 body.
	classify := func(r *http.Response, body []byte) outcome.Result {
		if strings.Contains(string(body), `"code":42900`) {
			return outcome.Result{Kind: outcome.RateLimited, After: time.Second}
		}
		return outcome.ByStatus(r, body)
	}
	r := resp(200, `{"code":42900,"message":"request is too frequent"}`)
	res := outcome.Read(r, classify)
	b, _ := io.ReadAll(r.Body) // still there for the caller
	fmt.Println(res.Kind, res.After, res.Safe(), string(b))
	// Output: rate-limited 1s true {"code":42900,"message":"request is too frequent"}
}

// TestReadBodyCopiesWhole: io.Copy (which takes the body's WriteTo) gets every
// byte, of a buffered body, of a large one streamed past the buffer, and of one
// that broke off, whose error it returns instead of a clean end.
func TestReadBodyCopiesWhole(t *testing.T) {
	big := strings.Repeat("x", outcome.MaxBody+10)
	short := &http.Response{StatusCode: 200, ContentLength: 10, Header: http.Header{},
		Body: io.NopCloser(strings.NewReader(`{"a":`))}
	for _, tc := range []struct {
		name    string
		r       *http.Response
		want    string
		wantErr error
	}{
		{"buffered", resp(200, `{"code":0}`), `{"code":0}`, nil},
		{"streamed past the buffer", resp(200, big), big, nil},
		{"broke off", short, `{"a":`, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outcome.Read(tc.r, nil)
			var b strings.Builder
			n, err := io.Copy(&b, tc.r.Body)
			if !errors.Is(err, tc.wantErr) || b.String() != tc.want || n != int64(len(tc.want)) {
				t.Fatalf("io.Copy = %d, %v with %d bytes; want %d, %v", n, err, b.Len(), len(tc.want), tc.wantErr)
			}
		})
	}
}
