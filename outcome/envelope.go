package outcome

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Envelope is a [Classifier] for vendors that wrap every reply in a JSON object
// carrying a code, a message and often a trace id, such as
//
//	{"code": 42900, "msg": "too frequent", "trace_id": "t-1", "data": {...}}
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
	// be a JSON string, a number or a numeric string: 42900, "42900" and 42900.0 all
	// read as "42900". A missing, null or empty code means "not an envelope".
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
	// Code is the code as text ("42900").
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
	f, ok := e.parse(body)
	f.Data = bytes.Clone(f.Data) // the caller may keep it longer than body
	return f, ok
}

// parse is Parse with Data a view into body.
func (e *Envelope) parse(body []byte) (Fields, bool) {
	r, ok := e.scan(body)
	if !ok {
		return Fields{}, false
	}
	return e.fields(&r)
}

// fields renders the raw values scan found.
func (e *Envelope) fields(r *rawFields) (Fields, bool) {
	code, ok := codeText(r.code)
	if !ok {
		return Fields{}, false
	}
	f := Fields{Code: code}
	for i := range e.MessageFields {
		if s := stringField(r.msg(i)); s != "" {
			f.Message = s
			break
		}
	}
	if e.TraceField != "" {
		f.TraceID = stringField(r.trace)
	}
	if len(r.data) > 0 && string(r.data) != "null" {
		f.Data = r.data
	}
	return f, true
}

// rawFields are the raw values of an envelope's fields in one reply: views into
// the body, nothing copied.
type rawFields struct {
	code, trace, data json.RawMessage
	// msgs[i] is MessageFields[i]'s value, more[i-len(msgs)] beyond: an
	// array, not a slice, so that the common case does not allocate.
	msgs [4]json.RawMessage
	more []json.RawMessage
}

// msg returns MessageFields[i]'s value.
func (r *rawFields) msg(i int) json.RawMessage {
	if i < len(r.msgs) {
		return r.msgs[i]
	}
	if i-len(r.msgs) < len(r.more) {
		return r.more[i-len(r.msgs)]
	}
	return nil
}

// setMsg records MessageFields[i]'s value among n message fields.
func (r *rawFields) setMsg(i, n int, v json.RawMessage) {
	if i < len(r.msgs) {
		r.msgs[i] = v
		return
	}
	if r.more == nil {
		r.more = make([]json.RawMessage, n-len(r.msgs))
	}
	r.more[i-len(r.msgs)] = v
}

// scan finds the envelope's fields among the members of body's top-level object
// without building a map of them: a classifier runs on every reply, and a
// success needs nothing but the code. It accepts exactly what json.Unmarshal into
// a map[string]json.RawMessage accepts (a valid JSON object, or null, which has no
// code), and as there, the last of duplicate names wins and names match exactly.
func (e *Envelope) scan(body []byte) (rawFields, bool) {
	if len(body) == 0 || !json.Valid(body) {
		return rawFields{}, false
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return rawFields{}, false // null, or not an object
	}
	var r rawFields
	data := e.DataField
	if data == "" {
		data = "data"
	}
	i = skipSpace(body, i+1)
	for body[i] != '}' {
		// body is valid: a member is "name" : value, then ',' or '}'.
		end := skipValue(body, i)
		name := body[i+1 : end-1]
		i = skipSpace(body, skipSpace(body, end)+1) // past ':'
		end = skipValue(body, i)
		val := json.RawMessage(body[i:end:end])
		i = skipSpace(body, end)
		if body[i] == ',' {
			i = skipSpace(body, i+1)
		}
		key := memberName(name)
		switch {
		case string(key) == e.CodeField:
			r.code = val
		case e.TraceField != "" && string(key) == e.TraceField:
			r.trace = val
		}
		if string(key) == data {
			r.data = val
		}
		for j, m := range e.MessageFields {
			if string(key) == m {
				r.setMsg(j, len(e.MessageFields), val)
			}
		}
	}
	return r, true
}

// memberName is the name of a member as json.Unmarshal reads it; name is the
// text between its quotes: name itself without escapes or non-ASCII bytes (every
// name a vendor envelope uses), else decoded as json.Unmarshal decodes it.
func memberName(name []byte) []byte {
	for _, c := range name {
		if c == '\\' || c >= 0x80 {
			var s string
			b := make([]byte, 0, len(name)+2)
			b = append(append(append(b, '"'), name...), '"')
			json.Unmarshal(b, &s) // valid: scan checked the body
			return []byte(s)
		}
	}
	return name
}

// skipSpace returns the index of the first non-space byte of b at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value starting at b[i]; b is
// valid JSON.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default: // a number, true, false or null
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// skipString returns the index just past the JSON string starting at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// Decode stores the payload field of body in out (a pointer, as for
// json.Unmarshal). An absent or null payload leaves out untouched.
func (e *Envelope) Decode(body []byte, out any) error {
	f, ok := e.parse(body)
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
	r, ok := e.scan(body)
	k, fixed := e.Status[resp.StatusCode]
	if ok && !fixed && e.isSuccess(r.code) {
		return Result{Kind: Success} // the common case reads nothing but the code
	}
	var f Fields
	if ok {
		f, ok = e.fields(&r)
	}
	if fixed {
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

// isSuccess reports whether raw, a code's JSON value, is certainly the success
// code, without allocating: a string without escapes or an integer literal, as
// codeText would render it. Anything else reports false and takes codeText's
// path, which reaches the same verdict.
func (e *Envelope) isSuccess(raw json.RawMessage) bool {
	if len(raw) == 0 || e.Codes.Success == "" {
		return false
	}
	if raw[0] == '"' {
		inner := raw[1 : len(raw)-1]
		if bytes.IndexByte(inner, '\\') >= 0 {
			return false
		}
		return string(bytes.TrimSpace(inner)) == e.Codes.Success
	}
	if len(raw) > 18 {
		return false // might not fit an int64: codeText decides
	}
	for _, c := range raw {
		if (c < '0' || c > '9') && c != '-' {
			return false // a fraction or an exponent: codeText decides
		}
	}
	return string(raw) == e.Codes.Success
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
		s, ok := plainString(raw)
		if !ok && json.Unmarshal(raw, &s) != nil {
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
	if plain, ok := plainString(raw); ok {
		return plain
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

// plainString returns the JSON string raw (quotes included) as text when it needs
// no decoding: no escapes and valid UTF-8 (json.Unmarshal would replace invalid
// bytes). raw comes from a valid document.
func plainString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') >= 0 || !utf8.Valid(inner) {
		return "", false
	}
	return string(inner), true
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
