// go-peer: a Go peer of session-context's management read, for scripts/bench (issue 19).
//
// What a Go team would write for the same call, with the usual libraries: net/http, redigo
// (a connection pool) and golang-jwt (HS256). It answers
//
//	GET /session-context/{tenant}/context/{sessionId}  -> HGETALL sc:{<tenant>:<bucket>}:<sessionId>
//	GET /health/live                                    -> {"status":"ok"}
//
// with the same JSON bytes as the worker: sessionId, the standard fields that are set (in the
// contract's order), "context" with the attributes (@name fields, raw JSON, in Redis's order),
// "metadata" with version, createdAt and modifiedAt (ISO-8601 UTC with milliseconds). A missing
// session is a 404 with the worker's error body. The bearer token is verified on every request
// (no cache of verified tokens): HS256 only, exp required and checked (nbf when present), the
// tenant claim equal to the path's tenant, one of the scope words session_context.context_manage
// (or sessioncontext.context_manage, as the worker accepts by default).
//
// Build in GOPATH mode from Debian's packages (golang-go, golang-github-gomodule-redigo-dev,
// golang-github-golang-jwt-jwt-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o go-peer ./bench/go-peer
//
// The bucket is the service's (Sources/SessionStore/Layout/SessionLayout.swift): FNV-1a (32-bit)
// of the session id's bytes modulo the deployment's buckets per tenant (-buckets, else
// SESSION_CONTEXT_EVENT_BUCKETS as the workers read it, else 16).
//
// Run: go-peer -port 8082 -redis 127.0.0.1:6379 -secret "$SESSION_CONTEXT_JWT_SECRET" [-buckets 16]
// (or GO_PEER_PORT, REDIS_ADDR, SESSION_CONTEXT_JWT_SECRET). Binds 127.0.0.1 only.
package main

import (
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt"
	"github.com/gomodule/redigo/redis"
)

// claims are the token's claims the service reads.
type claims struct {
	Tenant string `json:"tenant"`
	Scope  string `json:"scope"`
	jwt.RegisteredClaims
}

var manageScopes = []string{"session_context.context_manage", "sessioncontext.context_manage"}

// The standard fields: storage name and JSON key, in the order the JSON form lists them.
var standardFields = [6][2]string{
	{"cu", "customerId"}, {"si", "siteCode"}, {"cy", "currency"},
	{"ca", "cartId"}, {"tl", "targetLocation"}, {"la", "language"},
}

type server struct {
	pool    *redis.Pool
	secret  []byte
	parser  *jwt.Parser
	buckets uint32
}

// The service's default buckets per tenant and the most a layout may have.
const (
	defaultBuckets = 16
	maximumBuckets = 1024
)

// bucket is the bucket of sessionID among buckets: FNV-1a (32-bit) of its bytes, modulo buckets.
func bucket(sessionID string, buckets uint32) uint32 {
	hash := uint32(0x811C9DC5)
	for i := 0; i < len(sessionID); i++ {
		hash = (hash ^ uint32(sessionID[i])) * 0x01000193
	}
	return hash % buckets
}

// sessionKey is the Redis key of the context's hash: sc:{<tenant>:<bucket>}:<sessionId>.
func (s *server) sessionKey(tenant, sessionID string) string {
	return "sc:{" + tenant + ":" + strconv.FormatUint(uint64(bucket(sessionID, s.buckets)), 10) + "}:" + sessionID
}

func main() {
	port := flag.String("port", os.Getenv("GO_PEER_PORT"), "port on 127.0.0.1")
	redisAddr := flag.String("redis", envOr("REDIS_ADDR", "127.0.0.1:6379"), "Redis host:port")
	secret := flag.String("secret", os.Getenv("SESSION_CONTEXT_JWT_SECRET"), "HS256 secret")
	poolSize := flag.Int("pool", 64, "most idle Redis connections kept")
	buckets := flag.Int("buckets", defaultBuckets, "buckets per tenant, as the workers have them (default SESSION_CONTEXT_EVENT_BUCKETS, else 16)")
	if text := os.Getenv("SESSION_CONTEXT_EVENT_BUCKETS"); text != "" {
		value, err := strconv.Atoi(text)
		if err != nil {
			log.Fatalf("SESSION_CONTEXT_EVENT_BUCKETS must be a number, not %q", text)
		}
		*buckets = value
	}
	flag.Parse()
	if *port == "" && flag.NArg() > 0 {
		*port = flag.Arg(0)
	}
	if *port == "" || *secret == "" {
		log.Fatal("usage: go-peer -port PORT -redis HOST:PORT -secret SECRET [-buckets N]")
	}
	if *buckets < 1 || *buckets > maximumBuckets {
		log.Fatalf("-buckets must be 1 to %d, not %d", maximumBuckets, *buckets)
	}
	s := &server{
		pool: &redis.Pool{
			MaxIdle:     *poolSize,
			IdleTimeout: 5 * time.Minute,
			Dial:        func() (redis.Conn, error) { return redis.Dial("tcp", *redisAddr) },
		},
		secret:  []byte(*secret),
		parser:  jwt.NewParser(jwt.WithValidMethods([]string{"HS256"})),
		buckets: uint32(*buckets),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health/live", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			writeError(w, http.StatusMethodNotAllowed, "method not allowed", "")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("/session-context/", s.get)
	log.Fatal(http.ListenAndServe("127.0.0.1:"+*port, mux))
}

func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

// get serves GET /session-context/{tenant}/context/{sessionId}.
func (s *server) get(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/session-context/")
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[1] != "context" {
		writeError(w, http.StatusNotFound, "not found", "")
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "method not allowed", "")
		return
	}
	tenant, sessionID := parts[0], parts[2]
	if status, message := s.authorize(r.Header.Get("Authorization"), tenant); status != 0 {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		writeError(w, status, message, "")
		return
	}
	if !validSessionID(sessionID) {
		writeError(w, http.StatusBadRequest, "sessionId must be 1 to 128 characters of A-Z a-z 0-9 . _ : -", "")
		return
	}
	conn := s.pool.Get()
	values, err := redis.ByteSlices(conn.Do("HGETALL", s.sessionKey(tenant, sessionID)))
	conn.Close()
	if err != nil {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "Redis does not answer", "")
		return
	}
	if len(values) < 2 {
		writeError(w, http.StatusNotFound, "no session context with this id", sessionID)
		return
	}
	body := render(sessionID, values)
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// authorize checks the bearer token for the management side of tenant: 0 when it may pass,
// else the status and message to answer.
func (s *server) authorize(header, tenant string) (int, string) {
	if len(header) <= 7 || !strings.EqualFold(header[:7], "bearer ") {
		return http.StatusUnauthorized, "a bearer token is required"
	}
	var c claims
	_, err := s.parser.ParseWithClaims(header[7:], &c, func(*jwt.Token) (interface{}, error) { return s.secret, nil })
	if err != nil {
		var validation *jwt.ValidationError
		if errors.As(err, &validation) && validation.Errors&(jwt.ValidationErrorExpired|jwt.ValidationErrorNotValidYet) != 0 {
			return http.StatusUnauthorized, "the token has expired or is not valid yet"
		}
		return http.StatusUnauthorized, "the token is invalid"
	}
	if c.ExpiresAt == nil {
		return http.StatusUnauthorized, "the token is malformed or its claims are incomplete"
	}
	if !validTenant(tenant) {
		return http.StatusBadRequest, "tenant must match ^[a-z][a-z0-9]+$ and have 3 to 16 characters"
	}
	if c.Tenant != tenant {
		return http.StatusForbidden, "the token is for another tenant"
	}
	for _, word := range strings.Fields(c.Scope) {
		for _, scope := range manageScopes {
			if word == scope {
				return 0, ""
			}
		}
	}
	return http.StatusForbidden, "the token lacks the scope session_context.context_manage"
}

func validTenant(tenant string) bool {
	if len(tenant) < 3 || len(tenant) > 16 || tenant[0] < 'a' || tenant[0] > 'z' {
		return false
	}
	for i := 0; i < len(tenant); i++ {
		c := tenant[i]
		if !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func validSessionID(id string) bool {
	if len(id) < 1 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') && c != '.' && c != '_' && c != ':' && c != '-' {
			return false
		}
	}
	return true
}

// render writes the context's JSON form from a flat HGETALL reply, as the worker does.
func render(sessionID string, flat [][]byte) []byte {
	var slots [9]int // six standard fields, then _v, _c, _m; -1 when absent
	for i := range slots {
		slots[i] = -1
	}
	size := 200 + len(sessionID)
	for i := 0; i+1 < len(flat); i += 2 {
		size += len(flat[i]) + len(flat[i+1]) + 24
		name := string(flat[i])
		for slot, field := range standardFields {
			if name == field[0] {
				slots[slot] = i + 1
			}
		}
		switch name {
		case "_v":
			slots[6] = i + 1
		case "_c":
			slots[7] = i + 1
		case "_m":
			slots[8] = i + 1
		}
	}
	out := make([]byte, 0, size)
	out = append(out, `{"sessionId":`...)
	out = appendString(out, []byte(sessionID))
	for slot, field := range standardFields {
		if slots[slot] >= 0 {
			out = append(out, ',', '"')
			out = append(out, field[1]...)
			out = append(out, '"', ':')
			out = appendString(out, flat[slots[slot]])
		}
	}
	out = append(out, `,"context":{`...)
	first := true
	for i := 0; i+1 < len(flat); i += 2 {
		name := flat[i]
		if len(name) == 0 || name[0] != '@' {
			continue
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = appendString(out, name[1:])
		out = append(out, ':')
		out = append(out, flat[i+1]...)
	}
	out = append(out, `},"metadata":{"version":`...)
	version, ok := int64(0), false
	if slots[6] >= 0 {
		version, ok = decimal(flat[slots[6]])
	}
	if !ok {
		version = 0
	}
	out = strconv.AppendInt(out, version, 10)
	for _, entry := range []struct {
		slot int
		key  string
	}{{7, `,"createdAt":"`}, {8, `,"modifiedAt":"`}} {
		if slots[entry.slot] < 0 {
			continue
		}
		milliseconds, ok := decimal(flat[slots[entry.slot]])
		if !ok {
			continue
		}
		out = append(out, entry.key...)
		out = time.UnixMilli(milliseconds).UTC().AppendFormat(out, "2006-01-02T15:04:05.000Z")
		out = append(out, '"')
	}
	out = append(out, '}', '}')
	return out
}

// decimal reads a non-negative integer of 1 to 18 digits, as the scripts store numbers.
func decimal(digits []byte) (int64, bool) {
	if len(digits) == 0 || len(digits) >= 19 {
		return 0, false
	}
	var value int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		value = value*10 + int64(c-'0')
	}
	return value, true
}

// appendString appends text as a JSON string literal: quotes, backslashes and control
// characters escaped, everything else (non-ASCII included) as it is, as the worker writes it.
func appendString(out []byte, text []byte) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for _, c := range text {
		switch {
		case c == '"':
			out = append(out, '\\', '"')
		case c == '\\':
			out = append(out, '\\', '\\')
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c == '\t':
			out = append(out, '\\', 't')
		case c == '\b':
			out = append(out, '\\', 'b')
		case c == '\f':
			out = append(out, '\\', 'f')
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0x0f])
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}

// writeError answers {"code":…,"message":…[,"sessionId":…]} as the worker's errors are.
func writeError(w http.ResponseWriter, status int, message, sessionID string) {
	body := []byte(`{"code":` + strconv.Itoa(status) + `,"message":`)
	body = appendString(body, []byte(message))
	if sessionID != "" {
		body = append(body, `,"sessionId":`...)
		body = appendString(body, []byte(sessionID))
	}
	body = append(body, '}')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}
