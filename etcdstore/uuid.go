package etcdstore

import (
	"encoding/hex"
	"errors"
	"strings"

	"github.com/nivkit/niv/vic"
)

var errUUID = errors.New("etcdstore: not a UUID")

// parseUUID reads the 8-4-4-4-12 form vic.UUID.String prints.
func parseUUID(s string) (vic.UUID, error) {
	var u vic.UUID
	h := strings.ReplaceAll(s, "-", "")
	if len(s) != 36 || len(h) != 32 {
		return u, errUUID
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, errUUID
	}
	return u, nil
}
