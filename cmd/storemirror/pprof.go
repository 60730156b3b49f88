//go:build pprof

package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux, served only here
	"os"
	"runtime"
	"strconv"
)

// A build with -tags pprof (make profile) serves net/http/pprof on STOREMIRROR_PPROF_LISTEN,
// apart from the daemon's own listener, so that the benchmark can profile the daemon under
// load. STOREMIRROR_PPROF_BLOCK_NS, when set, samples goroutine blocking (channel waits,
// locks) at that rate for /debug/pprof/block and /debug/pprof/mutex. Release builds have none
// of this.
func init() {
	addr := os.Getenv("STOREMIRROR_PPROF_LISTEN")
	if addr == "" {
		return
	}
	if ns, err := strconv.Atoi(os.Getenv("STOREMIRROR_PPROF_BLOCK_NS")); err == nil && ns > 0 {
		runtime.SetBlockProfileRate(ns)
		runtime.SetMutexProfileFraction(10)
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			os.Stderr.WriteString("storemirror: pprof listener: " + err.Error() + "\n")
		}
	}()
}
