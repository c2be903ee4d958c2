// Package dutd is the device side of the conformance suite's DUT control
// protocol (conformance.ControlRequest): Daemon serves a case's device on
// niv's cores (conformance/cores) on real interfaces, rebuilt for each
// case, and ServeControl answers the runner's requests with it. It is
// `niv vis --control`.
package dutd

import (
	"bufio"
	"context"
	"encoding/json"
	"net"

	"github.com/nivkit/niv/conformance"
)

// ControlHandler is what a device under test does on each request.
type ControlHandler interface {
	Start(name string, setup *conformance.Setup, files map[string]string) error
	Step(st conformance.Step) error
	Finish() (conformance.Lists, string, error)
}

// ServeControl answers control requests on ln with h until ctx is done
// or ln fails. Connections are served one at a time, in order.
func ServeControl(ctx context.Context, ln net.Listener, h ControlHandler) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return devErr("control: %v", err)
		}
		serveConn(ctx, conn, h)
	}
}

func serveConn(ctx context.Context, conn net.Conn, h ControlHandler) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	enc := json.NewEncoder(conn)
	for sc.Scan() {
		var req conformance.ControlRequest
		rep := conformance.ControlReply{OK: true}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			rep = conformance.ControlReply{Error: "bad request: " + err.Error()}
		} else if err := handle(h, &req, &rep); err != nil {
			rep.OK, rep.Error = false, err.Error()
		}
		if enc.Encode(&rep) != nil {
			return
		}
	}
}

func handle(h ControlHandler, req *conformance.ControlRequest, rep *conformance.ControlReply) error {
	switch req.Op {
	case "start":
		setup, err := conformance.ParseSetup(req.Setup)
		if err != nil {
			return err
		}
		return h.Start(req.Case, setup, req.Files)
	case "step":
		st, err := conformance.ParseStep(req.Step)
		if err != nil {
			return err
		}
		return h.Step(st)
	case "finish":
		var err error
		rep.Lists, rep.State, err = h.Finish()
		return err
	}
	return devErr("control: unknown op %q", req.Op)
}
