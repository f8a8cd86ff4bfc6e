package metrics

import (
	"bufio"
	"compress/gzip"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/quotatop/quotatop/model"
)

// The fleet's series are written straight from the snapshot in Prometheus' text format.
// The client library's registry builds every sample as a protobuf message and sorts
// them before writing one: at 10,000 accounts (150,000 series) a scrape took 0.55 s of
// CPU and 84 MB, and a duplicate account ID failed the whole scrape. The registry keeps
// the process, Go and poll metrics, which are few.

// Each family: name, type and help, as the text format's comment lines give them.
type family struct{ name, help string }

var (
	famInfo = family{"quotatop_account_info",
		"Always 1; carries the account's descriptive labels for joins."}
	famState = family{"quotatop_account_state",
		"1 for the account's current state, 0 for the others."}
	famAge = family{"quotatop_account_snapshot_age_seconds",
		"Age of the account's usage snapshot at scrape time; absent without a snapshot time."}
	famUsed = family{"quotatop_window_used_ratio",
		"Used share of a Codex usage window as last stored (0-1); absent when the account has no such window."}
	famThreshold = family{"quotatop_window_threshold_ratio",
		"Used share (0-1) at which the gateway stops scheduling the account for a window: the lower of its auto-pause threshold (account, else gateway default; none when the window is exempt) and, for OpenAI, the scheduling threshold; absent when neither applies."}
	famTimeToPause = family{"quotatop_window_time_to_pause_seconds",
		"Projected time until the window reaches its threshold at its recent rate; absent when unknown."}
	famCount = family{"quotatop_accounts",
		"Accounts per state."}
	famGroupSched = family{"quotatop_group_schedulable_accounts",
		"Accounts of a group and platform the gateway schedules (state ok or warn); group 0 is the ungrouped accounts."}
	famGroupTotal = family{"quotatop_group_accounts",
		"Accounts in a group and platform; group 0 is the ungrouped accounts."}
	famDups = family{"quotatop_duplicate_account_ids",
		"Accounts left out of the per-account series because an earlier account has the same ID (two values claim it)."}
	famUp = family{"quotatop_storage_up",
		"1 when the last poll read the snapshot storage, else 0."}
	famLastOK = family{"quotatop_last_success_timestamp_seconds",
		"When the last successful poll finished (Unix time)."}
)

// maxScrapes bounds the scrapes served at once; more get 503.
const maxScrapes = 4

var textFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // the level is valid: no error
	return w
}}

func (m *Metrics) serveMetrics(w http.ResponseWriter, r *http.Request) {
	select {
	case m.scrapes <- struct{}{}:
		defer func() { <-m.scrapes }()
	default:
		http.Error(w, "too many scrapes at once; try again", http.StatusServiceUnavailable)
		return
	}
	fams, err := m.reg.Gather()
	if err != nil {
		http.Error(w, "cannot gather the process metrics: "+model.OutsideText(err.Error()), http.StatusInternalServerError)
		return
	}
	v := m.pin()
	defer v.unpin()
	h := w.Header()
	h.Set("Content-Type", string(textFormat))
	h.Add("Vary", "Accept-Encoding")
	var out io.Writer = w
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		gz := gzipWriters.Get().(*gzip.Writer)
		gz.Reset(w)
		defer func() { gz.Close(); gz.Reset(nil); gzipWriters.Put(gz) }()
		out = gz
	}
	bw := bufio.NewWriterSize(out, 32<<10)
	enc := expfmt.NewEncoder(bw, textFormat)
	for _, f := range fams {
		if enc.Encode(f) != nil {
			return // the scraper went away
		}
	}
	x := exposition{w: bw, now: m.opts.Clock()}
	x.fleet(v, m.opts.Projector)
	bw.Flush()
}

// acceptsGzip reads an Accept-Encoding header: gzip listed without q=0.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !ok {
			return true
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
		return err == nil && f > 0
	}
	return false
}

// view is what one scrape reads: the latest snapshot (pinned) and the poll's status.
type view struct {
	snap       *snapshot // nil before the first good poll
	polled, ok bool
	lastOK     time.Time
}

func (v view) unpin() {
	if v.snap != nil {
		v.snap.readers.Add(-1)
	}
}

// exposition writes samples in the text format.
type exposition struct {
	w   *bufio.Writer
	b   []byte
	now time.Time
}

func (x *exposition) header(f family) {
	x.w.WriteString("# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " gauge\n")
}

// start begins a sample of f; label and id add labels; end writes it with its value.
func (x *exposition) start(f family) { x.b = append(append(x.b[:0], f.name...), '{') }

// key begins a label: a comma unless it is the first, its name, and the opening quote.
func (x *exposition) key(name string) {
	if x.b[len(x.b)-1] != '{' {
		x.b = append(x.b, ',')
	}
	x.b = append(append(x.b, name...), `="`...)
}

func (x *exposition) label(name, value string) {
	x.key(name)
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\':
			x.b = append(x.b, `\\`...)
		case '"':
			x.b = append(x.b, `\"`...)
		case '\n':
			x.b = append(x.b, `\n`...)
		default:
			x.b = append(x.b, c)
		}
	}
	x.b = append(x.b, '"')
}

func (x *exposition) id(name string, v int64) {
	x.key(name)
	x.b = append(strconv.AppendInt(x.b, v, 10), '"')
}

func (x *exposition) end(v float64) {
	if x.b[len(x.b)-1] == '{' {
		x.b = x.b[:len(x.b)-1] // no labels
	} else {
		x.b = append(x.b, '}')
	}
	x.b = append(appendValue(append(x.b, ' '), v), '\n')
	x.w.Write(x.b)
}

// appendValue writes a sample value as the text format spells it.
func appendValue(b []byte, v float64) []byte {
	switch {
	case v == 0:
		return append(b, '0')
	case v == 1:
		return append(b, '1')
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// fleet writes the fleet's families from one snapshot.
func (x *exposition) fleet(v view, proj Projector) {
	if v.polled {
		x.header(famUp)
		x.start(famUp)
		x.end(b2f(v.ok))
	}
	if !v.lastOK.IsZero() {
		x.header(famLastOK)
		x.start(famLastOK)
		x.end(float64(v.lastOK.UnixNano()) / 1e9)
	}
	s := v.snap
	if s == nil {
		return // no fleet yet: counts of zero would claim an empty fleet
	}
	x.header(famInfo)
	for i := range s.rows {
		r := &s.rows[i]
		x.start(famInfo)
		x.id("account_id", r.id)
		if r.name != "" {
			x.label("account_name", r.name)
		}
		x.label("platform", r.platform)
		x.end(1)
	}
	x.header(famState)
	for i := range s.rows {
		r := &s.rows[i]
		for k, st := range model.States {
			x.start(famState)
			x.id("account_id", r.id)
			x.label("state", string(st))
			x.end(b2f(k == r.state))
		}
	}
	x.header(famAge)
	for i := range s.rows {
		if r := &s.rows[i]; r.hasAge {
			x.start(famAge)
			x.id("account_id", r.id)
			x.end(x.now.Sub(r.updatedAt).Seconds())
		}
	}
	x.windows(s, famUsed, func(_ *row, _ int, w windowRow) (float64, bool) { return w.used, w.present })
	x.windows(s, famThreshold, func(_ *row, _ int, w windowRow) (float64, bool) { return w.threshold, w.hasThreshold })
	if proj != nil {
		x.windows(s, famTimeToPause, func(r *row, k int, _ windowRow) (float64, bool) {
			if !r.sched {
				return 0, false
			}
			d, ok := proj.TimeToDry(r.id, model.WindowNames[k], x.now)
			return d.Seconds(), ok
		})
	}
	x.header(famCount)
	for k, st := range model.States {
		x.start(famCount)
		x.label("state", string(st))
		x.end(float64(s.counts[k]))
	}
	for _, f := range []family{famGroupSched, famGroupTotal} {
		x.header(f)
		for _, g := range s.groups {
			x.start(f)
			x.id("group", g.ID)
			x.label("platform", model.Sanitize(g.Platform))
			n := g.total
			if f == famGroupSched {
				n = g.sched
			}
			x.end(float64(n))
		}
	}
	x.header(famDups)
	x.start(famDups)
	x.end(float64(s.dups))
}

// windows writes a per-window family: value says a window's value and whether it has one.
func (x *exposition) windows(s *snapshot, f family, value func(r *row, k int, w windowRow) (float64, bool)) {
	x.header(f)
	for i := range s.rows {
		r := &s.rows[i]
		for k, w := range r.windows {
			if v, ok := value(r, k, w); ok {
				x.start(f)
				x.id("account_id", r.id)
				x.label("window", string(model.WindowNames[k]))
				x.end(v)
			}
		}
	}
}
