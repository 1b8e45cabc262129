package httpx

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"steward/internal/platform/audit"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	routeKey
)

// routeHolder carries the matched route pattern back out to AccessLog, since
// middleware between them hands the mux a copy of the request.
type routeHolder struct{ pattern string }

// CapturePattern is the innermost middleware: after the mux has served the
// request it reports the matched pattern to AccessLog for the latency metric.
func CapturePattern(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if h, ok := r.Context().Value(routeKey).(*routeHolder); ok {
			h.pattern = r.Pattern
		}
	})
}

// RequestID returns the request's id.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies middleware so that the first listed runs first.
func Chain(h http.Handler, mw ...Middleware) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// Recover turns a panic into a logged 500 problem.
func Recover(log *slog.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					log.ErrorContext(r.Context(), "panic", "panic", p, "request_id", RequestID(r.Context()), "stack", string(debug.Stack()))
					WriteProblem(w, r, http.StatusInternalServerError, "internal error; quote request id "+RequestID(r.Context())+" to an administrator")
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return true
}

// ClientAddr returns the request's client address (the TCP peer; proxies are not trusted).
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// RequestMeta assigns the request id (keeping a well-formed X-Request-ID from the
// client), echoes it, and seeds the audit metadata with it and the client address.
func RequestMeta() Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rid := r.Header.Get("X-Request-ID")
			if !validRequestID(rid) {
				b := make([]byte, 12)
				_, _ = rand.Read(b)
				rid = hex.EncodeToString(b)
			}
			w.Header().Set("X-Request-ID", rid)
			ctx := context.WithValue(r.Context(), requestIDKey, rid)
			ctx = audit.WithMeta(ctx, audit.Meta{RequestID: rid, ClientAddr: ClientAddr(r)})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
	w.ResponseWriter.WriteHeader(s)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Metrics holds the HTTP instruments.
type Metrics struct {
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
}

// NewMetrics registers the HTTP instruments on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "steward_http_request_duration_seconds", Help: "HTTP request latency by route pattern, method and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "status"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "steward_http_requests_in_flight", Help: "Requests being served."}),
	}
	reg.MustRegister(m.duration, m.inflight)
	return m
}

// AccessLog logs each request as one JSON line with its request id, and records its latency.
func AccessLog(log *slog.Logger, m *Metrics) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			m.inflight.Inc()
			defer m.inflight.Dec()
			route := &routeHolder{}
			r = r.WithContext(context.WithValue(r.Context(), routeKey, route))
			next.ServeHTTP(sw, r)
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			d := time.Since(start)
			pattern := route.pattern
			if pattern == "" {
				pattern = "unmatched"
			}
			m.duration.WithLabelValues(pattern, r.Method, strconv.Itoa(sw.status)).Observe(d.Seconds())
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(r.Context(), level, "request", slog.String("request_id", RequestID(r.Context())),
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.status),
				slog.Int("bytes", sw.bytes), slog.Float64("ms", float64(d.Microseconds())/1000), slog.String("client", ClientAddr(r)))
		})
	}
}

// SecurityHeaders sets a strict Content-Security-Policy (no inline scripts or
// styles, nothing from other origins) and the usual hardening headers.
func SecurityHeaders(tls bool) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
				"connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			if tls {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// MaxBody bounds every request body; the API's operations set tighter limits of their own.
func MaxBody(n int64) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				WriteProblem(w, r, http.StatusRequestEntityTooLarge, "the request body is larger than "+strconv.FormatInt(n, 10)+" bytes")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// CheckJSONBody refuses API request bodies that are not valid UTF-8 (Go's JSON
// decoder would silently replace the bad bytes) and those larger than limit.
func CheckJSONBody(limit int64) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead || !strings.HasPrefix(r.URL.Path, "/api/") {
				next.ServeHTTP(w, r)
				return
			}
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if mt != "" && mt != "application/json" && !strings.HasSuffix(mt, "+json") {
				next.ServeHTTP(w, r) // huma answers 415 for types it does not accept
				return
			}
			body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
			if err != nil {
				WriteProblem(w, r, http.StatusRequestEntityTooLarge, "the request body is too large or could not be read")
				return
			}
			if int64(len(body)) > limit {
				WriteProblem(w, r, http.StatusRequestEntityTooLarge, "the request body is larger than "+strconv.FormatInt(limit, 10)+" bytes")
				return
			}
			if !utf8.Valid(body) {
				WriteProblem(w, r, http.StatusBadRequest, "the request body is not valid UTF-8")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
		})
	}
}

// RateLimiter is a token bucket per client key, held in this node's memory.
type RateLimiter struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewRateLimiter allows rate requests per second per key, with bursts of burst.
func NewRateLimiter(rate, burst float64) *RateLimiter {
	return &RateLimiter{rate: rate, burst: burst, buckets: map[string]*bucket{}, now: time.Now}
}

// Allow takes a token for key and reports whether one was available, and if not, when to retry.
func (l *RateLimiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) > 100_000 { // bound memory: drop idle buckets
			for k, v := range l.buckets {
				if now.Sub(v.last) > time.Minute {
					delete(l.buckets, k)
				}
			}
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// RateLimit answers 429 when a client exceeds its rate. key names the client: it
// runs after authentication, so that only a verified token or session gets a bucket
// of its own and everything else is charged to its address.
func RateLimit(l *RateLimiter, key func(r *http.Request) string) Middleware {
	return func(next http.Handler) http.Handler {
		if l == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !l.Check(w, r, key(r)) {
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Check takes a token for key; when none is left it writes the 429 problem and reports false.
// A nil limiter allows everything.
func (l *RateLimiter) Check(w http.ResponseWriter, r *http.Request, key string) bool {
	if l == nil {
		return true
	}
	ok, wait := l.Allow(key)
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		WriteProblem(w, r, http.StatusTooManyRequests, "too many requests; slow down")
	}
	return ok
}

// problemRewriter turns the mux's plain-text 404 and 405 answers into problem+json.
type problemRewriter struct {
	http.ResponseWriter
	r       *http.Request
	handled bool
}

func (p *problemRewriter) WriteHeader(code int) {
	if (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) &&
		strings.HasPrefix(p.Header().Get("Content-Type"), "text/plain") {
		p.handled = true
		p.Header().Del("X-Content-Type-Options")
		detail := "no such API endpoint; see /api/v1/openapi.json"
		if code == http.StatusMethodNotAllowed {
			detail = "this endpoint does not accept " + p.r.Method + "; allowed: " + p.Header().Get("Allow")
		}
		WriteProblem(p.ResponseWriter, p.r, code, detail)
		return
	}
	p.ResponseWriter.WriteHeader(code)
}

func (p *problemRewriter) Write(b []byte) (int, error) {
	if p.handled {
		return len(b), nil
	}
	return p.ResponseWriter.Write(b)
}

func (p *problemRewriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// APIErrorsAsProblems makes the mux's own 404 and 405 answers under /api/ problem+json.
func APIErrorsAsProblems(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&problemRewriter{ResponseWriter: w, r: r}, r)
	})
}
