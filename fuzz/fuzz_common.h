/* Shared by the fuzz targets: one temporary file per process that each
 * input is written to, for the loaders that take a path, and one CPU
 * context. */
#ifndef CLCNN_FUZZ_COMMON_H
#define CLCNN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clcnn.h"

/* A fresh temporary path ending in suffix (which the loaders never look at,
 * but it makes a left-over file recognisable); removed at exit. */
static char fuzz_paths[2][256];
static int fuzz_npaths;

static void fuzz_cleanup(void)
{
    for (int i = 0; i < fuzz_npaths; i++)
        unlink(fuzz_paths[i]);
}

static const char *fuzz_temp_path(const char *suffix)
{
    if (fuzz_npaths == 2)
        abort(); /* a harness bug, not a library one */
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    char *p = fuzz_paths[fuzz_npaths];
    snprintf(p, sizeof fuzz_paths[0], "%s/clcnn-fuzz-XXXXXX%s", dir, suffix);
    int fd = mkstemps(p, (int)strlen(suffix));
    if (fd < 0) {
        perror("mkstemps");
        abort();
    }
    close(fd);
    if (fuzz_npaths++ == 0)
        atexit(fuzz_cleanup);
    return p;
}

/* Replaces the file's contents with bytes. */
static void fuzz_write(const char *path, const uint8_t *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(bytes, 1, len, f) != len) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

static clcnn_ctx *fuzz_cpu_ctx(void)
{
    static clcnn_ctx *ctx;
    if (!ctx && clcnn_ctx_create_with_log(&ctx, "cpu", NULL, NULL) != CLCNN_OK) {
        fprintf(stderr, "fuzz: cannot create a cpu context\n");
        abort();
    }
    return ctx;
}

/* Every failure must leave a message; a status outside the enum is a bug. */
static void fuzz_check_status(clcnn_ctx *ctx, int st)
{
    if (st > 0 || st < CLCNN_ERR_UNSUPPORTED) {
        fprintf(stderr, "fuzz: status %d is not a clcnn_status\n", st);
        abort();
    }
    if (st && ctx && clcnn_errmsg(ctx)[0] == '\0') {
        fprintf(stderr, "fuzz: status %d without a message\n", st);
        abort();
    }
}

#endif
