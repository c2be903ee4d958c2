package conformance

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Case is one conformance case, as read from its folder:
//
//	README.md     description, behaviours, and the expected output fields
//	setup.txt     the device's topology and the steps between frames
//	profile.conf  port-profiles in the profile language (optional)
//	*.conf        profile edits that steps apply (optional)
//	in.pcapng     input frames, one interface per port, in send order
//	want.pcapng   expected output frames, per port in order
//
// See README.md in this package's folder for the format.
type Case struct {
	// Name is the folder's base name.
	Name string
	// Dir is the folder.
	Dir string
	// Title is the first heading of README.md.
	Title string
	// Behaviours are the behaviours the case exercises, from README.md's
	// "Behaviours:" line; a core with one of them switched off should fail
	// exactly the cases that name it.
	Behaviours []string
	Setup      *Setup
	// SetupText is the text of setup.txt.
	SetupText string
	// Files holds the text of profile.conf and every other *.conf file of
	// the folder, by base name.
	Files map[string]string
	In    []Frame
	Want  []Frame
	// Expect is the machine-readable expectation of README.md: per port,
	// the tag fields of each expected output frame.
	Expect Expectations
}

// Expectations state the expected output frames, field by field with
// Wireshark's field names, independently of want.pcapng, which a test
// checks against them through tshark.
type Expectations struct {
	// Frames are the expected frames, in the order of README.md.
	Frames []ExpectedFrame
	// None lists ports that must send nothing.
	None []string
}

// ExpectedFrame is the expectation for the N-th (1-based) output frame of
// Port.
type ExpectedFrame struct {
	Port   string
	N      int
	Fields []FieldValue
	// NoTag says the frame carries neither a VNTag nor an E-Tag; NoVLAN
	// says it carries no 802.1Q tag.
	NoTag, NoVLAN bool
	// Line is the README line, for messages.
	Line string
}

// FieldValue is one expected field: its Wireshark name and the value tshark
// prints for it (several occurrences joined by ",").
type FieldValue struct {
	Name, Value string
}

// Load reads the case in dir.
func Load(dir string) (*Case, error) {
	c := &Case{Name: filepath.Base(dir), Dir: dir, Files: map[string]string{}}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		return nil, caseErr("%s: %v", c.Name, err)
	}
	if err := c.parseReadme(string(readme)); err != nil {
		return nil, fmt.Errorf("%s: README.md: %w", c.Name, err)
	}
	setup, err := os.ReadFile(filepath.Join(dir, "setup.txt"))
	if err != nil {
		return nil, caseErr("%s: %v", c.Name, err)
	}
	c.SetupText = string(setup)
	if c.Setup, err = ParseSetup(c.SetupText); err != nil {
		return nil, fmt.Errorf("%s: setup.txt: %w", c.Name, err)
	}
	confs, _ := filepath.Glob(filepath.Join(dir, "*.conf"))
	for _, p := range confs {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, caseErr("%s: %v", c.Name, err)
		}
		c.Files[filepath.Base(p)] = string(b)
	}
	if c.Setup.Profiles == "" {
		if _, ok := c.Files["profile.conf"]; ok {
			c.Setup.Profiles = "profile.conf"
		}
	}
	if f := c.Setup.Profiles; f != "" {
		if _, ok := c.Files[f]; !ok {
			return nil, caseErr("%s: profiles file %s is missing", c.Name, f)
		}
	}
	for _, st := range c.Setup.Steps {
		if st.Kind == StepConfigure {
			if _, ok := c.Files[st.File]; !ok {
				return nil, caseErr("%s: %s: file %s is missing", c.Name, st.Line, st.File)
			}
		}
	}
	if c.In, err = c.readCapture("in.pcapng"); err != nil {
		return nil, err
	}
	if c.Want, err = c.readCapture("want.pcapng"); err != nil {
		return nil, err
	}
	for _, st := range c.Setup.Steps {
		if st.After > len(c.In) {
			return nil, caseErr("%s: %s: only %d input frames", c.Name, st.Line, len(c.In))
		}
	}
	return c, nil
}

// LoadAll loads every case folder under root (every folder holding a
// setup.txt), sorted by name.
func LoadAll(root string) ([]*Case, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "setup.txt" {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	if err != nil {
		return nil, caseErr("%v", err)
	}
	if len(dirs) == 0 {
		return nil, caseErr("no case (no setup.txt) under %s", root)
	}
	sort.Strings(dirs)
	var out []*Case
	for _, d := range dirs {
		c, err := Load(d)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (c *Case) readCapture(name string) ([]Frame, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir, name))
	if err != nil {
		return nil, caseErr("%s: %v", c.Name, err)
	}
	frames, err := ReadCapture(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", c.Name, name, err)
	}
	for i, f := range frames {
		if _, ok := c.Setup.Port(f.Port); !ok {
			return nil, caseErr("%s: %s: frame %d is on %q, not a port of the setup", c.Name, name, i+1, f.Port)
		}
	}
	return frames, nil
}

// parseReadme takes the title, the behaviours and the ```expect block.
func (c *Case) parseReadme(text string) error {
	lines := strings.Split(text, "\n")
	in := false
	found := false
	for n, raw := range lines {
		line := strings.TrimSpace(raw)
		switch {
		case !in && c.Title == "" && strings.HasPrefix(line, "# "):
			c.Title = strings.TrimSpace(line[2:])
		case !in && strings.HasPrefix(line, "Behaviours:"):
			for _, b := range strings.Split(line[len("Behaviours:"):], ",") {
				if b = strings.TrimSpace(b); b != "" {
					c.Behaviours = append(c.Behaviours, b)
				}
			}
		case !in && line == "```expect":
			in, found = true, true
		case in && line == "```":
			in = false
		case in && line != "":
			if err := c.Expect.parseLine(line); err != nil {
				return caseErr("line %d: %v", n+1, err)
			}
		}
	}
	if !found || in {
		return caseErr("no closed ```expect block")
	}
	return nil
}

// parseLine reads "PORT N: field=value ... [notag] [novlan]" or
// "PORT: none".
func (e *Expectations) parseLine(line string) error {
	head, rest, ok := strings.Cut(line, ":")
	if !ok {
		return fmt.Errorf("%q: want \"PORT N: FIELD=VALUE...\" or \"PORT: none\"", line)
	}
	w := strings.Fields(head)
	body := strings.Fields(rest)
	if len(w) == 1 {
		if len(body) != 1 || body[0] != "none" {
			return fmt.Errorf("%q: want \"PORT: none\"", line)
		}
		e.None = append(e.None, w[0])
		return nil
	}
	if len(w) != 2 {
		return fmt.Errorf("%q: want \"PORT N:\"", line)
	}
	n, err := strconv.Atoi(w[1])
	if err != nil || n < 1 {
		return fmt.Errorf("%q: frame number %q", line, w[1])
	}
	f := ExpectedFrame{Port: w[0], N: n, Line: line}
	for _, kv := range body {
		switch kv {
		case "notag":
			f.NoTag = true
			continue
		case "novlan":
			f.NoVLAN = true
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return fmt.Errorf("%q: %q is not FIELD=VALUE", line, kv)
		}
		f.Fields = append(f.Fields, FieldValue{k, v})
	}
	e.Frames = append(e.Frames, f)
	return nil
}

// Ports returns the names of the setup's ports, in setup order.
func (c *Case) Ports() []string {
	out := make([]string, len(c.Setup.Ports))
	for i, p := range c.Setup.Ports {
		out[i] = p.Name
	}
	return out
}

// WantOn returns the expected frames of port p, in order.
func (c *Case) WantOn(p string) [][]byte {
	return framesOn(c.Want, p)
}

func framesOn(frames []Frame, p string) [][]byte {
	var out [][]byte
	for _, f := range frames {
		if f.Port == p {
			out = append(out, f.Data)
		}
	}
	return out
}
