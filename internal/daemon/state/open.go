package state

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// An Opener opens the store that spec (a URL of its scheme) names.
type Opener func(spec string) (Store, error)

var (
	openersMu sync.Mutex
	openers   = map[string]Opener{"bbolt": func(spec string) (Store, error) {
		return OpenBolt(strings.TrimPrefix(spec, "bbolt://"))
	}}
)

// Register makes Open use open for URLs of scheme ("etcd" for
// etcd://...); a store package registers itself from its init.
func Register(scheme string, open Opener) {
	openersMu.Lock()
	defer openersMu.Unlock()
	openers[scheme] = open
}

// Schemes returns the schemes Open knows, sorted.
func Schemes() []string {
	openersMu.Lock()
	defer openersMu.Unlock()
	var s []string
	for k := range openers {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// Open opens the store spec names: a file path or bbolt://PATH for a local
// bbolt file, SCHEME://... for a store registered under SCHEME.
func Open(spec string) (Store, error) {
	scheme, _, ok := strings.Cut(spec, "://")
	if !ok {
		scheme, spec = "bbolt", "bbolt://"+spec
	}
	openersMu.Lock()
	open := openers[scheme]
	openersMu.Unlock()
	if open == nil {
		return nil, fmt.Errorf("state: no store for %s:// (known: %s)", scheme, strings.Join(Schemes(), ", "))
	}
	return open(spec)
}
