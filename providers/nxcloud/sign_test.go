package nxcloud_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/providers/nxcloud"
)

// The vendor's test vectors (binding).
const (
	vecKey    = "fme2na3kdi3ki"
	vecSecret = "abc123"
	vecTS     = "1655710885431"
	vecTSms   = 1655710885431
)

var vectors = []struct {
	name, bizType, action, body string
	alg                         nxcloud.Algorithm
	sign                        string
}{
	{"md5 with body", "1", "send", `{"id":10001,"name":"xxx"}`, nxcloud.MD5, "fec1e3fa27dcef2d6247a2e4e23927e4"},
	{"sha256 with body", "1", "send", `{"id":10001,"name":"xxx"}`, nxcloud.SHA256, "89b7b02ba508c60057848c7aa118825965e9272216082f02b76e5668b2ac2946"},
	{"md5 empty body", "1", "send", ``, nxcloud.MD5, "bd1123a8d89b14ba5d0ab50b8c170e56"},
	{"sha256 empty body", "1", "send", ``, nxcloud.SHA256, "9b29c51be1c00539737726cf131a306547baf00908a4f4c8aba7faa17749ea29"},
	{"md5 getCode", "2", "getCode", `{"phone_number":"185xxx99","method":"sms"}`, nxcloud.MD5, "c3252cf9a3c743821441a6a6d5657c6c"},
}

func TestSignVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			h := nxcloud.Headers{AccessKey: vecKey, Action: v.action, BizType: v.bizType, TS: vecTS}
			if got := nxcloud.Sign(h, []byte(v.body), vecSecret, v.alg); got != v.sign {
				t.Errorf("Sign = %s, want %s", got, v.sign)
			}
		})
	}
}

func TestStringToSign(t *testing.T) {
	h := nxcloud.Headers{AccessKey: vecKey, Action: "send", BizType: "1", TS: vecTS}
	tests := []struct {
		name, body, secret, want string
	}{
		{"vendor example", `{"id":10001,"name":"xxx"}`, vecSecret,
			`accessKey=fme2na3kdi3ki&action=send&bizType=1&ts=1655710885431&body={"id":10001,"name":"xxx"}&accessSecret=abc123`},
		{"empty body has no body part", ``, vecSecret,
			`accessKey=fme2na3kdi3ki&action=send&bizType=1&ts=1655710885431&accessSecret=abc123`},
		{"explain form", `{"id":10001,"name":"xxx"}`, "***",
			`accessKey=fme2na3kdi3ki&action=send&bizType=1&ts=1655710885431&body={"id":10001,"name":"xxx"}&accessSecret=***`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nxcloud.StringToSign(h, []byte(tt.body), tt.secret); got != tt.want {
				t.Errorf("StringToSign =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	if got := nxcloud.Sign(h, nil, vecSecret, "sha1"); got != "" {
		t.Errorf("Sign with an unknown algorithm = %q, want empty", got)
	}
	if a, b := nxcloud.Sign(h, nil, vecSecret, ""), nxcloud.Sign(h, nil, vecSecret, nxcloud.MD5); a != b {
		t.Errorf("empty algorithm is not MD5: %s vs %s", a, b)
	}
}

// TestSignerVectors runs the vectors through the Signer, the way the stack calls
// it: the bizType and action headers set by the caller, the clock at the vector ts.
func TestSignerVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			s := &nxcloud.Signer{
				Credentials: nxcloud.NewCredentials(vecKey, vecSecret),
				Algorithm:   v.alg,
				Clock:       clock.NewFake(time.UnixMilli(vecTSms)),
			}
			req, _ := http.NewRequest(http.MethodPost, "https://api2.nxcloud.com/any", nil)
			req.Header.Set("bizType", v.bizType) // canonicalised: the Signer finds it anyway
			req.Header["action"] = []string{v.action}
			out, err := s.Sign(req, []byte(v.body))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != v.body {
				t.Errorf("body changed: %q", out)
			}
			want := map[string]string{"accessKey": vecKey, "ts": vecTS, "bizType": v.bizType, "action": v.action, "sign": v.sign}
			if v.alg == nxcloud.SHA256 {
				want["algorithm"] = "sha256"
			}
			for k, w := range want {
				if got := req.Header[k]; len(got) != 1 || got[0] != w {
					t.Errorf("header %s = %q, want [%s] with exactly that spelling", k, got, w)
				}
			}
			if len(req.Header) != len(want) {
				t.Errorf("headers = %v, want only %v", req.Header, want)
			}
		})
	}
}

func TestSignerFreshEachAttempt(t *testing.T) {
	fc := clock.NewFake(time.UnixMilli(vecTSms))
	s := &nxcloud.Signer{Credentials: nxcloud.NewCredentials(vecKey, vecSecret), Clock: fc}
	sign := func() (ts, sig string) {
		req, _ := http.NewRequest(http.MethodPost, "https://api2.nxcloud.com"+nxcloud.PathLogin, nil)
		if _, err := s.Sign(req, nil); err != nil {
			t.Fatal(err)
		}
		//lint:ignore SA1008 NXCloud wants its header names spelled as documented (ts, sign, bizType, action); the Signer writes them so
		return req.Header["ts"][0], req.Header["sign"][0]
	}
	ts1, sig1 := sign()
	fc.Advance(time.Millisecond)
	ts2, sig2 := sign()
	if ts1 == ts2 || sig1 == sig2 {
		t.Errorf("second attempt reused ts/sign: %s %s / %s %s", ts1, sig1, ts2, sig2)
	}
	if len(ts1) != 13 {
		t.Errorf("ts %q is not 13 digits", ts1)
	}
}

func TestSignerOperation(t *testing.T) {
	s := &nxcloud.Signer{Credentials: nxcloud.NewCredentials(vecKey, vecSecret), Clock: clock.NewFake(time.UnixMilli(vecTSms))}
	tests := []struct {
		name        string
		path        string
		ctx         context.Context
		header      map[string]string
		biz, action string
		wantErr     bool
	}{
		{name: "known path", path: nxcloud.PathOTAInit, ctx: context.Background(), biz: "6", action: "init"},
		{name: "context", path: "/api/sms/send", ctx: nxcloud.WithOperation(context.Background(), nxcloud.Operation{BizType: nxcloud.BizSMS, Action: "send"}), biz: "3", action: "send"},
		{name: "headers beat context", path: "/x", ctx: nxcloud.WithOperation(context.Background(), nxcloud.Operation{BizType: 3, Action: "send"}), header: map[string]string{"bizType": "7", "action": "msg"}, biz: "7", action: "msg"},
		{name: "unknown path", path: "/api/unknown", ctx: context.Background(), wantErr: true},
		{name: "bizType not a number", path: "/x", ctx: context.Background(), header: map[string]string{"bizType": "two", "action": "a"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(tt.ctx, http.MethodPost, "https://api2.nxcloud.com"+tt.path, nil)
			for k, v := range tt.header {
				req.Header[k] = []string{v}
			}
			_, err := s.Sign(req, nil)
			if tt.wantErr {
				var pe *nxcloud.ParamError
				if !errors.As(err, &pe) || !outcome.IsPermanent(err) {
					t.Fatalf("err = %v, want a permanent *ParamError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			//lint:ignore SA1008 NXCloud wants its header names spelled as documented (ts, sign, bizType, action); the Signer writes them so
			if got := req.Header["bizType"][0] + "/" + req.Header["action"][0]; got != tt.biz+"/"+tt.action {
				t.Errorf("bizType/action = %s, want %s/%s", got, tt.biz, tt.action)
			}
		})
	}
}

func TestSignerMultipartBodyNotSigned(t *testing.T) {
	s := &nxcloud.Signer{Credentials: nxcloud.NewCredentials(vecKey, vecSecret), Clock: clock.NewFake(time.UnixMilli(vecTSms))}
	req, _ := http.NewRequest(http.MethodPost, "https://api2.nxcloud.com/upload", nil)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	req.Header["bizType"], req.Header["action"] = []string{"1"}, []string{"send"}
	if _, err := s.Sign(req, []byte("--x\r\n...")); err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1008 NXCloud wants its header names spelled as documented (ts, sign, bizType, action); the Signer writes them so
	if got := req.Header["sign"][0]; got != "bd1123a8d89b14ba5d0ab50b8c170e56" {
		t.Errorf("multipart sign = %s, want the empty-body vector", got)
	}
}

func TestSignerRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		s    *nxcloud.Signer
		want string
	}{
		{"no credentials", &nxcloud.Signer{}, "credentials"},
		{"bad algorithm", &nxcloud.Signer{Credentials: nxcloud.NewCredentials(vecKey, vecSecret), Algorithm: "sha1"}, "algorithm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "https://api2.nxcloud.com"+nxcloud.PathLogin, nil)
			_, err := tt.s.Sign(req, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !outcome.IsPermanent(err) {
				t.Errorf("err = %v, want a permanent error naming %s", err, tt.want)
			}
		})
	}
}
