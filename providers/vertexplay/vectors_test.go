package vertexplay_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/authwire/authwire/providers/vertexplay"
)

// The spec's binding test vectors.
const (
	vecAPIKey   = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	vecAgent    = "integratorNBTest01"
	vecSecret   = "examplesecret=="
	vecPlain    = `{"agentId":"integratorNBTest01","secret":"examplesecret=="}`
	vecCipher   = "AAECAwQFBgcICQoLtEv6HZIqrC1hTe3N6bWbTw==bTrUUSUnuf+tGVXeWLsQSglHxgqUdjXdbUcyuBTTCBvAt9AJkIqlBaB0g/mN1taven7Qb+6Drg4YDds="
	vecTS       = "1769745532582"
	vecNonce    = "4ff08bc2a45c6b38068dbcd24296a25b"
	vecSigV2    = "afede078f3d327c9285dc9176da021e0178cfa20188970c8ba90959ccd8ab23e"
	vecSigV1    = "d191efa0635f54d6506b45071862d4c66ddaeec9855fa57aa0c84a4ebfea7729"
	vecIVHex    = "000102030405060708090a0b"
	vecWireBody = `{"cipherText":"` + vecCipher + `"}`
)

func vecKey(t *testing.T) []byte {
	t.Helper()
	k, err := vertexplay.HexKey(vecAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func vecIV() []byte { b, _ := hex.DecodeString(vecIVHex); return b }

func TestEncryptVector(t *testing.T) {
	got, err := vertexplay.Encrypt(vecKey(t), vecIV(), []byte(vecPlain))
	if err != nil {
		t.Fatal(err)
	}
	if got != vecCipher {
		t.Fatalf("cipherText\n got %s\nwant %s", got, vecCipher)
	}
	if string(vertexplay.WireBody(got)) != vecWireBody {
		t.Fatalf("wire body %s", vertexplay.WireBody(got))
	}
}

func TestDecryptVector(t *testing.T) {
	got, err := vertexplay.Decrypt(vecKey(t), vecCipher)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != vecPlain {
		t.Fatalf("plaintext %s", got)
	}
}

func TestSignatureVectors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version vertexplay.SignatureVersion
		want    string
	}{
		{"v2", vertexplay.SignatureV2, vecSigV2},
		{"v1", vertexplay.SignatureV1, vecSigV1},
		{"zero value is v2", 0, vecSigV2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := vertexplay.Signature(tc.version, vecAgent, vecTS, vecNonce, vecCipher, []byte(vecWireBody))
			if got != tc.want {
				t.Fatalf("signature %s, want %s", got, tc.want)
			}
		})
	}
}

// TestSealVector is what `authwire sign vertexplay --iv --nonce --ts` does.
func TestSealVector(t *testing.T) {
	creds, err := vertexplay.NewCredentials(vecAgent, vecAPIKey, vecSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		version vertexplay.SignatureVersion
		want    string
	}{{vertexplay.SignatureV2, vecSigV2}, {vertexplay.SignatureV1, vecSigV1}} {
		t.Run(tc.version.String(), func(t *testing.T) {
			s, err := vertexplay.NewSigner(vertexplay.SignerConfig{Credentials: creds, Version: tc.version})
			if err != nil {
				t.Fatal(err)
			}
			sealed, err := s.Seal([]byte(vecPlain), vertexplay.Fixed{IV: vecIV(), Nonce: vecNonce, Timestamp: vecTS})
			if err != nil {
				t.Fatal(err)
			}
			if sealed.CipherText != vecCipher || string(sealed.Body) != vecWireBody || sealed.Signature != tc.want {
				t.Fatalf("sealed = %+v", sealed)
			}
			h := sealed.Header()
			for k, v := range map[string]string{"x-agentid": vecAgent, "x-timestamp": vecTS, "x-nonce": vecNonce, "x-signature": tc.want, "content-type": "application/json"} {
				if h.Get(k) != v {
					t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
				}
			}
		})
	}
}

func TestSealFreshPerCall(t *testing.T) {
	creds, _ := vertexplay.NewCredentials(vecAgent, vecAPIKey, vecSecret)
	s, err := vertexplay.NewSigner(vertexplay.SignerConfig{Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.Seal([]byte(vecPlain), vertexplay.Fixed{})
	b, _ := s.Seal([]byte(vecPlain), vertexplay.Fixed{})
	if a.Nonce == b.Nonce || a.CipherText[:16] == b.CipherText[:16] || a.Signature == b.Signature {
		t.Fatal("two seals share a nonce, IV or signature")
	}
	if len(a.Nonce) != 32 || a.Nonce != string(bytes.ToLower([]byte(a.Nonce))) {
		t.Fatalf("nonce %q is not 32 lowercase hex", a.Nonce)
	}
	plain, err := vertexplay.Decrypt(vecKey(t), a.CipherText)
	if err != nil || string(plain) != vecPlain {
		t.Fatalf("round trip: %q, %v", plain, err)
	}
	empty, _ := s.Seal(nil, vertexplay.Fixed{})
	if plain, _ := vertexplay.Decrypt(vecKey(t), empty.CipherText); string(plain) != "{}" {
		t.Fatalf("empty params sent as %q, want {}", plain)
	}
}

func TestCryptoBadInput(t *testing.T) {
	key := vecKey(t)
	for _, tc := range []struct {
		name string
		ct   string
	}{
		{"empty", ""},
		{"short", "AAECAwQFBgcICQoL"},
		{"bad base64", "!!!!!!!!!!!!!!!!" + vecCipher[16:]},
		{"tampered tag", vecCipher[:20] + "A" + vecCipher[21:]},
		{"tampered data", vecCipher[:len(vecCipher)-6] + "B" + vecCipher[len(vecCipher)-5:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := vertexplay.Decrypt(key, tc.ct); !errors.Is(err, vertexplay.ErrCipherText) {
				t.Fatalf("err = %v, want ErrCipherText", err)
			}
		})
	}
	if _, err := vertexplay.Encrypt(key[:16], vecIV(), nil); err == nil {
		t.Error("Encrypt accepted a 16-byte key")
	}
	if _, err := vertexplay.Encrypt(key, vecIV()[:8], nil); err == nil {
		t.Error("Encrypt accepted an 8-byte IV")
	}
	creds, _ := vertexplay.NewCredentials(vecAgent, vecAPIKey, vecSecret)
	s, _ := vertexplay.NewSigner(vertexplay.SignerConfig{Credentials: creds})
	for _, f := range []vertexplay.Fixed{{Nonce: "XYZ"}, {Timestamp: "-1"}, {Timestamp: "12a"}, {IV: []byte{1, 2}}} {
		if _, err := s.Seal([]byte("{}"), f); err == nil {
			t.Errorf("Seal accepted %+v", f)
		}
	}
}

func TestNewCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, agent, key, secret string
		ok                       bool
	}{
		{"valid", vecAgent, vecAPIKey, vecSecret, true},
		{"whitespace trimmed", vecAgent, "  " + vecAPIKey + "\n", vecSecret, true},
		{"upper case", vecAgent, "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF", vecSecret, true},
		{"63 chars", vecAgent, vecAPIKey[1:], vecSecret, false},
		{"not hex", vecAgent, "zz" + vecAPIKey[2:], vecSecret, false},
		{"no agent", "", vecAPIKey, vecSecret, false},
		{"no secret", vecAgent, vecAPIKey, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := vertexplay.NewCredentials(tc.agent, tc.key, tc.secret)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
			if err != nil && bytes.Contains([]byte(err.Error()), []byte(tc.key[2:20])) {
				t.Fatalf("error echoes the key: %v", err)
			}
		})
	}
}

func TestParseSignatureVersion(t *testing.T) {
	for in, want := range map[string]vertexplay.SignatureVersion{"v1": vertexplay.SignatureV1, "1": vertexplay.SignatureV1, "V2": vertexplay.SignatureV2, "": vertexplay.SignatureV2} {
		if got, err := vertexplay.ParseSignatureVersion(in); err != nil || got != want {
			t.Errorf("%q: %v, %v", in, got, err)
		}
	}
	if _, err := vertexplay.ParseSignatureVersion("v3"); err == nil {
		t.Error("v3 accepted")
	}
}
