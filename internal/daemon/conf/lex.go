package conf

import (
	"strings"
)

// token is one word of a line and its 1-based column.
type token struct {
	s   string
	col int
}

// line is one non-blank, non-comment line ('!' starts a comment, as in
// NX-OS running-config).
type line struct {
	num    int
	indent int
	toks   []token
}

func (l line) words() []string {
	w := make([]string, len(l.toks))
	for i, t := range l.toks {
		w[i] = t.s
	}
	return w
}

func (l line) text() string { return strings.Join(l.words(), " ") }

// rest returns the words from i on, joined by one blank.
func (l line) rest(i int) string {
	if i >= len(l.toks) {
		return ""
	}
	return strings.Join(l.words()[i:], " ")
}

func lex(src string) ([]line, *Error) {
	var out []line
	for i, raw := range strings.Split(src, "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		for j := 0; j < len(raw); j++ {
			if c := raw[j]; (c < 0x20 && c != '\t') || c == 0x7f {
				return nil, &Error{Line: i + 1, Column: j + 1, Err: errSyntax,
					Msg: "the line holds a control character; configuration text must be printable"}
			}
		}
		body := strings.TrimLeft(raw, " \t")
		if body == "" || body[0] == '!' {
			continue
		}
		l := line{num: i + 1, indent: len(raw) - len(body)}
		for j := 0; j < len(raw); {
			if raw[j] == ' ' || raw[j] == '\t' {
				j++
				continue
			}
			k := j
			for k < len(raw) && raw[k] != ' ' && raw[k] != '\t' {
				k++
			}
			l.toks = append(l.toks, token{raw[j:k], j + 1})
			j = k
		}
		out = append(out, l)
	}
	return out, nil
}

// blocks groups lines into blocks: a top-level line and the indented lines
// under it. An indented line with no block above is its own block.
type block struct {
	head line
	body []line
}

func blocks(lines []line) []block {
	var out []block
	for _, l := range lines {
		if l.indent > 0 && len(out) > 0 {
			out[len(out)-1].body = append(out[len(out)-1].body, l)
			continue
		}
		out = append(out, block{head: l})
	}
	return out
}

// suggest returns the word of choices closest to w (at most two edits), or "".
func suggest(w string, choices []string) string {
	best, bestD := "", 3
	for _, c := range choices {
		if d := distance(w, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the optimal-string-alignment edit distance, as profile's
// suggestions use.
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
