package main

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/vertexplay"
)

// signCommand prints what a request would carry, without sending it.
func (a *app) signCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sign VENDOR [flags]",
		Short: "print the headers (and body) a request would carry, without sending it",
		Long: `sign prints the signed headers of a request, one "name: value" per line with the vendor's
spelling, and with --explain the exact string that was hashed. Nothing is sent. IceKredit signs
nothing (it logs in and sends a token_id header): use "authwire token icekredit".`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return usagef("name a vendor: nxcloud or vertexplay") },
	}
	cmd.AddCommand(a.signNXCloudCommand(), a.signVertexPlayCommand(), &cobra.Command{
		Use: "icekredit", Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return usagef("icekredit signs nothing: it logs in and sends a token_id header (see \"authwire token icekredit\")")
		},
	})
	return cmd
}

func (a *app) signNXCloudCommand() *cobra.Command {
	var biz, action, ts, alg, data string
	var explain bool
	cmd := &cobra.Command{
		Use:   "nxcloud --biz-type N --action NAME [--ts MS] [--algorithm md5|sha256] [-d BODY] [--explain]",
		Short: "print NXCloud's signed headers",
		Long:  "Environment:\n" + vendors["nxcloud"].env,
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return signNXCloud(a, biz, action, ts, alg, data, explain)
		},
	}
	f := cmd.Flags()
	f.StringVar(&biz, "biz-type", "", "the bizType header (a number: 1 number check, 2 WhatsApp, 3 SMS, ... 6 OTA)")
	f.StringVar(&action, "action", "", "the action header (e.g. getCode, login, init, send)")
	f.StringVar(&ts, "ts", "", "the ts header, Unix milliseconds (default: now)")
	f.StringVar(&alg, "algorithm", "md5", "signature hash: md5 or sha256")
	f.StringVarP(&data, "data", "d", "", "the exact request body; @FILE reads a file, @- standard input")
	f.BoolVar(&explain, "explain", false, "also print the string that was hashed, the secret replaced by ***")
	return cmd
}

func signNXCloud(a *app, biz, action, ts, alg, data string, explain bool) error {
	stdout := a.stdout
	if biz == "" || action == "" {
		return usagef("--biz-type and --action are required")
	}
	if _, err := strconv.Atoi(biz); err != nil {
		return usagef("--biz-type %q is not a number", biz)
	}
	if alg != string(nxcloud.MD5) && alg != string(nxcloud.SHA256) {
		return usagef("--algorithm %q is not md5 or sha256", alg)
	}
	if ts == "" {
		ts = strconv.FormatInt(time.Now().UnixMilli(), 10)
	} else if _, err := strconv.ParseUint(ts, 10, 63); err != nil {
		return usagef("--ts %q is not Unix milliseconds", ts)
	}
	body, err := readBody(data, a.stdin)
	if err != nil {
		return usagef("%v", err)
	}
	creds, err := requireEnv(a.getenv, envNXKey, envNXSecret)
	if err != nil {
		return usagef("%v", err)
	}
	h := nxcloud.Headers{AccessKey: creds[0], Action: action, BizType: biz, TS: ts}
	fmt.Fprintf(stdout, "%s: %s\n", nxcloud.HeaderAccessKey, h.AccessKey)
	fmt.Fprintf(stdout, "%s: %s\n", nxcloud.HeaderAction, h.Action)
	fmt.Fprintf(stdout, "%s: %s\n", nxcloud.HeaderBizType, h.BizType)
	fmt.Fprintf(stdout, "%s: %s\n", nxcloud.HeaderTS, h.TS)
	fmt.Fprintf(stdout, "%s: %s\n", nxcloud.HeaderSign, nxcloud.Sign(h, body, creds[1], nxcloud.Algorithm(alg)))
	if alg == string(nxcloud.SHA256) {
		fmt.Fprintf(stdout, "%s: %s\n", nxcloud.HeaderAlgorithm, alg)
	}
	if explain {
		fmt.Fprintf(stdout, "# string hashed with %s (secret replaced by ***):\n%s\n", alg, nxcloud.StringToSign(h, body, "***"))
	}
	return nil
}

func (a *app) signVertexPlayCommand() *cobra.Command {
	var ts, nonce, ivHex, sigv, data string
	var explain bool
	cmd := &cobra.Command{
		Use:   "vertexplay [--ts MS] [--nonce HEX32] [--iv HEX24] [--signature v1|v2] [-d JSON] [--explain]",
		Short: "print VertexPlay's signed headers and encrypted body",
		Long:  "Environment (the Secret KEY is not needed: it is never part of a signature):\n" + vendors["vertexplay"].env,
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return signVertexPlay(a, ts, nonce, ivHex, sigv, data, explain)
		},
	}
	f := cmd.Flags()
	f.StringVar(&ts, "ts", "", "x-timestamp, Unix milliseconds (default: now)")
	f.StringVar(&nonce, "nonce", "", "x-nonce, 32 lowercase hex characters (default: random)")
	f.StringVar(&ivHex, "iv", "", "the AES-GCM IV, 12 bytes as 24 hex characters (default: random; never reuse one for real traffic)")
	f.StringVar(&sigv, "signature", "v2", "signature version: v1 or v2")
	f.StringVarP(&data, "data", "d", "{}", "the plaintext parameters JSON; @FILE reads a file, @- standard input")
	f.BoolVar(&explain, "explain", false, "also print the string that was hashed into x-signature")
	return cmd
}

func signVertexPlay(a *app, ts, nonce, ivHex, sigv, data string, explain bool) error {
	stdout := a.stdout
	ver, err := vertexplay.ParseSignatureVersion(sigv)
	if err != nil {
		return usagef("--signature %q is not v1 or v2", sigv)
	}
	var fixed vertexplay.Fixed
	if ivHex != "" {
		iv, err := hex.DecodeString(ivHex)
		if err != nil || len(iv) != vertexplay.IVSize {
			return usagef("--iv must be %d bytes as %d hex characters", vertexplay.IVSize, 2*vertexplay.IVSize)
		}
		fixed.IV = iv
	}
	if nonce != "" {
		if len(nonce) != 32 {
			return usagef("--nonce must be 32 lowercase hex characters")
		}
		fixed.Nonce = nonce
	}
	if ts != "" {
		if _, err := strconv.ParseUint(ts, 10, 63); err != nil {
			return usagef("--ts %q is not Unix milliseconds", ts)
		}
		fixed.Timestamp = ts
	}
	body, err := readBody(data, a.stdin)
	if err != nil {
		return usagef("%v", err)
	}
	// The Secret KEY only goes into the /v2/auth body, never into a signature:
	// it is not needed here.
	creds, err := requireEnv(a.getenv, envVPAgent, envVPAPIKey)
	if err != nil {
		return usagef("%v", err)
	}
	secret := a.getenv(envVPSecret)
	if secret == "" {
		secret = "unused-for-signing"
	}
	vc, err := vertexplay.NewCredentials(creds[0], creds[1], secret)
	if err != nil {
		return usagef("%s: %v", envVPAPIKey, err)
	}
	signer, err := vertexplay.NewSigner(vertexplay.SignerConfig{Credentials: vc, Version: ver})
	if err != nil {
		return usagef("%v", err)
	}
	s, err := signer.Seal(body, fixed)
	if err != nil {
		return usagef("%v", err)
	}
	fmt.Fprintf(stdout, "%s: %s\n", vertexplay.HeaderAgentID, s.AgentID)
	fmt.Fprintf(stdout, "%s: %s\n", vertexplay.HeaderTimestamp, s.Timestamp)
	fmt.Fprintf(stdout, "%s: %s\n", vertexplay.HeaderNonce, s.Nonce)
	fmt.Fprintf(stdout, "%s: %s\n", vertexplay.HeaderSignature, s.Signature)
	fmt.Fprintf(stdout, "\n%s\n", s.Body)
	if explain {
		what, str := vpSignedString(s.Version, s.AgentID, s.Timestamp, s.Nonce, s.CipherText, s.Body)
		fmt.Fprintf(stdout, "# string hashed with sha256 (%s):\n%s\n", what, str)
	}
	return nil
}
