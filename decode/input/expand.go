package input

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Expand turns command-line arguments into evidence paths. Files are kept
// as given (whatever their name, hidden or not: the user named them), and
// "-" (standard input) is kept as is. A directory is walked recursively,
// entries in byte order of their names, depth first; hidden entries
// (leading '.') are skipped, as are sockets, devices and pipes found
// inside. Inside a directory, a symbolic link to a file is included but a
// symbolic link to a directory is not followed (it could loop or lead out
// of the evidence tree; name it on the command line to include it). A
// missing path, a dangling link or an unreadable directory is an error
// naming it.
func Expand(args []string) ([]string, error) {
	var out []string
	for _, arg := range args {
		if arg == "-" {
			out = append(out, arg)
			continue
		}
		st, err := os.Stat(arg)
		if err != nil {
			return nil, err // *fs.PathError names the path
		}
		if !st.IsDir() {
			out = append(out, arg)
			continue
		}
		// WalkDir does not follow a root that is itself a link; a trailing
		// separator makes the system resolve it.
		root := arg
		if lst, err := os.Lstat(arg); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
			root = arg + string(filepath.Separator)
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path == root {
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			switch t := d.Type(); {
			case t.IsDir():
				return nil
			case t.IsRegular():
				out = append(out, path)
			case t&fs.ModeSymlink != 0:
				st, err := os.Stat(path)
				if err != nil {
					return fmt.Errorf("%s: symbolic link: %w", path, err)
				}
				if st.Mode().IsRegular() {
					out = append(out, path)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
