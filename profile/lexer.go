package profile

import "strings"

// token is one whitespace-separated word of a configuration line; col is its
// 1-based column.
type token struct {
	text string
	col  int
}

// srcLine is one non-blank, non-comment line of configuration text.
type srcLine struct {
	num    int // 1-based
	indent int // leading blanks; > 0 means "inside the open block"
	raw    string
	toks   []token
}

// lexLines splits src into lines of tokens. Blank lines and comment lines
// (first non-blank character '!') are skipped. A line holding a control
// character is an error: configuration text is printable.
func lexLines(src string) ([]srcLine, error) {
	var out []srcLine
	num := 0
	for raw := range strings.SplitSeq(src, "\n") {
		num++
		raw = strings.TrimSuffix(raw, "\r")
		for i := 0; i < len(raw); i++ {
			if c := raw[i]; (c < 0x20 && c != '\t') || c == 0x7f {
				return nil, &ParseError{Line: num, Column: i + 1, Err: ErrSyntax,
					Msg: "the line holds a control character; configuration text must be printable"}
			}
		}
		body := strings.TrimLeft(raw, " \t")
		if body == "" || body[0] == '!' {
			continue
		}
		out = append(out, srcLine{num: num, indent: len(raw) - len(body), raw: raw, toks: tokenize(raw)})
	}
	return out, nil
}

func tokenize(raw string) []token {
	var toks []token
	for i := 0; i < len(raw); {
		if raw[i] == ' ' || raw[i] == '\t' {
			i++
			continue
		}
		j := i
		for j < len(raw) && raw[j] != ' ' && raw[j] != '\t' {
			j++
		}
		toks = append(toks, token{text: raw[i:j], col: i + 1})
		i = j
	}
	return toks
}

// restOf returns the text of l from token i to the end of the line, with
// surrounding blanks removed.
func (l *srcLine) restOf(i int) string {
	return strings.TrimRight(l.raw[l.toks[i].col-1:], " \t")
}

// joinTokens renders tokens as a command, single-spaced.
func joinTokens(toks []token) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	return b.String()
}

// validName reports whether s may name a profile, access list or
// policy-map.
func validName(s string) bool {
	if s == "" || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_' || c == '.' || c == ':' || c == '/' || c == '-':
		default:
			return false
		}
	}
	return true
}
