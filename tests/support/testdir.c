/*  testdir.c - temporary directories for tests (see testdir.h). */
#include "testdir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
testdir_make(char *out, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(out, size, "%s/ruche-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (n < 0 || (size_t) n >= size)
        return -1;
    return mkdtemp(out) ? 0 : -1;
}

void
testdir_remove(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char file[4096];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            int n = snprintf(file, sizeof file, "%s/%s", path, e->d_name);
            if (n > 0 && (size_t) n < sizeof file)
                (void) unlink(file);
        }
        closedir(d);
    }
    (void) rmdir(path);
}
