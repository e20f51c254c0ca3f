// Command authwire is a signing curl for the vendors authwire supports, a local
// sandbox of their simulators, and a demo of the whole stack.
//
//	authwire demo                                    run every vendor through the stack with faults, print a report
//	authwire sim [--addr 127.0.0.1:8787]             serve the simulators until interrupted
//	authwire call VENDOR [flags] PATH [-d BODY]      one authenticated request through the full stack
//	authwire sign VENDOR [flags]                     print the headers a request would carry
//
// Exit codes: 0 success, 1 a vendor or transport error (one line on stderr), 2 a
// usage error. See docs/cli.md for every flag and real output.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes, the contract scripts rely on.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: tests call it in-process. SIGINT and SIGTERM
// cancel the context (sim shuts down gracefully; call and demo stop early).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, os.Getenv, stdin, stdout, stderr)
}

const usageText = `authwire — signing curl, simulators and demo for NXCloud, IceKredit and VertexPlay

Usage:
  authwire demo                                   drive every vendor through the full stack with faults; report
  authwire sim [--addr 127.0.0.1:8787]            serve the simulators until interrupted
  authwire call nxcloud|icekredit|vertexplay [flags] PATH [-d BODY]
                                                  one authenticated request through the full stack
  authwire sign nxcloud|vertexplay [flags]        print the headers (and body) a request would carry

Run "authwire COMMAND -h" for a command's flags. Exit codes: 0 ok, 1 vendor/transport error, 2 usage error.
`

// runContext is run with its context and environment injected, for tests.
func runContext(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	switch args[0] {
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr, defaultDemo)
	case "sim":
		return cmdSim(ctx, args[1:], stdout, stderr)
	case "call":
		return cmdCall(ctx, args[1:], env, stdin, stdout, stderr)
	case "sign":
		return cmdSign(args[1:], env, stdin, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	return usageErr(stderr, "unknown command %q (want demo, sim, call or sign)", args[0])
}

// usageErr prints a one-line usage error and returns exitUsage.
func usageErr(stderr io.Writer, format string, a ...any) int {
	fmt.Fprintf(stderr, "authwire: "+format+"\n", a...)
	fmt.Fprintln(stderr, `run "authwire -h" for help`)
	return exitUsage
}

// errHelp is returned by parse when -h was asked for; the caller exits 0.
var errHelp = errors.New("help requested")

// oneLine flattens an error message to one line for stderr.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
