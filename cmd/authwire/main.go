// Command authwire is a signing curl for the vendors authwire supports, a local
// sandbox of their simulators, and a demo of the whole stack.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "authwire: coming soon")
}
