/*  fuzz_node.h - what the fuzz targets of node/ share.
 *
 *  The node's decoders log what they refuse; a fuzz target makes millions
 *  of refusals, so it silences the log (a crash or a failed check still
 *  prints, through the sanitizers and fuzz_require). Some decoders read
 *  files (the config, the key file) or a store: each target gets one
 *  scratch directory, made on first use and removed with its files when
 *  the process exits.
 */
#ifndef FUZZ_NODE_H
#define FUZZ_NODE_H

#include <stddef.h>
#include <stdint.h>

/*  Drops every message of the node's log from now on. */
void fuzz_quiet(void);

/*  The path of this process's scratch directory (aborts if it cannot be
 *  made). */
const char *fuzz_dir(void);

/*  Replaces the file name in the scratch directory with size bytes of data
 *  and the given mode; writes its path to out (size out_size). */
void fuzz_write_file(const char *name, const uint8_t *data, size_t size, unsigned mode, char *out,
                     size_t out_size);

#endif
