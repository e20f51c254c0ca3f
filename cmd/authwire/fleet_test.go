package main

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/authwire/authwire/providers/icekredit/icekredittest"
)

// TestFleetOfProcessesLogsInOnce runs 8 separate `authwire call icekredit`
// processes at once against one simulator: sharing one Redis (a single node, or
// a Redis Cluster given in go-redis's cluster URL form) they log in once between
// them; without it, once each.
func TestFleetOfProcessesLogsInOnce(t *testing.T) {
	for _, env := range []string{"AUTHWIRE_TEST_REDIS", "AUTHWIRE_TEST_REDIS_CLUSTER"} {
		t.Run(env, func(t *testing.T) {
			redisURL := os.Getenv(env)
			if redisURL == "" {
				msg := env + " is not set: run `source .ci/redis.sh` to start the test Redis node and cluster"
				if os.Getenv("CI") == "true" {
					t.Fatal(msg + " — required under CI=true")
				}
				t.Skip(msg)
			}
			fleetOfProcessesLogsInOnce(t, redisURL)
		})
	}
}

func fleetOfProcessesLogsInOnce(t *testing.T, redisURL string) {
	if testing.Short() {
		t.Skip("builds the command and starts 16 processes")
	}
	bin := filepath.Join(t.TempDir(), "authwire")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(withRedis bool) int {
		sim := icekredittest.New(icekredittest.Config{})
		srv := httptest.NewServer(sim)
		defer srv.Close()
		var wg sync.WaitGroup
		errs := make(chan string, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// --no-cache: without Redis each process is on its own (the disk
				// cache would let later processes share a token).
				args := []string{"call", "icekredit", "--no-cache", "--login-url", srv.URL, "--base-url", srv.URL,
					"/person-ds/credit/NigeriaAutoDecision", "-d", `{"ID":"1","mobile":"2","equipment_sn":"3","sn":"4","borrow_count":1}`}
				if withRedis {
					args = append(args, "--redis", redisURL)
				}
				cmd := exec.Command(bin, args...)
				cmd.Env = append(os.Environ(), envIKMerchant+"="+icekredittest.MerchantName, envIKPassword+"="+icekredittest.Password,
					envRedis+"=") // only the flag decides
				if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), `"00"`) {
					errs <- string(out)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Errorf("a process failed: %s", e)
		}
		return sim.Logins()
	}
	alone, shared := run(false), run(true)
	t.Logf("8 processes: %d logins without Redis, %d sharing it", alone, shared)
	if alone != 8 || shared != 1 {
		t.Fatalf("logins: %d without Redis (want 8), %d with Redis (want 1)", alone, shared)
	}
}
