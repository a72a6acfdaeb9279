/* SaveConfig = true: on the way down, the running configuration goes
 * back into the file it came from, as wg-quick(8) does with `wg
 * showconf`. What the device holds replaces what the file said: the
 * private key, the listen port (the one in use, also when the file had
 * none), the fwmark, and every peer, with the endpoints it learned and
 * whatever wg(8) set through the UAPI. The rest of [Interface] (Address,
 * DNS, MTU, Table, the hooks, SaveConfig, Threads and any key ringvpn
 * itself handles) is copied line for line as written, comments
 * included, so that a key added to the format later is kept without a
 * change here. A comment inside a [Peer] section goes with the peer.
 * Where things are in the file is the parser's to say (struct
 * config_layout), so a file it refuses is not saved: `down` leaves it
 * as it is. */
#ifndef RINGVPN_SRC_DAEMON_SAVE_CONFIG_H
#define RINGVPN_SRC_DAEMON_SAVE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "src/config.h"
#include "src/secret_buf.h"
#include "src/uapi/view.h"

struct tunnel;

/* Writes to out the text that the file text (len bytes, as it is now)
 * becomes with the running device run; file is what config_parse made
 * of text. */
void save_config_text(FILE *out, const char *text, size_t len,
		      const struct config *file, const struct uapi_view *run);

/* Rewrites path (file_replace: atomic, mode and owner kept) with tn's
 * running configuration; text and file are path as it is now, from
 * config_load_text (a hand edit made while the tunnel ran is kept, in
 * the lines copied). Returns 0 or -errno with err saying which step
 * failed; err is also set (a warning) when the file was saved but its
 * owner could not be kept, and is empty otherwise. */
int save_config(struct tunnel *tn, const char *path,
		const struct secret_buf *text, const struct config *file,
		char *err, size_t err_len);

#endif
