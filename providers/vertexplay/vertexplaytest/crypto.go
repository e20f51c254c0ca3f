package vertexplaytest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"

	"github.com/authwire/authwire/providers/vertexplay"
)

// This is the vendor's scheme written a second time, from the spec, without
// package vertexplay's code: a bug shared by client and simulator would pass
// every loopback test, so they must not share it.

// signature is x-signature per the spec.
func signature(v vertexplay.SignatureVersion, agent, ts, nonce, cipherText string, wireBody []byte) string {
	var in []byte
	if v == vertexplay.SignatureV1 {
		in = append([]byte(agent+ts+nonce), wireBody...)
	} else {
		in = []byte(agent + "|" + ts + "|" + nonce + "|" + cipherText)
	}
	sum := sha256.Sum256(in)
	return hex.EncodeToString(sum[:])
}

// decrypt splits cipherText into base64(IV, 16 chars) + base64(tag, 24 chars) +
// base64(data) and opens it with AES-256-GCM, no additional data.
func decrypt(key []byte, cipherText string) ([]byte, error) {
	if len(key) != 32 {
		return nil, errors.New("bad key")
	}
	if len(cipherText) < 40 {
		return nil, errors.New("short")
	}
	enc := base64.StdEncoding
	iv, err := enc.DecodeString(cipherText[:16])
	if err != nil || len(iv) != 12 {
		return nil, errors.New("bad iv")
	}
	tag, err := enc.DecodeString(cipherText[16:40])
	if err != nil || len(tag) != 16 {
		return nil, errors.New("bad tag")
	}
	data, err := enc.DecodeString(cipherText[40:])
	if err != nil {
		return nil, errors.New("bad data")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return gcm.Open(nil, iv, append(data, tag...), nil)
}
