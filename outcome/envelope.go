package outcome

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// Envelope is a [Classifier] for vendors that wrap every reply in a JSON object
// carrying a code, a message and often a trace id, such as
//
//	{"code": 2206, "msg": "too frequent", "trace_id": "t-1", "data": {...}}
//
// It is data, not code: the names of the fields and the code table. Its
// [Envelope.Classify] decides by the body's code whatever the HTTP status (a 401
// or a 429 carrying a "too frequent" code is rate-limited), except for the
// statuses listed in Status; a reply without a code falls back to [ByStatus]. Every
// failure's Result.Err is an [*Error].
type Envelope struct {
	// Vendor names the vendor in errors ("acme").
	Vendor string
	// CodeField is the name of the code field ("code"). Required. The code may
	// be a JSON string, a number or a numeric string: 2206, "2206" and 2206.0 all
	// read as "2206". A missing, null or empty code means "not an envelope".
	CodeField string
	// MessageFields are the names of the message field, first non-empty wins
	// ("message", "msg").
	MessageFields []string
	// TraceField is the name of the vendor's trace id field ("trace_id"); empty
	// when the vendor has none.
	TraceField string
	// DataField is the name of the payload field [Envelope.Decode] reads; empty
	// means "data".
	DataField string
	// Codes is the code table; its Success is the success code and its
	// RateLimitAfter the delay hint of a rate-limited code without Retry-After.
	Codes Table[string]
	// Status lists HTTP statuses that decide whatever the body says (say, 401 is
	// TokenRejected for a vendor that documents it so); the body's code and
	// message still fill the error.
	Status map[int]Kind
	// AllowBare accepts a 2xx reply without an envelope as a success (endpoints
	// that return raw data). By default such a reply is Unknown: the vendor
	// documents an envelope on every reply, so the operation may have run but its
	// answer cannot be read.
	AllowBare bool
}

// Fields are the parts of an envelope [Envelope.Parse] found.
type Fields struct {
	// Code is the code as text ("2206").
	Code string
	// Message is the first non-empty message field.
	Message string
	// TraceID is the trace id, if any.
	TraceID string
	// Data is the raw payload field; nil when absent or null.
	Data json.RawMessage
}

// Parse reads body as an envelope. It reports false when body is not a JSON object
// or carries no code.
func (e *Envelope) Parse(body []byte) (Fields, bool) {
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

// Decode stores the payload field of body in out (a pointer, as for
// json.Unmarshal). An absent or null payload leaves out untouched.
func (e *Envelope) Decode(body []byte, out any) error {
	f, ok := e.Parse(body)
	if !ok {
		return fmt.Errorf("%s: reply has no %s", e.Vendor, e.CodeField)
	}
	if out == nil || f.Data == nil {
		return nil
	}
	if err := json.Unmarshal(f.Data, out); err != nil {
		if f.TraceID != "" {
			return fmt.Errorf("%s: decode reply (%s %s): %w", e.Vendor, e.traceLabel(), f.TraceID, err)
		}
		return fmt.Errorf("%s: decode reply: %w", e.Vendor, err)
	}
	return nil
}

// Classify implements [Classifier].
func (e *Envelope) Classify(resp *http.Response, body []byte) Result {
	f, ok := e.Parse(body)
	if k, fixed := e.Status[resp.StatusCode]; fixed {
		err := e.newError(resp, f, Rule{Kind: k, Meaning: http.StatusText(resp.StatusCode)})
		if !ok {
			err.Code = ""
		}
		return e.result(resp, k, err)
	}
	if !ok {
		return e.bare(resp)
	}
	rule := e.Codes.Lookup(f.Code)
	if rule.Kind == Success {
		return Result{Kind: Success}
	}
	return e.result(resp, rule.Kind, e.newError(resp, f, rule))
}

func (e *Envelope) result(resp *http.Response, k Kind, err *Error) Result {
	r := Result{Kind: k, Err: err}
	if k == Success {
		r.Err = nil
	}
	if k == RateLimited {
		r.After = RetryAfter(resp)
		if r.After == 0 {
			r.After = e.Codes.RateLimitAfter
		}
	}
	return r
}

func (e *Envelope) newError(resp *http.Response, f Fields, rule Rule) *Error {
	msg := f.Message
	if msg == "" {
		msg = rule.Meaning
	}
	return &Error{
		Vendor: e.Vendor, Op: pathOf(resp), Code: f.Code, Message: msg, HTTPStatus: resp.StatusCode,
		Kind: rule.Kind, TraceID: f.TraceID, TraceLabel: e.traceLabel(), Hint: rule.Hint,
	}
}

// bare classifies a reply without an envelope by its status.
func (e *Envelope) bare(resp *http.Response) Result {
	r := ByStatus(resp, nil)
	if r.Kind == Success {
		if resp.StatusCode >= 300 || e.AllowBare {
			return r
		}
		r.Kind = Unknown
		r.Err = &Error{Vendor: e.Vendor, Op: pathOf(resp), Message: "reply has no " + e.CodeField,
			HTTPStatus: resp.StatusCode, Kind: Unknown, TraceLabel: e.traceLabel()}
		return r
	}
	msg := http.StatusText(resp.StatusCode)
	if _, plain := r.Err.(*ResponseError); !plain && r.Err != nil {
		msg = r.Err.Error() // a richer status verdict: keep what it says
	}
	r.Err = &Error{Vendor: e.Vendor, Op: pathOf(resp), Message: msg, HTTPStatus: resp.StatusCode,
		Kind: r.Kind, TraceLabel: e.traceLabel(), Err: r.Err}
	return r
}

func (e *Envelope) traceLabel() string { return e.TraceField }

func pathOf(resp *http.Response) string {
	if resp.Request != nil && resp.Request.URL != nil {
		return resp.Request.URL.Path
	}
	return ""
}

// codeText renders a JSON code as text: a string as is (trimmed), an integral
// number without exponent or fraction; anything else (null, "", an object) is no
// code.
func codeText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		s = strings.TrimSpace(s)
		return s, s != ""
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		s := string(raw)
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			return s, true
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return "", false
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return strconv.FormatInt(int64(f), 10), true
		}
		return s, true
	}
	return "", false
}

// stringField reads a JSON string, or renders a number as text (some vendors send
// trace ids as numbers); anything else is "".
func stringField(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// StringCodes converts a code table keyed by another type (the integer codes of a
// vendor's documentation) to the string-keyed table an [Envelope] reads, rendering
// each code with fmt.Sprint.
func StringCodes[C comparable](t Table[C]) Table[string] {
	out := Table[string]{
		Codes:          make(map[string]Rule, len(t.Codes)),
		Success:        fmt.Sprint(t.Success),
		Undocumented:   t.Undocumented,
		RateLimitAfter: t.RateLimitAfter,
	}
	for c, r := range t.Codes {
		out.Codes[fmt.Sprint(c)] = r
	}
	return out
}
