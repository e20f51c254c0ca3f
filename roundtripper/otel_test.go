package roundtripper_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"golang.org/x/oauth2"

	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// TestMetricsReachAnInstalledProvider: the instruments are created through the
// global OTel API, so an SDK installed by the application receives them.
//
// The OTel global hands instruments to the first provider installed, so the
// test installs one per process and compares counts before and after.
func TestMetricsReachAnInstalledProvider(t *testing.T) {
	readerOnce.Do(func() {
		reader = sdkmetric.NewManualReader()
		otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	})
	before := collect(t)

	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			fmt.Fprint(w, `{"code":12}`)
		case 2:
			fmt.Fprint(w, `{"code":42900}`)
		default:
			fmt.Fprint(w, `{"code":0}`)
		}
	}))
	defer srv.Close()
	var logins atomic.Int32
	src := tokensource.New(tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: fmt.Sprint("t", logins.Add(1)), Expiry: time.Now().Add(time.Hour)}, nil
	}), tokensource.WithName("acme"))
	defer src.Close()
	client := stack(t, srv.URL, roundtripper.Config{
		Vendor: "acme", Token: src,
		Limiter: ratelimit.NewAdaptive(ratelimit.Config{Rate: 1000, Pause: time.Millisecond}),
		Retry:   &retry.Policy{WaitMin: time.Millisecond, WaitMax: time.Millisecond},
	})
	resp, err := client.Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	got := collect(t)
	for name := range got {
		got[name] -= before[name]
	}
	for name, want := range map[string]int64{"authwire.logins": 2, "authwire.reauths": 1, "authwire.retries": 1, "authwire.rate_limited": 1} {
		if got[name] != want {
			t.Errorf("%s = %d, want %d (all: %v)", name, got[name], want, got)
		}
	}
	if got["authwire.token.wait"] == 0 || got["authwire.ratelimit.wait"] == 0 {
		t.Errorf("histograms missing: %v", got)
	}
}

var (
	readerOnce sync.Once
	reader     *sdkmetric.ManualReader
)

// collect sums each counter's data points; a histogram counts its observations.
func collect(t *testing.T) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					got[m.Name] += dp.Value
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					got[m.Name] += int64(dp.Count)
				}
			}
		}
	}
	return got
}
