package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

// tokenCommand is "authwire token VENDOR": the current token, from the disk
// cache or a fresh login (oauth2l's fetch and header).
func (a *app) tokenCommand() *cobra.Command {
	o := &connOptions{}
	var format string
	cmd := &cobra.Command{
		Use:   "token VENDOR [flags]",
		Short: "print the vendor's current token (cached on disk; logs in when there is none)",
		Long: `token prints the token the vendor's stack would send now: the one cached on disk by an earlier
"authwire call" or "authwire token" if it is still valid, else a fresh one (which is then cached).
--format header prints the header line to send it in; --format json prints
{"vendor","header","value","token"}. NXCloud signs every request and has no token.

Environment: the same as "authwire call VENDOR" (see "authwire call VENDOR -h").`,
		ValidArgs: []string{"icekredit", "vertexplay"},
		Args:      cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, ok := vendors[args[0]]
			switch {
			case !ok:
				return usagef("unknown vendor %q (want icekredit or vertexplay)", args[0])
			case v.tokenHeader == "":
				return usagef("%s signs every request with the access secret: it has no token (see \"authwire sign %s\")", v.name, v.name)
			case format != "token" && format != "header" && format != "json":
				return usagef("--format %q is not token, header or json", format)
			}
			s, err := a.build(o, v, "/", clientSpec{signature: "v2"})
			if err != nil {
				return err
			}
			defer s.Close()
			ctx, cancel := a.ctx, func() {}
			if o.timeout > 0 {
				ctx, cancel = context.WithTimeout(ctx, o.timeout)
			}
			defer cancel()
			t, err := s.TokenSource().TokenContext(ctx)
			if err != nil {
				if a.ctx.Err() != nil {
					return &exitError{exitInterrupt}
				}
				return a.fail("%s", oneLine(errLine(v.name, err)[len("authwire: "):]))
			}
			tok := t.AccessToken
			value := tok
			if v.tokenHeader == "Authorization" {
				value = "Bearer " + tok
			}
			switch format {
			case "header":
				fmt.Fprintf(a.stdout, "%s: %s\n", v.tokenHeader, value)
			case "json":
				b, _ := json.Marshal(map[string]string{"vendor": v.name, "header": v.tokenHeader, "value": value, "token": tok})
				fmt.Fprintf(a.stdout, "%s\n", b)
			default:
				fmt.Fprintln(a.stdout, tok)
			}
			return nil
		},
	}
	o.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.loginURL, "login-url", "", "IceKredit: the login (LOGIN_DOMAIN) base URL (default: $"+envIKLogin+")")
	f.StringVar(&format, "format", "token", "token, header or json")
	cmd.Flags().MarkHidden("verbose")
	return cmd
}

// logoutCommand is "authwire logout [VENDOR]": remove cached tokens (oauth2l's
// reset). The vendor's session is not ended: none of them has a logout call.
func (a *app) logoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:       "logout [VENDOR]",
		Short:     "remove the cached tokens of VENDOR (default: of every vendor)",
		Long:      "logout removes tokens cached on disk by \"authwire call\" and \"authwire token\" ($" + envCacheDir + ", default: the user cache directory + /authwire), for every base URL and account of VENDOR, or of every vendor. The next call logs in again. The vendors have no logout call: a token already issued lives until it expires.",
		ValidArgs: []string{"icekredit", "vertexplay"},
		Args:      cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			vendor := ""
			if len(args) == 1 {
				vendor = args[0]
				if _, ok := vendors[vendor]; !ok {
					return usagef("unknown vendor %q (want nxcloud, icekredit or vertexplay)", vendor)
				}
			}
			dir, err := cacheDir(a.getenv)
			if err != nil {
				return &usageError{err}
			}
			n, err := removeCached(dir, vendor)
			if err != nil {
				return a.fail("logout: %s", oneLine(err.Error()))
			}
			fmt.Fprintf(a.stderr, "authwire: removed %d cached token(s) from %s\n", n, dir)
			return nil
		},
	}
}
