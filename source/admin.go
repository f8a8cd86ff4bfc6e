package source

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/quotatop/quotatop/model"
)

// AdminConfig says how to reach the gateway's admin API.
type AdminConfig struct {
	BaseURL string // e.g. https://gateway.example.com
	Key     string // admin API key, sent as x-api-key
	Token   string // admin JWT, sent as a bearer token when Key is empty
	CAFile  string // PEM bundle of a private CA; empty means the system roots
	// Timeouts: ProbeTimeout for the refresh probe (the gateway may wait ~15 s on
	// upstream), Timeout for everything else.
	ProbeTimeout, Timeout time.Duration
}

// Admin is a client of sub2api's admin API. Its errors never contain the credential.
type Admin struct {
	base                  *url.URL
	key, token            string
	http                  *http.Client
	probeTimeout, timeout time.Duration
}

// NewAdmin checks the configuration and builds the client.
func NewAdmin(c AdminConfig) (*Admin, error) {
	u, err := url.Parse(strings.TrimRight(c.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--api %q is not an http(s) URL", RedactedAPI(c.BaseURL))
	}
	if why := APICredentialInURL(u); why != "" {
		return nil, fmt.Errorf("--api %s carries %s, which quotatop would print in every error and log line: give the bare address and the key through QUOTATOP_ADMIN_KEY or --admin-key-file", RedactedAPI(c.BaseURL), why)
	}
	if c.Key == "" && c.Token == "" {
		return nil, errors.New("--api needs credentials: set QUOTATOP_ADMIN_KEY, QUOTATOP_ADMIN_TOKEN or --admin-key-file")
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pool, err := loadCA(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--api-ca: %w", err)
		}
		tlsConfig.RootCAs = pool
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	transport.Proxy = nil // the admin key must not travel through an ambient proxy
	a := &Admin{base: u, key: c.Key, token: c.Token, http: &http.Client{Transport: transport, CheckRedirect: neverFollow},
		probeTimeout: c.ProbeTimeout, timeout: c.Timeout}
	if a.probeTimeout <= 0 {
		a.probeTimeout = 20 * time.Second
	}
	if a.timeout <= 0 {
		a.timeout = 10 * time.Second
	}
	return a, nil
}

// APICredentialInURL says what in an admin API URL could be a credential (userinfo, a
// query or a fragment), or "" when there is none. The gateway authenticates by header.
func APICredentialInURL(u *url.URL) string {
	switch {
	case u.User != nil:
		return "a user or password (user:password@)"
	case u.RawQuery != "" || u.ForceQuery:
		return "a query (?...)"
	case u.Fragment != "":
		return "a fragment (#...)"
	}
	return ""
}

// RedactedAPI is an admin API URL for an error sentence: scheme and host only when it
// carries more than a path, so a credential typed into it is never repeated.
func RedactedAPI(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(an unparseable URL)"
	}
	if APICredentialInURL(u) != "" {
		return u.Scheme + "://" + u.Host + "/…"
	}
	return model.OutsideText(u.String())
}

// Address is the API base URL, for display.
func (a *Admin) Address() string { return a.base.String() }

// APIError is a failed admin call, with the sentence an operator should read.
type APIError struct {
	Status   int    // HTTP status, 0 when the request never got an answer
	Code     string // the gateway's code, when it sent one
	Message  string // the gateway's message, sanitised
	Sentence string
}

func (e *APIError) Error() string { return e.Sentence }

// HTTPStatus is the status of a failed call, or 0 when there was no answer.
func HTTPStatus(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

type envelope struct {
	Code    json.RawMessage `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// call sends one request and returns the envelope's data. It returns the HTTP status too,
// for the audit log.
func (a *Admin) call(ctx context.Context, method, path string, body any, timeout time.Duration, id int64) (json.RawMessage, int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := a.request(ctx, method, path, body)
	if err != nil {
		return nil, 0, err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, 0, a.transportError(err, timeout)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, resp.StatusCode, redirectError(resp)
	}
	raw, err := readBody(resp, 8<<20)
	if err != nil {
		return nil, resp.StatusCode, err
	}
	data, err := a.answer(resp.StatusCode, raw, id)
	return data, resp.StatusCode, err
}

// request builds an admin request with the credential; path is below /api/v1/admin.
func (a *Admin) request(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base.String()+"/api/v1/admin"+path, reader)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.key != "" {
		req.Header.Set("x-api-key", a.key)
	} else {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	return req, nil
}

// readBody reads at most limit bytes of an answer; a longer one is an error, never a
// silently cut document.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, &APIError{Status: resp.StatusCode, Sentence: fmt.Sprintf("the gateway's answer (HTTP %d) broke off: %s", resp.StatusCode, model.OutsideText(err.Error()))}
	}
	if int64(len(raw)) > limit {
		return nil, &APIError{Status: resp.StatusCode, Sentence: fmt.Sprintf("the gateway's answer (HTTP %d) is larger than %d MB", resp.StatusCode, limit>>20)}
	}
	return raw, nil
}

// answer reads one response body: the envelope's data, or the sentence for a failure.
// Everything the gateway wrote is sanitised and cut before it reaches the sentence.
func (a *Admin) answer(status int, raw []byte, id int64) (json.RawMessage, error) {
	var env envelope
	jsonErr := json.Unmarshal(raw, &env)
	code := codeText(env.Code)
	msg := model.OutsideText(env.Message)
	if status != http.StatusOK {
		return nil, a.statusError(status, code, msg, jsonErr != nil, id)
	}
	if jsonErr != nil {
		return nil, &APIError{Status: status, Sentence: "the gateway answered HTTP 200 with something that is not JSON: is --api the gateway's address?"}
	}
	if code != "0" && code != "" {
		return nil, &APIError{Status: status, Code: code, Message: msg, Sentence: fmt.Sprintf("the gateway refused: %s (code %s)", orUnknown(msg), code)}
	}
	return env.Data, nil
}

// neverFollow stops the client at a redirect: net/http would re-send the request,
// x-api-key included, to whatever host the Location names.
func neverFollow(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// redirectError names where the gateway pointed, without the target's credentials or query.
func redirectError(resp *http.Response) error {
	target := "an address it did not give"
	if u, err := resp.Location(); err == nil {
		u.User, u.RawQuery, u.Fragment = nil, "", ""
		target = model.OutsideText(u.String())
	}
	return &APIError{Status: resp.StatusCode, Sentence: fmt.Sprintf("the gateway redirected to %s (HTTP %d); point --api at the final address", target, resp.StatusCode)}
}

func codeText(raw json.RawMessage) string {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	return model.OutsideText(s)
}

func orUnknown(s string) string {
	if s == "" {
		return "no message"
	}
	return s
}

func (a *Admin) statusError(status int, code, msg string, notJSON bool, id int64) error {
	e := &APIError{Status: status, Code: code, Message: msg}
	detail := ""
	if msg != "" {
		detail = ": " + msg
	}
	switch {
	case status == http.StatusLocked || code == "ADMIN_COMPLIANCE_ACK_REQUIRED":
		e.Sentence = "the gateway needs an administrator to accept its compliance notice once in its web UI (HTTP 423); quotatop does not accept it for you"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Sentence = fmt.Sprintf("the gateway rejected the admin credential (HTTP %d%s): check QUOTATOP_ADMIN_KEY, QUOTATOP_ADMIN_TOKEN or --admin-key-file", status, detail)
	case status == http.StatusNotFound && id > 0:
		e.Sentence = fmt.Sprintf("account #%d no longer exists on the gateway (HTTP 404)", id)
	case status == http.StatusNotFound:
		e.Sentence = "the gateway has no such admin route (HTTP 404): is --api the gateway's base URL, and is it new enough?"
	case notJSON:
		e.Sentence = fmt.Sprintf("the gateway answered HTTP %d with something that is not JSON: a proxy in front of it may be failing", status)
	default:
		e.Sentence = fmt.Sprintf("the gateway answered HTTP %d%s", status, detail)
	}
	return e
}

func (a *Admin) transportError(err error, timeout time.Duration) error {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return &APIError{Sentence: fmt.Sprintf("the gateway did not answer within %s", timeout)}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &APIError{Sentence: fmt.Sprintf("cannot reach the gateway at %s: connection refused", a.base)}
	case errors.Is(err, context.Canceled):
		return &APIError{Sentence: "cancelled"}
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return &APIError{Sentence: fmt.Sprintf("the gateway's TLS certificate is not trusted (%s): use --api-ca for a private CA", model.OutsideText(certErr.Err.Error()))}
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	return &APIError{Sentence: fmt.Sprintf("cannot reach the gateway at %s: %s", a.base, model.OutsideText(err.Error()))}
}

func accountPath(id int64, rest string) string {
	return "/accounts/" + strconv.FormatInt(id, 10) + rest
}

// Probe asks the gateway to spend one small upstream request and rewrite the snapshot.
// A 200 does not mean it worked: the gateway answers 200 with the old snapshot when
// upstream fails, so callers compare the snapshot time before and after.
func (a *Admin) Probe(ctx context.Context, id int64) (int, error) {
	_, status, err := a.call(ctx, http.MethodGet, accountPath(id, "/usage?force=true"), nil, a.probeTimeout, id)
	return status, err
}

// ClearRateLimit clears a rate limit, an overload, a temporary block and model limits.
func (a *Admin) ClearRateLimit(ctx context.Context, id int64) (int, error) {
	_, status, err := a.call(ctx, http.MethodPost, accountPath(id, "/clear-rate-limit"), nil, a.timeout, id)
	return status, err
}

// RecoverState clears the error status and rate-limit state.
func (a *Admin) RecoverState(ctx context.Context, id int64) (int, error) {
	_, status, err := a.call(ctx, http.MethodPost, accountPath(id, "/recover-state"), nil, a.timeout, id)
	return status, err
}

// ClearTempUnschedulable deletes a temporary block.
func (a *Admin) ClearTempUnschedulable(ctx context.Context, id int64) (int, error) {
	_, status, err := a.call(ctx, http.MethodDelete, accountPath(id, "/temp-unschedulable"), nil, a.timeout, id)
	return status, err
}

// SetSchedulable turns the manual scheduling switch on.
func (a *Admin) SetSchedulable(ctx context.Context, id int64) (int, error) {
	_, status, err := a.call(ctx, http.MethodPost, accountPath(id, "/schedulable"), map[string]bool{"schedulable": true}, a.timeout, id)
	return status, err
}

// ExemptWindow disables auto-pause for one window. The gateway replaces the whole extra
// map on update, so it is read first and written back whole with only that key changed.
func (a *Admin) ExemptWindow(ctx context.Context, id int64, w model.WindowName) (int, error) {
	data, status, err := a.call(ctx, http.MethodGet, accountPath(id, ""), nil, a.timeout, id)
	if err != nil {
		return status, err
	}
	var account struct {
		Extra map[string]json.RawMessage `json:"extra"`
	}
	if err := json.Unmarshal(data, &account); err != nil || account.Extra == nil {
		// Without the current extra, a write would wipe every other setting.
		return status, &APIError{Status: status, Sentence: "the gateway's account answer has no readable extra map; nothing was changed"}
	}
	account.Extra["auto_pause_"+string(w)+"_disabled"] = json.RawMessage("true")
	_, status, err = a.call(ctx, http.MethodPut, accountPath(id, ""), map[string]any{"extra": account.Extra}, a.timeout, id)
	return status, err
}

// DefaultThresholds reads the gateway-wide quota auto-pause defaults (ratios 0-1).
func (a *Admin) DefaultThresholds(ctx context.Context) ([2]float64, error) {
	data, _, err := a.call(ctx, http.MethodGet, "/ops/advanced-settings", nil, a.timeout, 0)
	if err != nil {
		return [2]float64{}, err
	}
	var s struct {
		Q struct {
			T5h json.Number `json:"default_threshold_5h"`
			T7d json.Number `json:"default_threshold_7d"`
		} `json:"openai_account_quota_auto_pause"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		return [2]float64{}, &APIError{Sentence: "the gateway's advanced settings are not in the expected shape"}
	}
	t5, _ := s.Q.T5h.Float64()
	t7, _ := s.Q.T7d.Float64()
	return [2]float64{model.ClampRatio(t5), model.ClampRatio(t7)}, nil
}
