package mgmt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nivkit/niv/internal/daemon/mgmt"
)

// A daemon serves its handler on a root-only socket; `niv show` calls it.
// (Not run by go test: as a user other than root the answer is a
// refusal; TestRequests runs the same as root.)
func ExampleCall() {
	dir, _ := os.MkdirTemp("", "niv-mgmt-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "vis.sock")
	srv, err := mgmt.Listen(path, func(r mgmt.Request) mgmt.Response {
		return mgmt.Answer("Vethernet"+r.Args[1]+" is up", map[string]string{"state": "up"})
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)
	r, err := mgmt.Call(path, mgmt.Request{Cmd: "show interface", Args: []string{"vethernet", "5"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Text) // Vethernet5 is up
}
