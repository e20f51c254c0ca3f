package main

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authwire/authwire/providers/icekredit/icekredittest"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/nxcloud/nxcloudtest"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/providers/vertexplay/vertexplaytest"
)

// TestCall sends real requests through the full stack to the simulators: the
// vendor's success is exit 0 with the body on stdout; the vendor's error is
// exit 1 with one stderr line naming the vendor and the code.
func TestCall(t *testing.T) {
	nx, ik, vp, nxURL, ikURL, vpURL := newSims(t)
	vp.AddPlayer("alice", "10.00")
	dir := t.TempDir()
	bodyFile := filepath.Join(dir, "body.json")
	if err := os.WriteFile(bodyFile, []byte(`{"phone_number":"+8613800138001","method":"voice"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ikBody := `{"ID":"32500000000004","mobile":"09012345678","equipment_sn":"eq-1","sn":"sn-1","borrow_count":0}`
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantCode   int
		wantStdout string // substring
		wantStderr []string
	}{
		{"nxcloud getCode", nxEnv, []string{"call", "nxcloud", "--base-url", nxURL, nxcloud.PathGetCode, "-d", `{"phone_number":"+8613800138000","method":"sms"}`}, 0, `"code":0`, nil},
		{"nxcloud flags after path, body from file", nxEnv, []string{"call", "nxcloud", nxcloud.PathGetCode, "--base-url", nxURL, "-d", "@" + bodyFile}, 0, `"code":0`, nil},
		{"nxcloud explicit operation, sha256", with(nxEnv, envNXBase, nxURL), []string{"call", "nxcloud", "/api/wa/integrator/embedded/register/login", "--biz-type", "2", "--action", "login", "--algorithm", "sha256"}, 0, `"token"`, nil},
		{"nxcloud wrong secret", with(nxEnv, envNXSecret, "wrong", envNXBase, nxURL), []string{"call", "nxcloud", nxcloud.PathLogin}, 1, `"code":1003`, []string{"authwire: nxcloud: code 1003:"}},
		{"nxcloud parameter error", with(nxEnv, envNXBase, nxURL), []string{"call", "nxcloud", nxcloud.PathGetCode, "-d", `{"phone_number":"+86","method":"fax"}`}, 1, "", []string{"authwire: nxcloud: code 9000:"}},
		{"icekredit product", with(ikEnv, envIKLogin, ikURL), []string{"call", "icekredit", "--base-url", ikURL, "/person-ds/credit/NigeriaAutoDecision", "-d", ikBody}, 0, `"risk_level"`, nil},
		{"icekredit wrong password", with(ikEnv, envIKPassword, "nope"), []string{"call", "icekredit", "--login-url", ikURL, "--base-url", ikURL, "/person-ds/credit/NigeriaAutoDecision", "-d", ikBody}, 1, "", []string{"authwire: icekredit:", "code 200002:"}},
		{"icekredit missing parameter", with(ikEnv, envIKLogin, ikURL, envIKBase, ikURL), []string{"call", "icekredit", "/person-ds/credit/NigeriaAutoDecision"}, 1, `"response_code":"20100102"`, []string{"authwire: icekredit: code 20100102:"}},
		{"vertexplay games", with(vpEnv, envVPBase, vpURL), []string{"call", "vertexplay", vertexplay.PathGames}, 0, `"Fortune Dragon"`, nil},
		{"vertexplay balance", vpEnv, []string{"call", "vertexplay", vertexplay.PathBalance, "--base-url", vpURL, "-d", `{"username":"alice"}`}, 0, `"balance":10.00`, nil},
		{"vertexplay unknown player", with(vpEnv, envVPBase, vpURL), []string{"call", "vertexplay", vertexplay.PathBalance, "-d", `{"username":"bob"}`}, 1, `"code":4`, []string{"authwire: vertexplay: code 4:"}},
		{"vertexplay wrong secret", with(vpEnv, envVPSecret, "nope", envVPBase, vpURL), []string{"call", "vertexplay", vertexplay.PathGames}, 1, "", []string{"authwire: vertexplay:", "code 10:"}},
		{"vertexplay v1 signature refused", with(vpEnv, envVPBase, vpURL), []string{"call", "vertexplay", "--signature", "v1", vertexplay.PathGames}, 1, "", []string{"authwire: vertexplay:", "code 83:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q; stderr %q", code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout %q lacks %q", stdout, tt.wantStdout)
			}
			if tt.wantCode != 0 {
				if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
					t.Errorf("stderr is %d lines, want one: %q", n+1, stderr)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
	if got := nx.CodesSent("+8613800138001"); got != 1 {
		t.Errorf("the -d @file getCode sent %d codes, want 1", got)
	}
	_ = ik
}

// TestCallRepeat: --repeat N --parallel C shares one client — one login for
// all — and prints the summary line.
func TestCallRepeat(t *testing.T) {
	_, ik, vp, _, ikURL, vpURL := newSims(t)
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		logins func() int
	}{
		{"icekredit", with(ikEnv, envIKBase, ikURL, envIKLogin, ikURL), []string{"call", "icekredit", "/person-ds/credit/NigeriaAutoDecision", "-d",
			`{"ID":"1","mobile":"2","equipment_sn":"3","sn":"4","borrow_count":1}`, "--repeat", "12", "--parallel", "4"}, ik.Logins},
		{"vertexplay", with(vpEnv, envVPBase, vpURL), []string{"call", "vertexplay", "--repeat", "12", "--parallel", "4", vertexplay.PathGames}, func() int { return vp.Stats().Logins }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, tt.env, tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d; stderr %q", code, stderr)
			}
			if n := strings.Count(stdout, "\n"); n != 12 {
				t.Errorf("%d response lines, want 12", n)
			}
			if !strings.Contains(stderr, "summary: ok=12 failed=0 logins=1 retries=0") {
				t.Errorf("summary line: %q", stderr)
			}
			if got := tt.logins(); got != 1 {
				t.Errorf("simulator saw %d logins, want 1", got)
			}
		})
	}
}

// TestCallVerboseNoSecrets: -vv shows every exchange — attempts, public
// identifiers, bodies, the signed string — and no secret, password, hash,
// key, signature or token anywhere on stderr, for every vendor.
func TestCallVerboseNoSecrets(t *testing.T) {
	_, _, _, nxURL, ikURL, vpURL := newSims(t)
	md5hex := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	ikBody := `{"ID":"1","mobile":"2","equipment_sn":"3","sn":"4","borrow_count":1}`
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		secrets  []string
		shown    []string // must appear
		redacted []string // header names that must show REDACTED
	}{
		{"nxcloud", with(nxEnv, envNXBase, nxURL), []string{"call", "nxcloud", "-vv", nxcloud.PathLogin},
			[]string{nxcloudtest.AccessSecret, md5hex(nxcloudtest.AccessSecret), "sim-wa-"},
			[]string{"accessKey: " + nxcloudtest.AccessKey, "string signed with md5", "&accessSecret=***", `"token":"REDACTED"`, "request 1, attempt 1"},
			[]string{"sign"}},
		{"icekredit", with(ikEnv, envIKBase, ikURL, envIKLogin, ikURL), []string{"call", "icekredit", "-vv", "/person-ds/credit/NigeriaAutoDecision", "-d", ikBody},
			[]string{icekredittest.Password, icekredittest.PasswordMD5, strings.ToUpper(icekredittest.PasswordMD5)},
			[]string{"merchant_name=" + icekredittest.MerchantName, "merchant_pwd=REDACTED", `"token_id":"REDACTED"`, `"risk_level"`},
			[]string{"token_id"}},
		{"vertexplay", with(vpEnv, envVPBase, vpURL), []string{"call", "vertexplay", "-vv", vertexplay.PathBalance, "-d", `{"username":"nobody"}`},
			[]string{vertexplaytest.APIKey, vertexplaytest.SecretKey, "Bearer ey"},
			[]string{"X-Agentid: " + vertexplaytest.AgentID, "string signed with sha256 (v2", "(decrypted) ", `"secret":"REDACTED"`, `"accessToken":"REDACTED"`, `"username":"nobody"`},
			[]string{"Authorization", "X-Signature"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			env := with(tt.env, envCacheDir, cache)
			_, stdout, stderr := cli(t, env, tt.args...)
			if !strings.Contains(stderr, "> POST ") || !strings.Contains(stderr, "< HTTP/1.1 200 OK") {
				t.Fatalf("-vv shows no exchange:\n%s\nstdout %s", stderr, stdout)
			}
			secrets := tt.secrets
			if tt.name != "nxcloud" { // the token the call used, from the same cache
				_, tok, _ := cli(t, env, "token", tt.name)
				if tok = strings.TrimSpace(tok); len(tok) < 8 {
					t.Fatalf("authwire token %s printed %q", tt.name, tok)
				}
				secrets = append(secrets, tok)
			}
			for _, w := range tt.shown {
				if !strings.Contains(stderr, w) {
					t.Errorf("-vv does not show %q:\n%s", w, stderr)
				}
			}
			for _, h := range tt.redacted {
				if !strings.Contains(stderr, "> "+h+": REDACTED") {
					t.Errorf("-vv does not show %s REDACTED:\n%s", h, stderr)
				}
			}
			for _, s := range secrets {
				if strings.Contains(stderr, s) {
					t.Errorf("-vv output contains %q:\n%s", s, stderr)
				}
			}
		})
	}
}

// TestCallRedisFallback: with an unreachable Redis the call still works, on
// the in-process fallbacks (redisstore degrades, it never blocks a request).
func TestCallRedisFallback(t *testing.T) {
	_, _, _, _, ikURL, _ := newSims(t)
	env := with(ikEnv, envIKBase, ikURL, envIKLogin, ikURL, envRedis, "redis://127.0.0.1:1/0")
	code, stdout, stderr := cli(t, env, "call", "icekredit", "/person-ds/credit/NigeriaAutoDecision", "-d",
		`{"ID":"1","mobile":"2","equipment_sn":"3","sn":"4","borrow_count":1}`)
	if code != exitOK || !strings.Contains(stdout, `"00"`) {
		t.Fatalf("exit %d; stdout %q; stderr %q", code, stdout, stderr)
	}
}
