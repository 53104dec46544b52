/*
 * Networks described in a text file (docs/spec-format.md): an `input HxWxC`
 * line, then one layer per line, `FAMILY NAME=VALUE ...`.  The parser knows
 * no family: it finds the family by its name (src/ops/family.c's table) and
 * each setting by its field table (src/ops/family.h), so a family added
 * later needs no change here.  Every error names the spec, the line and
 * what is wrong; a shape the layers cannot take is the family's own message
 * after the line.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "model.h"
#include "ops/family.h"

#define SPEC_MAX_BYTES (1u << 20) /* a spec is a few lines; a larger file is not one */
#define SPEC_MAX_KINDS 256        /* the kinds searched for a family name */
#define SPEC_MAX_FIELDS 64        /* fields per family the parser tracks */
#define SPEC_MAX_VALUE 64         /* characters in one value */
#define SPEC_MAX_PARTS 4          /* values in a group (pad=t,b,l,r) */

/* Where the parser is: the spec's name and the line, for messages. */
typedef struct cursor {
    clcnn_ctx *ctx;
    const char *spec;
    unsigned line;
} cursor;

/* A piece of a line: not NUL-terminated. */
typedef struct token {
    const char *s;
    size_t n;
} token;

static int fail(const cursor *c, const char *fmt, const char *a, const char *b)
{
    char what[512];
    snprintf(what, sizeof what, fmt, a, b);
    return clcnn_error(c->ctx, CLCNN_ERR_FORMAT, "%s:%u: %s", c->spec, c->line, what);
}

static int token_is(token t, const char *s)
{
    return strlen(s) == t.n && memcmp(t.s, s, t.n) == 0;
}

/* The token as a C string for messages, cut to fit. */
static const char *token_str(token t, char *buf, size_t len)
{
    size_t n = t.n < len - 1 ? t.n : len - 1;
    memcpy(buf, t.s, n);
    buf[n] = '\0';
    return buf;
}

/* Splits a line (comment removed) into tokens separated by blanks; returns
 * the count, or SPEC_MAX_FIELDS + 2 for more than fit. */
static size_t split(const char *s, size_t n, token *out, size_t cap)
{
    size_t count = 0, i = 0;
    for (;;) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
            i++;
        if (i == n)
            return count;
        size_t start = i;
        while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            i++;
        if (count == cap)
            return cap + 1;
        out[count++] = (token){s + start, i - start};
    }
}

static const layer_family *family_named(token name, clcnn_layer_kind *kind)
{
    for (int k = 0; k < SPEC_MAX_KINDS; k++) {
        const layer_family *f = clcnn_layer_family((clcnn_layer_kind)k);
        if (f && token_is(name, f->name)) {
            *kind = (clcnn_layer_kind)k;
            return f;
        }
    }
    return NULL;
}

/* "conv, pool, ...": every family's name, for the unknown-layer message. */
static void family_list(char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int k = 0; k < SPEC_MAX_KINDS; k++) {
        const layer_family *f = clcnn_layer_family((clcnn_layer_kind)k);
        if (f && at < len)
            at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? ", " : "", f->name);
    }
}

static void field_list(const layer_family *family, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < family->nfields && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? ", " : "", family->fields[i].name);
}

static const layer_field *field_named(const layer_family *family, const char *name, size_t n)
{
    for (size_t i = 0; i < family->nfields; i++)
        if (strlen(family->fields[i].name) == n && memcmp(family->fields[i].name, name, n) == 0)
            return &family->fields[i];
    return NULL;
}

/* The fields a key names: itself, or a group of fields named key + suffix
 * (kh/kw as k, dilation_h/dilation_w as dilation, pad_top ... pad_right as
 * pad); the count, 0 for none. */
static size_t key_fields(const layer_family *family, token key, const layer_field **out)
{
    static const char *const groups[][SPEC_MAX_PARTS + 1] = {
        {"h", "w", NULL}, {"_h", "_w", NULL}, {"_top", "_bottom", "_left", "_right", NULL}};
    if ((out[0] = field_named(family, key.s, key.n)))
        return 1;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        size_t n = 0;
        for (; groups[g][n]; n++) {
            char name[SPEC_MAX_VALUE + 8];
            if (key.n >= SPEC_MAX_VALUE)
                return 0;
            memcpy(name, key.s, key.n);
            strcpy(name + key.n, groups[g][n]);
            if (!(out[n] = field_named(family, name, strlen(name))))
                break;
        }
        if (!groups[g][n])
            return n;
    }
    return 0;
}

/* Parses one value of field f: a number (whole for a u32 field) or, for a
 * named field, one of its names; then the field's range. */
static int parse_value(const cursor *c, const char *who, const layer_field *f, token t, double *v)
{
    char text[SPEC_MAX_VALUE + 1], shown[SPEC_MAX_VALUE + 1];
    if (t.n == 0 || t.n > SPEC_MAX_VALUE)
        return fail(c, "%s wants a value, not '%s'", f->name, token_str(t, shown, sizeof shown));
    token_str(t, text, sizeof text);
    if (f->names) {
        for (double k = f->lo; k <= f->hi; k++)
            if (f->names[(size_t)(k - f->lo)] && strcmp(text, f->names[(size_t)(k - f->lo)]) == 0) {
                *v = k;
                return CLCNN_OK;
            }
    }
    char *end;
    errno = 0;
    *v = f->type == LAYER_FIELD_U32 ? (double)strtoull(text, &end, 10) : strtod(text, &end);
    int number = errno == 0 && *end == '\0' && (f->type == LAYER_FIELD_F32 || (text[0] >= '0' && text[0] <= '9'));
    if (!number) {
        if (f->names) {
            char names[256];
            size_t at = 0;
            names[0] = '\0';
            for (double k = f->lo; k <= f->hi && at < sizeof names; k++)
                at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", at ? ", " : "",
                                       f->names[(size_t)(k - f->lo)] ? f->names[(size_t)(k - f->lo)] : "?");
            char what[SPEC_MAX_VALUE + 300];
            snprintf(what, sizeof what, "%s wants one of %s, not '%%s'", f->name, names);
            return fail(c, what, text, NULL);
        }
        return fail(c, f->type == LAYER_FIELD_U32 ? "%s wants a whole number, not '%s'" : "%s wants a number, not '%s'",
                    f->name, text);
    }
    char where[256];
    snprintf(where, sizeof where, "%s:%u: %s", c->spec, c->line, who);
    return clcnn_layer_field_check(c->ctx, CLCNN_ERR_FORMAT, where, f, *v);
}

/* One NAME=VALUE of a layer line into cfg; given marks the fields set. */
static int parse_setting(const cursor *c, const layer_family *family, token kv, layer_config *cfg, unsigned char *given)
{
    char shown[SPEC_MAX_VALUE + 1], list[512];
    const char *eq = memchr(kv.s, '=', kv.n);
    if (!eq || eq == kv.s)
        return fail(c, "expected NAME=VALUE, not '%s'", token_str(kv, shown, sizeof shown), NULL);
    token key = {kv.s, (size_t)(eq - kv.s)}, value = {eq + 1, kv.n - key.n - 1};
    const layer_field *fields[SPEC_MAX_PARTS];
    size_t nf = key_fields(family, key, fields);
    if (nf == 0) {
        field_list(family, list, sizeof list);
        char what[600];
        snprintf(what, sizeof what, "%s has no setting '%%s' (its settings: %s)", family->name,
                 family->nfields ? list : "none");
        return fail(c, what, token_str(key, shown, sizeof shown), NULL);
    }
    /* One value for every field of the group, or one each: k=5, k=5x3,
     * pad=1, pad=1,1,2,2. */
    token parts[SPEC_MAX_PARTS];
    size_t np = 0, start = 0;
    for (size_t i = 0; i <= value.n; i++) {
        if (i < value.n && !(nf > 1 && (value.s[i] == 'x' || value.s[i] == ',')))
            continue;
        if (np == SPEC_MAX_PARTS) {
            np++;
            break;
        }
        parts[np++] = (token){value.s + start, i - start};
        start = i + 1;
    }
    if (np != 1 && np != nf) {
        snprintf(list, sizeof list, "%s wants 1 or %zu values%s, not '%%s'", token_str(key, shown, sizeof shown), nf,
                 nf == 2 ? " (HxW)" : " (top,bottom,left,right)");
        return fail(c, list, token_str(value, shown, sizeof shown), NULL);
    }
    for (size_t i = 0; i < nf; i++) {
        size_t at = (size_t)(fields[i] - family->fields);
        if (given[at])
            return fail(c, "%s: %s is set twice", family->name, fields[i]->name);
        double v = 0;
        int st = parse_value(c, family->name, fields[i], parts[np == 1 ? 0 : i], &v);
        if (st)
            return st;
        clcnn_layer_field_set(cfg, fields[i], v);
        given[at] = 1;
    }
    return CLCNN_OK;
}

/* `input HxWxC` */
static int parse_input(const cursor *c, const token *t, size_t n, size_t *shape)
{
    char shown[SPEC_MAX_VALUE + 1];
    if (n != 2)
        return fail(c, "input wants one HxWxC, e.g. 'input 28x28x1'", NULL, NULL);
    size_t d = 0, at = 0;
    while (d < 3) {
        size_t v = 0, digits = 0;
        while (at < t[1].n && t[1].s[at] >= '0' && t[1].s[at] <= '9' && digits < 9) {
            v = v * 10 + (size_t)(t[1].s[at++] - '0');
            digits++;
        }
        int sep_ok = d < 2 ? at < t[1].n && t[1].s[at] == 'x' : at == t[1].n;
        if (!digits || !sep_ok || v == 0 || v > LAYER_MAX_UNITS)
            return fail(c, "input wants HxWxC, sizes from 1 to 16777216, not '%s'",
                        token_str(t[1], shown, sizeof shown), NULL);
        shape[d++] = v;
        at++;
    }
    return CLCNN_OK;
}

/* One layer line (t[0] the family) appended to m. */
static int parse_layer(const cursor *c, clcnn_model *m, const token *t, size_t n)
{
    char shown[SPEC_MAX_VALUE + 1], list[512];
    clcnn_layer_kind kind;
    const layer_family *family = family_named(t[0], &kind);
    if (!family) {
        family_list(list, sizeof list);
        char what[600];
        snprintf(what, sizeof what, "unknown layer '%%s' (this build has %s)", list);
        return fail(c, what, token_str(t[0], shown, sizeof shown), NULL);
    }
    if (family->nfields > SPEC_MAX_FIELDS)
        return fail(c, "%s has more settings than the parser takes", family->name, NULL);
    layer_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = kind;
    clcnn_layer_set_defaults(family, &cfg);
    unsigned char given[SPEC_MAX_FIELDS] = {0};
    for (size_t i = 1; i < n; i++) {
        int st = parse_setting(c, family, t[i], &cfg, given);
        if (st)
            return st;
    }
    size_t at = 0;
    list[0] = '\0';
    for (size_t i = 0; i < family->nfields && at < sizeof list; i++)
        if (!given[i] && !family->fields[i].has_default)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", at ? ", " : "", family->fields[i].name);
    if (at)
        return fail(c, "%s needs %s", family->name, list);
    int st = clcnn_model_append(m, &cfg);
    if (st) {
        /* The family's message names the layer: put the line before it. */
        char why[CLCNN_ERRMSG_LEN - 300];
        snprintf(why, sizeof why, "%s", clcnn_errmsg(c->ctx));
        return clcnn_error(c->ctx, st == CLCNN_ERR_NOMEM ? st : CLCNN_ERR_SHAPE, "%s:%u: %s", c->spec, c->line, why);
    }
    return CLCNN_OK;
}

int clcnn_model_from_spec_text(clcnn_ctx *ctx, clcnn_model **out, const char *name, const char *text, size_t len)
{
    if (!out)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_model_from_spec_text: out is NULL");
    *out = NULL;
    if (!ctx || !name || (!text && len))
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_model_from_spec_text: NULL argument");
    cursor c = {ctx, name, 0};
    clcnn_model *m = NULL;
    size_t pos = 0;
    int st = CLCNN_OK;
    while (pos < len && st == CLCNN_OK) {
        c.line++;
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl != NULL);
        if (memchr(s, '\0', n)) {
            st = fail(&c, "a NUL byte: not a text file", NULL, NULL);
            break;
        }
        const char *hash = memchr(s, '#', n);
        if (hash)
            n = (size_t)(hash - s);
        token t[SPEC_MAX_FIELDS + 1];
        size_t nt = split(s, n, t, sizeof t / sizeof t[0]);
        if (nt == 0)
            continue;
        if (nt > sizeof t / sizeof t[0]) {
            st = fail(&c, "more than %s settings on one line", "64", NULL);
        } else if (token_is(t[0], "input")) {
            size_t shape[3];
            if (m)
                st = fail(&c, "a second input line", NULL, NULL);
            else if ((st = parse_input(&c, t, nt, shape)) == CLCNN_OK &&
                     (st = clcnn_model_create(ctx, &m, shape[0], shape[1], shape[2])) != CLCNN_OK) {
                char why[CLCNN_ERRMSG_LEN - 300];
                snprintf(why, sizeof why, "%s", clcnn_errmsg(ctx));
                st = clcnn_error(ctx, st, "%s:%u: %s", name, c.line, why);
            }
        } else if (!m) {
            st = fail(&c, "the first line must be 'input HxWxC' (the shape of one example)", NULL, NULL);
        } else {
            st = parse_layer(&c, m, t, nt);
        }
    }
    if (st == CLCNN_OK && (!m || clcnn_model_layer_count(m) == 0))
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %s", name,
                         m ? "no layers after the input line" : "no input line and no layers (an empty spec)");
    if (st) {
        clcnn_model_free(m);
        return st;
    }
    *out = m;
    return CLCNN_OK;
}

int clcnn_model_from_spec(clcnn_ctx *ctx, clcnn_model **out, const char *spec)
{
    if (!out)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_model_from_spec: out is NULL");
    *out = NULL;
    if (!ctx || !spec)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_model_from_spec: NULL argument");
    const char *builtin = clcnn_spec_builtin(spec);
    if (builtin)
        return clcnn_model_from_spec_text(ctx, out, spec, builtin, strlen(builtin));
    unsigned char *bytes;
    size_t len;
    int st = clcnn_read_file(ctx, spec, SPEC_MAX_BYTES, &bytes, &len);
    if (st == CLCNN_ERR_IO && !strchr(spec, '/')) {
        /* A mistyped built-in name reads as a missing file: say both. */
        char why[CLCNN_ERRMSG_LEN - 300], names[256];
        snprintf(why, sizeof why, "%s", clcnn_errmsg(ctx));
        size_t at = 0;
        names[0] = '\0';
        for (size_t i = 0; clcnn_spec_builtin_name(i) && at < sizeof names; i++)
            at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", i ? ", " : "", clcnn_spec_builtin_name(i));
        return clcnn_error(ctx, st, "%s (nor a built-in network: %s)", why, names);
    }
    if (st)
        return st;
    st = clcnn_model_from_spec_text(ctx, out, spec, (const char *)bytes, len);
    clcnn_mem_free(&ctx->allocator, bytes, len);
    return st;
}
