//go:build !unix

package atomicfile

// Directories cannot be fsynced on these systems (Windows rejects it);
// renames there are made durable by the file system itself or not at all.
func isUnsupportedSync(error) bool { return true }
