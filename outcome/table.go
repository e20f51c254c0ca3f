package outcome

import "time"

// Rule is how a provider's code table describes one vendor code.
type Rule struct {
	Kind Kind
	// Meaning is the vendor's documented meaning, used when the reply's own
	// message is empty.
	Meaning string
	// Hint is advice for the human reading the error ("check the clock: the
	// timestamp window is 60 s"). Never a secret.
	Hint string
}

// Table is a provider's code table: data, not code, so that reviewing a vendor's
// behaviour means reading one map.
type Table[C comparable] struct {
	// Codes maps each documented vendor code to its rule.
	Codes map[C]Rule
	// Success is the code that means success.
	Success C
	// Undocumented is the kind of a code the table does not list. Transient is the
	// safe default: it is retried only for idempotent requests.
	Undocumented Kind
	// RateLimitAfter is the delay hint for a rate-limited code without Retry-After.
	RateLimitAfter time.Duration
}

// Lookup returns the rule for code; an unlisted code gets the Undocumented kind.
func (t *Table[C]) Lookup(code C) Rule {
	if code == t.Success {
		return Rule{Kind: Success}
	}
	if r, ok := t.Codes[code]; ok {
		return r
	}
	return Rule{Kind: t.Undocumented, Meaning: "undocumented code"}
}
