package report

import (
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// This file holds the projection fields of the JSON document (rates, pause times, group
// capacity), kept apart from the snapshot fields so both can change on their own.

// Projects reports whether format shows the projections (the rows' forecasts and the
// groups): only the JSON document does, so the other formats need not run Project.
func Projects(format string) bool { return format == "json" }

// Project fills each row's forecast from its samples (samples may be nil: no history)
// and returns the groups' capacity.
func Project(rows []Row, samples trend.SampleSource, p model.Policy, now time.Time) []trend.Group {
	o := trend.DefaultOptions()
	members := make([]trend.Member, len(rows))
	forecasts := make([]trend.Forecast, len(rows))
	for i := range rows {
		r := &rows[i]
		r.Forecast = &forecasts[i]
		members[i] = trend.Member{Account: r.Account, Judgement: &r.Judgement, Forecast: r.Forecast}
	}
	trend.ProjectAll(members, samples, p, o, now)
	return trend.Groups(members, p, o, now)
}
