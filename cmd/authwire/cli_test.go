package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/providers/icekredit/icekredittest"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/nxcloud/nxcloudtest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// buildCLI builds the command once per test run, for the tests that need
// separate processes.
func buildCLI(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the command")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "authwire-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "authwire")
		buildOut, buildErr = exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

const ikReq = `{"ID":"1","mobile":"2","equipment_sn":"3","sn":"4","borrow_count":1}`

// TestTokenCacheAcrossProcesses: ten consecutive `authwire call icekredit`
// processes log in once between them (the simulator counts); with --no-cache
// ten times. The cache file is 0600 in a 0700 directory and holds neither the
// token nor the password, its MD5, or either in hex or base64.
func TestTokenCacheAcrossProcesses(t *testing.T) {
	bin := buildCLI(t)
	for _, tt := range []struct {
		name       string
		flags      []string
		wantLogins int
	}{
		{"cached", nil, 1},
		{"no-cache", []string{"--no-cache"}, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sim := icekredittest.New(icekredittest.Config{})
			srv := httptest.NewServer(sim)
			defer srv.Close()
			cache := filepath.Join(t.TempDir(), "cache")
			env := append(os.Environ(), envIKMerchant+"="+icekredittest.MerchantName, envIKPassword+"="+icekredittest.Password,
				envIKBase+"="+srv.URL, envIKLogin+"="+srv.URL, envCacheDir+"="+cache, envRedis+"=")
			for i := range 10 {
				cmd := exec.Command(bin, append([]string{"call", "icekredit", "/person-ds/credit/NigeriaAutoDecision", "-d", ikReq}, tt.flags...)...)
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), `"00"`) {
					t.Fatalf("process %d: %v\n%s", i+1, err, out)
				}
			}
			if got := sim.Logins(); got != tt.wantLogins {
				t.Errorf("10 processes logged in %d times, want %d", got, tt.wantLogins)
			}
			files, _ := filepath.Glob(filepath.Join(cache, "*"))
			if tt.wantLogins == 10 {
				if len(files) != 0 {
					t.Errorf("--no-cache wrote %q", files)
				}
				return
			}
			if len(files) != 1 {
				t.Fatalf("cache holds %q, want one file", files)
			}
			if fi, err := os.Stat(cache); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("cache directory mode %v (%v), want 0700", fi.Mode().Perm(), err)
			}
			if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("cache file mode %v (%v), want 0600", fi.Mode().Perm(), err)
			}
			// The token the processes used, read back through the cache.
			cmd := exec.Command(bin, "token", "icekredit", "--format", "json")
			cmd.Env = env
			out, err := cmd.Output()
			var tj struct{ Token string }
			if err != nil || json.Unmarshal(out, &tj) != nil || tj.Token == "" {
				t.Fatalf("authwire token: %v %q", err, out)
			}
			if got := sim.Logins(); got != 1 {
				t.Errorf("authwire token logged in again (%d logins): it did not use the cache", got)
			}
			sum := md5.Sum([]byte(icekredittest.Password))
			data, _ := os.ReadFile(files[0])
			data = append(data, []byte(filepath.Base(files[0]))...)
			for _, secret := range []string{tj.Token, icekredittest.Password, hex.EncodeToString(sum[:]), string(sum[:])} {
				for _, enc := range encodings(secret) {
					if bytes.Contains(bytes.ToLower(data), bytes.ToLower([]byte(enc))) {
						t.Errorf("cache file contains a secret (%q)", enc)
					}
				}
			}
		})
	}
}

// encodings are the forms a secret could be written in.
func encodings(s string) []string {
	b := []byte(s)
	return []string{s, hex.EncodeToString(b), base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
		strings.TrimRight(base64.StdEncoding.EncodeToString(b), "=")}
}

// TestDiskCache: a cache opened with another secret sees nothing; Extend and
// Delete touch only the token they are given.
func TestDiskCache(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c, err := newDiskCache(dir, "icekredit", "https://x", "acme", []byte("pw-1"))
	if err != nil {
		t.Fatal(err)
	}
	tok := &oauth2.Token{AccessToken: "tok-1", Expiry: time.Now().Add(time.Minute).Round(0)}
	if err := c.Save(ctx, "k", tok); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Load(ctx, "k"); got == nil || got.AccessToken != "tok-1" {
		t.Fatalf("Load = %v", got)
	}
	if got, _ := c.Load(ctx, "other key"); got != nil {
		t.Errorf("Load under another key = %v", got)
	}
	// Another password: another file name, and the file itself does not open.
	other, _ := newDiskCache(dir, "icekredit", "https://x", "acme", []byte("pw-2"))
	if other.path == c.path {
		t.Error("two secrets share a file name")
	}
	other.path = c.path
	if got, _ := other.Load(ctx, "k"); got != nil {
		t.Errorf("opened with the wrong secret: %v", got)
	}
	// Extend rewrites only the token it was given, and only to a later expiry.
	later := time.Now().Add(time.Hour).Round(0)
	c.Extend(ctx, "k", &oauth2.Token{AccessToken: "tok-0", Expiry: later})
	if got, _ := c.Load(ctx, "k"); got == nil || got.AccessToken != "tok-1" || !got.Expiry.Equal(tok.Expiry) {
		t.Errorf("after Extend of another token: %v, want tok-1 as saved", got)
	}
	c.Extend(ctx, "k", &oauth2.Token{AccessToken: "tok-1", Expiry: later})
	c.Extend(ctx, "k", &oauth2.Token{AccessToken: "tok-1", Expiry: later.Add(-time.Minute)}) // a late write
	if got, _ := c.Load(ctx, "k"); got == nil || got.AccessToken != "tok-1" || !got.Expiry.Equal(later) {
		t.Errorf("after Extend: %v, want tok-1 expiring at %v", got, later)
	}
	c.Delete(ctx, "k", &oauth2.Token{AccessToken: "tok-0"})
	if got, _ := c.Load(ctx, "k"); got == nil {
		t.Error("Delete of another token removed the cached one")
	}
	c.Delete(ctx, "k", tok)
	if got, _ := c.Load(ctx, "k"); got != nil {
		t.Error("Delete of the rejected token left it")
	}
}

// TestTokenAndLogout: token prints the cached token in three formats without
// logging in again; logout removes it, and the next call logs in.
func TestTokenAndLogout(t *testing.T) {
	sim := icekredittest.New(icekredittest.Config{})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	env := with(ikEnv, envIKBase, srv.URL, envIKLogin, srv.URL, envCacheDir, t.TempDir())
	if code, _, stderr := cli(t, env, "call", "icekredit", "/person-ds/credit/NigeriaAutoDecision", "-d", ikReq); code != 0 {
		t.Fatalf("call: exit %d %s", code, stderr)
	}
	_, tok, _ := cli(t, env, "token", "icekredit")
	tok = strings.TrimSpace(tok)
	_, hdr, _ := cli(t, env, "token", "icekredit", "--format", "header")
	_, js, _ := cli(t, env, "token", "icekredit", "--format", "json")
	if tok == "" || hdr != "token_id: "+tok+"\n" || !strings.Contains(js, `"token":"`+tok+`"`) {
		t.Errorf("token %q, header %q, json %q", tok, hdr, js)
	}
	if n := sim.Logins(); n != 1 {
		t.Errorf("%d logins after a call and three token reads, want 1", n)
	}
	code, _, stderr := cli(t, env, "logout", "icekredit")
	if code != 0 || !strings.Contains(stderr, "removed 1 cached token") {
		t.Errorf("logout: exit %d, %q", code, stderr)
	}
	cli(t, env, "call", "icekredit", "/person-ds/credit/NigeriaAutoDecision", "-d", ikReq)
	if n := sim.Logins(); n != 2 {
		t.Errorf("%d logins after logout and a call, want 2", n)
	}
}

// hang is a server that answers nothing until the client gives up; started
// reports each request.
func hang(t *testing.T) (url string, started chan struct{}) {
	started = make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv.URL, started
}

// TestExitCodes: 0 success, 1 vendor error, 2 usage, 130 interrupted — the
// last in-process (the context Ctrl-C cancels) and through a real SIGINT.
func TestExitCodes(t *testing.T) {
	_, _, _, nxURL, _, _ := newSims(t)
	env := with(nxEnv, envNXBase, nxURL)
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want int
	}{
		{"success", env, []string{"call", "nxcloud", nxcloud.PathLogin}, exitOK},
		{"vendor error", with(env, envNXSecret, "wrong"), []string{"call", "nxcloud", nxcloud.PathLogin}, exitFail},
		{"usage", env, []string{"call", "nxcloud", "--bogus", nxcloud.PathLogin}, exitUsage},
		{"no command", nil, nil, exitUsage},
	} {
		if code, _, stderr := cli(t, tt.env, tt.args...); code != tt.want {
			t.Errorf("%s: exit %d, want %d (%s)", tt.name, code, tt.want, stderr)
		}
	}

	t.Run("interrupted in-process", func(t *testing.T) {
		url, started := hang(t)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-started; cancel() }()
		var out, errb bytes.Buffer
		code := runContext(ctx, []string{"call", "nxcloud", "--base-url", url, nxcloud.PathLogin},
			getenvOf(with(nxEnv, envCacheDir, t.TempDir())), nil, &out, &errb)
		if code != exitInterrupt || !strings.Contains(errb.String(), "interrupted") {
			t.Errorf("exit %d, want 130; stderr %q", code, errb.String())
		}
	})
	t.Run("SIGINT", func(t *testing.T) {
		bin := buildCLI(t)
		url, started := hang(t)
		cmd := exec.Command(bin, "call", "nxcloud", "--base-url", url, nxcloud.PathLogin)
		cmd.Env = append(os.Environ(), envNXKey+"=k", envNXSecret+"=s", envCacheDir+"="+t.TempDir())
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		<-started
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != exitInterrupt {
			t.Errorf("exit %d after SIGINT, want 130; stderr %q", code, errb.String())
		}
	})
}

// getenvOf makes an env map usable as getenv.
func getenvOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestUsageOnStderr: a usage error prints nothing on stdout, its message and
// where to find help on stderr; help asked for goes to stdout.
func TestUsageOnStderr(t *testing.T) {
	for _, args := range [][]string{{"call", "nxcloud", "--bogus"}, {"call"}, {"frobnicate"}, {}, {"demo", "--seed"}} {
		code, stdout, stderr := cli(t, nxEnv, args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "-h") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"help", "call"}, []string{"call POSTs", "--retries"}},
		{[]string{"call", "nxcloud", "-h"}, []string{envNXKey, envNXSecret, envNXBase, "--biz-type", "--clock-offset", "--timeout"}},
		{[]string{"call", "icekredit", "--help"}, []string{envIKMerchant, envIKPassword, envIKLogin, "--login-url", "--no-cache"}},
		{[]string{"call", "vertexplay", "-h"}, []string{envVPAgent, envVPAPIKey, envVPSecret, "--signature"}},
		{[]string{"demo", "-h"}, []string{"--seed", "--requests"}},
		{[]string{"completion", "bash"}, []string{"bash completion"}},
		{[]string{"--version"}, []string{"authwire " + version}},
	} {
		code, stdout, stderr := cli(t, nil, tt.args...)
		if code != exitOK || stderr != "" {
			t.Errorf("%q: exit %d, stderr %q", tt.args, code, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%q: stdout lacks %q", tt.args, w)
			}
		}
	}
}

// TestCurlHabits: -H reaches the vendor, -i prints the status and headers,
// -o writes the body to a file, -d @- reads stdin, --timeout bounds a call.
func TestCurlHabits(t *testing.T) {
	nx := nxcloudtest.New(nxcloudtest.Config{})
	var mu sync.Mutex
	var seen http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.Header.Clone()
		mu.Unlock()
		nx.ServeHTTP(w, r)
	}))
	defer srv.Close()
	env := with(nxEnv, envNXBase, srv.URL)

	code, stdout, _ := cli(t, env, "call", "nxcloud", "-H", "X-Trace: abc 1", "-H", "X-Trace: 2", "-i", nxcloud.PathLogin)
	if code != 0 || !strings.HasPrefix(stdout, "HTTP/1.1 200 OK\n") || !strings.Contains(stdout, "Content-Type: ") || !strings.Contains(stdout, "\n\n{") {
		t.Errorf("-i: exit %d, stdout %q", code, stdout)
	}
	mu.Lock()
	if got := seen.Values("X-Trace"); len(got) != 2 || got[0] != "abc 1" {
		t.Errorf("-H: the vendor saw X-Trace %q", got)
	}
	mu.Unlock()

	file := filepath.Join(t.TempDir(), "out.json")
	code, stdout, _ = cli(t, env, "call", "nxcloud", "-o", file, nxcloud.PathLogin)
	if b, _ := os.ReadFile(file); code != 0 || stdout != "" || !strings.Contains(string(b), `"token"`) {
		t.Errorf("-o: exit %d, stdout %q, file %q", code, stdout, b)
	}

	var out, errb bytes.Buffer
	code = runContext(context.Background(), []string{"call", "nxcloud", nxcloud.PathGetCode, "-d", "@-"}, getenvOf(with(env, envCacheDir, t.TempDir())),
		strings.NewReader(`{"phone_number":"+8613800138009","method":"sms"}`), &out, &errb)
	if code != 0 || nx.CodesSent("+8613800138009") != 1 {
		t.Errorf("-d @-: exit %d, %s %s", code, out.String(), errb.String())
	}

	url, _ := hang(t)
	code, _, stderr := cli(t, with(nxEnv, envNXBase, url), "call", "nxcloud", "--timeout", "100ms", nxcloud.PathLogin)
	if code != exitFail || !strings.Contains(stderr, "--timeout") {
		t.Errorf("--timeout: exit %d, stderr %q", code, stderr)
	}
}

// TestVerboseRefusedConnection: a refused connection is not silence: -v says
// each attempt failed without sending, and how long it waits before the next.
func TestVerboseRefusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	code, _, stderr := cli(t, with(nxEnv, envNXBase, "http://"+addr), "call", "nxcloud", "-v", "--retries", "2", nxcloud.PathLogin)
	if code != exitFail {
		t.Fatalf("exit %d; %s", code, stderr)
	}
	for _, w := range []string{"request 1, attempt 1", "attempt 1: ", "nothing was sent", "waiting ", "before attempt 2", "request 1, attempt 3", "connection refused"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("-v lacks %q:\n%s", w, stderr)
		}
	}
}

// TestHintsSpeakCLI: a vendor error's hint names flags and environment
// variables, not Go Config fields.
func TestHintsSpeakCLI(t *testing.T) {
	_, _, _, nxURL, ikURL, _ := newSims(t)
	for _, tt := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		// A wrong secret is a bad sign (1003): the secret, not the clock.
		{with(nxEnv, envNXSecret, "wrong", envNXBase, nxURL), []string{"call", "nxcloud", nxcloud.PathLogin}, envNXSecret},
		// A ts outside the window (1004) is the clock.
		{with(nxEnv, envNXBase, nxURL), []string{"call", "nxcloud", "--clock-offset", "90s", nxcloud.PathLogin}, "--clock-offset"},
		{with(ikEnv, envIKPassword, "wrong", envIKBase, ikURL, envIKLogin, ikURL), []string{"call", "icekredit", "/person-ds/credit/NigeriaAutoDecision", "-d", ikReq}, envIKPassword},
	} {
		_, _, stderr := cli(t, tt.env, tt.args...)
		if !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "Config.") {
			t.Errorf("%s hint: %q", tt.args[1], stderr)
		}
	}
}

// TestDemoReproducible: the same seed prints the same table.
func TestDemoReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo twice")
	}
	var first string
	for i := range 2 {
		var out, errb bytes.Buffer
		if code := runDemo(context.Background(), demoConfig{requests: 80, seed: 11}, &out, &errb); code != exitOK {
			t.Fatalf("demo exit %d\n%s", code, out.String())
		}
		if i == 0 {
			first = out.String()
		} else if out.String() != first {
			t.Errorf("same seed, different reports:\n%s\n---\n%s", first, out.String())
		}
	}
}
