//go:build !linux

package main

import (
	"context"
	"errors"
	"io"

	"github.com/nivkit/niv/vntag"
)

// runLab needs Linux network namespaces, TAP devices and AF_PACKET.
func runLab(ctx context.Context, w io.Writer, mode vntag.Mode) error {
	return errors.New("-lab needs Linux")
}
