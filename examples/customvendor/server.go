package main

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
)

// server is Acme, a made-up vendor: POST /auth/login with {"user","password"}
// returns a token and its lifetime; every call carries the token in X-Acme-Token;
// every reply is {"code", "msg", "trace_id", "data"}. Codes: 0 success, 40001 bad
// credentials, 40101 token expired, 42900 too frequent, 50000 system error.
type server struct {
	*httptest.Server
	user, password string

	logins atomic.Int64 // successful logins
	calls  atomic.Int64 // calls to /v1/echo, whatever their answer

	// tooFrequent and systemErrors are how many of the next calls get that code.
	tooFrequent, systemErrors atomic.Int32

	mu    sync.Mutex
	token string // the one valid token; "" after Expire
}

func newServer(user, password string) *server {
	s := &server{user: user, password: password}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/login", s.login)
	mux.HandleFunc("POST /v1/echo", s.echo)
	s.Server = httptest.NewServer(mux)
	return s
}

// Expire makes the current token expired, as if its time had passed.
func (s *server) Expire() {
	s.mu.Lock()
	s.token = ""
	s.mu.Unlock()
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		reply(w, http.StatusUnsupportedMediaType, "40000", "content type must be application/json", nil)
		return
	}
	var in struct{ User, Password string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.User != s.user || in.Password != s.password {
		reply(w, http.StatusOK, "40001", "bad credentials", nil)
		return
	}
	n := s.logins.Add(1)
	s.mu.Lock()
	s.token = fmt.Sprintf("acme-token-%d", n)
	tok := s.token
	s.mu.Unlock()
	reply(w, http.StatusOK, "0", "ok", map[string]any{"token": tok, "expires_in": "3600"})
}

func (s *server) echo(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	s.mu.Lock()
	valid := s.token != "" && r.Header.Get("X-Acme-Token") == s.token
	s.mu.Unlock()
	switch {
	case !valid:
		reply(w, http.StatusUnauthorized, "40101", "token expired", nil)
	case take(&s.tooFrequent):
		reply(w, http.StatusOK, "42900", "too frequent", nil)
	case take(&s.systemErrors):
		reply(w, http.StatusOK, "50000", "system error", nil)
	default:
		var in struct{ Msg string }
		json.NewDecoder(r.Body).Decode(&in)
		reply(w, http.StatusOK, "0", "ok", map[string]string{"echo": in.Msg})
	}
}

// reply writes Acme's envelope. The code is a JSON number, except on the login,
// whose documentation shows it as a string: the client reads both.
func reply(w http.ResponseWriter, status int, code, msg string, data any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var c any = json.Number(code)
	if data != nil && status == http.StatusOK && code == "0" {
		if _, login := data.(map[string]any); login {
			c = code
		}
	}
	json.NewEncoder(w).Encode(map[string]any{"code": c, "msg": msg, "trace_id": "tr-" + code, "data": data})
}

// take takes one from n if it is positive.
func take(n *atomic.Int32) bool {
	for {
		v := n.Load()
		if v <= 0 {
			return false
		}
		if n.CompareAndSwap(v, v-1) {
			return true
		}
	}
}
