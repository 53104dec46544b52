/* The settings of a layer through its family's field table (family.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/family.h"

double clcnn_layer_field_get(const layer_config *cfg, const layer_field *f)
{
    const unsigned char *at = (const unsigned char *)cfg + f->offset;
    if (f->type == LAYER_FIELD_F32) {
        float v;
        memcpy(&v, at, sizeof v);
        return v;
    }
    if (f->size == sizeof(size_t)) {
        size_t v;
        memcpy(&v, at, sizeof v);
        return (double)v;
    }
    int v; /* an int, or an enum (of int's size, by LAYER_FIELD's check) */
    memcpy(&v, at, sizeof v);
    return v;
}

void clcnn_layer_field_set(layer_config *cfg, const layer_field *f, double v)
{
    unsigned char *at = (unsigned char *)cfg + f->offset;
    if (f->type == LAYER_FIELD_F32) {
        float x = (float)v;
        memcpy(at, &x, sizeof x);
    } else if (f->size == sizeof(size_t)) {
        size_t x = (size_t)v;
        memcpy(at, &x, sizeof x);
    } else {
        int x = (int)v; /* v lies in the field's range, below 2^31 */
        memcpy(at, &x, sizeof x);
    }
}

int clcnn_layer_field_check(clcnn_ctx *ctx, int status, const char *who, const layer_field *f, double v)
{
    /* Written so that NaN fails too. */
    if (v >= f->lo && v <= f->hi && (f->type == LAYER_FIELD_F32 || v == floor(v)))
        return CLCNN_OK;
    return clcnn_error(ctx, status, "%s: %s = %g is out of range [%g, %g]", who, f->name, v, f->lo, f->hi);
}

size_t clcnn_layer_fields_required(const layer_family *family)
{
    size_t n = family->nfields;
    while (n > 0 && family->fields[n - 1].has_default)
        n--;
    return n;
}

size_t clcnn_layer_fields_stored(const layer_family *family, const layer_config *cfg)
{
    size_t n = family->nfields;
    while (n > 0 && family->fields[n - 1].has_default &&
           clcnn_layer_field_get(cfg, &family->fields[n - 1]) == family->fields[n - 1].dflt)
        n--;
    return n;
}

void clcnn_layer_set_defaults(const layer_family *family, layer_config *cfg)
{
    for (size_t i = 0; i < family->nfields; i++)
        if (family->fields[i].has_default)
            clcnn_layer_field_set(cfg, &family->fields[i], family->fields[i].dflt);
}

int clcnn_layer_check_fields(clcnn_ctx *ctx, const char *who, const layer_family *family, const layer_config *cfg)
{
    for (size_t i = 0; i < family->nfields; i++) {
        const layer_field *f = &family->fields[i];
        int st = clcnn_layer_field_check(ctx, CLCNN_ERR_ARGUMENT, who, f, clcnn_layer_field_get(cfg, f));
        if (st)
            return st;
    }
    return CLCNN_OK;
}

void clcnn_layer_describe_fields(const layer_family *family, const layer_config *cfg, char *buf, size_t len)
{
    int at = snprintf(buf, len, "%s", family->name);
    for (size_t i = 0; i < family->nfields && at >= 0 && (size_t)at < len; i++)
        at += snprintf(buf + at, len - (size_t)at, " %s %g", family->fields[i].name,
                       clcnn_layer_field_get(cfg, &family->fields[i]));
}
