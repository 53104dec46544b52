/* TFRecord framing: for each record, its length (uint64 little-endian),
 * the masked CRC-32C of those 8 bytes, the data, the masked CRC-32C of the
 * data.  Event fields: wall_time = 1 (double), step = 2 (int64),
 * file_version = 3 (string), summary = 5 (Summary). */
#include "tb_events.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "tb_crc32c.h"

enum { EVENT_WALL_TIME = 1, EVENT_STEP = 2, EVENT_FILE_VERSION = 3, EVENT_SUMMARY = 5 };

struct tb_events {
    FILE *f;
    char *path;
    int err; /* errno of the first failure; -1: out of memory */
};

static double wall_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void put_le(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static int write_record(tb_events *e, const pb_buf *event)
{
    if (e->err)
        return -1;
    if (event->failed) {
        e->err = -1;
        return -1;
    }
    unsigned char head[12], tail[4];
    put_le(head, event->len, 8);
    put_le(head + 8, tb_crc32c_mask(tb_crc32c(head, 8)), 4);
    put_le(tail, tb_crc32c_mask(tb_crc32c(event->data, event->len)), 4);
    errno = 0;
    if (fwrite(head, 1, sizeof head, e->f) != sizeof head ||
        (event->len && fwrite(event->data, 1, event->len, e->f) != event->len) ||
        fwrite(tail, 1, sizeof tail, e->f) != sizeof tail) {
        e->err = errno ? errno : EIO;
        return -1;
    }
    return 0;
}

/* mkdir -p: each missing component in turn (an existing one is fine). */
static int make_dirs(const char *dir)
{
    size_t len = strlen(dir);
    char *p = malloc(len + 1);
    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(p, dir, len + 1);
    int rc = 0;
    for (size_t i = 1; i <= len && rc == 0; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            rc = -1;
        p[i] = c;
    }
    free(p);
    return rc;
}

static char *file_name(const char *dir)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
        strcpy(host, "localhost");
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; c++) /* a name TensorBoard can glob */
        if (*c == '/')
            *c = '_';
    const char *fmt = "%s/events.out.tfevents.%lld.%s.%ld.clcnn";
    long long secs = (long long)time(NULL);
    long pid = (long)getpid();
    int n = snprintf(NULL, 0, fmt, dir, secs, host, pid);
    char *path = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (path)
        snprintf(path, (size_t)n + 1, fmt, dir, secs, host, pid);
    return path;
}

int tb_events_open(tb_events **out, const char *dir)
{
    *out = NULL;
    struct stat sb;
    if (dir[0] == '\0')
        return cli_fail("--logdir: an empty path");
    if (make_dirs(dir) != 0)
        return cli_fail("--logdir %s: cannot create the directory (%s)", dir, strerror(errno));
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cli_fail("--logdir %s: not a directory", dir);
    tb_events *e = calloc(1, sizeof *e);
    if (!e || !(e->path = file_name(dir))) {
        free(e);
        return cli_fail("--logdir %s: out of memory", dir);
    }
    /* O_EXCL: never append to another writer's file. */
    int fd = open(e->path, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0 || !(e->f = fdopen(fd, "wb"))) {
        cli_fail("--logdir %s: cannot create %s (%s)", dir, e->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(e->path);
        free(e);
        return 1;
    }
    pb_buf first = {0};
    static const char version[] = "brain.Event:2";
    pb_double_field(&first, EVENT_WALL_TIME, wall_time());
    pb_bytes_field(&first, EVENT_FILE_VERSION, version, sizeof version - 1);
    int st = write_record(e, &first);
    pb_free(&first);
    if (st || tb_events_flush(e)) {
        cli_fail("--logdir %s: cannot write %s (%s)", dir, e->path, tb_events_error(e));
        tb_events_close(e);
        return 1;
    }
    *out = e;
    return 0;
}

int tb_events_write_summary(tb_events *e, int64_t step, const pb_buf *summary)
{
    pb_buf event = {0};
    pb_double_field(&event, EVENT_WALL_TIME, wall_time());
    pb_varint_field(&event, EVENT_STEP, (uint64_t)step);
    pb_message_field(&event, EVENT_SUMMARY, summary);
    int st = write_record(e, &event);
    pb_free(&event);
    return st;
}

int tb_events_flush(tb_events *e)
{
    if (e->err)
        return -1;
    errno = 0;
    if (fflush(e->f) != 0) {
        e->err = errno ? errno : EIO;
        return -1;
    }
    return 0;
}

const char *tb_events_path(const tb_events *e)
{
    return e->path;
}

const char *tb_events_error(const tb_events *e)
{
    return e->err == -1 ? "out of memory" : strerror(e->err);
}

int tb_events_close(tb_events *e)
{
    if (!e)
        return 0;
    int reported = e->err != 0, st = tb_events_flush(e);
    errno = 0;
    if (fclose(e->f) != 0 && st == 0) {
        e->err = errno ? errno : EIO;
        st = -1;
    }
    if (st && !reported)
        cli_fail("%s: write failed (%s)", e->path, tb_events_error(e));
    free(e->path);
    free(e);
    return st;
}
