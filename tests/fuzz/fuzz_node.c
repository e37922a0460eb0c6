/*  fuzz_node.c - the log, scratch directory and files of the node's fuzz
 *  targets (see fuzz_node.h).
 */
#include "fuzz_node.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "ru_log.h"
#include "testdir.h"

static char s_dir[512];

void
fuzz_quiet(void)
{
    ru_log_set_level((ru_log_level) 0); /* below RU_LOG_ERR: nothing passes */
}

static void
s_remove_dir(void)
{
    testdir_remove(s_dir);
}

const char *
fuzz_dir(void)
{
    if (!s_dir[0]) {
        fuzz_require(testdir_make(s_dir, sizeof s_dir) == 0, "make the scratch directory");
        atexit(s_remove_dir);
    }
    return s_dir;
}

void
fuzz_write_file(const char *name, const uint8_t *data, size_t size, unsigned mode, char *out,
                size_t out_size)
{
    int n = snprintf(out, out_size, "%s/%s", fuzz_dir(), name);
    fuzz_require(n > 0 && (size_t) n < out_size, "scratch path fits");
    (void) unlink(out);
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL, (mode_t) mode);
    fuzz_require(fd >= 0, "create a scratch file");
    fuzz_require(fchmod(fd, (mode_t) mode) == 0, "set the scratch file's mode");
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        fuzz_require(w > 0, "write the scratch file");
        done += (size_t) w;
    }
    close(fd);
}
