package flowstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestScanCheck flips a byte in each fixed-width flows column: under a
// ScanCheck the accessor hands the column out, Finish (after a partial or
// no scan) reports the same CorruptError an accessor would, and afterwards
// the accessor refuses the column. A sound table finishes clean and its
// columns count as checked.
func TestScanCheck(t *testing.T) {
	c := newCase(t)
	writeSegment(t, c, withExport(genSegment(23, 5000, 10, 5), 23, 2))
	segDir := c.Segments()[0].Dir()
	c.Close()
	path := filepath.Join(segDir, TableFlows+".col")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	open := func(t *testing.T) *Table {
		cc, err := Open(filepath.Dir(segDir))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cc.Close() })
		tb, err := cc.Segments()[0].Flows()
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}

	t.Run("sound", func(t *testing.T) {
		tb := open(t)
		sc := tb.CheckWhileScanning()
		if err := touchAll(tb); err != nil {
			t.Fatal(err)
		}
		for rows := 0; rows < tb.Rows(); rows += 777 {
			sc.Through(rows)
		}
		if err := sc.Finish(); err != nil {
			t.Fatal(err)
		}
		if err := touchAll(tb); err != nil {
			t.Fatal(err)
		}
	})

	n := int(binary.LittleEndian.Uint32(good[12:]))
	tested := 0
	for i := 0; i < n; i++ {
		e := good[entryAt(i):]
		name, _ := decodeName(e[:nameFieldLen])
		typ := Type(e[entType])
		off, length := binary.LittleEndian.Uint64(e[entOffset:]), binary.LittleEndian.Uint64(e[entLength:])
		if typ.variable() || length == 0 {
			continue
		}
		tested++
		for _, through := range []int{0, 1000, 1 << 30} {
			t.Run(fmt.Sprintf("%s/through%d", name, through), func(t *testing.T) {
				bad := append([]byte(nil), good...)
				bad[off+length-1] ^= 0x01 // the last byte: a partial scan has not reached it
				if err := os.WriteFile(path, bad, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.WriteFile(path, good, 0o644) })
				tb := open(t)
				sc := tb.CheckWhileScanning()
				if err := touchAll(tb); err != nil {
					t.Fatalf("under a ScanCheck the accessor refused: %v", err)
				}
				sc.Through(through)
				err := sc.Finish()
				var ce *CorruptError
				if !errors.Is(err, ErrChecksum) || !errors.As(err, &ce) || ce.Column != name || ce.Table != TableFlows || ce.Offset != int64(off) {
					t.Fatalf("Finish: %v", err)
				}
				for _, ci := range tb.Columns() {
					if err := touchOne(tb, ci); (err != nil) != (ci.Name == name) {
						t.Fatalf("after Finish, column %s: %v", ci.Name, err)
					}
				}
			})
		}
	}
	if tested < 10 {
		t.Fatalf("only %d fixed-width columns tested", tested)
	}
}
