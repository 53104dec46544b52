#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("clcnn: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "clcnn %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "; try 'clcnn %s --help'\n", cmd);
    va_end(ap);
    return 2;
}

int cli_parse_u64(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || *s == '\0' || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

int cli_parse_size(const char *s, size_t lo, size_t hi, size_t *out)
{
    unsigned long long v;
    if (cli_parse_u64(s, &v) || v < lo || v > hi)
        return -1;
    *out = (size_t)v;
    return 0;
}

int cli_parse_float(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    if (!s || *s == '\0')
        return -1;
    double v = strtod(s, &end);
    if (errno || *end != '\0' || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

clcnn_ctx *cli_open_ctx(const char *device)
{
    clcnn_ctx *ctx = NULL;
    int st = clcnn_ctx_create(&ctx, device);
    if (st != CLCNN_OK) {
        cli_fail("%s", ctx ? clcnn_errmsg(ctx) : "out of memory");
        clcnn_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

int cli_load_data(clcnn_ctx *ctx, const char *path, clcnn_dataset **train, clcnn_dataset **valid,
                  clcnn_dataset **test)
{
    const int default_data = !path;
    if (!path) {
        struct stat sb;
        if (stat(CLI_DEFAULT_DATA, &sb) != 0)
            return cli_fail("the default data set %s is not installed; install it with "
                            "'apt-get install dataset-fashion-mnist', or pass --data DIR|FILE.npz",
                            CLI_DEFAULT_DATA);
        path = CLI_DEFAULT_DATA;
    }
    if (clcnn_data_load(ctx, path, train, valid, test) != CLCNN_OK)
        return cli_fail("%s", clcnn_errmsg(ctx));
    if (default_data) {
        /* Zalando's names for Fashion-MNIST's labels 0 to 9. */
        static const char *const fashion[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
        clcnn_dataset *splits[3] = {*train, valid ? *valid : NULL, test ? *test : NULL};
        for (int k = 0; k < 3; k++)
            if (splits[k] && clcnn_dataset_set_class_names(ctx, splits[k], fashion, 10) != CLCNN_OK)
                return cli_fail("%s: %s", path, clcnn_errmsg(ctx));
    }
    return 0;
}

const char *cli_class_label(const clcnn_model *m, size_t i, char *buf, size_t len)
{
    const char *name = clcnn_model_class_name(m, i);
    if (name)
        snprintf(buf, len, "%s (%zu)", name, i);
    else
        snprintf(buf, len, "%zu", i);
    return buf;
}

int cli_text_width(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80; /* continuation bytes add none */
    return n;
}

void cli_pad(FILE *f, const char *s, int width)
{
    fputs(s, f);
    for (int n = cli_text_width(s); n < width; n++)
        fputc(' ', f);
}

int cli_read_class_names(clcnn_ctx *ctx, clcnn_model *m, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_fail("%s: cannot read the class names: %s", path, strerror(errno));
    size_t classes = clcnn_model_classes(m), count = 0, cap = 0;
    char **names = NULL, *line = NULL;
    size_t line_cap = 0;
    ssize_t n;
    int rc = 0;
    errno = 0;
    while (rc == 0 && (n = getline(&line, &line_cap, f)) >= 0) {
        size_t len = (size_t)n, lineno = count + 1;
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        if (strlen(line) != len) {
            rc = cli_fail("%s: line %zu holds a NUL byte", path, lineno);
        } else if (clcnn_class_name_check(ctx, line) != CLCNN_OK) {
            rc = cli_fail("%s: line %zu: %s", path, lineno, clcnn_errmsg(ctx));
        } else if (count == classes) {
            rc = cli_fail("%s: more than the model's %zu classes (line %zu); one class name per line", path, classes,
                          lineno);
        } else {
            if (count == cap) {
                cap = cap ? 2 * cap : 16;
                char **grown = realloc(names, cap * sizeof *names);
                if (!grown) {
                    rc = cli_fail("%s: out of memory", path);
                    break;
                }
                names = grown;
            }
            if (!(names[count] = strdup(line)))
                rc = cli_fail("%s: out of memory", path);
            else
                count++;
        }
        errno = 0;
    }
    if (rc == 0 && ferror(f))
        rc = cli_fail("%s: cannot read the class names: %s", path, strerror(errno ? errno : EIO));
    else if (rc == 0 && count != classes)
        rc = cli_fail("%s: %zu class names (lines), the model has %zu classes", path, count, classes);
    else if (rc == 0 && clcnn_model_set_class_names(m, (const char *const *)names, count) != CLCNN_OK)
        rc = cli_fail("%s: %s", path, clcnn_errmsg(ctx));
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    free(line);
    fclose(f);
    return rc;
}

int cli_train_class_names(clcnn_ctx *ctx, clcnn_model *m, const char *file, const clcnn_dataset *train, int quiet)
{
    if (file)
        return cli_read_class_names(ctx, m, file);
    size_t count = clcnn_dataset_class_name_count(train), classes = clcnn_model_classes(m);
    if (count == 0)
        return 0;
    if (count != classes) {
        if (!quiet)
            fprintf(stderr, "clcnn: the data names %zu classes, the model has %zu: its class names are not kept "
                    "(give them with --class-names FILE)\n", count, classes);
        return 0;
    }
    const char **names = malloc(count * sizeof *names);
    if (!names)
        return cli_fail("out of memory");
    for (size_t i = 0; i < count; i++)
        names[i] = clcnn_dataset_class_name(train, i);
    int rc = 0;
    if (clcnn_model_set_class_names(m, names, count) != CLCNN_OK)
        rc = cli_fail("%s", clcnn_errmsg(ctx));
    free(names);
    return rc;
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

int cli_atomic_open(cli_atomic_file *a, const char *path)
{
    a->f = NULL;
    a->path = path;
    size_t n = strlen(path) + sizeof ".tmp.XXXXXX";
    if (!(a->tmp = malloc(n)))
        return cli_fail("%s: out of memory", path);
    snprintf(a->tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        int rc = cli_fail("%s: cannot write: %s", path, strerror(errno));
        free(a->tmp);
        a->tmp = NULL;
        return rc;
    }
    if (fchmod(fd, 0644) != 0 || !(a->f = fdopen(fd, "w"))) {
        int rc = cli_fail("%s: cannot write: %s", path, strerror(errno));
        close(fd);
        cli_atomic_discard(a);
        return rc;
    }
    return 0;
}

int cli_atomic_commit(cli_atomic_file *a)
{
    int failed = ferror(a->f) || fflush(a->f) != 0 || fsync(fileno(a->f)) != 0;
    int err = errno;
    if (fclose(a->f) != 0 && !failed)
        failed = 1, err = errno;
    a->f = NULL;
    if (!failed && rename(a->tmp, a->path) != 0)
        failed = 1, err = errno;
    if (failed) {
        cli_atomic_discard(a);
        return cli_fail("%s: cannot write: %s", a->path, strerror(err ? err : EIO));
    }
    free(a->tmp);
    a->tmp = NULL;
    return 0;
}

void cli_atomic_discard(cli_atomic_file *a)
{
    if (!a || !a->tmp)
        return;
    if (a->f)
        fclose(a->f);
    a->f = NULL;
    remove(a->tmp);
    free(a->tmp);
    a->tmp = NULL;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
