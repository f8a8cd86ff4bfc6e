package source

import (
	"strings"
	"unsafe"
)

// keyShape remembers the keys of one kind of object (the value, its Extra) in the order
// the last value stored them, each with its kind to the decoder. The gateway writes every
// value with the same keys in the same order, so the next value's m-th key is recognised
// by comparing its bytes with the remembered ones, instead of being scanned and looked
// up. A key that differs is read the slow way and remembered in its place, so any order
// decodes the same, only slower.
type keyShape struct {
	toks  []string // `"key":` as stored, in bufs; "" where nothing is remembered
	bufs  [][]byte // reused: values that alternate their keys allocate nothing
	kinds []uint8
}

const (
	shapeMembers = 96 // members remembered per kind of object
	shapeKeyMax  = 64 // the longest key remembered
)

// match reports whether the member at i, the m-th of its object, is the remembered one:
// then it returns its key, its kind and where its value starts, as memberKey would.
func (sh *keyShape) match(m int, s string, i int) (key string, kind uint8, at int, ok bool) {
	if m >= len(sh.toks) {
		return "", 0, 0, false
	}
	// a remembered key holds no quote or backslash, so these bytes are the whole key
	// and its colon, as memberKey would have found them
	tok := sh.toks[m]
	if tok == "" || !strings.HasPrefix(s[i:], tok) {
		return "", 0, 0, false
	}
	return tok[1 : len(tok)-2], sh.kinds[m], skipWS(s, i+len(tok)), true
}

// learn remembers the m-th member, whose key memberKey read at i as raw (holding a
// backslash when esc), to be of the given kind. Only keys stored plainly, the colon
// right after them, are remembered.
func (sh *keyShape) learn(m int, s string, i int, raw string, esc bool, kind uint8) {
	end := i + 1 + len(raw) + 1 // after the closing quote
	if esc || m >= shapeMembers || len(raw) > shapeKeyMax || end >= len(s) || s[end] != ':' {
		return
	}
	tok := s[i : end+1]
	for len(sh.toks) <= m {
		sh.toks, sh.bufs, sh.kinds = append(sh.toks, ""), append(sh.bufs, nil), append(sh.kinds, 0)
	}
	if sh.toks[m] != tok {
		// copied, not a slice of the value, which goes; nobody holds the old key now
		sh.bufs[m] = append(sh.bufs[m][:0], tok...)
		sh.toks[m], sh.kinds[m] = unsafe.String(unsafe.SliceData(sh.bufs[m]), len(tok)), kind
	}
}
