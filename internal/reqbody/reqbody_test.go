package reqbody_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/authwire/authwire/internal/reqbody"
)

func TestBufferOnceReplayWithoutCopy(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://x/", io.NopCloser(strings.NewReader("hello")))
	if err := reqbody.Buffer(req); err != nil {
		t.Fatal(err)
	}
	first, _ := reqbody.Read(req)
	rc, _ := req.GetBody()
	again, _ := io.ReadAll(rc)
	if string(first) != "hello" || string(again) != "hello" || req.ContentLength != 5 {
		t.Fatalf("first %q again %q len %d", first, again, req.ContentLength)
	}
	// A replayed *Body hands out the same bytes, not a copy.
	r2, _ := http.NewRequest(http.MethodPost, "http://x/", nil)
	r2.Body = reqbody.New(first)
	b, _ := reqbody.Read(r2)
	if &b[0] != &first[0] {
		t.Fatal("Read copied a *Body")
	}
}

func TestEmptyBodies(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	if err := reqbody.Buffer(req); err != nil || req.Body != nil {
		t.Fatalf("err %v body %v", err, req.Body)
	}
	b, err := reqbody.Read(req)
	if err != nil || b != nil {
		t.Fatalf("%q %v", b, err)
	}
}
