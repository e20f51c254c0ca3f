package deadline

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// listLen returns the number of contexts on w's list, checking its links.
func listLen(t *testing.T, w *Watcher) int {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	var prev *Context
	for c := w.head; c != nil; c = c.next {
		if c.prev != prev || !c.listed {
			t.Fatalf("broken list at %d", n)
		}
		if prev != nil && c.deadline.Before(prev.deadline) {
			t.Fatalf("list out of deadline order at %d", n)
		}
		prev = c
		n++
	}
	if w.tail != prev {
		t.Fatal("tail is not the last context")
	}
	return n
}

func TestEnds(t *testing.T) {
	type key struct{}
	parentDeadline := time.Now().Add(time.Hour)
	tests := []struct {
		name    string
		timeout time.Duration
		parent  func() (context.Context, context.CancelFunc)
		end     func(c *Context, cancelParent context.CancelFunc)
		want    error
	}{
		{"deadline", time.Millisecond, background, func(*Context, context.CancelFunc) {}, context.DeadlineExceeded},
		{"stop", time.Hour, background, func(c *Context, _ context.CancelFunc) { c.Stop() }, context.Canceled},
		{"parent cancelled", time.Hour, cancelable, func(_ *Context, cancel context.CancelFunc) { cancel() }, context.Canceled},
		{"parent past its deadline", time.Hour, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.WithValue(context.Background(), key{}, "v"), time.Millisecond)
		}, func(*Context, context.CancelFunc) {}, context.DeadlineExceeded},
		{"parent already cancelled", time.Hour, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, func(*Context, context.CancelFunc) {}, context.Canceled},
		{"stop after the deadline", time.Millisecond, background, func(c *Context, _ context.CancelFunc) {
			<-c.Done()
			c.Stop()
		}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := New(tt.timeout)
			parent, cancel := tt.parent()
			defer cancel()
			c := w.Start(parent)
			if d, ok := c.Deadline(); !ok || d.After(time.Now().Add(tt.timeout)) {
				t.Errorf("Deadline() = %v, %v: later than the timeout", d, ok)
			}
			tt.end(c, cancel)
			<-c.Done()
			if err := c.Err(); err != tt.want {
				t.Errorf("Err() = %v, want %v", err, tt.want)
			}
			c.Stop() // the holder always stops; a second Stop does nothing
			if err := c.Err(); err != tt.want {
				t.Errorf("after Stop, Err() = %v, want %v", err, tt.want)
			}
			if n := listLen(t, w); n != 0 {
				t.Errorf("%d contexts left on the list", n)
			}
		})
	}
	t.Run("deadline is the parent's when earlier", func(t *testing.T) {
		parent, cancel := context.WithDeadline(context.Background(), parentDeadline)
		defer cancel()
		c := New(2 * time.Hour).Start(parent)
		defer c.Stop()
		if d, _ := c.Deadline(); !d.Equal(parentDeadline) {
			t.Errorf("Deadline() = %v, want the parent's %v", d, parentDeadline)
		}
	})
	t.Run("values are the parent's", func(t *testing.T) {
		c := New(time.Hour).Start(context.WithValue(context.Background(), key{}, "v"))
		defer c.Stop()
		if c.Value(key{}) != "v" {
			t.Error("the parent's value is lost")
		}
	})
}

func background() (context.Context, context.CancelFunc) { return context.Background(), func() {} }

func cancelable() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// TestChildren: contexts derived from a Context, directly or through values (as
// net/http and tracing transports derive them), end with it, with the cause
// net/http reports, and without a goroutine each.
func TestChildren(t *testing.T) {
	type key struct{}
	w := New(time.Millisecond)
	c := w.Start(context.Background())
	direct, cancel1 := context.WithCancelCause(c)
	defer cancel1(nil)
	wrapped, cancel2 := context.WithCancelCause(context.WithValue(c, key{}, "v"))
	defer cancel2(nil)
	ran := make(chan struct{})
	context.AfterFunc(c, func() { close(ran) })
	<-direct.Done()
	<-wrapped.Done()
	<-ran
	for name, child := range map[string]context.Context{"direct": direct, "wrapped": wrapped, "itself": c} {
		if err := context.Cause(child); err != context.DeadlineExceeded {
			t.Errorf("%s: cause %v, want context.DeadlineExceeded", name, err)
		}
	}
	c.Stop()

	// Deriving children starts no goroutine: package context finds c's
	// cancellation under the values.
	c = New(time.Hour).Start(context.Background())
	before := runtime.NumGoroutine()
	cancels := make([]context.CancelFunc, 100)
	for i := range cancels {
		_, cancels[i] = context.WithCancel(context.WithValue(c, key{}, i))
	}
	if n := runtime.NumGoroutine() - before; n > 10 {
		t.Errorf("%d goroutines started for 100 derived contexts", n)
	}
	for _, cancel := range cancels {
		cancel()
	}
	c.Stop()
}

// TestNested: a context started from another ends with it, and from its own
// timeout; each ended one leaves its watcher's list.
func TestNested(t *testing.T) {
	outer, inner := New(time.Hour), New(time.Hour)
	call := outer.Start(context.Background())
	attempt := inner.Start(call)
	call.Stop()
	<-attempt.Done()
	if attempt.Err() != context.Canceled {
		t.Errorf("attempt Err() = %v, want the call's context.Canceled", attempt.Err())
	}
	attempt.Stop()

	short := New(time.Millisecond)
	call = outer.Start(context.Background())
	attempt = short.Start(call)
	<-attempt.Done()
	if attempt.Err() != context.DeadlineExceeded || call.Err() != nil {
		t.Errorf("attempt Err() = %v, call Err() = %v: want only the attempt past its deadline", attempt.Err(), call.Err())
	}
	attempt.Stop()
	call.Stop()
	if listLen(t, outer) != 0 || listLen(t, inner) != 0 || listLen(t, short) != 0 {
		t.Errorf("left on the lists: %d %d %d", listLen(t, outer), listLen(t, inner), listLen(t, short))
	}

	// A call that has ended starts only ended attempts.
	call = outer.Start(context.Background())
	call.Stop()
	if attempt = inner.Start(call); attempt.Err() != context.Canceled {
		t.Errorf("attempt of an ended call: Err() = %v", attempt.Err())
	}
	if d, _ := attempt.Deadline(); d.IsZero() {
		t.Error("an attempt of an ended call has no deadline")
	}
	attempt.Stop()
}

// TestStartBy: a context started by an earlier time than the watcher's timeout
// ends by then, even though contexts with later deadlines were started before it
// and the timer was armed for them; it goes on the list in deadline order. A
// later time than the timeout does not extend it.
func TestStartBy(t *testing.T) {
	w := New(time.Hour)
	long := w.Start(context.Background())
	defer long.Stop()
	first := time.Now().Add(20 * time.Millisecond)
	tests := []struct {
		name string
		by   time.Time
		want time.Duration // the most the deadline may be from now
	}{
		{"earlier than the timeout", first, 20 * time.Millisecond},
		{"earlier still, behind two", first.Add(-10 * time.Millisecond), 10 * time.Millisecond},
		{"later than the timeout", time.Now().Add(2 * time.Hour), time.Hour},
		{"zero", time.Time{}, time.Hour},
	}
	var started []*Context
	for _, tt := range tests {
		c := w.StartBy(context.Background(), tt.by)
		started = append(started, c)
		if d, _ := c.Deadline(); time.Until(d) > tt.want || (!tt.by.IsZero() && tt.by.Before(d)) {
			t.Errorf("%s: deadline in %v, want at most %v and no later than by", tt.name, time.Until(d), tt.want)
		}
	}
	if n := listLen(t, w); n != 5 {
		t.Fatalf("%d contexts on the list, want 5", n)
	}
	for _, c := range started[:2] {
		select { // the timer, armed for an hour, must have been moved
		case <-c.Done():
		case <-time.After(time.Minute):
			t.Fatal("a context started by an earlier time has not ended")
		}
		if c.Err() != context.DeadlineExceeded {
			t.Errorf("Err() = %v, want context.DeadlineExceeded", c.Err())
		}
	}
	if long.Err() != nil || started[2].Err() != nil || started[3].Err() != nil {
		t.Error("a context with an hour left has ended")
	}
	for _, c := range started {
		c.Stop()
	}
	if n := listLen(t, w); n != 1 {
		t.Errorf("%d contexts on the list, want the first one only", n)
	}
}

// TestFind: a watcher finds its context from any context derived from it,
// through values and other cancellations, and no other watcher's.
func TestFind(t *testing.T) {
	type key struct{}
	w, other := New(time.Hour), New(time.Hour)
	c := w.Start(context.Background())
	defer c.Stop()
	o := other.Start(c)
	defer o.Stop()
	derived, cancel := context.WithCancel(context.WithValue(o, key{}, "v"))
	defer cancel()
	tests := []struct {
		name string
		w    *Watcher
		ctx  context.Context
		want *Context
	}{
		{"itself", w, c, c},
		{"derived through values and another watcher", w, derived, c},
		{"the other watcher's", other, derived, o},
		{"not derived", w, context.Background(), nil},
	}
	for _, tt := range tests {
		if got := tt.w.Find(tt.ctx); got != tt.want {
			t.Errorf("%s: Find = %v, want %v", tt.name, got, tt.want)
		}
	}
	if derived.Value(key{}) != "v" {
		t.Error("a value under the Context is lost")
	}
}

// TestConcurrent starts and stops contexts from many goroutines while others run
// out: each ends the way it should, and the list ends empty (run with -race).
func TestConcurrent(t *testing.T) {
	w := New(2 * time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				c := w.Start(context.Background())
				if (g+i)%3 == 0 {
					<-c.Done()
					if c.Err() != context.DeadlineExceeded {
						t.Errorf("expired context: Err() = %v", c.Err())
					}
				}
				c.Stop()
				if c.Err() == nil {
					t.Error("a stopped context has not ended")
				}
			}
		})
	}
	wg.Wait()
	if n := listLen(t, w); n != 0 {
		t.Errorf("%d contexts left on the list", n)
	}
}

// TestOneTimer: a watcher arms its timer once for a run of contexts that stop
// before their deadline, not once per context.
func TestOneTimer(t *testing.T) {
	w := New(time.Hour)
	c := w.Start(context.Background())
	c.Stop()
	timer := w.timer
	for range 100 {
		w.Start(context.Background()).Stop()
	}
	if w.timer != timer || !w.armed {
		t.Error("the timer was replaced or disarmed")
	}
	if n := listLen(t, w); n != 0 {
		t.Errorf("%d contexts left on the list", n)
	}
}

// TestOverHTTP: a request carrying a Context past its deadline fails over real
// loopback HTTP with an error matching context.DeadlineExceeded, and the server,
// if the request reached it, sees the request end.
func TestOverHTTP(t *testing.T) {
	arrived, gone := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
		close(gone)
	}))
	defer srv.Close()
	c := New(200 * time.Millisecond).Start(context.Background())
	defer c.Stop()
	req, _ := http.NewRequestWithContext(c, http.MethodGet, srv.URL, nil)
	_, err := srv.Client().Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want one matching context.DeadlineExceeded", err)
	}
	select {
	case <-arrived:
		<-gone
	default:
		// On a loaded machine the deadline can pass while the connection is
		// being dialled: then nothing was sent, and the server, which waits for
		// a request on the new connection, has nothing to see end.
		t.Log("the deadline passed before the request was sent")
	}
}

// TestBody: closing the body a context wraps stops it; the body reads through.
func TestBody(t *testing.T) {
	w := New(time.Hour)
	c := w.Start(context.Background())
	body := c.Body(io.NopCloser(strings.NewReader("reply")))
	b, err := io.ReadAll(body)
	if err != nil || string(b) != "reply" {
		t.Fatalf("read %q, %v", b, err)
	}
	if c.Err() != nil {
		t.Fatal("the context ended before the body was closed")
	}
	body.Close()
	if c.Err() != context.Canceled || listLen(t, w) != 0 {
		t.Errorf("after Close: Err() = %v, %d on the list", c.Err(), listLen(t, w))
	}
}

// TestAllocs: a context that stops before its deadline costs itself and its
// cancellation, and no timer: the point of the package.
func TestAllocs(t *testing.T) {
	w := New(time.Hour)
	w.Start(context.Background()).Stop() // arms the timer once
	if n := testing.AllocsPerRun(200, func() { w.Start(context.Background()).Stop() }); n > 3 {
		t.Errorf("Start and Stop allocate %v times, want 3", n)
	}
}

func TestNewPanicsOnNoTimeout(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(0) did not panic")
		}
	}()
	New(0)
}
