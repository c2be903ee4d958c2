package profile

import (
	"slices"
	"strconv"
	"strings"
)

// The commands of the port-profile and policy-map modes are declared as
// syntax strings ("switchport access vlan <vlan>") and matched word by word.
// The same declarations drive the error messages: what was expected where
// the line went wrong, and the closest valid command.

type elemKind uint8

const (
	litElem      elemKind = iota // a keyword
	choiceElem                   // {a|b}: one of several keywords, passed to the handler
	nameElem                     // <name>
	vlanElem                     // <vlan>: 1-4094
	vlanListElem                 // <vlan-list>: 1-10,20
	numElem                      // <number> or <lo-hi>
	textElem                     // <text>: the rest of the line
)

type elem struct {
	kind   elemKind
	words  []string // litElem: one word; choiceElem: the alternatives
	lo, hi uint64   // numElem with a range; hi == 0 means unbounded
}

// label is how an element is shown in a syntax hint.
func (e *elem) label() string {
	switch e.kind {
	case litElem:
		return e.words[0]
	case choiceElem:
		return "{" + strings.Join(e.words, "|") + "}"
	case nameElem:
		return "<name>"
	case vlanElem:
		return "<1-4094>"
	case vlanListElem:
		return "<vlan-list>"
	case numElem:
		if e.hi != 0 {
			return "<" + strconv.FormatUint(e.lo, 10) + "-" + strconv.FormatUint(e.hi, 10) + ">"
		}
		return "<number>"
	}
	return "<text>"
}

// accepts reports whether word has the shape the element wants. Values are
// checked afterwards, so that "vlan 5000" reports a range error rather than
// "no such command".
func (e *elem) accepts(word string) bool {
	switch e.kind {
	case litElem:
		return strings.EqualFold(word, e.words[0])
	case choiceElem:
		return slices.ContainsFunc(e.words, func(w string) bool { return strings.EqualFold(w, word) })
	case vlanElem, vlanListElem, numElem:
		return word[0] >= '0' && word[0] <= '9'
	}
	return true
}

// cmdCtx is what a command handler gets: the line and the values of its
// non-keyword elements, in order.
type cmdCtx struct {
	line *srcLine
	args []token   // choices and arguments as typed (choices lower-cased)
	nums []uint64  // numElem and vlanElem values, by argument index
	sets []VLANSet // vlanListElem values, by argument index
}

// arg returns argument i as text; for a <text> argument, the rest of the line.
func (c *cmdCtx) arg(i int) string { return c.args[i].text }

func (c *cmdCtx) fail(i int, sentinel error, msg string) error {
	return &ParseError{Line: c.line.num, Column: c.args[i].col, Msg: msg, Err: sentinel}
}

type command struct {
	syntax string
	elems  []elem
	run    func(*parser, *cmdCtx) error
}

// cmd declares a command from its syntax string.
func cmd(syntax string, run func(*parser, *cmdCtx) error) command {
	c := command{syntax: syntax, run: run}
	for w := range strings.FieldsSeq(syntax) {
		var e elem
		switch {
		case w[0] == '{':
			e = elem{kind: choiceElem, words: strings.Split(w[1:len(w)-1], "|")}
		case w == "<name>":
			e = elem{kind: nameElem}
		case w == "<vlan>":
			e = elem{kind: vlanElem}
		case w == "<vlan-list>":
			e = elem{kind: vlanListElem}
		case w == "<text>":
			e = elem{kind: textElem}
		case w == "<number>":
			e = elem{kind: numElem}
		case w[0] == '<':
			lo, hi, _ := strings.Cut(w[1:len(w)-1], "-")
			e = elem{kind: numElem}
			e.lo, _ = strconv.ParseUint(lo, 10, 64)
			e.hi, _ = strconv.ParseUint(hi, 10, 64)
		default:
			e = elem{kind: litElem, words: []string{w}}
		}
		c.elems = append(c.elems, e)
	}
	return c
}

// match returns how many leading elements toks satisfies, and whether it
// satisfies the whole command with nothing left over.
func (c *command) match(toks []token) (int, bool) {
	for i := range c.elems {
		e := &c.elems[i]
		if i >= len(toks) {
			return i, false
		}
		if e.kind == textElem {
			return len(c.elems), true
		}
		if !e.accepts(toks[i].text) {
			return i, false
		}
	}
	return len(c.elems), len(toks) == len(c.elems)
}

// keywordsBefore is the command's leading keywords, used to name the value
// in range errors ("max-ports", "switchport port-security maximum").
func (c *command) keywordsBefore(n int) string {
	var words []string
	for i := 0; i < n; i++ {
		if c.elems[i].kind == litElem {
			words = append(words, c.elems[i].words[0])
		}
	}
	return strings.Join(words, " ")
}

// dispatch finds the command line l means in mode and runs it, or explains
// what is wrong with the line.
func dispatch(p *parser, l *srcLine, cmds []command, modeName string) error {
	for i := range cmds {
		if _, ok := cmds[i].match(l.toks); ok {
			ctx, err := cmds[i].bind(l)
			if err != nil {
				return err
			}
			return cmds[i].run(p, ctx)
		}
	}
	return explain(l, cmds, modeName)
}

// bind collects and checks the values of a matched line.
func (c *command) bind(l *srcLine) (*cmdCtx, error) {
	ctx := &cmdCtx{line: l}
	for i := range c.elems {
		e := &c.elems[i]
		if e.kind == litElem {
			continue
		}
		t := l.toks[i]
		n := len(ctx.args)
		ctx.nums = append(ctx.nums, 0)
		ctx.sets = append(ctx.sets, VLANSet{})
		switch e.kind {
		case choiceElem:
			t.text = strings.ToLower(t.text)
		case textElem:
			t.text = l.restOf(i)
			if len(t.text) > MaxDescriptionLen {
				return nil, &ParseError{Line: l.num, Column: t.col, Err: ErrValueRange,
					Msg: "the text is " + strconv.Itoa(len(t.text)) + " characters long; at most " + strconv.Itoa(MaxDescriptionLen) + " fit"}
			}
		case nameElem:
			if !validName(t.text) {
				return nil, &ParseError{Line: l.num, Column: t.col, Err: ErrSyntax,
					Msg: "name " + strconv.Quote(t.text) + " is not valid: use up to " + strconv.Itoa(MaxNameLen) + " letters, digits and _ . : / -"}
			}
		case vlanElem:
			v, msg, err := parseVLAN(t.text)
			if err != nil {
				return nil, &ParseError{Line: l.num, Column: t.col, Msg: msg, Err: err}
			}
			ctx.nums[n] = uint64(v)
		case vlanListElem:
			s, msg, err := parseVLANList(t.text)
			if err != nil {
				return nil, &ParseError{Line: l.num, Column: t.col, Msg: msg, Err: err}
			}
			ctx.sets[n] = s
		case numElem:
			v, err := strconv.ParseUint(t.text, 10, 64)
			what := c.keywordsBefore(i)
			if err != nil {
				return nil, &ParseError{Line: l.num, Column: t.col, Err: ErrSyntax,
					Msg: what + " needs a whole number, not " + strconv.Quote(t.text)}
			}
			if e.hi != 0 && (v < e.lo || v > e.hi) {
				return nil, &ParseError{Line: l.num, Column: t.col, Err: ErrValueRange,
					Msg: what + " " + t.text + " is out of range; use " + strconv.FormatUint(e.lo, 10) + "-" + strconv.FormatUint(e.hi, 10)}
			}
			ctx.nums[n] = v
		}
		ctx.args = append(ctx.args, t)
	}
	return ctx, nil
}

// explain builds the error for a line that matches no command: where it goes
// wrong, what was expected there, and the closest valid command.
func explain(l *srcLine, cmds []command, modeName string) error {
	best := 0
	for i := range cmds {
		n, _ := cmds[i].match(l.toks)
		best = max(best, n)
	}
	var expect []string
	failedOnKeyword := false
	for i := range cmds {
		n, _ := cmds[i].match(l.toks)
		if n != best || n >= len(cmds[i].elems) {
			continue
		}
		e := &cmds[i].elems[n]
		if !slices.Contains(expect, e.label()) {
			expect = append(expect, e.label())
		}
		failedOnKeyword = failedOnKeyword || e.kind == litElem
	}
	pe := &ParseError{Line: l.num, Err: ErrSyntax}
	pe.Suggestion = suggestFix(l.toks, cmds)
	switch {
	case len(expect) == 0: // the line is longer than any command it starts like
		pe.Column = l.toks[best].col
		pe.Msg = "unexpected " + strconv.Quote(l.toks[best].text) + " after " + strconv.Quote(joinTokens(l.toks[:best]))
	case best >= len(l.toks):
		pe.Column = len(strings.TrimRight(l.raw, " \t")) + 1
		pe.Msg = "incomplete command " + strconv.Quote(joinTokens(l.toks)) + ": expected " + oneOf(expect)
	case best == 0:
		pe.Column = l.toks[0].col
		pe.Err = ErrUnknownCommand
		pe.Msg = strconv.Quote(l.toks[0].text) + " is not a " + modeName + " command"
	default:
		pe.Column = l.toks[best].col
		if failedOnKeyword {
			pe.Err = ErrUnknownCommand
		}
		pe.Msg = "unknown word " + strconv.Quote(l.toks[best].text) + " after " + strconv.Quote(joinTokens(l.toks[:best])) + ": expected " + oneOf(expect)
	}
	return pe
}

func oneOf(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return "one of " + strings.Join(items, ", ")
}

// suggestFix corrects misspelled keywords one at a time (at most four) and
// returns the corrected line if it is a valid command (so abbreviations
// such as "sw acc vl 10" are spelled out); failing that, the
// syntax of the command the line comes closest to, or "".
func suggestFix(toks []token, cmds []command) string {
	toks = slices.Clone(toks)
	corrected := false
	for range 5 {
		best := 0
		var words []string
		for i := range cmds {
			n, ok := cmds[i].match(toks)
			if ok {
				if corrected {
					return joinTokens(toks)
				}
				return ""
			}
			if n > best {
				best, words = n, nil
			}
			if n == best && n < len(cmds[i].elems) && n < len(toks) {
				if e := &cmds[i].elems[n]; e.kind == litElem || e.kind == choiceElem {
					words = append(words, e.words...)
				}
			}
		}
		if best >= len(toks) {
			break
		}
		w, ok := closestWord(strings.ToLower(toks[best].text), words)
		if !ok {
			break
		}
		toks[best].text = w
		corrected = true
	}
	// No full correction: show the syntax of the closest command, if the
	// line got past its first keyword.
	bestN, bestCmd := 0, -1
	for i := range cmds {
		if n, _ := cmds[i].match(toks); n > bestN {
			bestN, bestCmd = n, i
		}
	}
	if bestCmd < 0 {
		return ""
	}
	return cmds[bestCmd].syntaxHint()
}

func (c *command) syntaxHint() string {
	parts := make([]string, len(c.elems))
	for i := range c.elems {
		parts[i] = c.elems[i].label()
	}
	return strings.Join(parts, " ")
}
