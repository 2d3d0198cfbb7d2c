package stats

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The array is valid JSON however the JSON Lines arrive: whole, byte by
// byte, or not at all.
func TestJSONArray(t *testing.T) {
	lines := "{\"stat\":\"a\",\"n\":1}\n{\"stat\":\"a\",\"n\":2}\n{\"stat\":\"b\",\"n\":3}\n"
	want := "[\n{\"stat\":\"a\",\"n\":1},\n{\"stat\":\"a\",\"n\":2},\n{\"stat\":\"b\",\"n\":3}\n]\n"
	for _, chunk := range []int{len(lines), 1, 7} {
		var out bytes.Buffer
		j := &jsonArray{w: &out}
		for i := 0; i < len(lines); i += chunk {
			end := min(i+chunk, len(lines))
			if n, err := j.Write([]byte(lines[i:end])); err != nil || n != end-i {
				t.Fatalf("Write: %d, %v", n, err)
			}
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("chunks of %d:\n%s\nwant\n%s", chunk, out.String(), want)
		}
		if !json.Valid(out.Bytes()) {
			t.Errorf("chunks of %d: not valid JSON", chunk)
		}
	}
	var out bytes.Buffer
	j := &jsonArray{w: &out}
	if err := j.Close(); err != nil || out.String() != "[]\n" {
		t.Errorf("no rows: %q, %v", out.String(), err)
	}
}
