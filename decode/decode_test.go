package decode

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindName(t *testing.T) {
	sentinel := errors.New("malformed export")
	other := errors.New("rest of file unreadable")
	tests := []struct {
		e    *Error
		want string
	}{
		{&Error{Kind: "malformed DNS", Err: sentinel}, "malformed DNS"},
		{&Error{Err: fmt.Errorf("NetFlow export from x: %w", fmt.Errorf("%w: template %d", sentinel, 400))}, "malformed export"},
		{&Error{Err: fmt.Errorf("wrapped: %w", errors.Join(fmt.Errorf("corrupt record %d", 7), other))}, "corrupt record 7"},
		{&Error{Err: errors.New("plain")}, "plain"},
		{&Error{}, "problem"},
	}
	for _, tc := range tests {
		if got := tc.e.KindName(); got != tc.want {
			t.Errorf("KindName of %v = %q, want %q", tc.e.Err, got, tc.want)
		}
	}
	if Warning.String() != "warning" || Note.String() != "note" {
		t.Errorf("severities print as %q, %q", Warning, Note)
	}
}
