package outbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// KeySize is the length in bytes of the key that encrypts webhook secrets (AES-256).
const KeySize = 32

// secretPrefix marks a Standard Webhooks secret; receivers' libraries strip it
// and base64-decode the rest to get the HMAC key.
const secretPrefix = "whsec_"

// sealVersion prefixes stored ciphertexts so that the scheme can change later.
const sealVersion = "v1:"

// secretAAD binds ciphertexts to their purpose.
var secretAAD = []byte("steward/webhook-secret")

// newAEAD builds the AES-256-GCM cipher for webhook secrets.
func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("webhook secret key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("webhook secret cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("webhook secret cipher: %w", err)
	}
	return aead, nil
}

// newSecret returns 32 random bytes and their shown-once form, "whsec_" + base64.
func newSecret() (raw []byte, shown string, err error) {
	raw = make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", fmt.Errorf("generate webhook secret: %w", err)
	}
	return raw, secretPrefix + base64.StdEncoding.EncodeToString(raw), nil
}

// seal encrypts a raw secret for the secret_enc column.
func seal(aead cipher.AEAD, raw []byte) (string, error) {
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("generate nonce: %w", err)
	}
	out := aead.Seal(nonce, nonce, raw, secretAAD)
	return sealVersion + base64.StdEncoding.EncodeToString(out), nil
}

// open decrypts a secret_enc value back to the raw secret.
func open(aead cipher.AEAD, stored string) ([]byte, error) {
	enc, ok := strings.CutPrefix(stored, sealVersion)
	if !ok {
		return nil, errors.New("unknown webhook secret format")
	}
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(b) < aead.NonceSize() {
		return nil, errors.New("malformed webhook secret")
	}
	raw, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], secretAAD)
	if err != nil {
		return nil, errors.New("webhook secret does not decrypt under the configured key")
	}
	return raw, nil
}

// sign computes the Standard Webhooks signature header value:
// "v1," + base64(HMAC-SHA256(secret, id + "." + timestamp + "." + body)).
func sign(secret []byte, id string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
