package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/vertexplay"
)

// cmdSign prints what a request would carry, without sending it:
//
//	authwire sign nxcloud --biz-type N --action NAME [--ts MS] [--algorithm md5|sha256] [-d BODY] [--explain]
//	authwire sign vertexplay [--ts MS] [--nonce HEX32] [--iv HEX24] [--signature v1|v2] [-d JSON] [--explain]
func cmdSign(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageErr(stderr, "sign: name a vendor: nxcloud or vertexplay")
	}
	switch args[0] {
	case "nxcloud":
		return signNXCloud(args[1:], getenv, stdin, stdout, stderr)
	case "vertexplay":
		return signVertexPlay(args[1:], getenv, stdin, stdout, stderr)
	case "icekredit":
		return usageErr(stderr, "sign: icekredit signs nothing: it logs in and sends a token_id header (use \"authwire call icekredit\")")
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, "Usage: authwire sign nxcloud|vertexplay [flags]   (authwire sign VENDOR -h for the flags)\n")
		return exitOK
	}
	return usageErr(stderr, "sign: unknown vendor %q (want nxcloud or vertexplay)", args[0])
}

func signNXCloud(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("sign nxcloud", "authwire sign nxcloud --biz-type N --action NAME [--ts MS] [--algorithm md5|sha256] [-d BODY] [--explain]", stdout)
	biz := fs.String("biz-type", "", "the bizType header (a number: 1 number check, 2 WhatsApp, 3 SMS, ... 6 OTA)")
	action := fs.String("action", "", "the action header (e.g. getCode, login, init, send)")
	ts := fs.String("ts", "", "the ts header, Unix milliseconds (default: now)")
	alg := fs.String("algorithm", "md5", "signature hash: md5 or sha256")
	data := fs.String("d", "", "the exact request body; @file reads a file, @- standard input")
	explain := fs.Bool("explain", false, "also print the string that was hashed, the secret replaced by ***")
	pos, err := parseInterleaved(fs, args)
	if err == errHelp {
		return exitOK
	}
	if err != nil {
		return usageErr(stderr, "sign nxcloud: %v", err)
	}
	if len(pos) > 0 {
		return usageErr(stderr, "sign nxcloud: unexpected argument %q", pos[0])
	}
	if *biz == "" || *action == "" {
		return usageErr(stderr, "sign nxcloud: --biz-type and --action are required")
	}
	if _, err := strconv.Atoi(*biz); err != nil {
		return usageErr(stderr, "sign nxcloud: --biz-type %q is not a number", *biz)
	}
	if *alg != string(nxcloud.MD5) && *alg != string(nxcloud.SHA256) {
		return usageErr(stderr, "sign nxcloud: --algorithm %q is not md5 or sha256", *alg)
	}
	if *ts == "" {
		*ts = strconv.FormatInt(time.Now().UnixMilli(), 10)
	} else if _, err := strconv.ParseUint(*ts, 10, 63); err != nil {
		return usageErr(stderr, "sign nxcloud: --ts %q is not Unix milliseconds", *ts)
	}
	body, err := readBody(*data, stdin)
	if err != nil {
		return usageErr(stderr, "sign nxcloud: %v", err)
	}
	creds, err := requireEnv(getenv, envNXKey, envNXSecret)
	if err != nil {
		return usageErr(stderr, "sign nxcloud: %v", err)
	}
	h := nxcloud.Headers{AccessKey: creds[0], Action: *action, BizType: *biz, TS: *ts}
	fmt.Fprintf(stdout, "%s: %s\n", nxcloud.HeaderAccessKey, h.AccessKey)
	fmt.Fprintf(stdout, "%s: %s\n", nxcloud.HeaderAction, h.Action)
	fmt.Fprintf(stdout, "%s: %s\n", nxcloud.HeaderBizType, h.BizType)
	fmt.Fprintf(stdout, "%s: %s\n", nxcloud.HeaderTS, h.TS)
	fmt.Fprintf(stdout, "%s: %s\n", nxcloud.HeaderSign, nxcloud.Sign(h, body, creds[1], nxcloud.Algorithm(*alg)))
	if *alg == string(nxcloud.SHA256) {
		fmt.Fprintf(stdout, "%s: %s\n", nxcloud.HeaderAlgorithm, *alg)
	}
	if *explain {
		fmt.Fprintf(stdout, "# string hashed with %s (secret replaced by ***):\n%s\n", *alg, nxcloud.StringToSign(h, body, "***"))
	}
	return exitOK
}

func signVertexPlay(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("sign vertexplay", "authwire sign vertexplay [--ts MS] [--nonce HEX32] [--iv HEX24] [--signature v1|v2] [-d JSON] [--explain]", stdout)
	ts := fs.String("ts", "", "x-timestamp, Unix milliseconds (default: now)")
	nonce := fs.String("nonce", "", "x-nonce, 32 lowercase hex characters (default: random)")
	ivHex := fs.String("iv", "", "the AES-GCM IV, 12 bytes as 24 hex characters (default: random; never reuse one for real traffic)")
	sigv := fs.String("signature", "v2", "signature version: v1 or v2")
	data := fs.String("d", "{}", "the plaintext parameters JSON; @file reads a file, @- standard input")
	explain := fs.Bool("explain", false, "also print the string that was hashed into x-signature")
	pos, err := parseInterleaved(fs, args)
	if err == errHelp {
		return exitOK
	}
	if err != nil {
		return usageErr(stderr, "sign vertexplay: %v", err)
	}
	if len(pos) > 0 {
		return usageErr(stderr, "sign vertexplay: unexpected argument %q", pos[0])
	}
	ver, err := vertexplay.ParseSignatureVersion(*sigv)
	if err != nil {
		return usageErr(stderr, "sign vertexplay: --signature %q is not v1 or v2", *sigv)
	}
	var fixed vertexplay.Fixed
	if *ivHex != "" {
		iv, err := hex.DecodeString(*ivHex)
		if err != nil || len(iv) != vertexplay.IVSize {
			return usageErr(stderr, "sign vertexplay: --iv must be %d bytes as %d hex characters", vertexplay.IVSize, 2*vertexplay.IVSize)
		}
		fixed.IV = iv
	}
	if *nonce != "" {
		if len(*nonce) != 32 {
			return usageErr(stderr, "sign vertexplay: --nonce must be 32 lowercase hex characters")
		}
		fixed.Nonce = *nonce
	}
	if *ts != "" {
		if _, err := strconv.ParseUint(*ts, 10, 63); err != nil {
			return usageErr(stderr, "sign vertexplay: --ts %q is not Unix milliseconds", *ts)
		}
		fixed.Timestamp = *ts
	}
	body, err := readBody(*data, stdin)
	if err != nil {
		return usageErr(stderr, "sign vertexplay: %v", err)
	}
	// The Secret KEY only goes into the /v2/auth body, never into a signature:
	// it is not needed here.
	creds, err := requireEnv(getenv, envVPAgent, envVPAPIKey)
	if err != nil {
		return usageErr(stderr, "sign vertexplay: %v", err)
	}
	secret := getenv(envVPSecret)
	if secret == "" {
		secret = "unused-for-signing"
	}
	vc, err := vertexplay.NewCredentials(creds[0], creds[1], secret)
	if err != nil {
		return usageErr(stderr, "sign vertexplay: %s: %v", envVPAPIKey, err)
	}
	signer, err := vertexplay.NewSigner(vertexplay.SignerConfig{Credentials: vc, Version: ver})
	if err != nil {
		return usageErr(stderr, "sign vertexplay: %v", err)
	}
	s, err := signer.Seal(body, fixed)
	if err != nil {
		return usageErr(stderr, "sign vertexplay: %v", err)
	}
	fmt.Fprintf(stdout, "%s: %s\n", vertexplay.HeaderAgentID, s.AgentID)
	fmt.Fprintf(stdout, "%s: %s\n", vertexplay.HeaderTimestamp, s.Timestamp)
	fmt.Fprintf(stdout, "%s: %s\n", vertexplay.HeaderNonce, s.Nonce)
	fmt.Fprintf(stdout, "%s: %s\n", vertexplay.HeaderSignature, s.Signature)
	fmt.Fprintf(stdout, "\n%s\n", s.Body)
	if *explain {
		if s.Version == vertexplay.SignatureV1 {
			fmt.Fprintf(stdout, "# string hashed with sha256 (v1: agentId + timestamp + nonce + wire body):\n%s%s%s%s\n", s.AgentID, s.Timestamp, s.Nonce, s.Body)
		} else {
			fmt.Fprintf(stdout, "# string hashed with sha256 (v2: agentId|timestamp|nonce|cipherText):\n%s|%s|%s|%s\n", s.AgentID, s.Timestamp, s.Nonce, s.CipherText)
		}
	}
	return exitOK
}
