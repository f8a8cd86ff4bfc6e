package source

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/valyala/fastjson"
)

// APIPageSize is the largest page the gateway serves (ParsePagination falls back to 20
// for anything above 1000).
const APIPageSize = 1000

// maxAPIPages bounds one read: a gateway announcing more pages than this is broken.
const maxAPIPages = 10000

// maxPageBytes bounds one page's answer: 1,000 accounts with a full extra map each.
const maxPageBytes = 64 << 20

// API reads the fleet from the gateway's admin API (GET /api/v1/admin/accounts) for
// operators who cannot reach its Redis. Pages are asked for in ID order with the ETag of
// their last answer, so an unchanged page comes back as a bodyless 304. A read either
// returns the whole fleet or fails: a page that fails midway leaves the caller's last
// good fleet in place.
type API struct {
	admin    *Admin
	pageSize int

	mu     sync.Mutex // one read at a time; pages are this reader's memory
	pages  []apiPage
	dec    Decoder
	page   fastjson.Parser // the answer being read; reused page after page
	status string          // what the last read did, for the status line
}

// apiPage is one page as last read: its ETag and what it decoded to.
type apiPage struct {
	etag     string
	accounts []model.Account
	total    int64
	pages    int
}

// NewAPI reads accounts through admin.
func NewAPI(admin *Admin) *API { return &API{admin: admin, pageSize: APIPageSize} }

// Address is the admin API's URL.
func (s *API) Address() string { return s.admin.Address() }

// Prefix is empty: the admin API has no key prefix.
func (s *API) Prefix() string { return "" }

// Vanished is always 0: a page is one consistent database query.
func (s *API) Vanished() int { return 0 }

// TrackingStatus says how the last read went, for the live monitor's status line.
func (s *API) TrackingStatus() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Read returns every account, page by page.
func (s *API) Read(ctx context.Context) ([]model.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next []apiPage
	var total int64
	unchanged := 0
	for page := 1; ; page++ {
		if page > maxAPIPages {
			return nil, fmt.Errorf("the gateway announced more than %d pages of accounts", maxAPIPages)
		}
		var last *apiPage
		if page <= len(s.pages) {
			last = &s.pages[page-1]
		}
		p, err := s.readPage(ctx, page, last)
		if err != nil {
			return nil, fmt.Errorf("page %d of the account list: %w", page, err)
		}
		if p == nil {
			p, unchanged = last, unchanged+1
		}
		if page == 1 {
			total = p.total
		}
		next = append(next, *p)
		// The gateway's page count decides; a gateway that sends none ends with a short
		// page. An empty page ends the list either way.
		if len(p.accounts) == 0 || (p.pages > 0 && page >= p.pages) || (p.pages <= 0 && len(p.accounts) < s.pageSize) {
			break
		}
	}
	s.pages = next
	accounts := joinPages(next)
	s.status = fmt.Sprintf("%d of %d page(s) unchanged", unchanged, len(next))
	if int64(len(accounts)) != total {
		// Accounts added or deleted between two pages shift the offsets: one may be
		// missing or counted twice until the next read.
		s.status += fmt.Sprintf(" · the list changed while read (%d of %d)", len(accounts), total)
	}
	return accounts, nil
}

// joinPages concatenates the pages, keeping the first of any ID seen twice (an account
// that moved pages between two requests).
func joinPages(pages []apiPage) []model.Account {
	n := 0
	for _, p := range pages {
		n += len(p.accounts)
	}
	out := make([]model.Account, 0, n)
	seen := make(map[int64]bool, n)
	for _, p := range pages {
		for _, a := range p.accounts {
			if a.Invalid == "" && seen[a.ID] {
				continue
			}
			seen[a.ID] = true
			out = append(out, a)
		}
	}
	return out
}

// readPage asks for one page; nil with no error means the gateway answered 304 to the
// last page's ETag.
func (s *API) readPage(ctx context.Context, page int, last *apiPage) (*apiPage, error) {
	path := "/accounts?page=" + strconv.Itoa(page) + "&page_size=" + strconv.Itoa(s.pageSize) + "&sort_by=id&sort_order=asc"
	etag := ""
	if last != nil {
		etag = last.etag
	}
	raw, newETag, err := s.admin.list(ctx, path, etag)
	if err != nil || raw == nil {
		return nil, err
	}
	p, err := s.decodePage(raw)
	if err != nil {
		return nil, err
	}
	p.etag = newETag
	return p, nil
}

// decodePage reads one successful answer: the envelope {"code": 0, "data": {"items": [...],
// "total", "page", "pages"}}, parsed once (the envelope's data is most of the bytes).
func (s *API) decodePage(raw []byte) (*apiPage, error) {
	env, err := s.page.ParseBytes(raw)
	if err != nil || env.Type() != fastjson.TypeObject {
		// Not the envelope: let the admin client's reading name the problem.
		if _, aerr := s.admin.answer(http.StatusOK, raw, 0); aerr != nil {
			return nil, aerr
		}
		return nil, &APIError{Status: http.StatusOK, Sentence: "the gateway's account list is not a JSON object"}
	}
	if code := env.Get("code"); code != nil && code.Type() != fastjson.TypeNull && codeText(code.MarshalTo(nil)) != "0" && codeText(code.MarshalTo(nil)) != "" {
		_, aerr := s.admin.answer(http.StatusOK, raw, 0) // the refusal's sentence
		if aerr == nil {
			aerr = &APIError{Status: http.StatusOK, Sentence: "the gateway refused the account list"}
		}
		return nil, aerr
	}
	v := env.Get("data")
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil, &APIError{Status: http.StatusOK, Sentence: "the gateway's account list came without data"}
	}
	items := v.Get("items")
	if items == nil || items.Type() != fastjson.TypeArray {
		return nil, &APIError{Status: http.StatusOK, Sentence: "the gateway's account list has no items array: is --api a sub2api gateway?"}
	}
	list, _ := items.Array()
	p := &apiPage{accounts: make([]model.Account, 0, len(list))}
	p.total, _ = fjInt(orNull(v.Get("total")))
	pages, _ := fjInt(orNull(v.Get("pages")))
	p.pages = int(pages)
	if p.total < 0 {
		p.total = 0
	}
	for _, item := range list {
		p.accounts = append(p.accounts, decodeDTO(&s.dec, item))
	}
	return p, nil
}

// ReadAccount reads one account afresh (GET /accounts/:id), for the detail view and for
// checking a probe's effect.
func (s *API) ReadAccount(ctx context.Context, id int64) (model.Account, error) {
	data, _, err := s.admin.call(ctx, http.MethodGet, accountPath(id, ""), nil, s.admin.timeout, id)
	if err != nil {
		return model.Account{}, err
	}
	var parser fastjson.Parser
	v, err := parser.ParseBytes(data)
	if err != nil {
		return model.Account{}, &APIError{Status: http.StatusOK, Sentence: "the gateway's account is not JSON: " + syntaxReason(string(data))}
	}
	var dec Decoder
	a := decodeDTO(&dec, v)
	if a.Invalid == "" && a.ID != id {
		return model.Account{}, &APIError{Status: http.StatusOK, Sentence: fmt.Sprintf("asked for account #%d, the gateway answered with #%d", id, a.ID)}
	}
	return a, nil
}

// list is one GET of the account list with If-None-Match. It returns the body of a 200
// and the new ETag, or a nil body for 304 Not Modified.
func (a *Admin) list(ctx context.Context, path, etag string) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	req, err := a.request(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, "", err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, "", a.transportError(err, a.timeout)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		if etag == "" {
			return nil, "", &APIError{Status: resp.StatusCode, Sentence: "the gateway answered 304 Not Modified to a request that named no ETag"}
		}
		return nil, etag, nil
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, "", redirectError(resp)
	}
	raw, err := readBody(resp, maxPageBytes)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		_, err := a.answer(resp.StatusCode, raw, 0)
		return nil, "", err
	}
	// An ETag is kept only to be sent back; one that is not a plain quoted token is dropped.
	newETag := resp.Header.Get("ETag")
	if len(newETag) > 200 || strings.ContainsFunc(newETag, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		newETag = ""
	}
	return raw, newETag, nil
}

// orNull stands in for a missing field.
func orNull(v *fastjson.Value) *fastjson.Value {
	if v == nil {
		return nullValue
	}
	return v
}

var nullValue = fastjson.MustParse("null")

// APIInterval is the admin API's default poll interval: every page is a database query on
// the gateway, and it builds the whole page even when it then answers 304.
const APIInterval = 15 * time.Second
