package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// newFlagSet returns a FlagSet that reports errors to the caller instead of
// exiting, with its usage text on out.
func newFlagSet(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed once, by usageErr
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: %s\n\nFlags:\n", synopsis)
		fs.SetOutput(out)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseInterleaved parses flags that may come before or after the positional
// arguments (Go's flag package stops at the first non-flag), returning the
// positionals in order. Everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse consumed a "--" if it was the stopping point: then the rest
		// are all positional.
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// readBody resolves -d: "@file" reads the file ("@-" reads stdin), anything
// else is the body itself.
func readBody(d string, stdin io.Reader) ([]byte, error) {
	if !strings.HasPrefix(d, "@") {
		return []byte(d), nil
	}
	name := d[1:]
	if name == "-" {
		if stdin == nil {
			return nil, errors.New("-d @-: no standard input")
		}
		return io.ReadAll(stdin)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("-d %s: %w", d, err)
	}
	return b, nil
}

// requireEnv returns the values of the named environment variables, or an error
// naming every missing one.
func requireEnv(getenv func(string) string, names ...string) ([]string, error) {
	vals := make([]string, len(names))
	var missing []string
	for i, n := range names {
		vals[i] = getenv(n)
		if vals[i] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing credential: set %s", strings.Join(missing, " and "))
	}
	return vals, nil
}
