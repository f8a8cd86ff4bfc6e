package tui

import (
	"time"

	"github.com/quotatop/quotatop/model"
)

// Context is what every part of the screen needs to know, passed down, never global.
type Context struct {
	Width, Height int
	Styles        Styles
	Keys          KeyMap
	Policy        model.Policy
	Now           time.Time // the time of the last tick: views never read the clock
	Source        SourceInfo
	// Running names the action in flight per account, shown in its row.
	Running map[string]string
	// Location is where absolute times are shown; nil means the machine's local zone.
	Location *time.Location
}

func (c *Context) location() *time.Location {
	if c.Location == nil {
		return time.Local
	}
	return c.Location
}

// SourceInfo describes what is being watched, for the header.
type SourceInfo struct {
	Address string // masked URL or "demo"
	Prefix  string
	Mode    string // standalone, sentinel, cluster, demo
	API     bool   // read from the admin API's account list, not from Redis
}
