//go:build !linux

package main

import (
	"context"
	"errors"
	"io"

	"github.com/nivkit/niv/vic/port"
)

// runLab needs Linux network namespaces, TAP devices and AF_PACKET.
func runLab(ctx context.Context, w io.Writer, mode port.TagMode) error {
	return errors.New("-lab needs Linux")
}
