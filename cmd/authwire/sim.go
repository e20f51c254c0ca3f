package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/authwire/authwire/providers/icekredit"
	"github.com/authwire/authwire/providers/icekredit/icekredittest"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/nxcloud/nxcloudtest"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/providers/vertexplay/vertexplaytest"
)

// The path prefixes under which "authwire sim" serves each simulator on its one
// listener. IceKredit's two hosts (LOGIN_DOMAIN and SERVICE_DOMAIN) are two
// prefixes on the same simulator.
const (
	prefixNX      = "/nxcloud"
	prefixIKLogin = "/icekredit/login"
	prefixIKAPI   = "/icekredit/api"
	prefixVP      = "/vertexplay"
)

// simCommand serves the three simulators until the context ends (SIGINT,
// SIGTERM), then shuts down gracefully: Ctrl-C is how it is stopped, exit 0.
func (a *app) simCommand() *cobra.Command {
	var addr string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "sim [--addr 127.0.0.1:8787] [--quiet]",
		Short: "serve the NXCloud, IceKredit and VertexPlay simulators until interrupted",
		Long: `sim serves the three simulators on one listener, each under a path prefix, and prints the
export lines "authwire call" reads. Requests are logged on stderr. Ctrl-C stops it (exit 0).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if code := cmdSim(a.ctx, addr, quiet, a.stdout, a.stderr); code != exitOK {
				return &exitError{code}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8787", "listen address (port 0 picks a free port)")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "do not log requests on stderr")
	return cmd
}

func cmdSim(ctx context.Context, addr string, quiet bool, stdout, stderr io.Writer) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "authwire: sim: %s\n", oneLine(err.Error()))
		return exitFail
	}
	nx := nxcloudtest.New(nxcloudtest.Config{})
	ik := icekredittest.New(icekredittest.Config{})
	// The sandbox takes both signature versions: the spec makes v1 a client
	// option, and clients other than ours (v1 or v2) should work against it.
	vp := vertexplaytest.New(vertexplaytest.Config{Signatures: []vertexplay.SignatureVersion{vertexplay.SignatureV2, vertexplay.SignatureV1}})
	mux := http.NewServeMux()
	mux.Handle(prefixNX+"/", http.StripPrefix(prefixNX, nx))
	mux.Handle(prefixIKLogin+"/", http.StripPrefix(prefixIKLogin, ik))
	mux.Handle(prefixIKAPI+"/", http.StripPrefix(prefixIKAPI, ik))
	mux.Handle(prefixVP+"/", http.StripPrefix(prefixVP, vp))
	root := "http://" + ln.Addr().String()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "authwire simulators: %s%s %s%s %s%s %s%s\n", root, prefixNX, root, prefixIKLogin, root, prefixIKAPI, root, prefixVP)
	})
	var h http.Handler = mux
	if !quiet {
		h = logRequests(mux, stderr)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}

	printSim(stdout, root)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "authwire: sim: %s\n", oneLine(err.Error()))
		return exitFail
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	<-errc
	if err != nil {
		fmt.Fprintf(stderr, "authwire: sim: shutdown: %s\n", oneLine(err.Error()))
		return exitFail
	}
	fmt.Fprintln(stderr, "authwire sim: stopped")
	return exitOK
}

// printSim prints each vendor's URLs and credentials as shell lines that
// "authwire call" reads, plus a ready-to-run call.
func printSim(w io.Writer, root string) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintf(bw, "authwire sim: NXCloud, IceKredit and VertexPlay simulators on %s (Ctrl-C to stop)\n", root)
	fmt.Fprintf(bw, "# paste the export lines into a shell, then run the call below them\n\n")
	fmt.Fprintf(bw, "# NXCloud (--base-url %s%s)\n", root, prefixNX)
	export(bw, envNXBase, root+prefixNX)
	export(bw, envNXKey, nxcloudtest.AccessKey)
	export(bw, envNXSecret, nxcloudtest.AccessSecret)
	fmt.Fprintf(bw, "#   authwire call nxcloud %s -d '{\"phone_number\":\"+8613800138000\",\"method\":\"sms\"}'\n\n", nxcloud.PathGetCode)
	fmt.Fprintf(bw, "# IceKredit (--base-url %s%s --login-url %s%s)\n", root, prefixIKAPI, root, prefixIKLogin)
	export(bw, envIKBase, root+prefixIKAPI)
	export(bw, envIKLogin, root+prefixIKLogin)
	export(bw, envIKMerchant, icekredittest.MerchantName)
	export(bw, envIKPassword, icekredittest.Password)
	fmt.Fprintf(bw, "#   authwire call icekredit %s -d '{\"ID\":\"32500000000004\",\"mobile\":\"09012345678\",\"equipment_sn\":\"eq-1\",\"sn\":\"sn-1\",\"borrow_count\":0}'\n\n", icekredit.PathNigeriaAutoDecision)
	fmt.Fprintf(bw, "# VertexPlay (--base-url %s%s)\n", root, prefixVP)
	export(bw, envVPBase, root+prefixVP)
	export(bw, envVPAgent, vertexplaytest.AgentID)
	export(bw, envVPAPIKey, vertexplaytest.APIKey)
	export(bw, envVPSecret, vertexplaytest.SecretKey)
	fmt.Fprintf(bw, "#   authwire call vertexplay %s\n", vertexplay.PathGames)
}

// export writes a POSIX shell export line, single-quoted so that characters such
// as ! and $ in test passwords survive.
func export(w io.Writer, name, value string) {
	fmt.Fprintf(w, "export %s='%s'\n", name, strings.ReplaceAll(value, "'", `'\''`))
}

// logRequests logs one line per request on out: method, path, status, duration.
func logRequests(h http.Handler, out io.Writer) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		status := fmt.Sprint(rec.status)
		switch {
		case rec.hijacked:
			status = "connection dropped"
		case rec.status == 0:
			status = "200"
		}
		mu.Lock()
		fmt.Fprintf(out, "sim: %s %s -> %s (%s)\n", r.Method, r.URL.Path, status, time.Since(start).Round(time.Microsecond))
		mu.Unlock()
	})
}

// statusWriter records the status; it passes Hijack through so the simulators
// can still drop connections.
type statusWriter struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijack not supported")
	}
	s.hijacked = true
	return hj.Hijack()
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
