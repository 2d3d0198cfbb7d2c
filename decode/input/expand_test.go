package input

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	root := t.TempDir()
	ev := filepath.Join(root, "ev")
	for _, f := range []string{
		"b.pcap", "a.pcap", "A.pcap", "a0.pcap", "a/x.pcap", "a/.cache/y.pcap", ".hidden.pcap",
		".git/objects/z", "sub/deeper/z.pcap", "sub/y.pcapng", "Z/1",
	} {
		p := filepath.Join(ev, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	outside := filepath.Join(root, "outside.pcap")
	os.WriteFile(outside, nil, 0o644)
	if err := os.Symlink(outside, filepath.Join(ev, "link-to-file")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(ev, "sub"), filepath.Join(ev, "link-to-dir")); err != nil {
		t.Fatal(err)
	}
	explicitHidden := filepath.Join(root, ".explicit.pcap")
	os.WriteFile(explicitHidden, nil, 0o644)

	got, err := Expand([]string{outside, "-", ev, explicitHidden, filepath.Join(ev, "link-to-dir")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		outside,
		"-",
		// Byte order: upper case before lower case, "a" before "a.pcap"
		// before "a0.pcap"; hidden entries skipped; the link to a file
		// kept, the link to a directory not followed.
		ev + "/A.pcap",
		ev + "/Z/1",
		ev + "/a/x.pcap",
		ev + "/a.pcap",
		ev + "/a0.pcap",
		ev + "/b.pcap",
		ev + "/link-to-file",
		ev + "/sub/deeper/z.pcap",
		ev + "/sub/y.pcapng",
		explicitHidden,
		// A linked directory named on the command line is walked.
		ev + "/link-to-dir/deeper/z.pcap",
		ev + "/link-to-dir/y.pcapng",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Expand =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	missing := filepath.Join(root, "nope.pcap")
	if _, err := Expand([]string{ev, missing}); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing path: %v", err)
	}
	dangling := filepath.Join(ev, "sub", "dangling")
	os.Symlink(filepath.Join(root, "gone"), dangling)
	if _, err := Expand([]string{ev}); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), dangling) {
		t.Errorf("dangling link: %v", err)
	}
	if got, err := Expand(nil); err != nil || len(got) != 0 {
		t.Errorf("Expand(nil) = %v, %v", got, err)
	}
}
