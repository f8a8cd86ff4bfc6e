package model

import (
	"reflect"
	"testing"
	"time"
)

// The live monitor keeps two fleets of accounts and a snapshot per account: padding in
// these structs is memory paid 20,000 times at 10,000 accounts.
func TestFleetStructsCarryNoPadding(t *testing.T) {
	for _, v := range []any{Account{}, Quota{}, WindowSnapshot{}, Blocks{}} {
		typ := reflect.TypeOf(v)
		var fields uintptr
		for i := range typ.NumField() {
			fields += typ.Field(i).Type.Size()
		}
		// Only the tail may be padded, to the struct's alignment.
		if slack := typ.Size() - fields; slack >= uintptr(typ.Align()) {
			t.Errorf("%s is %d bytes for %d bytes of fields: order its fields so that the small ones share words", typ.Name(), typ.Size(), fields)
		}
	}
}

func TestBlocksAreOutOfLineAndCopiedOnWrite(t *testing.T) {
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	var a Account
	a.SetBlocks(Blocks{})
	if b := a.Block(); a.Blocks != nil || !b.IsZero() {
		t.Fatalf("zero blocks kept: %+v", a.Blocks)
	}
	a.SetBlocks(Blocks{RateLimitResetAt: now})
	if a.Blocks == nil || !a.Block().RateLimitResetAt.Equal(now) {
		t.Fatalf("blocks lost: %+v", a.Blocks)
	}
	older := a // an older fleet's copy shares the blocks
	a.EditBlocks().OverloadUntil = now.Add(time.Hour)
	if !older.Block().OverloadUntil.IsZero() {
		t.Error("editing the blocks changed the older fleet's account")
	}
	if !a.Block().OverloadUntil.Equal(now.Add(time.Hour)) || !a.Block().RateLimitResetAt.Equal(now) {
		t.Errorf("edit lost: %+v", a.Block())
	}
	if j := Judge(&a, DefaultPolicy(), now); !j.Has(ReasonOverloaded) {
		t.Errorf("the judgement does not see the edited block: %v", j.Reasons)
	}
	if j := Judge(&older, DefaultPolicy(), now); j.Has(ReasonOverloaded) {
		t.Errorf("the older account is judged with the edit: %v", j.Reasons)
	}
}
