package source

import (
	"encoding/json"
	"errors"
	"fmt"
)

// syntaxReason says why raw is not JSON by kind and byte offset only. Parser messages
// quote the input, and a broken value can hold a credential (apikey accounts keep
// Credentials.api_key in the meta form), so no byte of raw may reach the reason.
func syntaxReason(raw string) string {
	var discard json.RawMessage
	err := json.Unmarshal([]byte(raw), &discard)
	var syn *json.SyntaxError
	switch {
	case len(raw) == 0:
		return "not valid JSON: empty value"
	case errors.As(err, &syn) && syn.Offset >= int64(len(raw)):
		return fmt.Sprintf("not valid JSON: truncated after %d bytes", len(raw))
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON: syntax error at byte %d of %d", syn.Offset, len(raw))
	case err != nil:
		return fmt.Sprintf("not valid JSON: unreadable %d-byte value", len(raw))
	}
	// encoding/json accepts what fastjson refused (nesting too deep, for one).
	return fmt.Sprintf("not valid JSON: a %d-byte value the decoder cannot read", len(raw))
}
