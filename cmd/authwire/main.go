// Command authwire is a signing curl for the vendors authwire supports, a local
// sandbox of their simulators, and a demo of the whole stack.
//
//	authwire call VENDOR [flags] PATH [-d BODY]   one authenticated request through the full stack
//	authwire token VENDOR [--format header|json]  print the current token (cached on disk)
//	authwire logout [VENDOR]                      remove cached tokens
//	authwire sign VENDOR [flags]                  print the headers a request would carry
//	authwire sim [--addr 127.0.0.1:8787]          serve the simulators until interrupted
//	authwire demo [--seed N]                      run every vendor through the stack with faults
//	authwire completion bash|zsh|fish|powershell  shell completion
//
// Exit codes: 0 success, 1 a vendor or transport error (one line on stderr), 2 a
// usage error, 130 interrupted (Ctrl-C). See docs/cli.md for every flag and real
// output.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// version is the release this source tree is; the build info adds the module
// version and VCS revision when there are any.
const version = "0.3.0-dev"

// Exit codes, the contract scripts rely on.
const (
	exitOK        = 0
	exitFail      = 1
	exitUsage     = 2
	exitInterrupt = 130 // 128 + SIGINT, what shells report for Ctrl-C
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: tests call it in-process. SIGINT and SIGTERM
// cancel the context (sim shuts down gracefully; call and demo stop early and
// exit 130).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, os.Getenv, stdin, stdout, stderr)
}

// app is what every command needs from the process: its context, environment
// and streams, injected so that tests run the command in-process.
type app struct {
	ctx            context.Context
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
}

// exitError ends a command with a code; its message, if any, has been printed.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// usageError is a mistake the user fixes on the command line or in the
// environment: printed on stderr, exit 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

// runContext is run with its context and environment injected, for tests.
func runContext(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{ctx: ctx, getenv: env, stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		if ee.code == exitFail && ctx.Err() != nil {
			return exitInterrupt
		}
		return ee.code
	}
	// Anything else is cobra's (an unknown command or flag, a missing argument) or
	// ours (a usageError): one line and where to find help, on stderr.
	name := "authwire"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	fmt.Fprintf(stderr, "%s: %s\n", name, oneLine(err.Error()))
	fmt.Fprintf(stderr, "run %q for help\n", name+" -h")
	return exitUsage
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "authwire",
		Short: "signing curl, token tool, simulators and demo for NXCloud, IceKredit and VertexPlay",
		Long: `authwire sends authenticated requests to NXCloud, IceKredit and VertexPlay through the
authwire stack (signing or login, token cache, rate limiter, circuit breaker, retries), prints and
caches their tokens, serves their simulators, and demonstrates the stack under faults.

Credentials come from the environment only (never flags): see "authwire call VENDOR -h".
Exit codes: 0 ok, 1 vendor or transport error, 2 usage error, 130 interrupted.`,
		Version:       versionString(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// A bare "authwire" is a usage error, with the help on stderr.
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(cmd.ErrOrStderr())
			cmd.Help()
			return &exitError{exitUsage}
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	// cobra's own help command prints a note and exits 0 on an unknown topic.
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(_ *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return usagef("unknown help topic %q", strings.Join(args, " "))
			}
			return cmd.Help()
		},
	})
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(a.callCommand(), a.tokenCommand(), a.logoutCommand(), a.signCommand(), a.simCommand(), a.demoCommand())
	return root
}

// versionString is the version constant plus what the build info knows: the
// module version when installed with "go install ...@vX", the VCS revision
// when built from a checkout, and the Go release.
func versionString() string {
	v := "authwire " + version
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if mv := bi.Main.Version; mv != "" && mv != "(devel)" {
		v += " (module " + mv + ")"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		v += " rev " + rev[:min(12, len(rev))] + dirty
	}
	return v + " " + bi.GoVersion
}

// fail prints one line on stderr and returns the exit-1 error.
func (a *app) fail(format string, args ...any) error {
	fmt.Fprintf(a.stderr, "authwire: "+format+"\n", args...)
	return &exitError{exitFail}
}

// oneLine flattens an error message to one line for stderr.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
