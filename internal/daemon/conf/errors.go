package conf

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nivkit/niv/profile"
)

// ErrUnsupported is returned for a configuration niv understands but cannot
// run (a store scheme this build has no store for, such as etcd:// in the
// root module's niv; a port kind the daemon does not open).
var ErrUnsupported = errors.New("config: not supported yet")

// Error is one wrong line of a configuration file, in the style of
// profile.ParseError: Line and Column are 1-based and point at the
// offending word. Err is a profile sentinel (profile.ErrUnknownCommand,
// profile.ErrSyntax, profile.ErrValueRange, profile.ErrUndefined,
// profile.ErrDuplicate, ...) or ErrUnsupported, so callers branch with
// errors.Is.
type Error struct {
	Line, Column int
	Msg          string
	Suggestion   string
	Err          error
}

// Error renders "config: line L, column C: MSG; did you mean \"FIX\"?".
func (e *Error) Error() string {
	s := fmt.Sprintf("config: line %d, column %d: %s", e.Line, e.Column, e.Msg)
	if e.Suggestion != "" {
		s += fmt.Sprintf("; did you mean %q?", e.Suggestion)
	}
	return s
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

// Errors is every wrong line of a file, in line order. A file with any
// error is refused whole.
type Errors []*Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the errors, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// fromProfile turns an error of the profile package into an Error: a
// *profile.ParseError keeps its position (the profile parser saw the
// file's own line numbers); a *profile.ConfigError gets the line that
// opens the object it names, found in lines.
func fromProfile(err error, lines []line) *Error {
	var pe *profile.ParseError
	if errors.As(err, &pe) {
		return &Error{Line: pe.Line, Column: pe.Column, Msg: pe.Msg, Suggestion: pe.Suggestion, Err: pe.Err}
	}
	var ce *profile.ConfigError
	if errors.As(err, &ce) {
		e := &Error{Line: 1, Column: 1, Msg: ce.Object + ": " + ce.Msg, Err: ce.Err}
		for _, l := range lines {
			if l.indent == 0 && strings.EqualFold(l.text(), ce.Object) || objectOf(l) == ce.Object {
				e.Line, e.Column = l.num, l.toks[0].col
				break
			}
		}
		return e
	}
	return &Error{Line: 1, Column: 1, Msg: err.Error(), Err: err}
}

// objectOf names the profile object a top-level line opens as
// ConfigError.Object names it ("port-profile web" for "port-profile type
// vethernet web").
func objectOf(l line) string {
	if l.indent != 0 || len(l.toks) < 2 {
		return ""
	}
	w := l.words()
	if w[0] == "port-profile" {
		return "port-profile " + w[len(w)-1]
	}
	return strings.Join(w, " ")
}
