/*  ru_fd.h - whole reads and writes on a file descriptor.
 *
 *  write(2) and read(2) may move fewer bytes than asked and may be cut
 *  short by a signal (EINTR); every module that writes a file whole (the
 *  key file, the blob files) needs the same loop, so it lives here once.
 *  They return 0 or the errno of the failure, for the caller to log with
 *  the path it knows and translate into an ru_err.
 *
 *  Any thread; a descriptor is used by one call at a time.
 */
#ifndef RU_FD_H
#define RU_FD_H

#include <stddef.h>

/*  Writes all len bytes of buf to fd; 0 or errno. */
int ru_fd_write_all(int fd, const void *buf, size_t len);
/*  Reads from fd until end of file or cap bytes, their count into *got;
 *  0 or errno. */
int ru_fd_read_all(int fd, void *buf, size_t cap, size_t *got);

#endif
