/*  testdir.h - fresh temporary directories for tests that touch files
 *  (LMDB stores, key files): made under $TMPDIR (or /tmp) and removed with
 *  everything in them.
 */
#ifndef TESTDIR_H
#define TESTDIR_H

#include <stddef.h>

/*  Makes a new empty directory whose path is written to out; 0 on success. */
int testdir_make(char *out, size_t size);
/*  Removes path and the files directly inside it. */
void testdir_remove(const char *path);

#endif
