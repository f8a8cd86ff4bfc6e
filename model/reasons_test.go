package model

import (
	"slices"
	"testing"
)

// keptReasons hands out the list it was given, whether shared or new, never with room
// to grow into: an append by a caller copies instead of writing into a shared table.
func TestKeptReasons(t *testing.T) {
	lists := [][]Reason{{reasonUnknown}}
	for _, r := range oneReason {
		lists = append(lists, []Reason{r})
	}
	for _, pair := range windowPairs {
		lists = append(lists, pair[:], []Reason{pair[1], pair[0]})
	}
	lists = append(lists, []Reason{ReasonDisabled, ReasonUnschedulable, ReasonStale5h})
	for _, want := range lists {
		in := slices.Clone(want)
		got := keptReasons(in)
		if !slices.Equal(got, want) || cap(got) != len(got) {
			t.Fatalf("keptReasons(%v) = %v (cap %d)", want, got, cap(got))
		}
		in[0] = "scribbled" // the judgement's list does not alias the scratch one
		if got[0] != want[0] {
			t.Fatalf("keptReasons(%v) aliases its argument", want)
		}
	}
	// Judge's invalid judgement takes the first
	if oneReason[0] != ReasonInvalid {
		t.Fatalf("oneReason: %v", oneReason)
	}
}

// reasonUnknown is in no shared table: it takes the allocating way.
const reasonUnknown Reason = "unknown_for_test"
