package outcome

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

// parseByMap is how Envelope.Parse read a body before its scanner: a map of every
// member. The scanner must find exactly what it found.
func parseByMap(e *Envelope, body []byte) (Fields, bool) {
	var m map[string]json.RawMessage
	if len(body) == 0 || json.Unmarshal(body, &m) != nil {
		return Fields{}, false
	}
	code, ok := codeText(m[e.CodeField])
	if !ok {
		return Fields{}, false
	}
	f := Fields{Code: code}
	for _, name := range e.MessageFields {
		if s := stringField(m[name]); s != "" {
			f.Message = s
			break
		}
	}
	if e.TraceField != "" {
		f.TraceID = stringField(m[e.TraceField])
	}
	data := e.DataField
	if data == "" {
		data = "data"
	}
	if raw := m[data]; len(raw) > 0 && string(raw) != "null" {
		f.Data = raw
	}
	return f, true
}

var scanEnvelope = &Envelope{
	Vendor: "acme", CodeField: "code", MessageFields: []string{"message", "msg", "m3", "m4", "m5"},
	TraceField: "trace_id", DataField: "result",
	Codes: Table[string]{Success: "0", Undocumented: Transient},
}

var scanBodies = []string{
	`{"code":0,"message":"ok","result":{}}`,
	` { "code" : "42900" , "msg" : "too frequent", "trace_id": 42 } `,
	`{"code":42900.0,"message":"","msg":"fallback","result":[1,{"a":"}"}]}`,
	`{"code":1e3}`, `{"code":-0}`, `{"code":12345678901234567890}`, `{"code":0.5}`,
	`{"code":" 7 ","m5":"fifth"}`, `{"code":"\u0037"}`, `{"code":""}`, `{"code":null}`, `{"code":{}}`,
	`{"code":true}`, `{"msg":"no code"}`, `{}`, `null`, `[]`, `"code"`, `0`, ``, `{"code":0`,
	`{"code":0} x`, `{"code":0,}`, `{"code":1,"code":0}`, `{"code":0,"code":1}`,
	`{"co\u0064e":"5","trace_\u0069d":"t-1"}`, `{"c\"ode":"5","code":"6"}`,
	`{"code":"0","result":null}`, `{"code":"0","result":"x\"}y"}`,
	`{"nested":{"code":1},"code":"3","message":"a\\b\"c"}`,
	"{\"code\":\"9\",\"message\":\"\xff\"}", "{\"cod\xffe\":\"9\",\"code\":8}",
	"\t\n{\r\"code\"\n:\t1\r}\n",
}

func TestScanMatchesMap(t *testing.T) {
	for _, body := range scanBodies {
		for _, e := range []*Envelope{scanEnvelope, {CodeField: "code", MessageFields: []string{"message"}}} {
			want, wantOK := parseByMap(e, []byte(body))
			got, gotOK := e.Parse([]byte(body))
			if gotOK != wantOK || !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", body, got, gotOK, want, wantOK)
			}
		}
	}
}

func FuzzScanMatchesMap(f *testing.F) {
	for _, body := range scanBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		want, wantOK := parseByMap(scanEnvelope, body)
		got, gotOK := scanEnvelope.Parse(body)
		if gotOK != wantOK || !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", body, got, gotOK, want, wantOK)
		}
		resp := &http.Response{StatusCode: http.StatusOK, Request: &http.Request{URL: &url.URL{Path: "/p"}}}
		if got, want := scanEnvelope.Classify(resp, body).Kind, classifyByMap(scanEnvelope, resp, body); got != want {
			t.Errorf("Classify(%q).Kind = %v, want %v", body, got, want)
		}
	})
}

// classifyByMap is Classify's verdict without its fast path.
func classifyByMap(e *Envelope, resp *http.Response, body []byte) Kind {
	f, ok := parseByMap(e, body)
	if !ok {
		return e.bare(resp).Kind
	}
	return e.Codes.Lookup(f.Code).Kind
}

// TestClassifySuccessAllocs: a success reply is classified without an
// allocation; the classifier runs on every reply.
func TestClassifySuccessAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not exact under the race detector")
	}
	resp := &http.Response{StatusCode: http.StatusOK}
	for _, body := range []string{`{"code":0,"message":"ok","trace_id":"t","result":{"x":[1,2]}}`, `{"code":"0"}`} {
		b := []byte(body)
		if got := testing.AllocsPerRun(100, func() {
			if r := scanEnvelope.Classify(resp, b); r.Kind != Success {
				t.Fatalf("Classify(%s) = %v, want Success", body, r.Kind)
			}
		}); got != 0 {
			t.Errorf("Classify(%s): %v allocations, want 0", body, got)
		}
	}
}

// TestParseDataIsACopy: Fields.Data outlives the body it came from.
func TestParseDataIsACopy(t *testing.T) {
	body := []byte(`{"code":0,"result":{"a":1}}`)
	f, _ := scanEnvelope.Parse(body)
	copy(body, bytes.Repeat([]byte{'x'}, len(body)))
	if string(f.Data) != `{"a":1}` {
		t.Errorf("Data = %s after the body was overwritten", f.Data)
	}
}
