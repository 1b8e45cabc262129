package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"steward/internal/platform/errs"
)

// Argon2id parameters: OWASP's second recommended set (19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// MinPasswordLength follows the DISA application STIG's 15-character minimum.
const MinPasswordLength = 15

// MaxPasswordLength bounds the work an attacker can ask the hasher to do.
const MaxPasswordLength = 256

// Hasher hashes and checks passwords with argon2id, bounding how many hashes run at
// once so that a burst of logins cannot exhaust memory.
type Hasher struct {
	slots chan struct{}
}

// NewHasher returns a hasher that runs at most n hashes at once (n <= 0: one per CPU).
func NewHasher(n int) *Hasher {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	return &Hasher{slots: make(chan struct{}, n)}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC-encoded argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	h.release()
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify reports whether password matches the encoded hash. An empty or
// malformed hash never matches, but still costs one hash so that timing does not
// reveal whether the account exists.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	var m uint32
	var t uint32
	var p uint8
	var saltB64, keyB64 string
	parts := strings.Split(encoded, "$")
	ok := len(parts) == 6 && parts[1] == "argon2id"
	if ok {
		_, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p)
		ok = err == nil && m > 0 && m <= 1<<20 && t > 0 && t <= 16 && p > 0
		saltB64, keyB64 = parts[4], parts[5]
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(saltB64)
	want, err2 := base64.RawStdEncoding.DecodeString(keyB64)
	if !ok || err1 != nil || err2 != nil || len(want) == 0 {
		m, t, p, salt, want = argonMemory, argonTime, argonThreads, make([]byte, argonSaltLen), nil
		ok = false
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(max(len(want), argonKeyLen)))
	h.release()
	return ok && subtle.ConstantTimeCompare(got, want) == 1, nil
}

// CheckPasswordPolicy returns an Invalid error naming the rule a new password breaks.
func CheckPasswordPolicy(field, password, username string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return errs.Field(field, "the password is not valid UTF-8", nil)
	case n < MinPasswordLength:
		return errs.Field(field, fmt.Sprintf("the password must have at least %d characters", MinPasswordLength), nil)
	case len(password) > MaxPasswordLength:
		return errs.Field(field, fmt.Sprintf("the password must have at most %d bytes", MaxPasswordLength), nil)
	case username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)):
		return errs.Field(field, "the password must not contain the username", nil)
	}
	return nil
}

// RandomPassword returns a random password of 20 characters from an unambiguous alphabet.
func RandomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	r := make([]byte, 20)
	if _, err := rand.Read(r); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(r[i])%len(alphabet)]
	}
	return string(b)
}
