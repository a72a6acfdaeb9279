/* Replacing a file whole, so that a crash or a full disk at any moment
 * leaves either the old file or the new one, never half of either: the
 * text goes to a temporary file in the same directory (a rename never
 * crosses file systems), which gets the old file's mode and owner, is
 * synced, and is renamed over the old name; then the directory is synced
 * so that the rename itself survives a crash. A symbolic link is
 * followed: the file it names is replaced, the link stays. */
#ifndef RINGVPN_SRC_DAEMON_FILE_REPLACE_H
#define RINGVPN_SRC_DAEMON_FILE_REPLACE_H

#include <stddef.h>

/* Replaces the existing file path with len bytes of text. Returns 0 or
 * the -errno of the step that failed (the old file is then untouched and
 * no temporary file is left). Changing the owner back needs CAP_CHOWN
 * when it is not ours; without it the file keeps the new owner (ours)
 * and *owner_lost is set, for the caller to warn. */
int file_replace(const char *path, const char *text, size_t len,
		 int *owner_lost);

#endif
