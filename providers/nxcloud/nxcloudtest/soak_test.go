package nxcloudtest_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authwire/authwire/internal/simfault/soak"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/nxcloud/nxcloudtest"
)

// TestSoak: 32 goroutines send verification codes at full speed over loopback,
// each to a new phone number (the worst case for the per-number counters); the
// last window must serve at least 90% of the first's requests, in flat memory.
// Opt in with AUTHWIRE_SOAK=60s.
func TestSoak(t *testing.T) {
	sim := nxcloudtest.New(nxcloudtest.Config{})
	url, hc := soak.Serve(t, sim)
	op, _ := nxcloud.OperationOf(nxcloudtest.PathGetCode)
	var seq atomic.Int64
	soak.Test(t, 32, func(ctx context.Context) error {
		body := []byte(`{"phone_number":"` + strconv.FormatInt(13800000000+seq.Add(1), 10) + `","method":"sms"}`)
		h := nxcloud.Headers{AccessKey: nxcloudtest.AccessKey, Action: op.Action, BizType: strconv.Itoa(int(op.BizType)), TS: strconv.FormatInt(time.Now().UnixMilli(), 10)}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+nxcloudtest.PathGetCode, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range map[string]string{"accessKey": h.AccessKey, "ts": h.TS, "bizType": h.BizType, "action": h.Action, "sign": nxcloud.Sign(h, body, nxcloudtest.AccessSecret, nxcloud.MD5)} {
			req.Header[k] = []string{v}
		}
		_, err := soak.Expect(hc, req, `"code":0`)
		return err
	})
	if n := len(sim.Stats().CodesSent); n > 1025 {
		t.Errorf("the per-number counter holds %d numbers", n)
	}
}
