// The test app as a real service: GET / answers as its release does (APP_MODE: good, errors: 5xx,
// slow: 0.5 s; crash: it exits at start; unready: /healthz answers 503), /healthz, /version (the build's
// version and the process's user id), /config (what the pod was configured with: its SETTING_*
// environment variables and the files of /etc/app, a mounted ConfigMap), and /metrics in the
// Prometheus text format (requests by status code, a latency histogram). On SIGTERM it stops accepting
// and finishes what it has (http.Server.Shutdown), as a service that drains should.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

var buckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type metrics struct {
	mu       sync.Mutex
	byCode   map[int]float64
	counts   []float64
	sum      float64
	observed float64
}

func (m *metrics) observe(code int, seconds float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byCode[code]++
	for i, le := range buckets {
		if seconds <= le {
			m.counts[i]++
		}
	}
	m.sum += seconds
	m.observed++
}

func (m *metrics) write(w http.ResponseWriter) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	b.WriteString("# HELP http_requests_total Requests served, by status code.\n# TYPE http_requests_total counter\n")
	for _, code := range []int{200, 500} {
		fmt.Fprintf(&b, "http_requests_total{code=\"%d\"} %g\n", code, m.byCode[code])
	}
	b.WriteString("# HELP http_request_duration_seconds Request latency.\n# TYPE http_request_duration_seconds histogram\n")
	for i, le := range buckets {
		fmt.Fprintf(&b, "http_request_duration_seconds_bucket{le=\"%g\"} %g\n", le, m.counts[i])
	}
	fmt.Fprintf(&b, "http_request_duration_seconds_bucket{le=\"+Inf\"} %g\n", m.observed)
	fmt.Fprintf(&b, "http_request_duration_seconds_sum %g\nhttp_request_duration_seconds_count %g\n", m.sum, m.observed)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write([]byte(b.String()))
}

func readVersion() string {
	if v := os.Getenv("APP_VERSION"); v != "" {
		return v
	}
	if text, err := os.ReadFile("/app/version"); err == nil {
		return strings.TrimSpace(string(text))
	}
	return "dev"
}

func main() {
	version := readVersion()
	mode := os.Getenv("APP_MODE")
	if text, err := os.ReadFile("/app/mode"); err == nil && mode == "" {
		mode = strings.TrimSpace(string(text))
	}
	fmt.Fprintf(os.Stderr, "starting %s (mode %q) as uid %d\n", version, mode, os.Getuid())
	if mode == "crash" {
		fmt.Fprintln(os.Stderr, "fatal: APP_MODE=crash: this release exits at start")
		os.Exit(3)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	m := &metrics{byCode: map[int]float64{}, counts: make([]float64, len(buckets))}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if mode == "unready" {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/version", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"version\":%q,\"mode\":%q,\"uid\":%d}\n", version, mode, os.Getuid())
	})
	mux.HandleFunc("/config", func(w http.ResponseWriter, _ *http.Request) {
		config := map[string]map[string]string{"env": {}, "files": {}}
		for _, kv := range os.Environ() {
			if name, value, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, "SETTING_") {
				config["env"][name] = value
			}
		}
		// A mounted ConfigMap's keys are symlinks into a ..data folder: regular files are what count.
		entries, _ := os.ReadDir("/etc/app")
		for _, entry := range entries {
			if strings.HasPrefix(entry.Name(), "..") {
				continue
			}
			if data, err := os.ReadFile(filepath.Join("/etc/app", entry.Name())); err == nil {
				config["files"][entry.Name()] = string(data)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(config)
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) { m.write(w) })
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		started := time.Now()
		code := http.StatusOK
		switch mode {
		case "errors":
			code = http.StatusInternalServerError
		case "slow":
			time.Sleep(500 * time.Millisecond)
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "%s\n", version)
		m.observe(code, time.Since(started).Seconds())
	})
	server := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = server.Shutdown(ctx)
	}()
	if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
