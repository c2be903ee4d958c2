package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/nivkit/niv/internal/daemon/conf"
	"github.com/nivkit/niv/internal/daemon/ivd"
	"github.com/nivkit/niv/internal/daemon/visd"
)

// hasConfig reports whether a `niv vis` command line asks for the daemon
// (--config) rather than the conformance device.
func hasConfig(args []string) bool {
	for _, a := range args {
		if a == "--config" || a == "-config" || len(a) > 9 && (a[:9] == "--config=" || a[:8] == "-config=") {
			return true
		}
	}
	return false
}

// daemon is what runDaemon needs of visd.Daemon and ivd.Daemon.
type daemon interface {
	Reload() error
	Close() error
}

// runDaemon implements `niv vis --config FILE` and `niv iv --config
// FILE`: it starts the daemon, reloads the file on SIGHUP and stops
// cleanly on SIGTERM or SIGINT.
func runDaemon(kind string, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the configuration `FILE` (NX-OS style)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	jsonLog := fs.Bool("log-json", false, "log JSON lines instead of text")
	check := fs.Bool("check", false, "check the configuration file and exit")
	store := fs.String("store", "", "keep the state at `STORE` (a bbolt file path, or SCHEME://... of a registered store) instead of the file's \"niv store\"; a VIS built with a fleet store (etcdstore/cmd/niv) takes etcd://HOST:PORT,... for the shared port-profiles and vEth registry")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" || fs.NArg() != 0 {
		fmt.Fprintf(stderr, "usage: niv %s --config FILE [--store STORE] [--check] [--log-level LEVEL] [--log-json]\n", kind)
		return 2
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "niv %s: --log-level: %v\n", kind, err)
		return 2
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler = slog.NewTextHandler(stderr, opts)
	if *jsonLog {
		h = slog.NewJSONHandler(stderr, opts)
	}
	log := slog.New(h).With("daemon", kind)
	if *check {
		src, err := os.ReadFile(*path)
		if err == nil {
			if kind == "vis" {
				_, err = conf.ParseVIS(string(src))
			} else {
				_, err = conf.ParseIV(string(src))
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", *path, err)
			return 1
		}
		return 0
	}
	// Signals first, so that a SIGTERM during start-up is not lost.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	var d daemon
	var err error
	if kind == "vis" {
		var v *visd.Daemon
		v, err = visd.Start(*path, visd.Options{Store: *store}, log)
		if v != nil {
			d = v
		}
	} else {
		var v *ivd.Daemon
		v, err = ivd.Start(*path, ivd.Options{Store: *store}, log)
		if v != nil {
			d = v
		}
	}
	if err != nil {
		var es conf.Errors
		if errors.As(err, &es) {
			fmt.Fprintf(stderr, "%s: configuration refused:\n%v\n", *path, err)
		} else {
			log.Error("start failed", "err", err)
		}
		return 1
	}
	for s := range sigs {
		if s == syscall.SIGHUP {
			log.Info("SIGHUP: reloading the configuration", "file", *path)
			if err := d.Reload(); err != nil {
				log.Error("reload failed; running configuration unchanged", "err", err)
			}
			continue
		}
		log.Info("stopping", "signal", s.String())
		break
	}
	if err := d.Close(); err != nil {
		log.Error("stop", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

func runIV(args []string, _ io.Reader, _, stderr io.Writer) int { return runDaemon("iv", args, stderr) }
