/* Class names: checks and the owned copy (class_names.h). */
#include "class_names.h"

#include <stdio.h>
#include <string.h>

/* Length of the UTF-8 sequence at s (at most left bytes), 0 if it is not
 * a valid one (overlong forms, surrogates and code points above U+10FFFF
 * are not). */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    size_t n;
    unsigned min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, min = 0x80, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, min = 0x800, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    if (n > left)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int clcnn_class_name_valid(clcnn_ctx *ctx, int status, const char *who, const char *name, size_t len)
{
    if (len == 0)
        return clcnn_error(ctx, status, "%s is empty", who);
    if (len > CLCNN_CLASS_NAME_MAX)
        return clcnn_error(ctx, status, "%s is %zu bytes long (at most %d)", who, len, CLCNN_CLASS_NAME_MAX);
    const unsigned char *s = (const unsigned char *)name;
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x20 || s[i] == 0x7f)
            return clcnn_error(ctx, status, "%s holds the control character 0x%02x (byte %zu)", who, s[i], i + 1);
        size_t n = utf8_sequence(s + i, len - i);
        if (n == 0)
            return clcnn_error(ctx, status, "%s is not valid UTF-8 (byte %zu)", who, i + 1);
        i += n;
    }
    return CLCNN_OK;
}

int clcnn_class_names_set(clcnn_ctx *ctx, const clcnn_allocator *a, int status, const char *who, class_names *dst,
                          const char *const *src, const size_t *lens, size_t count)
{
    if (count && !src)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: NULL names", who);
    size_t text_size = 0;
    for (size_t i = 0; i < count; i++) {
        char what[4400];
        snprintf(what, sizeof what, "%s: class name %zu", who, i + 1);
        if (!src[i])
            return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s is NULL", what);
        /* Bounded: one byte past the limit tells an over-long name. */
        size_t len = lens ? lens[i] : strnlen(src[i], CLCNN_CLASS_NAME_MAX + 1);
        int st = clcnn_class_name_valid(ctx, status, what, src[i], len);
        if (st)
            return st;
        text_size += len + 1; /* cannot overflow: each at most the limit, count pointers fit */
    }
    class_names n = {0};
    if (count) {
        n.names = clcnn_mem_array(a, count, sizeof *n.names);
        n.text = n.names ? clcnn_mem_alloc(a, text_size) : NULL;
        if (!n.text) {
            clcnn_mem_free(a, (void *)n.names, count * sizeof *n.names);
            return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory for %zu class names", who, count);
        }
        n.count = count;
        n.text_size = text_size;
        char *p = n.text;
        for (size_t i = 0; i < count; i++) {
            size_t len = lens ? lens[i] : strlen(src[i]);
            memcpy(p, src[i], len);
            p[len] = '\0';
            n.names[i] = p;
            p += len + 1;
        }
    }
    clcnn_class_names_free(a, dst);
    *dst = n;
    return CLCNN_OK;
}

const char *clcnn_class_names_get(const class_names *n, size_t i)
{
    return n && i < n->count ? n->names[i] : NULL;
}

void clcnn_class_names_free(const clcnn_allocator *a, class_names *n)
{
    clcnn_mem_free(a, n->text, n->text_size);
    clcnn_mem_free(a, (void *)n->names, n->count * sizeof *n->names);
    *n = (class_names){0};
}

int clcnn_class_name_check(clcnn_ctx *ctx, const char *name)
{
    if (!name)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "class name is NULL");
    return clcnn_class_name_valid(ctx, CLCNN_ERR_ARGUMENT, "class name", name,
                                  strnlen(name, CLCNN_CLASS_NAME_MAX + 1));
}
