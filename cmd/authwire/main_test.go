package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/authwire/authwire/providers/icekredit/icekredittest"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/nxcloud/nxcloudtest"
	"github.com/authwire/authwire/providers/vertexplay/vertexplaytest"
)

// cli runs the command in-process with env as its whole environment.
func cli(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	cache := t.TempDir() // every run has its own token cache unless env names one
	getenv := func(k string) string {
		if v, ok := env[k]; ok || k != envCacheDir {
			return v
		}
		return cache
	}
	code = runContext(context.Background(), args, getenv, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

var (
	nxEnv = map[string]string{envNXKey: nxcloudtest.AccessKey, envNXSecret: nxcloudtest.AccessSecret}
	ikEnv = map[string]string{envIKMerchant: icekredittest.MerchantName, envIKPassword: icekredittest.Password}
	vpEnv = map[string]string{envVPAgent: vertexplaytest.AgentID, envVPAPIKey: vertexplaytest.APIKey, envVPSecret: vertexplaytest.SecretKey}
)

func with(env map[string]string, kv ...string) map[string]string {
	m := make(map[string]string, len(env)+len(kv)/2)
	for k, v := range env {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// header returns the value of "name: value" in out.
func header(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, name+": "); ok {
			return v
		}
	}
	return ""
}

// TestSignNXCloudVectors reproduces every row of the spec's table
// (the vendor's published test vectors, see docs/vendors/nxcloud.md) through "authwire sign nxcloud".
func TestSignNXCloudVectors(t *testing.T) {
	tests := []struct {
		biz, action, body, alg, sign string
	}{
		{"1", "send", `{"id":10001,"name":"xxx"}`, "md5", "fec1e3fa27dcef2d6247a2e4e23927e4"},
		{"1", "send", `{"id":10001,"name":"xxx"}`, "sha256", "89b7b02ba508c60057848c7aa118825965e9272216082f02b76e5668b2ac2946"},
		{"1", "send", "", "md5", "bd1123a8d89b14ba5d0ab50b8c170e56"},
		{"1", "send", "", "sha256", "9b29c51be1c00539737726cf131a306547baf00908a4f4c8aba7faa17749ea29"},
		{"2", "getCode", `{"phone_number":"185xxx99","method":"sms"}`, "md5", "c3252cf9a3c743821441a6a6d5657c6c"},
	}
	for _, tt := range tests {
		t.Run(tt.action+"/"+tt.alg+"/body="+tt.body, func(t *testing.T) {
			args := []string{"sign", "nxcloud", "--biz-type", tt.biz, "--action", tt.action, "--ts", "1655710885431", "--algorithm", tt.alg}
			if tt.body != "" {
				args = append(args, "-d", tt.body)
			}
			code, out, errOut := cli(t, nxEnv, args...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			want := []string{"accessKey: fme2na3kdi3ki", "action: " + tt.action, "bizType: " + tt.biz, "ts: 1655710885431", "sign: " + tt.sign}
			if tt.alg == "sha256" {
				want = append(want, "algorithm: sha256")
			}
			if got := strings.Split(strings.TrimSpace(out), "\n"); !slices.Equal(got, want) {
				t.Errorf("output\n%s\nwant\n%s", out, strings.Join(want, "\n"))
			}
		})
	}
	t.Run("explain", func(t *testing.T) {
		_, out, _ := cli(t, nxEnv, "sign", "nxcloud", "--biz-type", "1", "--action", "send", "--ts", "1655710885431", "-d", `{"id":10001,"name":"xxx"}`, "--explain")
		want := `accessKey=fme2na3kdi3ki&action=send&bizType=1&ts=1655710885431&body={"id":10001,"name":"xxx"}&accessSecret=***`
		if !slices.Contains(strings.Split(out, "\n"), want) {
			t.Errorf("--explain output lacks the line %s:\n%s", want, out)
		}
		if strings.Contains(out, nxcloudtest.AccessSecret) {
			t.Errorf("--explain printed the secret:\n%s", out)
		}
	})
}

// TestSignVertexPlayVectors reproduces the spec's vectors
// (the vendor's published test vectors, see docs/vendors/vertexplay.md) through "authwire sign vertexplay".
func TestSignVertexPlayVectors(t *testing.T) {
	const ct = "AAECAwQFBgcICQoLtEv6HZIqrC1hTe3N6bWbTw==bTrUUSUnuf+tGVXeWLsQSglHxgqUdjXdbUcyuBTTCBvAt9AJkIqlBaB0g/mN1taven7Qb+6Drg4YDds="
	tests := []struct{ version, sig string }{
		{"v2", "afede078f3d327c9285dc9176da021e0178cfa20188970c8ba90959ccd8ab23e"},
		{"v1", "d191efa0635f54d6506b45071862d4c66ddaeec9855fa57aa0c84a4ebfea7729"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			code, out, errOut := cli(t, vpEnv, "sign", "vertexplay", "--signature", tt.version, "--ts", "1769745532582",
				"--nonce", "4ff08bc2a45c6b38068dbcd24296a25b", "--iv", "000102030405060708090a0b",
				"-d", `{"agentId":"integratorNBTest01","secret":"examplesecret=="}`, "--explain")
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			for name, want := range map[string]string{
				"x-agentid": "integratorNBTest01", "x-timestamp": "1769745532582",
				"x-nonce": "4ff08bc2a45c6b38068dbcd24296a25b", "x-signature": tt.sig,
			} {
				if got := header(out, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			lines := strings.Split(out, "\n")
			if body := `{"cipherText":"` + ct + `"}`; !slices.Contains(lines, body) {
				t.Errorf("output lacks the body line %s:\n%s", body, out)
			}
			signed := "integratorNBTest01|1769745532582|4ff08bc2a45c6b38068dbcd24296a25b|" + ct
			if tt.version == "v1" {
				signed = `integratorNBTest0117697455325824ff08bc2a45c6b38068dbcd24296a25b{"cipherText":"` + ct + `"}`
			}
			if !slices.Contains(lines, signed) {
				t.Errorf("--explain lacks the signed string %s:\n%s", signed, out)
			}
		})
	}
}

// TestRunSignThroughEnv goes through run itself, the real environment included.
func TestRunSignThroughEnv(t *testing.T) {
	t.Setenv(envNXKey, nxcloudtest.AccessKey)
	t.Setenv(envNXSecret, nxcloudtest.AccessSecret)
	var out, errb bytes.Buffer
	code := run([]string{"sign", "nxcloud", "--ts", "1655710885431", "--biz-type", "1", "--action", "send"}, nil, &out, &errb)
	if code != exitOK || header(out.String(), "sign") != "bd1123a8d89b14ba5d0ab50b8c170e56" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

// TestUsageErrors: every malformed invocation exits 2 with a line naming the
// problem.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // in stderr
	}{
		{"no command", nil, nil, "Usage"},
		{"unknown command", nil, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"call without vendor", nil, []string{"call"}, "name a vendor"},
		{"call unknown vendor", nil, []string{"call", "acme", "/x"}, `unknown command "acme"`},
		{"call without path", nxEnv, []string{"call", "nxcloud"}, "missing PATH"},
		{"call two paths", nxEnv, []string{"call", "nxcloud", "/a", "/b"}, "one PATH expected"},
		{"call unknown flag", nxEnv, []string{"call", "nxcloud", "--bogus", "/a"}, "bogus"},
		{"call flag of another vendor", ikEnv, []string{"call", "icekredit", "--biz-type", "2", "/a"}, "biz-type"},
		{"call nxcloud missing secret", map[string]string{envNXKey: "k"}, []string{"call", "nxcloud", "/api/ota/init"}, envNXSecret},
		{"call nxcloud missing both", nil, []string{"call", "nxcloud", "/api/ota/init"}, envNXKey + " and " + envNXSecret},
		{"call nxcloud unknown path", nxEnv, []string{"call", "nxcloud", "/api/x"}, "--biz-type and --action"},
		{"call nxcloud bad biz-type", nxEnv, []string{"call", "nxcloud", "/api/x", "--biz-type", "two", "--action", "a"}, "--biz-type"},
		{"call nxcloud bad algorithm", nxEnv, []string{"call", "nxcloud", "/api/ota/init", "--algorithm", "sha1"}, "--algorithm"},
		{"call icekredit missing password", map[string]string{envIKMerchant: "m"}, []string{"call", "icekredit", "/p"}, envIKPassword},
		{"call vertexplay missing keys", map[string]string{envVPAgent: "a"}, []string{"call", "vertexplay", "--base-url", "http://127.0.0.1:1", "/v2/games"}, envVPAPIKey + " and " + envVPSecret},
		{"call vertexplay missing base url", vpEnv, []string{"call", "vertexplay", "/v2/games"}, "--base-url"},
		{"call vertexplay bad api key", with(vpEnv, envVPAPIKey, "xyz"), []string{"call", "vertexplay", "--base-url", "http://127.0.0.1:1", "/v2/games"}, "64 hex"},
		{"call bad repeat", nxEnv, []string{"call", "nxcloud", "/api/ota/init", "--repeat", "0"}, "--repeat"},
		{"call missing body file", nxEnv, []string{"call", "nxcloud", "/api/ota/init", "-d", "@/nonexistent/body.json"}, "nonexistent"},
		{"call bad redis url", nxEnv, []string{"call", "nxcloud", "/api/ota/init", "--redis", "ftp://x"}, "--redis"},
		{"sign without vendor", nil, []string{"sign"}, "name a vendor"},
		{"sign icekredit", ikEnv, []string{"sign", "icekredit"}, "token_id"},
		{"sign nxcloud missing action", nxEnv, []string{"sign", "nxcloud", "--biz-type", "1"}, "--action"},
		{"sign nxcloud missing credential", nil, []string{"sign", "nxcloud", "--biz-type", "1", "--action", "a"}, envNXKey},
		{"sign nxcloud bad ts", nxEnv, []string{"sign", "nxcloud", "--biz-type", "1", "--action", "a", "--ts", "yesterday"}, "--ts"},
		{"sign vertexplay bad iv", vpEnv, []string{"sign", "vertexplay", "--iv", "0001"}, "--iv"},
		{"sign vertexplay bad nonce", vpEnv, []string{"sign", "vertexplay", "--nonce", "xyz"}, "--nonce"},
		{"sign vertexplay bad signature", vpEnv, []string{"sign", "vertexplay", "--signature", "v3"}, "--signature"},
		{"sim bad flag", nil, []string{"sim", "--port", "1"}, "port"},
		{"demo argument", nil, []string{"demo", "fast"}, `unknown command "fast"`},
		{"demo bad seed", nil, []string{"demo", "--seed", "x"}, "--seed"},
		{"base url with query", ikEnv, []string{"call", "icekredit", "--base-url", "https://api.example?x=1", "/p"}, "query or fragment"},
		{"base url with fragment", ikEnv, []string{"call", "icekredit", "--base-url", "https://api.example/#top", "/p"}, "query or fragment"},
		{"base url plain http", nxEnv, []string{"call", "nxcloud", "--base-url", "http://vendor.invalid", nxcloud.PathLogin}, "--insecure-http"},
		{"login url plain http", ikEnv, []string{"call", "icekredit", "--login-url", "http://sso.vendor.invalid", "/p"}, "--insecure-http"},
		{"base url from env plain http", with(vpEnv, envVPBase, "http://10.0.0.1"), []string{"call", "vertexplay", "/v2/games"}, "--insecure-http"},
		{"base url not http", nxEnv, []string{"call", "nxcloud", "--base-url", "ftp://x", nxcloud.PathLogin}, "not an http(s) URL"},
		{"bad header", nxEnv, []string{"call", "nxcloud", "-H", "novalue", nxcloud.PathLogin}, "'Name: value'"},
		{"negative retries", nxEnv, []string{"call", "nxcloud", "--retries", "-1", nxcloud.PathLogin}, "--retries"},
		{"zero rate", nxEnv, []string{"call", "nxcloud", "--rate", "0", nxcloud.PathLogin}, "--rate"},
		{"bad timeout", nxEnv, []string{"call", "nxcloud", "--timeout", "soon", nxcloud.PathLogin}, "--timeout"},
		{"token nxcloud", nxEnv, []string{"token", "nxcloud"}, "no token"},
		{"token bad format", ikEnv, []string{"token", "icekredit", "--format", "yaml"}, "--format"},
		{"token no vendor", ikEnv, []string{"token"}, "accepts 1 arg"},
		{"logout unknown vendor", nil, []string{"logout", "acme"}, `unknown vendor "acme"`},
		{"help unknown command", nil, []string{"help", "frobnicate"}, "frobnicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cli(t, tt.env, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr %q", code, exitUsage, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not name %q", errOut, tt.want)
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"call", "nxcloud", "-h"}, {"sign", "vertexplay", "-h"}, {"sim", "-h"}, {"demo", "-h"}} {
		if code, out, _ := cli(t, nil, args...); code != exitOK || !strings.Contains(out, "authwire") {
			t.Errorf("%q: exit %d, stdout %q", args, code, out)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a polling reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSim starts "authwire sim" on a free port, reads the printed export lines,
// calls every vendor through them, then cancels the context and expects a
// graceful exit 0.
func TestSim(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, []string{"sim", "--addr", "127.0.0.1:0", "--quiet"}, func(string) string { return "" }, nil, &out, &errb)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), envVPSecret) {
		if time.Now().After(deadline) {
			t.Fatalf("sim printed no credentials in 5 s; stdout %q stderr %q", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^export (\w+)='([^']*)'$`).FindAllStringSubmatch(out.String(), -1) {
		env[m[1]] = m[2]
	}
	for _, k := range []string{envNXBase, envNXKey, envNXSecret, envIKBase, envIKLogin, envIKMerchant, envIKPassword, envVPBase, envVPAgent, envVPAPIKey, envVPSecret} {
		if env[k] == "" {
			t.Errorf("sim printed no export line for %s:\n%s", k, out.String())
		}
	}
	calls := [][]string{
		{"call", "nxcloud", "/api/wa/integrator/embedded/register/getCode", "-d", `{"phone_number":"+8613800138000","method":"sms"}`},
		{"call", "icekredit", "/person-ds/credit/NigeriaAutoDecision", "-d", `{"ID":"1","mobile":"2","equipment_sn":"3","sn":"4","borrow_count":0}`},
		{"call", "vertexplay", "/v2/games"},
	}
	for _, args := range calls {
		if code, stdout, stderr := cli(t, env, args...); code != exitOK {
			t.Errorf("%s against sim: exit %d, stdout %q, stderr %q", args[1], code, stdout, stderr)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("sim exit %d after cancel; stderr %q", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop after cancel")
	}
}

// TestDemo runs a small demo to exit 0.
func TestDemo(t *testing.T) {
	cfg := demoConfig{requests: 60, seed: 7, progress: 50 * time.Millisecond}
	var out, errb bytes.Buffer
	code := runDemo(context.Background(), cfg, &out, &errb)
	if code != exitOK {
		t.Fatalf("demo exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"nxcloud", "icekredit", "vertexplay", "breaker opens", "right: ", "PASS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	// stderr is not a terminal: no progress line, no carriage return.
	if strings.Contains(errb.String(), "\r") || strings.Contains(errb.String(), "60/60") {
		t.Errorf("progress line written to a non-terminal: %q", errb.String())
	}
	if !strings.Contains(errb.String(), "p99") {
		t.Errorf("no latency line on stderr: %q", errb.String())
	}
}

// newSims serves the three simulators on httptest servers.
func newSims(t *testing.T) (nx *nxcloudtest.Server, ik *icekredittest.Server, vp *vertexplaytest.Server, nxURL, ikURL, vpURL string) {
	nx, ik, vp = nxcloudtest.New(nxcloudtest.Config{}), icekredittest.New(icekredittest.Config{}), vertexplaytest.New(vertexplaytest.Config{})
	s1, s2, s3 := httptest.NewServer(nx), httptest.NewServer(ik), httptest.NewServer(vp)
	t.Cleanup(func() { s1.Close(); s2.Close(); s3.Close() })
	return nx, ik, vp, s1.URL, s2.URL, s3.URL
}

// TestInsecureHTTPReachesTheProvider: --insecure-http is passed to the provider
// (Options.AllowInsecureHTTP), so a plain-http origin that is not loopback —
// 0.0.0.0, which Linux routes to this host, so the simulators answer — is
// accepted by the CLI's check and by the provider's own, and the call succeeds;
// without the flag the CLI refuses it first (exit 2, naming the flag).
func TestInsecureHTTPReachesTheProvider(t *testing.T) {
	_, _, _, nxURL, ikURL, vpURL := newSims(t)
	unspecified := func(u string) string { return strings.Replace(u, "127.0.0.1", "0.0.0.0", 1) }
	tests := []struct {
		vendor string
		env    map[string]string
		args   []string
	}{
		{"nxcloud", nxEnv, []string{"--base-url", unspecified(nxURL), nxcloud.PathLogin}},
		{"icekredit", ikEnv, []string{"--base-url", unspecified(ikURL), "--login-url", unspecified(ikURL), "/person-ds/credit/NigeriaAutoDecision",
			"-d", `{"ID":"1","mobile":"2","equipment_sn":"3","sn":"4","borrow_count":0}`}},
		{"vertexplay", vpEnv, []string{"--base-url", unspecified(vpURL), "/v2/games"}},
	}
	for _, tt := range tests {
		t.Run(tt.vendor, func(t *testing.T) {
			args := append([]string{"call", tt.vendor, "--retries", "0"}, tt.args...)
			if code, _, stderr := cli(t, tt.env, args...); code != exitUsage || !strings.Contains(stderr, "--insecure-http") {
				t.Errorf("without --insecure-http: exit %d, stderr %q; want %d naming the flag", code, stderr, exitUsage)
			}
			if code, stdout, stderr := cli(t, tt.env, append(args, "--insecure-http")...); code != exitOK {
				t.Errorf("with --insecure-http: exit %d, stdout %q, stderr %q; want %d", code, stdout, stderr, exitOK)
			}
		})
	}
}

// TestDemoBoundary: every caller-boundary rule holds, each case's line is the
// same on every run, and no goroutine of a case outlives it.
func TestDemoBoundary(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	first := runBoundary(context.Background())
	if len(first) != len(boundaryCases) {
		t.Fatalf("%d results, want %d", len(first), len(boundaryCases))
	}
	for _, r := range first {
		if len(r.problems) > 0 || r.right == "" {
			t.Errorf("%s: problems %q, right %q", r.what, r.problems, r.right)
		}
	}
	again := runBoundary(context.Background())
	for i := range first {
		if again[i].what != first[i].what {
			t.Errorf("case %d: %q, then %q", i, first[i].what, again[i].what)
		}
	}
}

// TestDemoBoundaryFailsTheDemo: a case whose rule does not hold prints FAIL and
// makes the report fail.
func TestDemoBoundaryFailsTheDemo(t *testing.T) {
	var out bytes.Buffer
	ok := reportBoundary(&out, append(runBoundary(context.Background())[:len(boundaryCases)-1],
		boundaryResult{what: "made up", right: "why", problems: []string{"broken"}}))
	if ok || !strings.Contains(out.String(), "  FAIL   broken") || !strings.Contains(out.String(), "  FAIL   made up") {
		t.Errorf("ok = %v, report:\n%s", ok, out.String())
	}
	out.Reset()
	if reportBoundary(&out, nil) {
		t.Error("a report without the cases (not run) passed")
	}
}
