package config

import (
	"regexp"
	"strconv"
)

// colorNames are the header colours a context may name, as ANSI 256 indexes: they look
// the same in every 256-colour terminal and tmux.
var colorNames = []string{"red", "orange", "yellow", "green", "cyan", "blue", "magenta", "grey", "white"}

var colorCodes = map[string]string{"red": "196", "orange": "208", "yellow": "220", "green": "34",
	"cyan": "51", "blue": "39", "magenta": "170", "grey": "245", "white": "231"}

var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func validColor(c string) bool {
	if _, ok := colorCodes[c]; ok || hexColor.MatchString(c) {
		return true
	}
	n, err := strconv.Atoi(c)
	return err == nil && n >= 0 && n <= 255
}

// ColorCode turns a context's colour into what lipgloss.Color takes ("196", "#ff0000");
// empty for none.
func ColorCode(c string) string {
	if code, ok := colorCodes[c]; ok {
		return code
	}
	return c
}
