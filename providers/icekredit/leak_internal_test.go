package icekredit

import (
	"fmt"
	"strings"
	"testing"
)

func TestUnexportedFieldLeak(t *testing.T) {
	c := NewCredentials("acme", "P@ssw0rd!")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		out := fmt.Sprintf(verb, struct{ c Credentials }{c})
		if strings.Contains(out, "8a24367a") || strings.Contains(out, "P@ss") {
			t.Fatalf("%s leaked: %s", verb, out)
		}
	}
}
