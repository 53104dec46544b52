/* clcnn devices: every OpenCL platform and device, and which one "auto" picks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clcnn devices [--help]\n\n"
               "Lists every OpenCL platform and device (type, compute units, global memory,\n"
               "OpenCL C version, driver version) and marks the one that device \"auto\"\n"
               "picks: the first GPU, else the first other device, else the CPU backend.\n"
               "Choose a device with --device opencl:P:D or CLCNN_DEVICE=opencl:P:D.\n");
}

static void print_mem(unsigned long long bytes)
{
    const double gib = 1024.0 * 1024.0 * 1024.0;
    if (bytes >= (1ull << 30))
        printf("%.1f GiB", (double)bytes / gib);
    else
        printf("%llu MiB", bytes >> 20);
}

int cmd_devices(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        return cli_usage_error("devices", "unexpected argument '%s'", argv[i]);
    }

    /* A CPU context only to receive an error message, should listing fail. */
    clcnn_ctx *ctx = NULL;
    if (clcnn_ctx_create_with_log(&ctx, "cpu", NULL, NULL) != CLCNN_OK) {
        clcnn_ctx_free(ctx);
        ctx = NULL;
    }
    size_t count = 0;
    int st = clcnn_devices_list(ctx, NULL, 0, &count);
    clcnn_device_info *list = NULL;
    if (st == CLCNN_OK && count > 0) {
        list = calloc(count, sizeof *list);
        if (!list) {
            clcnn_ctx_free(ctx);
            return cli_fail("out of memory");
        }
        size_t again = 0;
        st = clcnn_devices_list(ctx, list, count, &again);
        if (again < count)
            count = again;
    }
    if (st != CLCNN_OK) {
        int rc = cli_fail("listing OpenCL devices: %s", ctx && *clcnn_errmsg(ctx) ? clcnn_errmsg(ctx)
                                                                                  : clcnn_status_str(st));
        free(list);
        clcnn_ctx_free(ctx);
        return rc;
    }
    clcnn_ctx_free(ctx);

    if (count == 0) {
        printf("no OpenCL devices found; \"auto\" uses the CPU backend\n");
        free(list);
        return 0;
    }
    int last_platform = -1, any_auto = 0;
    for (size_t i = 0; i < count; i++) {
        const clcnn_device_info *d = &list[i];
        if (d->platform_index != last_platform) {
            printf("%sPlatform %d: %s\n", i ? "\n" : "", d->platform_index, d->platform_name);
            last_platform = d->platform_index;
        }
        printf("  opencl:%d:%d  %s (%s)%s\n", d->platform_index, d->device_index, d->device_name, d->device_type,
               d->is_auto_choice ? "  <- auto" : "");
        printf("      compute units: %u, global memory: ", d->compute_units);
        print_mem((unsigned long long)d->global_mem_bytes);
        printf("\n      %s, driver %s\n", d->opencl_c_version, d->driver_version);
        any_auto |= d->is_auto_choice;
    }
    if (!any_auto)
        printf("\nno device is usable (none is available with a compiler); \"auto\" uses the CPU backend\n");
    free(list);
    return 0;
}
