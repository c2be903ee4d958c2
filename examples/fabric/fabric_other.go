//go:build !linux

package main

import (
	"errors"
	"io"
)

func run(io.Writer) error {
	return errors.New("needs Linux: network namespaces, TAP devices, AF_PACKET")
}
