package web

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"steward/internal/platform/listing"
)

// block is one paragraph or one bulleted list of a reference-model text.
type block struct {
	// Text is a paragraph; Items, when set, make the block a list instead.
	Text  string
	Items []string
}

// blocks splits a reference-model text into paragraphs and lists: each line is
// a paragraph, and consecutive lines starting with "- " form one list.
func blocks(text string) []block {
	var out []block
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "- "):
			item := strings.TrimSpace(line[2:])
			if n := len(out); n > 0 && out[n-1].Items != nil {
				out[n-1].Items = append(out[n-1].Items, item)
			} else {
				out = append(out, block{Items: []string{item}})
			}
		default:
			out = append(out, block{Text: line})
		}
	}
	return out
}

// summary shortens text to its first sentence, and to at most max characters,
// cut at a word and marked with an ellipsis.
func summary(text string, max int) string {
	text = strings.Join(strings.Fields(text), " ")
	if i := strings.Index(text, ". "); i > 0 {
		text = text[:i+1]
	}
	if utf8.RuneCountInString(text) <= max {
		return text
	}
	r := []rune(text)[:max]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > max/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:") + "…"
}

// normaliseCell turns what someone typed into a RACI cell into the letters the
// service parses: upper case, with spaces, commas and slashes dropped ("a, r"
// and "A/R" both become "AR").
func normaliseCell(s string) string {
	s = strings.ToUpper(s)
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', ',', '/', '+', ';':
			return -1
		}
		return r
	}, s)
}

// maxPick is how many users or teams a form's pick list offers: one page of
// the listing at its largest.
const maxPick = listing.MaxLimit

// itoa writes an id.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
