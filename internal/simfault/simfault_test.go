package simfault_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/internal/simfault"
)

const rateLimited = 77

// sim is a minimal simulator on the injector: it "processes" a request by
// counting it, unless the fault carries a code, which it answers instead.
type sim struct {
	*simfault.Injector[int]
	processed atomic.Int64
}

func newSim(cfg simfault.Config[int]) (*sim, string, func()) {
	cfg.RateLimited = rateLimited
	s := &sim{Injector: simfault.New(cfg)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Serve(w, r, func(_ *http.Request, f simfault.Fault[int], body []byte, err error) simfault.Reply[int] {
			if f.Code != 0 {
				return simfault.Reply[int]{Status: max(f.Status, 200), Code: f.Code, ContentType: "application/json", Body: []byte(`{"code":` + strconv.Itoa(f.Code) + `}`)}
			}
			if err != nil {
				return simfault.Reply[int]{Status: 200, Code: 11, ContentType: "application/json", Body: []byte(`{"code":11}`)}
			}
			s.processed.Add(1)
			return simfault.Reply[int]{Status: 200, ContentType: "application/json", Body: []byte(`{"code":0}`)}
		})
	}))
	return s, srv.URL, srv.Close
}

// get sends one POST and renders what came back: "EOF" for a closed connection,
// else "status body".
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader("{}"))
	if err != nil {
		return "EOF"
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strconv.Itoa(resp.StatusCode) + " " + strings.TrimSpace(string(b))
}

func TestVocabulary(t *testing.T) {
	for _, tc := range []struct {
		name          string
		fault         simfault.Fault[int]
		want          string
		processed     int64
		dropped, http int
	}{
		{"no fault", simfault.Fault[int]{}, `200 {"code":0}`, 1, 0, 0},
		{"drop: not processed", simfault.Fault[int]{Drop: true}, "EOF", 0, 1, 0},
		{"lose: processed, reply lost", simfault.Fault[int]{Lose: true}, "EOF", 1, 1, 0},
		{"status alone: bare, not processed", simfault.Fault[int]{Status: 503}, "503 Service Unavailable", 0, 0, 1},
		{"code with status: the envelope's", simfault.Fault[int]{Code: 7, Status: 500}, `500 {"code":7}`, 0, 0, 0},
		{"code then lost", simfault.Fault[int]{Code: 7, Lose: true}, "EOF", 0, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, url, stop := newSim(simfault.Config[int]{Seed: 1})
			defer stop()
			s.Controls().Inject(tc.fault)
			if got := get(t, url+"/x"); got != tc.want {
				t.Errorf("answer %q, want %q", got, tc.want)
			}
			c := s.Counts()
			if s.processed.Load() != tc.processed || c.Dropped != tc.dropped || c.HTTPErrors != tc.http || c.Faults != 1 {
				t.Errorf("processed %d, counts %+v", s.processed.Load(), c)
			}
			if got := get(t, url+"/x"); got != `200 {"code":0}` {
				t.Errorf("the fault outlived its count: %q", got)
			}
		})
	}
}

func TestScriptOrderPathAndCount(t *testing.T) {
	s, url, stop := newSim(simfault.Config[int]{Seed: 1})
	defer stop()
	s.Controls().Inject(simfault.Fault[int]{Path: "/a", Count: 2, Code: 5}, simfault.Fault[int]{Code: 6})
	var got []string
	for _, p := range []string{"/b", "/a", "/a", "/a", "/b"} {
		got = append(got, p+" "+get(t, url+p))
	}
	want := `[/b 200 {"code":6} /a 200 {"code":5} /a 200 {"code":5} /a 200 {"code":0} /b 200 {"code":0}]`
	if fmt.Sprint(got) != want {
		t.Errorf("got  %v\nwant %s", got, want)
	}
	c := s.Counts()
	if c.Requests["/a"] != 3 || c.Requests["/b"] != 2 || c.Total != 5 || c.Codes[5] != 2 || c.Codes[0] != 2 {
		t.Errorf("counts %+v", c)
	}
}

func TestChaosIsSeeded(t *testing.T) {
	run := func() string {
		s, url, stop := newSim(simfault.Config[int]{Seed: 7, Chaos: simfault.Chaos{ServerErrorRate: 0.2, RateLimitRate: 0.2, DropRate: 0.1, LoseRate: 0.1}})
		defer stop()
		var b strings.Builder
		for range 60 {
			b.WriteString(get(t, url+"/") + ";")
		}
		c := s.Counts()
		if c.Codes[rateLimited] == 0 || c.HTTPErrors == 0 || c.Dropped == 0 {
			t.Errorf("counts %+v: every kind of chaos should show in 60 draws", c)
		}
		return b.String()
	}
	if a, b := run(), run(); a != b {
		t.Errorf("same seed, different faults:\n%s\n%s", a, b)
	}
}

func TestLatencyOnTheClock(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	s, url, stop := newSim(simfault.Config[int]{Clock: clk})
	defer stop()
	s.Controls().Inject(simfault.Fault[int]{Latency: time.Minute})
	done := make(chan string, 1)
	go func() { done <- get(t, url) }()
	if err := clk.WaitForSleepers(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if s.processed.Load() != 0 {
		t.Fatal("processed before the latency passed")
	}
	clk.Advance(time.Minute)
	if got := <-done; got != `200 {"code":0}` {
		t.Errorf("answer %q", got)
	}
}

func TestBodyTooLarge(t *testing.T) {
	_, url, stop := newSim(simfault.Config[int]{})
	defer stop()
	resp, err := http.Post(url, "application/json", strings.NewReader(strings.Repeat("a", simfault.MaxBody+1)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != `{"code":11}` {
		t.Errorf("answer %q", b)
	}
}

func TestTallyIsCapped(t *testing.T) {
	m := map[string]int{}
	for i := range simfault.MaxKeys + 500 {
		simfault.Tally(m, strconv.Itoa(i))
	}
	simfault.Tally(m, "0")
	if len(m) != simfault.MaxKeys+1 || m[""] != 500 || m["0"] != 2 {
		t.Errorf("len %d, overflow %d, m[0] %d", len(m), m[""], m["0"])
	}
}
