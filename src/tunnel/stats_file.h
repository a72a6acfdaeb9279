/* The statistics file (src/tunnel/stats_file.c). */
#ifndef RINGVPN_SRC_STATS_FILE_H
#define RINGVPN_SRC_STATS_FILE_H

#include "src/tunnel/state.h"

/* Writes the counters `ringvpn show` prints: 0 or -errno. */
int stats_file_write(struct tunnel *tn);

#endif
