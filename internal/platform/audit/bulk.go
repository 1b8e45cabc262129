package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"strconv"
	"unicode/utf8"

	"steward/internal/platform/db"
)

// Chain continues the hash chain for a bulk load that writes the audit entries
// of past events straight into audit_log (the generator, an import), in one
// transaction: it locks the chain's head, hands out the following sequence
// numbers and hashes, and advances the head on Close. Rows linked through it
// verify exactly as rows written by Trail.Record do.
type Chain struct {
	tx   *db.Tx
	seq  int64
	prev string
	h    hash.Hash
	buf  []byte
	sum  [sha256.Size]byte
}

// OpenChain locks the chain's head in tx and returns a chain that continues from it.
func OpenChain(ctx context.Context, tx *db.Tx) (*Chain, error) {
	c := &Chain{tx: tx, h: sha256.New()}
	if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`+tx.DB().ForUpdate()).Scan(&c.seq, &c.prev); err != nil {
		return nil, fmt.Errorf("lock audit head: %w", err)
	}
	return c, nil
}

// Link makes r the chain's next row: it sets r's Seq, PrevHash and Hash.
func (c *Chain) Link(r *Row) {
	c.seq++
	r.Seq, r.PrevHash = c.seq, c.prev
	b := appendIntField(c.buf[:0], r.Seq)
	b = appendIntField(b, r.At)
	b = appendField(b, r.ActorType)
	b = appendIntField(b, r.ActorID)
	for _, s := range [...]string{r.ActorName, r.Action, r.ObjectType, r.ObjectID, r.Changes, r.RequestID, r.ClientAddr, r.PrevHash} {
		b = appendField(b, s)
	}
	c.buf = b
	c.h.Reset()
	c.h.Write(b)
	r.Hash = hex.EncodeToString(c.h.Sum(c.sum[:0]))
	c.prev = r.Hash
}

// appendField appends s length-prefixed, as computeHash encodes each field.
func appendField(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	b = append(b, s...)
	return append(b, ';')
}

// appendIntField appends n in decimal, length-prefixed.
func appendIntField(b []byte, n int64) []byte {
	var num [20]byte
	d := strconv.AppendInt(num[:0], n, 10)
	b = strconv.AppendInt(b, int64(len(d)), 10)
	b = append(b, ':')
	b = append(b, d...)
	return append(b, ';')
}

// Seq is the sequence number of the last row linked (or of the head when none was).
func (c *Chain) Seq() int64 { return c.seq }

// Close advances the chain's head to the last row linked, in the transaction.
// The rows themselves must be in audit_log before the transaction commits.
func (c *Chain) Close(ctx context.Context) error {
	if _, err := c.tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, c.seq, c.prev); err != nil {
		return fmt.Errorf("advance audit head: %w", err)
	}
	return nil
}

// AppendChanges appends the JSON of changes to b exactly as Trail.Record
// stores them ("[]" for none), quickly for the values bulk loads carry
// (strings, integers, booleans, nil) and through encoding/json for any other.
func AppendChanges(b []byte, changes []Change) ([]byte, error) {
	b = append(b, '[')
	for i, c := range changes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"field":`...)
		b = appendString(b, c.Field)
		var err error
		if c.Old != nil {
			b = append(b, `,"old":`...)
			if b, err = appendValue(b, c.Old); err != nil {
				return b, err
			}
		}
		if c.New != nil {
			b = append(b, `,"new":`...)
			if b, err = appendValue(b, c.New); err != nil {
				return b, err
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendValue appends the JSON of v as encoding/json writes it.
func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendString(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return b, fmt.Errorf("encode audit changes: %w", err)
	}
	return append(b, j...), nil
}

// appendString appends s as a JSON string the way encoding/json does (HTML
// characters escaped, invalid UTF-8 replaced), taking the quick path for
// plain printable ASCII.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			j, _ := json.Marshal(s) // a string always encodes
			return append(b, j...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
