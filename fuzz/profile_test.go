package fuzz

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nivkit/niv/profile"
)

// FuzzProfileParse feeds arbitrary text to the port-profile parser. It
// checks: no panic; a rejection is a *ParseError with a 1-based position
// and a message, wrapping a sentinel; an accepted config prints to text that
// parses back to an equal config, and prints identically again; Validate
// and Resolve on whatever parsed never panic and return typed errors.
// Seeds are the valid and invalid configurations under profile/testdata.
func FuzzProfileParse(f *testing.F) {
	for _, pattern := range []string{"../profile/testdata/*/*.conf"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		if len(files) == 0 {
			f.Fatalf("no seed files match %s", pattern)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(b))
		}
	}
	f.Add("port-profile webservers\n  switchport access vlan 10\n  ip access-group 500 in\n  inherit port-profile server\n")
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := profile.Parse(src)
		if err != nil {
			var pe *profile.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error %T is not a *ParseError: %v", err, err)
			}
			if pe.Line < 1 || pe.Column < 1 || pe.Msg == "" || pe.Err == nil {
				t.Fatalf("ParseError without position, message or sentinel: %#v", pe)
			}
			return
		}
		text := cfg.Text()
		again, err := profile.Parse(text)
		if err != nil {
			t.Fatalf("printed config does not parse: %v\n%s", err, text)
		}
		if !again.Equal(cfg) {
			t.Fatalf("parse/print/parse changed the config\n%s\n---\n%s", text, again.Text())
		}
		if again.Text() != text {
			t.Fatalf("printing is not stable")
		}
		if err := cfg.Validate(); err != nil {
			var ce *profile.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Validate error %T is not a *ConfigError: %v", err, err)
			}
		}
		for name := range cfg.Profiles {
			if _, err := cfg.Resolve(name); err == nil {
				_, _ = profile.Compile(cfg, name)
			}
		}
	})
}
