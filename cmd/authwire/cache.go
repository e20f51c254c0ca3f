package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/tokensource"
)

// envCacheDir overrides where tokens are cached (default: the user cache
// directory + "/authwire").
const envCacheDir = "AUTHWIRE_CACHE_DIR"

// cacheSalt separates this cache's keys from any other use of the same secret.
var cacheSalt = []byte("authwire cli token cache v1")

// cacheDir returns the directory of the token cache.
func cacheDir(getenv func(string) string) (string, error) {
	if d := getenv(envCacheDir); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set $%s or use --no-cache): %w", envCacheDir, err)
	}
	return filepath.Join(d, "authwire"), nil
}

// diskCache is a tokensource.Store (and Extender) in one file per vendor,
// origin and credential, sealed with AES-GCM under a key derived (HKDF-SHA256)
// from the credential's own secret: a copy of the file without the secret opens
// nothing.
// The file name is an HMAC under another key derived from the same secret, so
// it does not reveal which account it belongs to either.
type diskCache struct {
	path string
	aead cipher.AEAD
}

// newDiskCache returns the cache of vendor at origin for the account identity
// (merchant name, agent id), keyed by secret (password, Secret KEY).
func newDiskCache(dir, vendor, origin, identity string, secret []byte) (*diskCache, error) {
	info := vendor + "\x00" + origin + "\x00" + identity
	sealKey, err := hkdf.Key(sha256.New, secret, cacheSalt, "seal\x00"+info, 32)
	if err != nil {
		return nil, err
	}
	nameKey, err := hkdf.Key(sha256.New, secret, cacheSalt, "name\x00"+info, 32)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, nameKey)
	m.Write([]byte(info))
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &diskCache{path: filepath.Join(dir, vendor+"-"+hex.EncodeToString(m.Sum(nil)[:16])+".token"), aead: aead}, nil
}

// cached is what is sealed: the tokensource key it was saved under, and the token.
type cached struct {
	Key    string    `json:"key"`
	Token  string    `json:"token"`
	Type   string    `json:"type,omitempty"`
	Expiry time.Time `json:"expiry"`
}

// Load implements tokensource.Store. A file that cannot be read or opened is a
// miss: the caller logs in and Save replaces it.
func (d *diskCache) Load(_ context.Context, key string) (*oauth2.Token, error) {
	c, ok := d.read()
	if !ok || c.Key != key || (!c.Expiry.IsZero() && time.Now().After(c.Expiry)) {
		return nil, nil
	}
	return &oauth2.Token{AccessToken: c.Token, TokenType: c.Type, Expiry: c.Expiry}, nil
}

func (d *diskCache) read() (cached, bool) {
	var c cached
	b, err := os.ReadFile(d.path)
	if err != nil || len(b) < d.aead.NonceSize() {
		return c, false
	}
	nonce, sealed := b[:d.aead.NonceSize()], b[d.aead.NonceSize():]
	plain, err := d.aead.Open(nil, nonce, sealed, []byte(filepath.Base(d.path)))
	if err != nil || json.Unmarshal(plain, &c) != nil {
		return c, false
	}
	return c, true
}

// Save implements tokensource.Store: the file is written whole under a temporary
// name (mode 0600) and renamed, so a reader never sees half a file.
func (d *diskCache) Save(_ context.Context, key string, tok *oauth2.Token) error {
	plain, err := json.Marshal(cached{Key: key, Token: tok.AccessToken, Type: tok.TokenType, Expiry: tok.Expiry})
	if err != nil {
		return err
	}
	nonce := make([]byte, d.aead.NonceSize())
	rand.Read(nonce)
	out := d.aead.Seal(nonce, nonce, plain, []byte(filepath.Base(d.path)))
	dir := filepath.Dir(d.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*") // created 0600
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename, a no-op
	if _, err := f.Write(out); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), d.path)
}

// Delete implements tokensource.Store: the file goes only if it still holds the
// rejected token (another process may have saved a fresh one).
func (d *diskCache) Delete(_ context.Context, key string, rejected *oauth2.Token) error {
	if c, ok := d.read(); ok && rejected != nil && c.Key == key && c.Token == rejected.AccessToken {
		return d.remove()
	}
	return nil
}

// Extend implements tokensource.Extender: a sliding token's new expiry is written
// only while the file still holds that token (another process may have saved a
// fresh one).
func (d *diskCache) Extend(ctx context.Context, key string, tok *oauth2.Token) error {
	if c, ok := d.read(); ok && tok != nil && c.Key == key && c.Token == tok.AccessToken && tokensource.LaterExpiry(tok.Expiry, c.Expiry) {
		return d.Save(ctx, key, tok)
	}
	return nil
}

func (d *diskCache) remove() error {
	if err := os.Remove(d.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// removeCached removes every cached token of vendor ("" for all vendors) in
// dir, and returns how many there were.
func removeCached(dir, vendor string) (int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".token") || (vendor != "" && !strings.HasPrefix(name, vendor+"-")) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, err
		}
		n++
	}
	return n, nil
}
